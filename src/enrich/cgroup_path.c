/* cgroup_path.c - classify a cgroup path (container runtime + id, pod uid,
 * host systemd unit) by walking its components once, left to right.
 * Invariants: the input is only read up to its NUL and never copied whole;
 * components are (pointer, length) slices into it; every write into
 * struct cg_info is bounded by the field's size and NUL-terminated; no state
 * is kept between calls. The rules are documented in cgroup_path.h. */
#include "enrich/cgroup_path.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct comp {
	const char *s;
	size_t n;
};

struct match {
	enum cg_runtime rt;
	struct comp id;
};

static bool c_eq(struct comp c, const char *lit)
{
	size_t n = strlen(lit);
	return c.n == n && memcmp(c.s, lit, n) == 0;
}

static bool c_prefix(struct comp c, const char *lit)
{
	size_t n = strlen(lit);
	return c.n >= n && memcmp(c.s, lit, n) == 0;
}

static bool c_suffix(struct comp c, const char *lit)
{
	size_t n = strlen(lit);
	return c.n >= n && memcmp(c.s + c.n - n, lit, n) == 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_id64(struct comp c)
{
	return c.n == 64 && is_lower_hex(c.s, c.n);
}

/* [A-Za-z0-9_.-]{1,64}, but not "." or "..". */
static bool is_runc_name(struct comp c)
{
	if (c.n == 0 || c.n > 64 || c_eq(c, ".") || c_eq(c, ".."))
		return false;
	for (size_t i = 0; i < c.n; i++) {
		char ch = c.s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Copy a slice into dst[cap], truncating; always NUL-terminates. */
static void set_str(char *dst, size_t cap, struct comp c)
{
	size_t n = c.n < cap ? c.n : cap - 1;
	memcpy(dst, c.s, n);
	dst[n] = '\0';
}

/* Advance *p to the next non-empty component; false at the end. */
static bool next_comp(const char **p, struct comp *c)
{
	const char *s = *p;
	while (*s == '/')
		s++;
	if (*s == '\0')
		return false;
	c->s = s;
	while (*s != '\0' && *s != '/')
		s++;
	c->n = (size_t)(s - c->s);
	*p = s;
	return true;
}

/* A cgroup v1 hierarchy mount directory: "memory", "cpu,cpuacct", ... */
static bool is_v1_hierarchy(struct comp c)
{
	static const char *const known[] = {
		"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer",
		"hugetlb", "memory", "misc", "net_cls", "net_prio",
		"perf_event", "pids", "rdma", "systemd", "unified",
	};
	const char *end = c.s + c.n;
	const char *t = c.s;
	while (t < end) {
		const char *comma = memchr(t, ',', (size_t)(end - t));
		struct comp tok = { t, (size_t)((comma ? comma : end) - t) };
		bool ok = c_prefix(tok, "name=") && tok.n > 5;
		for (size_t i = 0; !ok && i < ARRAY_SIZE(known); i++)
			ok = c_eq(tok, known[i]);
		if (!ok)
			return false;
		t = comma ? comma + 1 : end;
	}
	return c.n > 0;
}

/* Skip "/sys/fs/cgroup" and, after it, a v1 hierarchy directory. */
static const char *skip_cgroupfs_mount(const char *path)
{
	static const char mnt[] = "/sys/fs/cgroup";
	size_t n = sizeof(mnt) - 1;
	if (strncmp(path, mnt, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return path;
	const char *rest = path + n, *q = rest;
	struct comp c;
	if (next_comp(&q, &c) && is_v1_hierarchy(c))
		return q;
	return rest;
}

/* "<prefix><64hex>.scope" (".scope" optional for some runtimes), and
 * "runc-<name>.scope" from runc --systemd-cgroup. */
static bool match_wrapped(struct comp c, struct match *m)
{
	static const struct {
		const char *prefix;
		enum cg_runtime rt;
		bool scope_optional;
	} rules[] = {
		{ "docker-", CG_DOCKER, false },
		{ "cri-containerd-", CG_CONTAINERD, false },
		{ "crio-", CG_CRIO, true },
		{ "libpod-", CG_PODMAN, true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		if (!c_prefix(c, rules[i].prefix))
			continue;
		size_t plen = strlen(rules[i].prefix);
		struct comp id = { c.s + plen, c.n - plen };
		if (c_suffix(id, ".scope"))
			id.n -= 6;
		else if (!rules[i].scope_optional)
			continue;
		if (is_id64(id)) {
			m->rt = rules[i].rt;
			m->id = id;
			return true;
		}
	}
	if (c.n > 5 + 6 && c_prefix(c, "runc-") && c_suffix(c, ".scope")) {
		struct comp id = { c.s + 5, c.n - 5 - 6 };
		if (is_runc_name(id)) {
			m->rt = CG_RUNC;
			m->id = id;
			return true;
		}
	}
	return false;
}

/* "<slice>:<runtime tag>:<64hex>", the systemd-driver cgroupsPath written
 * literally as a directory name (containerd with cgroupfs, kubelet with
 * systemd). */
static bool match_colon(struct comp c, struct match *m)
{
	static const struct {
		const char *tag;
		enum cg_runtime rt;
	} tags[] = {
		{ "cri-containerd", CG_CONTAINERD },
		{ "crio", CG_CRIO },
		{ "docker", CG_DOCKER },
	};
	const char *last = memrchr(c.s, ':', c.n);
	if (!last)
		return false;
	const char *first = memrchr(c.s, ':', (size_t)(last - c.s));
	if (!first)
		return false;
	struct comp tag = { first + 1, (size_t)(last - first - 1) };
	struct comp id = { last + 1, (size_t)(c.s + c.n - last - 1) };
	if (!is_id64(id))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		if (c_eq(tag, tags[i].tag)) {
			m->rt = tags[i].rt;
			m->id = id;
			return true;
		}
	}
	return false;
}

/* A bare 64-hex component: its parent tells the runtime. */
static bool match_bare(struct comp c, struct comp prev, bool kube, struct match *m)
{
	if (!is_id64(c))
		return false;
	if (c_eq(prev, "docker"))
		m->rt = CG_DOCKER;
	else if (c_eq(prev, "k8s.io") || c_eq(prev, "default") || kube)
		m->rt = CG_CONTAINERD; /* under kubepods: a guess */
	else
		return false;
	m->id = c;
	return true;
}

/* A pod uid right after s: 36 chars dashed or underscored, or 32 hex (static
 * pods), ending the component or followed by '.' or ':'. */
static size_t uid_len_at(const char *s, size_t n)
{
	static const size_t lens[] = { 36, 32 };
	for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
		size_t len = lens[k];
		if (n < len || (n > len && s[len] != '.' && s[len] != ':'))
			continue;
		bool ok = true;
		for (size_t i = 0; ok && i < len; i++) {
			bool sep = len == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
			ok = sep ? (s[i] == '-' || s[i] == '_') : is_lower_hex(s + i, 1);
		}
		if (ok)
			return len;
	}
	return 0;
}

/* "pod<uid>" or "...-pod<uid>.slice[...]"; fills out[37] with '-' form. */
static bool find_pod_uid(struct comp c, char out[37])
{
	for (size_t i = 0; i + 3 <= c.n; i++) {
		if (memcmp(c.s + i, "pod", 3) != 0 || (i > 0 && c.s[i - 1] != '-'))
			continue;
		size_t len = uid_len_at(c.s + i + 3, c.n - i - 3);
		if (len == 0)
			continue;
		for (size_t k = 0; k < len; k++) {
			char ch = c.s[i + 3 + k];
			out[k] = ch == '_' ? '-' : ch;
		}
		out[len] = '\0';
		return true;
	}
	return false;
}

/* 2: a unit that holds processes itself; 1: a slice; 0: not a unit. */
static int unit_kind(struct comp c)
{
	static const char *const procs[] = { ".service", ".scope", ".socket", ".mount", ".swap" };
	for (size_t i = 0; i < ARRAY_SIZE(procs); i++)
		if (c.n > strlen(procs[i]) && c_suffix(c, procs[i]))
			return 2;
	return c.n > 6 && c_suffix(c, ".slice") ? 1 : 0;
}

static bool is_runtime_parent(struct comp c)
{
	static const char *const names[] = { "docker", "kubepods", "k8s.io", "default",
					     "libpod_parent", "machine", "lxc" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (c_eq(c, names[i]))
			return true;
	return false;
}

int cg_parse(const char *path, struct cg_info *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!path || path[0] != '/')
		return -EINVAL;

	const char *p = skip_cgroupfs_mount(path);
	struct comp c, none = { "", 0 };
	struct comp prev = none, leaf = none, unit = none, slice = none;
	struct match m = { CG_HOST, { "", 0 } };
	bool kube = false, systemd = false;

	while (next_comp(&p, &c)) {
		if (c_eq(c, ".") || c_eq(c, ".."))
			continue;
		if (memmem(c.s, c.n, "kubepods", 8))
			kube = true;
		if (kube)
			find_pod_uid(c, out->pod_uid);
		/* Innermost container wins: a later match overwrites m. */
		if (!match_wrapped(c, &m) && !match_colon(c, &m))
			match_bare(c, prev, kube, &m);
		switch (unit_kind(c)) {
		case 2:
			unit = c;
			systemd = true;
			break;
		case 1:
			slice = c;
			systemd = true;
			break;
		}
		prev = leaf = c;
	}

	if (m.rt == CG_HOST && !kube && !systemd && !is_runtime_parent(leaf) &&
	    is_runc_name(leaf)) {
		m.rt = CG_RUNC;
		m.id = leaf;
	}
	out->runtime = m.rt;
	if (m.rt != CG_HOST)
		set_str(out->container_id, sizeof(out->container_id), m.id);
	else
		set_str(out->unit, sizeof(out->unit), unit.n ? unit : slice);
	return 0;
}

const char *cg_runtime_name(enum cg_runtime rt)
{
	switch (rt) {
	case CG_HOST:
		return "host";
	case CG_RUNC:
		return "runc";
	case CG_DOCKER:
		return "docker";
	case CG_CONTAINERD:
		return "containerd";
	case CG_CRIO:
		return "cri-o";
	case CG_PODMAN:
		return "podman";
	}
	return "unknown";
}
