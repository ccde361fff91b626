/* container_meta.c - read a container's metadata from its runtime's state
 * files (runc state.json / crun status -> bundle -> config.json annotations;
 * docker config.v2.json; CRI-O pod labels from the pod sandbox's
 * config.json). Invariants: the id (and a sandbox id read from an
 * annotation) is validated before it becomes a path component, so it cannot
 * leave the state directories; labels are copied as whole pairs; files are
 * opened non-blocking, must be regular and are read up to
 * CONTAINER_META_MAX_FILE bytes; every JSON value is type-checked before
 * use; every string copy is bounded and NUL-terminated; no state is kept
 * between calls. The lookup rules are documented in container_meta.h. */
#include "enrich/container_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum state_kind { ST_RUNC, ST_CRUN };

static const struct state_loc {
	const char *dir, *file;
	enum state_kind kind;
} LOCS[] = {
	{ "/run/runc/", "state.json", ST_RUNC },                     /* 0 */
	{ "/run/crun/", "status", ST_CRUN },                         /* 1 */
	{ "/run/containerd/runc/k8s.io/", "state.json", ST_RUNC },   /* 2 */
	{ "/run/containerd/runc/default/", "state.json", ST_RUNC },  /* 3 */
	{ "/run/docker/runtime-runc/moby/", "state.json", ST_RUNC }, /* 4 */
};

/* Per runtime, the order in which LOCS are tried. */
static const unsigned char ORDER[][ARRAY_SIZE(LOCS)] = {
	[CG_RUNC] = { 0, 1, 3, 2, 4 },       [CG_DOCKER] = { 4, 0, 1, 2, 3 },
	[CG_CONTAINERD] = { 2, 3, 0, 1, 4 }, [CG_CRIO] = { 0, 1, 2, 3, 4 },
	[CG_PODMAN] = { 1, 0, 2, 3, 4 },
};

#define FIELD(f) offsetof(struct container_meta, f), sizeof(((struct container_meta *)0)->f)

/* Annotation keys per field, most preferred first. */
static const struct {
	size_t off, cap;
	const char *keys[4];
} ANNOTATIONS[] = {
	{ FIELD(image),
	  { "io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName",
	    "org.opencontainers.image.ref.name", "vigil.image" } },
	{ FIELD(name), { "io.kubernetes.cri.container-name", "io.kubernetes.container.name" } },
	{ FIELD(pod_name), { "io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name" } },
	{ FIELD(pod_namespace),
	  { "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace" } },
	{ FIELD(pod_uid), { "io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid" } },
};

static bool is_not_found(int rc)
{
	return rc == -ENOENT || rc == -ENOTDIR;
}

/* [A-Za-z0-9_.-]{1,64}, not "." or "..": safe as one path component. */
static bool valid_id(const char *id)
{
	if (!id || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	size_t n = strnlen(id, 65);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Copy src into an empty dst[cap]; truncate at a UTF-8 character boundary.
 * A non-empty dst (an earlier, preferred source) is left alone. */
static void fill(char *dst, size_t cap, const char *src)
{
	if (dst[0] != '\0' || !src || src[0] == '\0')
		return;
	size_t n = strlen(src);
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* obj[key] when obj is an object and the value a string, else NULL. */
static const char *jstr(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Read a regular file of at most CONTAINER_META_MAX_FILE bytes into a
 * malloc'd buffer (caller frees). O_NONBLOCK: a FIFO planted in place of a
 * state file must not hang the agent. */
static int read_capped(const char *path, char **bufp, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	int rc = 0;
	char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > CONTAINER_META_MAX_FILE) {
		rc = -EFBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1; /* +1: notice a file that grew */
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > CONTAINER_META_MAX_FILE) {
				rc = -EFBIG;
				goto out;
			}
			size_t ncap = cap * 2;
			if (ncap > CONTAINER_META_MAX_FILE + 1)
				ncap = CONTAINER_META_MAX_FILE + 1;
			char *nbuf = realloc(buf, ncap);
			if (!nbuf) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
out:
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* Parse path as a JSON object into *out (caller json_decref()s). */
static int load_json(const char *path, json_t **out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_capped(path, &buf, &len);
	if (rc < 0)
		return rc;
	json_error_t err;
	json_t *j = json_loadb(buf, len, 0, &err);
	free(buf);
	if (!json_is_object(j)) {
		json_decref(j);
		return -EBADMSG;
	}
	*out = j;
	return 0;
}

/* The bundle dir recorded in a runc state.json or crun status, or NULL. */
static const char *state_bundle(const json_t *st, enum state_kind kind)
{
	if (kind == ST_CRUN)
		return jstr(st, "bundle");
	const json_t *labels = json_object_get(json_object_get(st, "config"), "labels");
	size_t i;
	json_t *v;
	json_array_foreach(labels, i, v) {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (s && strncmp(s, "bundle=", 7) == 0)
			return s + 7;
	}
	return NULL;
}

/* ---- pod labels (CRI-O) ---- */

#define CRIO_LABELS "io.kubernetes.cri-o.Labels"
#define CRIO_SANDBOX_ID "io.kubernetes.cri-o.SandboxID"
#define CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"

struct label {
	const char *k, *v;
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->k, ((const struct label *)b)->k);
}

/* 1 if s may stand in the "k=v,k=v" list: no ',' and no control byte (and
 * no '=' when it is a key). */
static bool label_text_ok(const char *s, bool key)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == ',' || (key && c == '='))
			return false;
	}
	return true;
}

