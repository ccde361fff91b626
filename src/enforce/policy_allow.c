/* policy_allow.c - learned model -> allow decisions (see policy_allow.h).
 *
 * Invariants: a model item never yields port 0 (which would allow every
 * port in netguard); a policy_execset holds at most POLICY_EXECSET_CAP
 * patterns and POLICY_WRITTEN_CAP written paths, each stored with its
 * string so a hash collision can never allow or deny the wrong file; its
 * readers (the execguard thread) and writers (the main thread) are
 * serialised by one rwlock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "enforce/policy_allow.h"
#include "lib/hashmap.h"
#include "model/generalize.h"

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int starts(const char *s, const char *pfx)
{
	return !strncmp(s, pfx, strlen(pfx));
}

struct match_ctx {
	const char *path;
	int found;
};

static int match_one(void *ctx, const struct model_entry *e)
{
	struct match_ctx *c = ctx;

	if (gen_match(e->item, c->path)) {
		c->found = 1;
		return 1;
	}
	return 0;
}

int policy_allow_exec(const struct model *inst, const struct model *img,
		      const char *exe_path)
{
	const struct model *ms[2] = {inst, img};
	char g[MODEL_ITEM_MAX];

	if (!exe_path || exe_path[0] != '/')
		return 0;
	gen_path(exe_path, g, sizeof(g));
	for (int i = 0; i < 2; i++)
		if (ms[i] && model_find(ms[i], DIM_FILE_EXEC, g))
			return 1;
	for (int i = 0; i < 2; i++) {
		struct match_ctx c = {exe_path, 0};

		if (!ms[i])
			continue;
		model_each(ms[i], DIM_FILE_EXEC, match_one, &c);
		if (c.found)
			return 1;
	}
	return 0;
}

enum policy_verdict policy_exec_verdict(const struct model *inst,
					const struct model *img,
					const char *exe_path,
					policy_written_fn written, void *wctx)
{
	if (written && exe_path && written(wctx, exe_path))
		return POLICY_DENY_DRIFT;
	return policy_allow_exec(inst, img, exe_path) ? POLICY_ALLOW
						      : POLICY_DENY_UNKNOWN;
}

const char *policy_verdict_reason(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY_UNKNOWN:
		return "not in the learned model";
	case POLICY_DENY_DRIFT:
		return "drift: written in the container after it started";
	}
	return "?";
}

int policy_is_loader(const char *path)
{
	const char *b;

	if (!path || !(starts(path, "/lib") || starts(path, "/usr/lib")))
		return 0;
	b = base_of(path);
	if (starts(b, "ld-musl-") || starts(b, "ld64.so"))
		return 1;
	return starts(b, "ld-") && strstr(b, ".so") != NULL;
}

/* --- ports --- */

int policy_parse_net_item(const char *item, struct policy_port *out)
{
	const char *sp, *colon, *p;
	unsigned long port = 0;

	if (!item)
		return -EINVAL;
	if (starts(item, "tcp "))
		out->proto = 6;
	else if (starts(item, "udp "))
		out->proto = 17;
	else
		return -EINVAL;
	sp = item + 3;
	colon = strrchr(sp, ':');
	if (!colon || !colon[1])
		return -EINVAL;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return -EINVAL;
	}
	if (port == 0)
		return -EINVAL;
	out->port = (uint16_t)port;
	return 0;
}

struct ports_ctx {
	struct policy_port *out;
	size_t cap, n;
};

static int port_one(void *ctx, const struct model_entry *e)
{
	struct ports_ctx *c = ctx;
	struct policy_port p;
	size_t i, lim;

	if (policy_parse_net_item(e->item, &p))
		return 0;
	lim = c->n < c->cap ? c->n : c->cap;
	for (i = 0; i < lim; i++)
		if (c->out[i].proto == p.proto && c->out[i].port == p.port)
			return 0;
	/* past cap, duplicates among the unstored ones are over-counted: the
	 * caller only learns that out was too small */
	if (c->n < c->cap)
		c->out[c->n] = p;
	c->n++;
	return 0;
}

