/* enrich.c - resource table (cgroup key -> path, runtime, container
 * metadata) and process table (pid -> executable).
 *
 * Invariants: both tables are capped (RES_CAP, PROC_CAP); the process table
 * evicts an arbitrary entry when full and counts it. Lookups outside the
 * record stream happen only when opts.live is set, and each result is passed
 * to the side sink before the event that caused it. */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "enrich/enrich.h"
#include "lib/hashmap.h"
#include "record/recording.h"
#include "vigil_event.h"

_Static_assert(offsetof(struct side_container, meta.labels) ==
		       SIDE_CONTAINER_V1_SIZE,
	       "older side_container frames must stay a prefix of today's");
_Static_assert(sizeof(struct side_container) ==
		       SIDE_CONTAINER_V1_SIZE + CONTAINER_META_LABELS_MAX,
	       "side_container: fields may only be appended (enrich.h)");

#define RES_CAP 16384
#define PROC_CAP 65536
#define META_RETRY_NS (50ULL * 1000000ULL)
#define META_MAX_TRIES 200

struct enrich {
	struct enrich_opts o;
	char state_root[256];
	enrich_sink sink;
	void *sink_ctx;
	struct hashmap *res; /* key -> struct resource * */
	struct hashmap *procs; /* pid -> struct proc_info * */
	struct resource unknown;
	struct enrich_stats st;
};