/* Labels kubelet sets itself; other fields already hold them. */
static bool kubelet_label(const char *k)
{
	return strcmp(k, "io.kubernetes.pod.name") == 0 ||
	       strcmp(k, "io.kubernetes.pod.namespace") == 0 ||
	       strcmp(k, "io.kubernetes.pod.uid") == 0 ||
	       strcmp(k, "io.kubernetes.container.name") == 0;
}

/* Fill out->labels from the JSON object text of a CRI-O Labels annotation:
 * "k=v" pairs sorted by key, joined by ',', each kept whole or skipped
 * (container_meta.h says which). Anything unusable leaves labels alone. */
static void fill_labels(struct container_meta *out, const char *json)
{
	if (out->labels[0] != '\0' || !json)
		return;
	json_error_t err;
	json_t *obj = json_loads(json, 0, &err);
	size_t n = json_object_size(obj), used = 0, cap = sizeof(out->labels);
	struct label *v = n ? calloc(n, sizeof(*v)) : NULL;
	if (!json_is_object(obj) || !v) {
		json_decref(obj);
		free(v);
		return;
	}
	const char *k;
	json_t *val;
	size_t m = 0;
	json_object_foreach(obj, k, val) {
		const char *s = json_is_string(val) ? json_string_value(val) : NULL;
		if (!s || !*k || kubelet_label(k) || !label_text_ok(k, true) ||
		    !label_text_ok(s, false))
			continue;
		v[m].k = k;
		v[m++].v = s;
	}
	qsort(v, m, sizeof(*v), cmp_label);
	for (size_t i = 0; i < m; i++) {
		size_t kl = strlen(v[i].k), vl = strlen(v[i].v);
		size_t need = (used ? 1 : 0) + kl + 1 + vl;
		if (need >= cap - used) /* keep room for the NUL */
			continue;
		if (used)
			out->labels[used++] = ',';
		memcpy(out->labels + used, v[i].k, kl);
		used += kl;
		out->labels[used++] = '=';
		memcpy(out->labels + used, v[i].v, vl);
		used += vl;
	}
	out->labels[used] = '\0';
	free(v);
	json_decref(obj);
}

static int find_state(const char *prefix, enum cg_runtime rt, const char *id, json_t **st,
		      enum state_kind *kind);

/* The sandbox's config.json beside the container's bundle: the bundle's
 * last component equal to id, or the one before a final "userdata" (CRI-O:
 * .../overlay-containers/<id>/userdata), becomes sbid. NULL if the bundle
 * does not name id or the file cannot be read. */
static json_t *sandbox_beside(const char *prefix, const char *bundle, const char *id,
			      const char *sbid)
{
	size_t bl = strlen(bundle), il = strlen(id);
	const char *tail = "";
	if (bl > 9 && strcmp(bundle + bl - 9, "/userdata") == 0) {
		bl -= 9;
		tail = "/userdata";
	}
	if (bl <= il || bundle[bl - il - 1] != '/' || strncmp(bundle + bl - il, id, il) != 0)
		return NULL;
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s%.*s%s%s/config.json", prefix,
			 (int)(bl - il), bundle, sbid, tail);
	json_t *cfg = NULL;
	if (n < 0 || (size_t)n >= sizeof(path) || load_json(path, &cfg) < 0)
		return NULL;
	return cfg;
}

/* The sandbox's config.json through its runtime state; NULL if none. */
static json_t *sandbox_by_state(const char *prefix, const char *sbid)
{
	json_t *st = NULL, *cfg = NULL;
	enum state_kind kind;
	if (find_state(prefix, CG_CRIO, sbid, &st, &kind) < 0)
		return NULL;
	const char *b = state_bundle(st, kind);
	char path[PATH_MAX];
	if (b && b[0] == '/') {
		int n = snprintf(path, sizeof(path), "%s%s/config.json", prefix, b);
		if (n < 0 || (size_t)n >= sizeof(path) || load_json(path, &cfg) < 0)
			cfg = NULL;
	}
	json_decref(st);
	return cfg;
}