size_t policy_ports(const struct model *inst, const struct model *img,
		    enum model_dim dim, struct policy_port *out, size_t cap)
{
	struct ports_ctx c = {out, cap, 0};

	if (dim != DIM_NET_OUT && dim != DIM_NET_LISTEN)
		return 0;
	if (inst)
		model_each(inst, dim, port_one, &c);
	if (img)
		model_each(img, dim, port_one, &c);
	return c.n;
}

/* --- execset --- */

struct policy_execset {
	pthread_rwlock_t lock;
	char **pat;	       /* patterns, insertion order */
	size_t npat;
	struct hashmap *by_pat;	  /* fnv(pattern) -> pattern string */
	struct hashmap *written;  /* fnv(path) -> path string */
	uint64_t since_ns;
	uint64_t written_lost;
};

struct policy_execset *policy_execset_new(void)
{
	struct policy_execset *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pat = calloc(POLICY_EXECSET_CAP, sizeof(*s->pat));
	s->by_pat = hashmap_new(POLICY_EXECSET_CAP);
	s->written = hashmap_new(POLICY_WRITTEN_CAP);
	if (!s->pat || !s->by_pat || !s->written ||
	    pthread_rwlock_init(&s->lock, NULL)) {
		free(s->pat);
		hashmap_free(s->by_pat, NULL, NULL);
		hashmap_free(s->written, NULL, NULL);
		free(s);
		return NULL;
	}
	return s;
}

static void free_str(void *ctx, uint64_t key, void *v)
{
	(void)ctx;
	(void)key;
	free(v);
}

void policy_execset_free(struct policy_execset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npat; i++)
		free(s->pat[i]);
	free(s->pat);
	hashmap_free(s->by_pat, NULL, NULL); /* values are s->pat[i] */
	hashmap_free(s->written, free_str, NULL);
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

/* caller holds the write lock */
static int add_locked(struct policy_execset *s, const char *pattern)
{
	uint64_t h = fnv(pattern);
	const char *old = hashmap_get(s->by_pat, h);
	char *copy;
	int rc;

	if (old && !strcmp(old, pattern))
		return 0;
	if (s->npat == POLICY_EXECSET_CAP)
		return -ENOSPC;
	copy = strdup(pattern);
	if (!copy)
		return -ENOMEM;
	/* on a hash collision the first pattern keeps the exact slot; the
	 * second is still found by the gen_match scan */
	if (!old) {
		rc = hashmap_put(s->by_pat, h, copy);
		if (rc) {
			free(copy);
			return rc;
		}
	}
	s->pat[s->npat++] = copy;
	return 0;
}

