/* detect.c - evaluates rules (rules.h) against events.
 *
 * Fields are extracted on demand per condition. Drift needs memory: per
 * resource, the hashes of paths written since it was first seen (capped;
 * when full, the oldest knowledge is dropped as a whole and counted). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect/detect.h"
#include "lib/hashmap.h"
#include "model/items.h"
#include "output/event_format.h"
#include "vigil_event.h"

#define WRITTEN_CAP 65536
#define REPEAT_WINDOW_NS (60ULL * 1000000000ULL)
#define SEEN_CAP 65536

struct detect {
	uint64_t *types; /* per rule: event types its `action` can match */
	uint64_t now;		 /* wall time of the event being matched */
	struct hashmap *first;	 /* resource key -> first wall ns seen */
	struct ruleset *rs;
	detect_cb cb;
	void *ctx;
	struct hashmap *written; /* hash(resource key, path) -> 1 */
	struct hashmap *seen;	 /* hash(rule, resource, object) -> last ns */
	struct detect_stats st;
};

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static uint64_t wkey(const struct enrich_view *v, const char *path)
{
	return fnv(14695981039346656037ULL ^ v->res->key, path);
}

/* Per (rule, resource, object): when it was last reported and how many
 * identical matches were folded since. */
struct seen {
	uint64_t last_ns;
	uint64_t first_fold_ns; /* first match folded since the last report */
	uint32_t folded;
};

static void free_seen(void *ctx, uint64_t k, void *v)
{
	(void)ctx;
	(void)k;
	free(v);
}

/* Event types a group's `action` condition lets through (all types when
 * it has none, or negates or compares). */
static uint64_t group_types(const struct rule_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct rule_cond *c = &g->conds[i];
		uint64_t m = 0;

		if (strcmp(c->field, "action"))
			continue;
		for (size_t k = 0; k < c->n_values; k++) {
			if (strchr("!<>", c->values[k][0]))
				return ~0ULL;
			for (int t = 1; t < VG_TYPE_MAX; t++)
				if (fnmatch(c->values[k], event_action(t), 0) == 0)
					m |= 1ULL << t;
		}
		return m;
	}
	return ~0ULL;
}

/* A superset of the event types a rule can match: lets detect_event skip
 * most rules with one bit test instead of formatting their fields. */
static uint64_t rule_types(const struct rule *r)
{
	uint64_t m = group_types(&r->match), any = r->n_any ? 0 : ~0ULL;

	for (size_t i = 0; i < r->n_any; i++)
		any |= group_types(&r->any[i]);
	return m & any;
}

struct detect *detect_new(struct ruleset *rs, detect_cb cb, void *ctx)
{
	struct detect *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->rs = rs;
	d->cb = cb;
	d->ctx = ctx;
	d->written = hashmap_new(WRITTEN_CAP);
	d->seen = hashmap_new(SEEN_CAP);
	d->first = hashmap_new(SEEN_CAP);
	d->types = calloc(rs->n ? rs->n : 1, sizeof(*d->types));
	if (!d->written || !d->seen || !d->first || !d->types) {
		detect_free(d);
		return NULL;
	}
	for (size_t i = 0; i < rs->n; i++)
		d->types[i] = rule_types(&rs->rules[i]);
	return d;
}

void detect_free(struct detect *d)
{
	if (!d)
		return;
	rules_free(d->rs);
	hashmap_free(d->written, NULL, NULL);
	hashmap_free(d->seen, free_seen, NULL);
	hashmap_free(d->first, NULL, NULL);
	free(d->types);
	free(d);
}

#define PUT(s)                                                                 \
	do {                                                                   \
		if (k < n)                                                     \
			snprintf(out[k++], 256, "%s", (s));                    \
	} while (0)
#define PUTU(u)                                                                \
	do {                                                                   \
		if (k < n)                                                     \
			snprintf(out[k++], 256, "%llu", (unsigned long long)(u)); \
	} while (0)

static int file_field(const char *f, const struct vg_hdr *h, char out[][256],
		      int n)
{
	const struct vg_file *fl = (const void *)h;
	int k = 0;

	if (!strcmp(f, "file.access")) {
		if (h->type == VG_OPEN) {
			if (fl->access & VG_ACC_READ)
				PUT("read");
			if (fl->access & VG_ACC_WRITE)
				PUT("write");
			if (fl->access & VG_ACC_CREATE)
				PUT("create");
			if (fl->access & VG_ACC_TRUNC)
				PUT("truncate");
		}
		if (!k)
			PUT("none");
		return k;
	}
	if (!strcmp(f, "file.path") || !strcmp(f, "any_path"))
		PUT(fl->path);
	if ((!strcmp(f, "file.target_path") || !strcmp(f, "any_path")) &&
	    fl->path2[0] && h->type != VG_SYMLINK)
		PUT(fl->path2);
	return k;
}

