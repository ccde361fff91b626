/* netguard.c - open -> set self_tgid -> load -> attach of the enforcement
 * skeleton (build/enforce.skel.h) to the cgroup v2 root, map updates, and
 * the decision ring-buffer consumer.
 *
 * Invariants: the four programs are attached through bpf_link objects only
 * (never pinned, never a legacy prog attach), so closing this object or the
 * process dying detaches them: enforcement fails open. Either all four are
 * attached or netguard_open() fails and leaves nothing attached. Failing to
 * raise RLIMIT_MEMLOCK is not an error (memcg accounting on >= 5.11).
 *
 * Every map entry this object writes for a cgroup is remembered in `cgs`
 * (struct ng_cg: the `protected` value and the keys written under its
 * current gen), so replacing or releasing a rule set deletes exactly what
 * was written, without walking the kernel maps. All writes to the maps go
 * through this file; the kernel never writes them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "enforce/cgroot.h"
#include "enforce/netguard.h"
#include "lib/hashmap.h"
#include "enforce.skel.h"

_Static_assert(sizeof(struct vge_port_key) == 16, "vge_port_key layout");
_Static_assert(sizeof(struct vge_cgroup) == 8, "vge_cgroup layout");
_Static_assert(sizeof(struct vge_prefix_key) == 32, "vge_prefix_key layout");
_Static_assert(sizeof(struct vge_prefix_val) == 64, "vge_prefix_val layout");
_Static_assert(sizeof(struct vge_decision) == 64, "vge_decision layout");
_Static_assert(sizeof(struct vge_counters) == 48, "vge_counters layout");

/* cgroups with entries or a mode: the `protected` cap plus room for
 * cgroups that got allow entries before their protect call */
#define CG_CAP 8192

/* a growable array of map keys of one size */
struct keyvec {
	unsigned char *v;
	size_t n, cap, size;
};

/* what this object wrote for one cgroup */
struct ng_cg {
	struct vge_cgroup st; /* the `protected` value (if written) */
	struct keyvec net, bind, pfx; /* keys under st.gen */
};

struct netguard {
	struct enforce_bpf *skel;
	struct bpf_link *links[4];
	struct ring_buffer *rb;
	netguard_cb cb;
	void *ctx;
	struct hashmap *cgs; /* cgroup id -> struct ng_cg */
	uint64_t bad_records;
	uint64_t map_full;
};