/* CRI-O pod labels: the container's own Labels annotation when it is the
 * pod's sandbox, else the sandbox's. */
static void crio_labels(const char *prefix, const char *id, const char *bundle,
			const json_t *ann, struct container_meta *out)
{
	const char *type = jstr(ann, CRIO_CONTAINER_TYPE);
	const char *sbid = jstr(ann, CRIO_SANDBOX_ID);
	if ((type && strcmp(type, "sandbox") == 0) || (sbid && strcmp(sbid, id) == 0)) {
		fill_labels(out, jstr(ann, CRIO_LABELS));
		return;
	}
	if (!sbid || !valid_id(sbid))
		return;
	json_t *cfg = sandbox_beside(prefix, bundle, id, sbid);
	if (!cfg)
		cfg = sandbox_by_state(prefix, sbid);
	if (!cfg)
		return;
	const json_t *sann = json_object_get(cfg, "annotations");
	const char *stype = jstr(sann, CRIO_CONTAINER_TYPE);
	if (!stype || strcmp(stype, "sandbox") == 0) /* not another container's */
		fill_labels(out, jstr(sann, CRIO_LABELS));
	json_decref(cfg);
}

/* Record the bundle and fill fields from its config.json annotations. A
 * relative bundle is unusable and ignored; a missing config.json is fine. */
static int apply_bundle(const char *prefix, const char *id, const char *bundle,
			struct container_meta *out)
{
	if (!bundle || bundle[0] != '/')
		return 0;
	fill(out->bundle, sizeof(out->bundle), bundle);
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s%s/config.json", prefix, bundle);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	json_t *cfg = NULL;
	int rc = load_json(path, &cfg);
	if (is_not_found(rc))
		return 0;
	if (rc < 0)
		return rc;
	const json_t *ann = json_object_get(cfg, "annotations");
	for (size_t i = 0; i < ARRAY_SIZE(ANNOTATIONS); i++) {
		char *dst = (char *)out + ANNOTATIONS[i].off;
		for (size_t k = 0; k < ARRAY_SIZE(ANNOTATIONS[i].keys); k++)
			if (ANNOTATIONS[i].keys[k])
				fill(dst, ANNOTATIONS[i].cap, jstr(ann, ANNOTATIONS[i].keys[k]));
	}
	crio_labels(prefix, id, bundle, ann, out);
	json_decref(cfg);
	return 0;
}

/* Find and parse the runtime state of id (caller json_decref()s *st). */
static int find_state(const char *prefix, enum cg_runtime rt, const char *id, json_t **st,
		      enum state_kind *kind)
{
	int first_err = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(LOCS); i++) {
		const struct state_loc *loc = &LOCS[ORDER[rt][i]];
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "%s%s%s/%s", prefix, loc->dir, id, loc->file);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		int rc = load_json(path, st);
		if (rc == 0) {
			*kind = loc->kind;
			return 0;
		}
		if (!is_not_found(rc) && first_err == -ENOENT)
			first_err = rc;
	}
	return first_err;
}

/* Find the runtime state of id and apply its bundle. */
static int load_state(const char *prefix, enum cg_runtime rt, const char *id,
		      struct container_meta *out)
{
	json_t *st = NULL;
	enum state_kind kind;
	int rc = find_state(prefix, rt, id, &st, &kind);
	if (rc < 0)
		return rc;
	rc = apply_bundle(prefix, id, state_bundle(st, kind), out);
	json_decref(st);
	return rc;
}

/* docker's own record: .Name and .Config.Image. */
static int load_docker(const char *prefix, const char *id, struct container_meta *out)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/config.v2.json",
			 prefix, id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	json_t *j = NULL;
	int rc = load_json(path, &j);
	if (rc < 0)
		return rc;
	const char *name = jstr(j, "Name");
	if (name && name[0] == '/')
		name++;
	fill(out->name, sizeof(out->name), name);
	fill(out->image, sizeof(out->image), jstr(json_object_get(j, "Config"), "Image"));
	json_decref(j);
	return 0;
}

int container_meta_load(const char *root_prefix, enum cg_runtime rt, const char *id,
			struct container_meta *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!root_prefix)
		root_prefix = "";
	if (!valid_id(id) || rt == CG_HOST || (unsigned)rt >= ARRAY_SIZE(ORDER))
		return -EINVAL;

	bool found = false;
	int rc;
	if (rt == CG_DOCKER) {
		rc = load_docker(root_prefix, id, out);
		if (rc < 0 && !is_not_found(rc))
			goto fail;
		found = rc == 0;
	}
	rc = load_state(root_prefix, rt, id, out);
	if (rc == -ENOENT && found)
		rc = 0;
	if (rc < 0)
		goto fail;
	fill(out->name, sizeof(out->name), id);
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return rc;
}