int detect_field(struct detect *d, const char *f, const void *rec,
		 const struct enrich_view *v, char out[][256], int n)
{
	const struct vg_hdr *h = rec;
	const struct vg_exec *x = rec;
	const struct vg_net *nt = rec;
	const struct vg_priv *p = rec;
	int is_file = h->type >= VG_OPEN && h->type < VG_CONNECT;
	int is_net = h->type >= VG_CONNECT && h->type < VG_SETUID;
	int is_priv = h->type >= VG_SETUID && h->type < VG_CGROUP;
	int k = 0;

	if (!strcmp(f, "time.hour"))
		PUTU((d->now / 3600000000000ULL) % 24);
	else if (!strcmp(f, "time.weekday")) {
		static const char *days[] = {"mon", "tue", "wed", "thu", "fri",
					     "sat", "sun"};

		PUT(days[(d->now / 86400000000000ULL + 3) % 7]);
	} else if (!strcmp(f, "resource.age")) {
		void *first = hashmap_get(d->first, v->res->key);

		if (first)
			PUTU((d->now - ((uint64_t)(uintptr_t)first & ~1ULL)) /
			     1000000000ULL);
	} else if (!strcmp(f, "action"))
		PUT(event_action(h->type));
	else if (!strcmp(f, "outcome"))
		PUT(h->ret < 0 && h->type != VG_EXIT ? "failure" : "success");
	else if (!strcmp(f, "container"))
		PUT(v->res->cg.runtime != CG_HOST ? "true" : "false");
	else if (!strcmp(f, "container.image") && v->res->meta.image[0])
		PUT(v->res->meta.image);
	else if (!strcmp(f, "container.name") && v->res->cg.runtime != CG_HOST)
		PUT(v->res->meta.name[0] ? v->res->meta.name : v->res->cg.container_id);
	else if (!strcmp(f, "service.name") && v->res->cg.unit[0])
		PUT(v->res->cg.unit);
	else if (!strcmp(f, "process.name"))
		PUT(v->proc && v->proc->name[0] ? v->proc->name : h->comm);
	else if (!strcmp(f, "process.executable")) {
		if (h->type == VG_EXEC)
			PUT(x->exe);
		else if (v->proc && v->proc->exe[0])
			PUT(v->proc->exe);
	} else if (!strcmp(f, "process.args") && h->type == VG_EXEC) {
		char buf[256];
		size_t m = x->args_len < sizeof(buf) - 1 ? x->args_len : sizeof(buf) - 1;

		memcpy(buf, x->args, m);
		buf[m] = 0;
		for (size_t i = 0; i + 1 < m; i++)
			if (!buf[i])
				buf[i] = ' ';
		PUT(buf);
	} else if (!strcmp(f, "process.parent.name")) {
		PUT(v->parent && v->parent->name[0] ? v->parent->name : "?");
	} else if (!strcmp(f, "process.parent.executable")) {
		if (h->type == VG_EXEC && x->parent_exe[0])
			PUT(x->parent_exe);
		else if (v->parent && v->parent->exe[0])
			PUT(v->parent->exe);
	} else if (!strcmp(f, "process.exec_uid")) {
		if (v->proc && v->proc->exec_uid >= 0)
			PUTU(v->proc->exec_uid);
	} else if (!strcmp(f, "process.executable.written")) {
		if (h->type == VG_EXEC && v->res->cg.runtime != CG_HOST)
			PUT(hashmap_get(d->written, wkey(v, x->exe)) ? "true" : "false");
	} else if (is_file && (!strncmp(f, "file.", 5) || !strcmp(f, "any_path"))) {
		return file_field(f, h, out, n);
	} else if ((h->type == VG_MOUNT || h->type == VG_UMOUNT) &&
		   (!strcmp(f, "file.path") || !strcmp(f, "any_path"))) {
		PUT(p->str2);
	} else if (is_net && !strcmp(f, "destination.port") &&
		   (h->type == VG_CONNECT || h->type == VG_DNS)) {
		PUTU(nt->rport);
	} else if (is_net && !strcmp(f, "destination.ip")) {
		char ip[64] = "";

		if (nt->family == 2)
			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", nt->raddr[0],
				 nt->raddr[1], nt->raddr[2], nt->raddr[3]);
		if (ip[0])
			PUT(ip);
	} else if (is_net && !strcmp(f, "source.port")) {
		PUTU(nt->lport);
	} else if (h->type == VG_DNS && !strcmp(f, "dns.question.name")) {
		char name[256];
		uint16_t qt;

		if (dns_query_name(nt->payload, nt->payload_len, name, sizeof(name),
				   &qt) == 0)
			PUT(name);
	} else if (!strcmp(f, "user.id")) {
		PUTU(h->uid);
	} else if (!strcmp(f, "user.effective.id")) {
		PUTU(h->euid);
	} else if (is_priv && !strcmp(f, "privilege.target_uid") &&
		   (h->type == VG_SETUID)) {
		PUTU((uint32_t)p->arg[0]);
	} else if (h->type == VG_CAPSET && !strcmp(f, "privilege.caps")) {
		static const struct {
			int bit;
			const char *name;
		} caps[] = {{1, "CAP_DAC_OVERRIDE"}, {2, "CAP_DAC_READ_SEARCH"},
			    {12, "CAP_NET_ADMIN"},   {13, "CAP_NET_RAW"},
			    {16, "CAP_SYS_MODULE"},  {19, "CAP_SYS_PTRACE"},
			    {21, "CAP_SYS_ADMIN"},   {39, "CAP_BPF"}};

		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			if (p->arg[0] & (1ULL << caps[i].bit))
				PUT(caps[i].name);
	} else if (h->type == VG_PTRACE && !strcmp(f, "privilege.ptrace_request")) {
		PUTU(p->arg[0]);
	} else if (h->type == VG_EXEC && !strcmp(f, "exe.memfd")) {
		PUT(h->flags & VG_F_EXE_MEMFD ? "true" : "false");
	} else if (h->type == VG_EXEC && !strcmp(f, "exe.deleted")) {
		PUT(h->flags & VG_F_EXE_DELETED ? "true" : "false");
	} else if (h->type == VG_EXEC && !strcmp(f, "stdin.socket")) {
		PUT(h->flags & VG_F_STDIN_SOCK ? "true" : "false");
	} else if (h->type == VG_EXEC && !strcmp(f, "stdout.socket")) {
		PUT(h->flags & VG_F_STDOUT_SOCK ? "true" : "false");
	}
	return k;
}