static int quiet_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG)
		return 0;
	if (lvl == LIBBPF_INFO && !getenv("VIGIL_BPF_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct netguard *ng = ctx;
	struct vge_decision r;
	struct netguard_decision d;

	if (len < sizeof(r)) {
		ng->bad_records++;
		return 0;
	}
	memcpy(&r, data, sizeof(r)); /* the ring is mapped read-only */
	if (r.abi != VGE_ABI_VERSION || r.size != sizeof(r) ||
	    (r.verdict != VGE_WOULD_BLOCK && r.verdict != VGE_BLOCKED)) {
		ng->bad_records++;
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.cgroup_id = r.cgroup_id;
	d.ts_ns = r.ts_ns;
	d.pid = r.pid;
	d.verdict = r.verdict;
	d.op = r.op;
	d.proto = r.proto;
	d.reason = r.reason;
	d.family = r.family;
	d.port = r.port;
	memcpy(d.addr, r.addr, sizeof(d.addr));
	memcpy(d.comm, r.comm, sizeof(d.comm) - 1);
	if (ng->cb)
		ng->cb(ng->ctx, &d);
	return 0;
}

static int attach_all(struct netguard *ng, int cgfd, char *err, size_t errlen)
{
	struct bpf_program *progs[4] = {
		ng->skel->progs.vge_connect4, ng->skel->progs.vge_connect6,
		ng->skel->progs.vge_bind4, ng->skel->progs.vge_bind6};

	for (int i = 0; i < 4; i++) {
		ng->links[i] = bpf_program__attach_cgroup(progs[i], cgfd);
		if (!ng->links[i]) {
			int rc = -errno;

			snprintf(err, errlen,
				 "cannot attach %s to the cgroup v2 root: %s "
				 "(network enforcement needs cgroup sock_addr "
				 "programs and BPF links)",
				 bpf_program__name(progs[i]), strerror(-rc));
			return rc ? rc : -EINVAL;
		}
	}
	return 0;
}

struct netguard *netguard_open(const char *cgroup_mount, netguard_cb cb,
			       void *ctx, char *err, size_t errlen)
{
	struct netguard *ng = calloc(1, sizeof(*ng));
	char mount[CGROOT_PATH_MAX];
	int rc, cgfd = -1;

	if (!ng) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ng->cb = cb;
	ng->ctx = ctx;
	ng->cgs = hashmap_new(CG_CAP);
	if (!ng->cgs) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cgroup_mount) {
		rc = snprintf(mount, sizeof(mount), "%s", cgroup_mount) >=
				     (int)sizeof(mount)
			     ? -ENAMETOOLONG : 0;
	} else {
		rc = cgroot_mount(mount, sizeof(mount));
	}
	if (rc) {
		snprintf(err, errlen, "no cgroup v2 hierarchy found (%s)",
			 strerror(-rc));
		goto fail;
	}
	cgfd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", mount, strerror(-rc));
		goto fail;
	}
	libbpf_set_print(quiet_print);
	ng->skel = enforce_bpf__open();
	if (!ng->skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the enforcement BPF object: %s",
			 strerror(-rc));
		goto fail;
	}
	ng->skel->rodata->self_tgid = (uint32_t)getpid();
	rc = enforce_bpf__load(ng->skel);
	if (rc) {
		snprintf(err, errlen,
			 "cannot load the network enforcement programs: %s",
			 strerror(-rc));
		goto fail;
	}
	rc = attach_all(ng, cgfd, err, errlen);
	if (rc)
		goto fail;
	ng->rb = ring_buffer__new(bpf_map__fd(ng->skel->maps.decisions),
				  on_record, ng, NULL);
	if (!ng->rb) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the decision ring buffer: %s",
			 strerror(-rc));
		goto fail;
	}
	close(cgfd);
	return ng;
fail:
	if (cgfd >= 0)
		close(cgfd);
	netguard_close(ng);
	errno = rc < 0 ? -rc : EINVAL;
	return NULL;
}

static int map_put(struct netguard *ng, int fd, const void *key,
		   const void *val)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
		int rc = -errno;

		if (rc == -E2BIG || rc == -ENOSPC || rc == -ENOMEM) {
			ng->map_full++;
			return -ENOSPC;
		}
		return rc;
	}
	return 0;
}

static int kv_push(struct keyvec *kv, const void *key)
{
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 16;
		void *v = realloc(kv->v, cap * kv->size);

		if (!v)
			return -ENOMEM;
		kv->v = v;
		kv->cap = cap;
	}
	memcpy(kv->v + kv->n * kv->size, key, kv->size);
	kv->n++;
	return 0;
}

/* deletes every key of kv from fd; a key already gone is fine */
static void kv_delete(int fd, const struct keyvec *kv)
{
	for (size_t i = 0; i < kv->n; i++)
		bpf_map_delete_elem(fd, kv->v + i * kv->size);
}

static void cg_free(void *ctx, uint64_t k, void *v)
{
	struct ng_cg *t = v;

	(void)ctx;
	(void)k;
	if (!t)
		return;
	free(t->net.v);
	free(t->bind.v);
	free(t->pfx.v);
	free(t);
}

static int cg_get(struct netguard *ng, uint64_t cg, struct ng_cg **out)
{
	struct ng_cg *t = hashmap_get(ng->cgs, cg);
	int rc;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->net.size = t->bind.size = sizeof(struct vge_port_key);
		t->pfx.size = sizeof(struct vge_prefix_key);
		rc = hashmap_put(ng->cgs, cg, t);
		if (rc) {
			free(t);
			if (rc == -ENOSPC)
				ng->map_full++;
			return rc;
		}
	}
	*out = t;
	return 0;
}

static int mode_ok(int mode)
{
	return mode == VGE_MODE_OFF || mode == VGE_MODE_SHADOW ||
	       mode == VGE_MODE_PROTECT;
}