int policy_execset_add(struct policy_execset *s, const char *pattern)
{
	int rc;

	if (!s || !pattern || !*pattern)
		return -EINVAL;
	pthread_rwlock_wrlock(&s->lock);
	rc = add_locked(s, pattern);
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

struct add_ctx {
	struct policy_execset *s;
	int rc;
};

static int add_entry(void *ctx, const struct model_entry *e)
{
	struct add_ctx *c = ctx;
	int rc = add_locked(c->s, e->item);

	if (rc && !c->rc)
		c->rc = rc;
	return rc == -ENOSPC;
}

int policy_execset_add_model(struct policy_execset *s, const struct model *m)
{
	struct add_ctx c = {s, 0};

	if (!s)
		return -EINVAL;
	if (!m)
		return 0;
	pthread_rwlock_wrlock(&s->lock);
	model_each(m, DIM_FILE_EXEC, add_entry, &c);
	pthread_rwlock_unlock(&s->lock);
	return c.rc;
}

void policy_execset_clear(struct policy_execset *s)
{
	if (!s)
		return;
	pthread_rwlock_wrlock(&s->lock);
	for (size_t i = 0; i < s->npat; i++) {
		hashmap_del(s->by_pat, fnv(s->pat[i]));
		free(s->pat[i]);
		s->pat[i] = NULL;
	}
	s->npat = 0;
	pthread_rwlock_unlock(&s->lock);
}

int policy_execset_mark_written(struct policy_execset *s, const char *path)
{
	uint64_t h;
	const char *old;
	char *copy;
	int rc = 0;

	if (!s || !path || path[0] != '/')
		return -EINVAL;
	h = fnv(path);
	pthread_rwlock_wrlock(&s->lock);
	old = hashmap_get(s->written, h);
	if (old) {
		/* a collision keeps the first path; the ctime rule remains */
		rc = strcmp(old, path) ? -EEXIST : 0;
		goto out;
	}
	copy = strdup(path);
	if (!copy) {
		rc = -ENOMEM;
		goto out;
	}
	rc = hashmap_put(s->written, h, copy);
	if (rc) {
		free(copy);
		s->written_lost++;
		rc = -ENOSPC;
	}
out:
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

void policy_execset_set_since(struct policy_execset *s, uint64_t since_ns)
{
	if (!s)
		return;
	pthread_rwlock_wrlock(&s->lock);
	s->since_ns = since_ns;
	pthread_rwlock_unlock(&s->lock);
}

static void put_reason(char *reason, size_t cap, const char *text)
{
	size_t n;

	if (!reason || !cap)
		return;
	n = strlen(text);
	if (n >= cap)
		n = cap - 1;
	memcpy(reason, text, n);
	reason[n] = 0;
}

/* caller holds the read lock */
static int known_locked(struct policy_execset *s, const char *path)
{
	char g[MODEL_ITEM_MAX];
	const char *hit;

	gen_path(path, g, sizeof(g));
	hit = hashmap_get(s->by_pat, fnv(g));
	if (hit && !strcmp(hit, g))
		return 1;
	for (size_t i = 0; i < s->npat; i++)
		if (gen_match(s->pat[i], path))
			return 1;
	return 0;
}

enum policy_verdict policy_execset_check(struct policy_execset *s,
					 const struct policy_file *f,
					 char *reason, size_t cap)
{
	enum policy_verdict v;
	const char *w, *why;

	if (!s || !f || !f->path || f->path[0] != '/') {
		put_reason(reason, cap, "no absolute path for the file");
		return POLICY_DENY_UNKNOWN;
	}
	pthread_rwlock_rdlock(&s->lock);
	w = hashmap_get(s->written, fnv(f->path));
	if (w && !strcmp(w, f->path)) {
		v = POLICY_DENY_DRIFT;
		why = "drift: written in the container after it started";
	} else if (s->since_ns && f->ctime_ns > s->since_ns) {
		v = POLICY_DENY_DRIFT;
		why = "drift: changed after the container started";
	} else if (known_locked(s, f->path)) {
		v = POLICY_ALLOW;
		why = "in the learned model";
	} else if (f->is_script) {
		v = POLICY_ALLOW;
		why = "script from the image (its interpreter is checked)";
	} else if (policy_is_loader(f->path)) {
		v = POLICY_ALLOW;
		why = "dynamic loader from the image";
	} else {
		v = POLICY_DENY_UNKNOWN;
		why = "not in the learned model";
	}
	pthread_rwlock_unlock(&s->lock);
	put_reason(reason, cap, why);
	return v;
}

size_t policy_execset_count(struct policy_execset *s)
{
	size_t n;

	if (!s)
		return 0;
	pthread_rwlock_rdlock(&s->lock);
	n = s->npat;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

uint64_t policy_execset_written_lost(struct policy_execset *s)
{
	uint64_t n;

	if (!s)
		return 0;
	pthread_rwlock_rdlock(&s->lock);
	n = s->written_lost;
	pthread_rwlock_unlock(&s->lock);
	return n;
}