/* "<N", "<=N", ">N", ">=N" against a numeric value; -1 if want is not a
 * comparison. */
static int compare(const char *want, const char *val)
{
	int lt = want[0] == '<', eq;
	const char *num;
	char *end;
	double w, x;

	if (want[0] != '<' && want[0] != '>')
		return -1;
	eq = want[1] == '=';
	num = want + 1 + eq;
	w = strtod(num, &end);
	if (end == num || *end)
		return -1;
	x = strtod(val, &end);
	if (end == val || *end)
		return 0;
	if (lt)
		return eq ? x <= w : x < w;
	return eq ? x >= w : x > w;
}

/* Any value of the field matches any listed value ("!x": no value is x;
 * "<N", ">=N"...: a numeric comparison). */
static int cond_holds(struct detect *d, const struct rule_cond *c,
		      const void *rec, const struct enrich_view *v)
{
	char vals[8][256];
	int n = detect_field(d, c->field, rec, v, vals, 8);

	if (n == 0)
		return 0;
	for (size_t i = 0; i < c->n_values; i++) {
		const char *want = c->values[i];

		if (want[0] == '!') {
			int any = 0;

			for (int k = 0; k < n; k++)
				any |= fnmatch(want + 1, vals[k], 0) == 0;
			if (!any)
				return 1;
			continue;
		}
		for (int k = 0; k < n; k++) {
			int c = compare(want, vals[k]);

			if (c == 1 || (c < 0 && fnmatch(want, vals[k], 0) == 0))
				return 1;
		}
	}
	return 0;
}

static int group_all(struct detect *d, const struct rule_group *g,
		     const void *rec, const struct enrich_view *v)
{
	for (size_t i = 0; i < g->n; i++)
		if (!cond_holds(d, &g->conds[i], rec, v))
			return 0;
	return 1;
}

static int group_any_cond(struct detect *d, const struct rule_group *g,
			  const void *rec, const struct enrich_view *v)
{
	for (size_t i = 0; i < g->n; i++)
		if (cond_holds(d, &g->conds[i], rec, v))
			return 1;
	return 0;
}