int netguard_protect(struct netguard *ng, uint64_t cgroup_id, int mode)
{
	struct vge_cgroup st;
	struct ng_cg *t;
	int rc;

	if (!ng || cgroup_id <= CGROOT_ROOT_ID || !mode_ok(mode))
		return -EINVAL;
	rc = cg_get(ng, cgroup_id, &t);
	if (rc)
		return rc;
	st = t->st;
	st.mode = (uint8_t)mode;
	rc = map_put(ng, bpf_map__fd(ng->skel->maps.protected), &cgroup_id,
		     &st);
	if (!rc)
		t->st = st;
	return rc;
}

static int allow_in(struct netguard *ng, int bind, uint64_t cg, int proto,
		    uint16_t port)
{
	struct vge_port_key k;
	struct ng_cg *t;
	uint8_t v = VGE_VERDICT_ALLOW, old;
	int fd, rc;

	if (!ng || proto <= 0 || proto > 255)
		return -EINVAL;
	rc = cg_get(ng, cg, &t);
	if (rc)
		return rc;
	fd = bind ? bpf_map__fd(ng->skel->maps.allow_bind)
		  : bpf_map__fd(ng->skel->maps.allow_net);
	memset(&k, 0, sizeof(k));
	k.cgroup_id = cg;
	k.proto = (uint8_t)proto;
	k.port = port;
	k.gen = t->st.gen;
	if (!bpf_map_lookup_elem(fd, &k, &old)) {
		/* written (and remembered) before: keep a deny a deny */
		if (old & VGE_VERDICT_ALLOW)
			return 0;
		v |= old;
		return map_put(ng, fd, &k, &v);
	}
	rc = map_put(ng, fd, &k, &v);
	if (rc)
		return rc;
	rc = kv_push(bind ? &t->bind : &t->net, &k);
	if (rc)
		bpf_map_delete_elem(fd, &k); /* never an entry we forget */
	return rc;
}

int netguard_allow(struct netguard *ng, uint64_t cgroup_id, int proto,
		   uint16_t port)
{
	return allow_in(ng, 0, cgroup_id, proto, port);
}

int netguard_allow_listen(struct netguard *ng, uint64_t cgroup_id, int proto,
			  uint16_t port)
{
	return allow_in(ng, 1, cgroup_id, proto, port);
}