struct enrich *enrich_new(const struct enrich_opts *o, enrich_sink sink,
			  void *sink_ctx)
{
	struct enrich *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->o = *o;
	snprintf(e->state_root, sizeof(e->state_root), "%s",
		 o->state_root ? o->state_root : "");
	e->o.state_root = e->state_root;
	e->sink = sink;
	e->sink_ctx = sink_ctx;
	e->res = hashmap_new(RES_CAP);
	e->procs = hashmap_new(PROC_CAP);
	if (!e->res || !e->procs) {
		enrich_free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->unknown.cg.runtime = CG_HOST;
	return e;
}

static void free_value(void *ctx, uint64_t key, void *v)
{
	(void)ctx;
	(void)key;
	free(v);
}

void enrich_free(struct enrich *e)
{
	if (!e)
		return;
	hashmap_free(e->res, free_value, NULL);
	hashmap_free(e->procs, free_value, NULL);
	free(e);
}

static int emit_side(struct enrich *e, uint32_t kind, const void *d, size_t n)
{
	return e->sink ? e->sink(e->sink_ctx, kind, d, n) : 0;
}

/* Builds "/a/b/c" from the leaf-first names of a VG_CGROUP record. */
static void cgroup_path(const struct vg_cgroup *c, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = 0;
	for (int i = (int)c->depth - 1; i >= 0; i--) {
		int n = snprintf(out + used, cap - used, "/%s", c->name[i]);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += n;
	}
	if (!used)
		snprintf(out, cap, "/");
}

static struct resource *add_resource(struct enrich *e, const struct vg_cgroup *c)
{
	uint64_t key = c->h.cgroup_id | ((c->h.flags & VG_F_CG_V1) ? 1ULL << 63 : 0);
	struct resource *r = hashmap_get(e->res, key);

	if (!r) {
		if (hashmap_count(e->res) >= RES_CAP)
			return NULL;
		r = calloc(1, sizeof(*r));
		if (!r || hashmap_put(e->res, key, r) < 0) {
			free(r);
			return NULL;
		}
		e->st.resources++;
	}
	memset(r, 0, sizeof(*r));
	r->key = key;
	cgroup_path(c, r->path, sizeof(r->path));
	cg_parse(r->path, &r->cg);
	if (r->cg.runtime != CG_HOST)
		snprintf(r->meta.name, sizeof(r->meta.name), "%s",
			 r->cg.container_id);
	return r;
}

/* Live only: asks the runtime's state for the container's metadata, at
 * most every META_RETRY_NS, since the state may appear after the first
 * events of the container. */
static void resolve_meta(struct enrich *e, struct resource *r, uint64_t now)
{
	struct side_container sc;

	if (!e->o.live || r->meta_known || r->cg.runtime == CG_HOST ||
	    r->tries >= META_MAX_TRIES || now < r->next_try_ns)
		return;
	r->tries++;
	r->next_try_ns = now + META_RETRY_NS;
	memset(&sc, 0, sizeof(sc));
	if (container_meta_load(e->state_root, r->cg.runtime,
				r->cg.container_id, &sc.meta) < 0)
		return;
	sc.key = r->key;
	r->meta = sc.meta;
	r->meta_known = 1;
	emit_side(e, REC_KIND_CONTAINER, &sc, sizeof(sc));
}

static struct proc_info *proc_put(struct enrich *e, uint32_t pid)
{
	struct proc_info *p = hashmap_get(e->procs, pid);

	if (p)
		return p;
	if (hashmap_count(e->procs) >= PROC_CAP) {
		uint64_t victim;
		void *v = hashmap_any(e->procs, &victim);

		if (v) {
			hashmap_del(e->procs, victim);
			free(v);
			e->st.proc_evictions++;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p || hashmap_put(e->procs, pid, p) < 0) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->exec_uid = -1;
	return p;
}

/* A process that started before the agent: ask /proc once (live only). */
static struct proc_info *proc_from_proc(struct enrich *e, uint32_t pid,
					uint32_t ppid)
{
	struct side_proc sp;
	struct proc_info *p;
	char link[64];
	ssize_t n;

	if (!e->o.live)
		return NULL;
	memset(&sp, 0, sizeof(sp));
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, sp.exe, sizeof(sp.exe) - 1);
	if (n < 0)
		return NULL;
	sp.exe[n] = 0;
	sp.pid = pid;
	sp.ppid = ppid;
	p = proc_put(e, pid);
	if (!p)
		return NULL;
	p->ppid = ppid;
	memcpy(p->exe, sp.exe, sizeof(p->exe));
	emit_side(e, REC_KIND_PROC, &sp, sizeof(sp));
	return p;
}

int enrich_event(struct enrich *e, const void *rec, uint64_t now_ns,
		 struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	uint64_t key;
	struct resource *r;
	struct proc_info *p;

	if (h->type == VG_CGROUP) {
		add_resource(e, rec);
		return 0;
	}
	key = h->cgroup_id | ((h->flags & VG_F_CG_V1) ? 1ULL << 63 : 0);
	r = hashmap_get(e->res, key);
	if (!r) {
		e->st.unknown_cgroups++;
		r = &e->unknown;
	} else {
		resolve_meta(e, r, now_ns);
	}
	v->res = r;

	switch (h->type) {
	case VG_EXEC: {
		const struct vg_exec *x = rec;

		p = proc_put(e, h->pid);
		if (p) {
			const char *a0 = x->args_len ? x->args : h->comm;
			const char *b = strrchr(a0, '/');

			p->ppid = h->ppid;
			p->exec_uid = h->uid;
			memcpy(p->exe, x->exe, sizeof(p->exe));
			snprintf(p->name, sizeof(p->name), "%.31s", b ? b + 1 : a0);
		}
		break;
	}
	case VG_FORK: {
		const struct vg_proc *f = rec;
		struct proc_info *parent = hashmap_get(e->procs, h->pid);

		if (!parent)
			parent = proc_from_proc(e, h->pid, h->ppid);
		p = proc_put(e, f->child_pid);
		if (p) {
			p->ppid = h->pid;
			p->exec_uid = -1;
			if (parent) {
				memcpy(p->exe, parent->exe, sizeof(p->exe));
				memcpy(p->name, parent->name, sizeof(p->name));
				p->exec_uid = parent->exec_uid;
			}
		}
		break;
	}
	default:
		p = hashmap_get(e->procs, h->pid);
		if (!p)
			p = proc_from_proc(e, h->pid, h->ppid);
		if (p && !p->name[0]) /* same in live and replay */
			snprintf(p->name, sizeof(p->name), "%.16s", h->comm);
	}
	v->proc = p;
	v->parent = hashmap_get(e->procs, h->type == VG_FORK ? h->pid : h->ppid);
	return 1;
}

void enrich_done(struct enrich *e, const void *rec)
{
	const struct vg_hdr *h = rec;

	if (h->type == VG_EXIT) {
		free(hashmap_get(e->procs, h->pid));
		hashmap_del(e->procs, h->pid);
	}
}

int enrich_side(struct enrich *e, uint32_t kind, const void *data, size_t len)
{
	if (kind == REC_KIND_CONTAINER) {
		struct side_container sc;
		struct resource *r;

		/* older frames are shorter, newer ones longer (enrich.h) */
		if (len < SIDE_CONTAINER_V1_SIZE)
			return -EBADMSG;
		memset(&sc, 0, sizeof(sc));
		memcpy(&sc, data, len < sizeof(sc) ? len : sizeof(sc));
		r = hashmap_get(e->res, sc.key);
		if (!r)
			return 0;
		r->meta = sc.meta;
		r->meta.name[sizeof(r->meta.name) - 1] = 0;
		r->meta.image[sizeof(r->meta.image) - 1] = 0;
		r->meta.pod_name[sizeof(r->meta.pod_name) - 1] = 0;
		r->meta.pod_namespace[sizeof(r->meta.pod_namespace) - 1] = 0;
		r->meta.pod_uid[sizeof(r->meta.pod_uid) - 1] = 0;
		r->meta.bundle[sizeof(r->meta.bundle) - 1] = 0;
		r->meta.labels[sizeof(r->meta.labels) - 1] = 0;
		r->meta_known = 1;
		return 0;
	}
	if (kind == REC_KIND_PROC) {
		const struct side_proc *sp = data;
		struct proc_info *p;

		if (len != sizeof(*sp))
			return -EBADMSG;
		p = proc_put(e, sp->pid);
		if (!p)
			return -ENOMEM;
		p->ppid = sp->ppid;
		memcpy(p->exe, sp->exe, sizeof(p->exe));
		p->exe[sizeof(p->exe) - 1] = 0;
		return 0;
	}
	return 0;
}

const struct proc_info *enrich_proc(struct enrich *e, uint32_t pid)
{
	return hashmap_get(e->procs, pid);
}

struct find_ctx {
	const char *id;
	const struct resource *found;
};

static int match_container(void *ctx, uint64_t key, void *v)
{
	struct find_ctx *f = ctx;
	const struct resource *r = v;

	(void)key;
	if (r->cg.runtime != CG_HOST &&
	    (strcmp(r->cg.container_id, f->id) == 0 ||
	     strcmp(r->meta.name, f->id) == 0 ||
	     (strlen(f->id) >= 12 &&
	      strncmp(r->cg.container_id, f->id, strlen(f->id)) == 0))) {
		f->found = r;
		return 1;
	}
	return 0;
}

const struct resource *enrich_find_container(struct enrich *e, const char *id)
{
	struct find_ctx f = {id, NULL};

	hashmap_each(e->res, match_container, &f);
	return f.found;
}

void enrich_stats(const struct enrich *e, struct enrich_stats *out)
{
	*out = e->st;
	out->procs = hashmap_count(e->procs);
}