static int rule_matches(struct detect *d, const struct rule *r,
			const void *rec, const struct enrich_view *v)
{
	int any = r->n_any == 0;

	if (r->match.n && !group_all(d, &r->match, rec, v))
		return 0;
	for (size_t i = 0; i < r->n_any && !any; i++)
		any = group_all(d, &r->any[i], rec, v);
	return any && !group_any_cond(d, &r->except, rec, v);
}

/* The object a detection is about, for messages and repeat counting. */
static void object_of(const void *rec, char *buf, size_t cap)
{
	const struct vg_hdr *h = rec;

	buf[0] = 0;
	if (h->type == VG_EXEC)
		snprintf(buf, cap, "%s", ((const struct vg_exec *)rec)->exe);
	else if (h->type >= VG_OPEN && h->type < VG_CONNECT)
		snprintf(buf, cap, "%s", ((const struct vg_file *)rec)->path);
	else if (h->type >= VG_CONNECT && h->type < VG_SETUID)
		snprintf(buf, cap, "port %u", ((const struct vg_net *)rec)->rport);
	else if (h->type == VG_MOUNT || h->type == VG_UMOUNT)
		snprintf(buf, cap, "%s", ((const struct vg_priv *)rec)->str2);
	else
		snprintf(buf, cap, "%s", event_action(h->type));
}

static void track_writes(struct detect *d, const void *rec,
			 const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	const struct vg_file *f = rec;
	const char *path = NULL;

	if (v->res->cg.runtime == CG_HOST || h->ret < 0)
		return;
	if (h->type == VG_OPEN && (f->access & (VG_ACC_WRITE | VG_ACC_CREATE)))
		path = f->path;
	else if (h->type == VG_RENAME || h->type == VG_LINK)
		path = f->path2;
	if (!path || !path[0])
		return;
	if (hashmap_count(d->written) >= WRITTEN_CAP) {
		hashmap_free(d->written, NULL, NULL); /* forget, bounded */
		d->written = hashmap_new(WRITTEN_CAP);
		if (!d->written)
			return;
	}
	hashmap_put(d->written, wkey(v, path), (void *)1);
}

int detect_event(struct detect *d, const void *rec, const struct enrich_view *v,
		 uint64_t wall_ns)
{
	int hits = 0;
	char obj[256];

	d->st.events++;
	if (!d->written || !d->seen || !d->first || items_is_runtime(rec, v))
		return 0;
	d->now = wall_ns;
	if (!hashmap_get(d->first, v->res->key)) /* bounded by the cap */
		hashmap_put(d->first, v->res->key, (void *)(uintptr_t)(wall_ns | 1));
	for (size_t i = 0; i < d->rs->n; i++) {
		const struct rule *r = &d->rs->rules[i];
		struct detection det;
		uint64_t key;
		struct seen *last;

		if (!(d->types[i] & (1ULL << (((const struct vg_hdr *)rec)->type & 63))) ||
		    !rule_matches(d, r, rec, v))
			continue;
		hits++;
		d->st.matches++;
		object_of(rec, obj, sizeof(obj));
		key = fnv(fnv(14695981039346656037ULL ^ v->res->key, r->id), obj);
		last = hashmap_get(d->seen, key);
		if (last && wall_ns - last->last_ns < REPEAT_WINDOW_NS) {
			if (!last->folded++) /* carried by the next report */
				last->first_fold_ns = wall_ns;
			d->st.repeats++;
			continue;
		}
		det.repeats = last ? last->folded : 0;
		det.first_ns = det.repeats ? last->first_fold_ns : wall_ns;
		if (!last) {
			last = calloc(1, sizeof(*last));
			if (!last)
				continue;
			if (hashmap_put(d->seen, key, last) == -ENOSPC) {
				/* full: forget every window, bounded */
				hashmap_free(d->seen, free_seen, NULL);
				d->seen = hashmap_new(SEEN_CAP);
				if (!d->seen || hashmap_put(d->seen, key, last) < 0) {
					free(last);
					return hits;
				}
			}
		}
		last->last_ns = wall_ns;
		last->folded = 0;
		det.rule = r;
		det.rec = rec;
		det.view = v;
		det.wall_ns = wall_ns;
		det.object = obj;
		d->st.reported++;
		if (d->cb)
			d->cb(d->ctx, &det);
	}
	track_writes(d, rec, v); /* after: a write is not its own drift */
	return hits;
}

void detect_stats(const struct detect *d, struct detect_stats *out)
{
	*out = d->st;
}