int netguard_prefix_norm(struct netguard_prefix_rule *p)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0xff, 0xff};

	if (!p || (p->verdict != VGE_VERDICT_ALLOW &&
		   p->verdict != VGE_VERDICT_DENY))
		return -EINVAL;
	if (p->family == 10) {
		if (p->plen > 128)
			return -EINVAL;
		if (p->plen >= 96 && !memcmp(p->addr, mapped, sizeof(mapped))) {
			memmove(p->addr, p->addr + 12, 4);
			memset(p->addr + 4, 0, 12);
			p->family = 2;
			p->plen -= 96;
		}
	} else if (p->family == 2) {
		if (p->plen > 32)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	for (int i = 0; i < 16; i++) {
		int bits = (int)p->plen - i * 8;

		if (bits <= 0)
			p->addr[i] = 0;
		else if (bits < 8)
			p->addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
	return 0;
}

/* a port entry of a rule set being built */
struct port_ent {
	struct vge_port_key k;
	uint8_t v;
};

/* a prefix entry of a rule set being built */
struct pfx_ent {
	struct vge_prefix_key k;
	struct vge_prefix_entry e;
};

static int cmp_port_ent(const void *a, const void *b)
{
	return memcmp(&((const struct port_ent *)a)->k,
		      &((const struct port_ent *)b)->k,
		      sizeof(struct vge_port_key));
}

static int cmp_pfx_ent(const void *a, const void *b)
{
	const struct pfx_ent *x = a, *y = b;
	int c = memcmp(&x->k, &y->k, sizeof(x->k));

	return c ? c : memcmp(&x->e, &y->e, sizeof(x->e));
}

/* A new rule set: keys and values per map, ready to write. */
struct ruleset {
	struct keyvec net, bind, pfx;
	uint8_t *net_v, *bind_v;
	struct vge_prefix_val *pfx_v;
	uint8_t flags;
};

static void ruleset_free(struct ruleset *rs)
{
	free(rs->net.v);
	free(rs->bind.v);
	free(rs->pfx.v);
	free(rs->net_v);
	free(rs->bind_v);
	free(rs->pfx_v);
}

/* sorts and merges the port rules of one operation into keys and values
 * (one key per {proto, port}: the verdicts ORed, DENY wins in the kernel) */
static int build_ports(const struct netguard_port_rule *in, size_t n,
		       uint64_t cg, uint8_t gen, struct keyvec *keys,
		       uint8_t **vals, int *anyproto)
{
	struct port_ent *e;
	size_t m = 0;

	keys->size = sizeof(struct vge_port_key);
	if (!n)
		return 0;
	if (!in)
		return -EINVAL;
	e = calloc(n, sizeof(*e));
	keys->v = calloc(n, keys->size);
	*vals = calloc(n, 1);
	if (!e || !keys->v || !*vals) {
		free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (in[i].verdict != VGE_VERDICT_ALLOW &&
		    in[i].verdict != VGE_VERDICT_DENY) {
			free(e);
			return -EINVAL;
		}
		e[i].k.cgroup_id = cg;
		e[i].k.gen = gen;
		e[i].k.proto = in[i].proto;
		e[i].k.port = in[i].port;
		e[i].v = in[i].verdict;
		if (!in[i].proto)
			*anyproto = 1;
	}
	qsort(e, n, sizeof(*e), cmp_port_ent);
	for (size_t i = 0; i < n; i++) {
		if (m && !cmp_port_ent(&e[i], &e[i - 1])) {
			(*vals)[m - 1] |= e[i].v;
			continue;
		}
		memcpy(keys->v + m * keys->size, &e[i].k, keys->size);
		(*vals)[m++] = e[i].v;
	}
	keys->n = keys->cap = m;
	free(e);
	return 0;
}

/* normalizes, sorts and groups the prefix rules: one kernel prefix per
 * {family, prefix, length} holding its distinct entries */
/* 1 if prefix key q covers key p (same cgroup, gen and family) */
static int covers(const struct vge_prefix_key *q, const struct vge_prefix_key *p)
{
	unsigned bits = q->prefixlen - VGE_PREFIX_HDR_BITS, full = bits / 8;

	if (q->family != p->family || q->prefixlen >= p->prefixlen ||
	    memcmp(q->addr, p->addr, full))
		return 0;
	return !(bits % 8) ||
	       !((q->addr[full] ^ p->addr[full]) & (uint8_t)(0xff << (8 - bits % 8)));
}

/* all_prefixes: every prefix also gets the entries of each shorter prefix
 * covering it (covering is transitive, so merging in any order ends with
 * every ancestor's entries) */
static int inherit_prefixes(const struct keyvec *keys, struct vge_prefix_val *v)
{
	const struct vge_prefix_key *k = (const void *)keys->v;

	for (size_t i = 0; i < keys->n; i++) {
		size_t used = 0;

		while (used < VGE_PREFIX_ENTRIES && v[i].e[used].verdict)
			used++;
		for (size_t j = 0; j < keys->n; j++) {
			if (!covers(&k[j], &k[i]))
				continue;
			for (int a = 0; a < VGE_PREFIX_ENTRIES && v[j].e[a].verdict;
			     a++) {
				size_t b = 0;

				while (b < used && memcmp(&v[i].e[b], &v[j].e[a],
							  sizeof(v[i].e[b])))
					b++;
				if (b < used)
					continue;
				if (used == VGE_PREFIX_ENTRIES)
					return -E2BIG;
				v[i].e[used++] = v[j].e[a];
			}
		}
	}
	return 0;
}

static int build_prefixes(const struct netguard_prefix_rule *in, size_t n,
			  uint64_t cg, uint8_t gen, int inherit,
			  struct ruleset *rs)
{
	struct keyvec *keys = &rs->pfx;
	struct pfx_ent *e;
	size_t m = 0, used = 0;
	int rc = 0;

	keys->size = sizeof(struct vge_prefix_key);
	if (!n)
		return 0;
	if (!in)
		return -EINVAL;
	e = calloc(n, sizeof(*e));
	keys->v = calloc(n, keys->size);
	rs->pfx_v = calloc(n, sizeof(*rs->pfx_v));
	if (!e || !keys->v || !rs->pfx_v) {
		free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct netguard_prefix_rule p = in[i];

		rc = netguard_prefix_norm(&p);
		if (rc)
			goto out;
		e[i].k.prefixlen = VGE_PREFIX_HDR_BITS + p.plen;
		memcpy(e[i].k.cgroup_id, &cg, sizeof(cg));
		e[i].k.gen = gen;
		e[i].k.family = p.family;
		memcpy(e[i].k.addr, p.addr, sizeof(p.addr));
		e[i].e.port = p.port;
		e[i].e.proto = p.proto;
		e[i].e.verdict = p.verdict;
	}
	qsort(e, n, sizeof(*e), cmp_pfx_ent);
	for (size_t i = 0; i < n; i++) {
		if (m && !memcmp(&e[i].k, &e[i - 1].k, sizeof(e[i].k))) {
			if (!memcmp(&e[i].e, &e[i - 1].e, sizeof(e[i].e)))
				continue; /* the same entry twice */
			if (used == VGE_PREFIX_ENTRIES) {
				rc = -E2BIG;
				goto out;
			}
			rs->pfx_v[m - 1].e[used++] = e[i].e;
			continue;
		}
		memcpy(keys->v + m * keys->size, &e[i].k, keys->size);
		rs->pfx_v[m++].e[0] = e[i].e;
		used = 1;
	}
	keys->n = keys->cap = m;
	if (m)
		rs->flags |= VGE_CG_PREFIXES;
	if (inherit)
		rc = inherit_prefixes(keys, rs->pfx_v);
out:
	free(e);
	return rc;
}

/* writes keys[i] -> vals[i]; on failure deletes what it wrote */
static int put_all(struct netguard *ng, int fd, const struct keyvec *keys,
		   const void *vals, size_t vsize)
{
	for (size_t i = 0; i < keys->n; i++) {
		int rc = map_put(ng, fd, keys->v + i * keys->size,
				 (const unsigned char *)vals + i * vsize);

		if (rc) {
			struct keyvec done = *keys;

			done.n = i;
			kv_delete(fd, &done);
			return rc;
		}
	}
	return 0;
}

/* Returns once every BPF program that started before the call has ended:
 * the programs run under rcu_read_lock, and membarrier(GLOBAL) is a
 * synchronize_rcu(). Where it is refused (nohz_full), a pause far longer
 * than any connect/bind decision. */
static void wait_programs(void)
{
	struct timespec ts = {0, 20 * 1000000L};

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	nanosleep(&ts, NULL);
}

int netguard_set_rules(struct netguard *ng, uint64_t cgroup_id, int mode,
		       const struct netguard_rules *r)
{
	static const struct netguard_rules none;
	struct ruleset rs;
	struct vge_cgroup st;
	struct ng_cg *t;
	int anynet = 0, anybind = 0, rc, fdn, fdb, fdp;
	uint8_t gen;

	if (!ng || cgroup_id <= CGROOT_ROOT_ID || !mode_ok(mode))
		return -EINVAL;
	if (!r)
		r = &none;
	rc = cg_get(ng, cgroup_id, &t);
	if (rc)
		return rc;
	gen = (uint8_t)(t->st.gen + 1);
	memset(&rs, 0, sizeof(rs));
	rc = build_ports(r->connect, r->n_connect, cgroup_id, gen, &rs.net,
			 &rs.net_v, &anynet);
	if (!rc)
		rc = build_ports(r->bind, r->n_bind, cgroup_id, gen, &rs.bind,
				 &rs.bind_v, &anybind);
	if (!rc)
		rc = build_prefixes(r->prefixes, r->n_prefixes, cgroup_id, gen,
				    r->all_prefixes, &rs);
	if (rc)
		goto out;
	fdn = bpf_map__fd(ng->skel->maps.allow_net);
	fdb = bpf_map__fd(ng->skel->maps.allow_bind);
	fdp = bpf_map__fd(ng->skel->maps.prefixes);
	/* 1. the new set, invisible to the kernel: nobody uses gen yet */
	rc = put_all(ng, fdn, &rs.net, rs.net_v, 1);
	if (rc)
		goto out;
	rc = put_all(ng, fdb, &rs.bind, rs.bind_v, 1);
	if (rc) {
		kv_delete(fdn, &rs.net);
		goto out;
	}
	rc = put_all(ng, fdp, &rs.pfx, rs.pfx_v, sizeof(*rs.pfx_v));
	if (rc) {
		kv_delete(fdn, &rs.net);
		kv_delete(fdb, &rs.bind);
		goto out;
	}
	/* 2. the switch: one update, mode + defaults + gen + flags */
	memset(&st, 0, sizeof(st));
	st.mode = (uint8_t)mode;
	st.connect_default = r->connect_default == VGE_VERDICT_ALLOW
				     ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
	st.bind_default = r->bind_default == VGE_VERDICT_ALLOW
				  ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
	st.gen = gen;
	st.flags = rs.flags | (anynet ? VGE_CG_CONNECT_ANYPROTO : 0) |
		   (anybind ? VGE_CG_BIND_ANYPROTO : 0);
	rc = map_put(ng, bpf_map__fd(ng->skel->maps.protected), &cgroup_id,
		     &st);
	if (rc) {
		kv_delete(fdn, &rs.net);
		kv_delete(fdb, &rs.bind);
		kv_delete(fdp, &rs.pfx);
		goto out;
	}
	t->st = st;
	/* 3. the old set, once no program can still be reading it */
	if (t->net.n || t->bind.n || t->pfx.n) {
		wait_programs();
		kv_delete(fdn, &t->net);
		kv_delete(fdb, &t->bind);
		kv_delete(fdp, &t->pfx);
	}
	free(t->net.v);
	free(t->bind.v);
	free(t->pfx.v);
	t->net = rs.net;
	t->bind = rs.bind;
	t->pfx = rs.pfx;
	memset(&rs.net, 0, sizeof(rs.net));
	memset(&rs.bind, 0, sizeof(rs.bind));
	memset(&rs.pfx, 0, sizeof(rs.pfx));
	t->net.size = t->bind.size = sizeof(struct vge_port_key);
	t->pfx.size = sizeof(struct vge_prefix_key);
out:
	ruleset_free(&rs);
	return rc;
}

int netguard_release(struct netguard *ng, uint64_t cgroup_id)
{
	struct ng_cg *t;
	int rc;

	if (!ng)
		return -EINVAL;
	/* unprotect first: from here on nothing of it is checked */
	rc = bpf_map_delete_elem(bpf_map__fd(ng->skel->maps.protected),
				 &cgroup_id) && errno != ENOENT ? -errno : 0;
	t = hashmap_del(ng->cgs, cgroup_id);
	if (t) {
		kv_delete(bpf_map__fd(ng->skel->maps.allow_net), &t->net);
		kv_delete(bpf_map__fd(ng->skel->maps.allow_bind), &t->bind);
		kv_delete(bpf_map__fd(ng->skel->maps.prefixes), &t->pfx);
		cg_free(NULL, cgroup_id, t);
	}
	return rc;
}

int netguard_poll(struct netguard *ng, int timeout_ms)
{
	int n = ring_buffer__poll(ng->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int netguard_fd(struct netguard *ng)
{
	return ring_buffer__epoll_fd(ng->rb);
}

void netguard_counters(struct netguard *ng, struct netguard_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vge_counters *per;
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	if (!ng)
		return;
	out->bad_records = ng->bad_records;
	out->map_full = ng->map_full;
	if (ncpu <= 0)
		return;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(ng->skel->maps.counters), &zero,
				 per)) {
		for (int c = 0; c < ncpu; c++) {
			out->checked += per[c].checked;
			out->allowed += per[c].allowed;
			out->would_block += per[c].would_block;
			out->blocked += per[c].blocked;
			out->dropped += per[c].dropped;
			out->self += per[c].self;
		}
	}
	free(per);
}

void netguard_close(struct netguard *ng)
{
	if (!ng)
		return;
	ring_buffer__free(ng->rb);
	for (int i = 0; i < 4; i++)
		bpf_link__destroy(ng->links[i]);
	enforce_bpf__destroy(ng->skel);
	if (ng->cgs)
		hashmap_free(ng->cgs, cg_free, NULL);
	free(ng);
}
