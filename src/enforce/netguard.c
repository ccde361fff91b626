/* netguard.c - open -> set self_tgid -> load -> attach of the enforcement
 * skeleton (build/enforce.skel.h) to the cgroup v2 root, map updates, and
 * the decision ring-buffer consumer.
 *
 * Invariants: the four programs are attached through bpf_link objects only
 * (never pinned, never a legacy prog attach), so closing this object or the
 * process dying detaches them: enforcement fails open. Either all four are
 * attached or netguard_open() fails and leaves nothing attached. Failing to
 * raise RLIMIT_MEMLOCK is not an error (memcg accounting on >= 5.11). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "enforce/cgroot.h"
#include "enforce/netguard.h"
#include "enforce.skel.h"

_Static_assert(sizeof(struct vge_port_key) == 16, "vge_port_key layout");
_Static_assert(sizeof(struct vge_decision) == 64, "vge_decision layout");
_Static_assert(sizeof(struct vge_counters) == 48, "vge_counters layout");

struct netguard {
	struct enforce_bpf *skel;
	struct bpf_link *links[4];
	struct ring_buffer *rb;
	netguard_cb cb;
	void *ctx;
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

int netguard_protect(struct netguard *ng, uint64_t cgroup_id, int mode)
{
	uint8_t v = (uint8_t)mode;

	if (!ng || cgroup_id <= CGROOT_ROOT_ID ||
	    (mode != VGE_MODE_OFF && mode != VGE_MODE_SHADOW &&
	     mode != VGE_MODE_PROTECT))
		return -EINVAL;
	return map_put(ng, bpf_map__fd(ng->skel->maps.protected), &cgroup_id,
		       &v);
}

static int allow_in(struct netguard *ng, int fd, uint64_t cg, int proto,
		    uint16_t port)
{
	struct vge_port_key k;
	uint8_t one = 1;

	if (!ng || proto <= 0 || proto > 255)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	k.cgroup_id = cg;
	k.proto = (uint8_t)proto;
	k.port = port;
	return map_put(ng, fd, &k, &one);
}

int netguard_allow(struct netguard *ng, uint64_t cgroup_id, int proto,
		   uint16_t port)
{
	return allow_in(ng, ng ? bpf_map__fd(ng->skel->maps.allow_net) : -1,
			cgroup_id, proto, port);
}

int netguard_allow_listen(struct netguard *ng, uint64_t cgroup_id, int proto,
			  uint16_t port)
{
	return allow_in(ng, ng ? bpf_map__fd(ng->skel->maps.allow_bind) : -1,
			cgroup_id, proto, port);
}

/* Deletes every key of cg from an allow map. Keys are collected first: a
 * delete during get_next_key iteration would restart the walk. */
static int purge(int fd, uint64_t cg, size_t cap)
{
	struct vge_port_key *keys = calloc(cap, sizeof(*keys)), k, next;
	size_t n = 0;
	void *prev = NULL;
	int rc = 0;

	if (!keys)
		return -ENOMEM;
	while (n < cap && !bpf_map_get_next_key(fd, prev, &next)) {
		if (next.cgroup_id == cg)
			keys[n++] = next;
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT)
			rc = -errno;
	free(keys);
	return rc;
}

int netguard_release(struct netguard *ng, uint64_t cgroup_id)
{
	int rc, rc2, rc3;

	if (!ng)
		return -EINVAL;
	/* unprotect first: from here on nothing of it is checked */
	rc = bpf_map_delete_elem(bpf_map__fd(ng->skel->maps.protected),
				 &cgroup_id) && errno != ENOENT ? -errno : 0;
	rc2 = purge(bpf_map__fd(ng->skel->maps.allow_net), cgroup_id,
		    bpf_map__max_entries(ng->skel->maps.allow_net));
	rc3 = purge(bpf_map__fd(ng->skel->maps.allow_bind), cgroup_id,
		    bpf_map__max_entries(ng->skel->maps.allow_bind));
	return rc ? rc : rc2 ? rc2 : rc3;
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
	free(ng);
}
