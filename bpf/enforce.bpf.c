// SPDX-License-Identifier: GPL-2.0
/* enforce.bpf.c - Vigil's network enforcement: cgroup sock_addr programs
 * (connect4/6, bind4/6) attached once to the cgroup v2 root with
 * BPF_F_ALLOW_MULTI (a link), so they run for every task on the host.
 *
 * Decision, in order (decide()):
 *  1. the agent itself (self_tgid) -> allow;
 *  2. the task's cgroup is not in `protected` -> allow (one hash lookup:
 *     the whole cost for everything that is not protected);
 *  3. {cgroup, protocol, port} or {cgroup, protocol, any port} in the allow
 *     map of the operation (allow_net for connect, allow_bind for bind) ->
 *     allow; a bind to port 0 (ephemeral) is always allowed;
 *  4. otherwise a decision record goes to the `decisions` ring buffer and
 *     shadow mode allows ("would block"), protect mode returns 0: the
 *     syscall fails with EPERM ("blocked").
 * Nothing is special about loopback or DNS. Only the exact (leaf) cgroup is
 * protected, not its descendants. Fail open: the programs live only as long
 * as the links user space holds; when the agent exits or dies the links
 * close and nothing is checked any more. Every map is capped; records lost
 * to a full ring buffer are counted (vge_counters.dropped). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "enforce_event.h"

char LICENSE[] SEC("license") = "GPL";

#define ALLOW 1
#define DENY 0

/* set by user space in .rodata before load */
const volatile __u32 self_tgid = 0;

/* cgroup id -> VGE_MODE_* */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} protected SEC(".maps");

/* allowed outbound {cgroup, proto, port} (connect) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct vge_port_key);
	__type(value, __u8);
} allow_net SEC(".maps");

/* allowed local {cgroup, proto, port} (bind, i.e. listening ports) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vge_port_key);
	__type(value, __u8);
} allow_bind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} decisions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vge_counters);
} counters SEC(".maps");

static __always_inline struct vge_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* 1 if {cg, proto, port} or {cg, proto, any} is in the allow map */
static __always_inline int port_allowed(void *map, __u64 cg, __u8 proto,
					__u16 port)
{
	struct vge_port_key k = {};

	k.cgroup_id = cg;
	k.proto = proto;
	k.port = port;
	if (bpf_map_lookup_elem(map, &k))
		return 1;
	k.port = 0;
	return bpf_map_lookup_elem(map, &k) != NULL;
}

/* v6 is a compile-time constant: connect4/bind4 contexts have no user_ip6
 * (the verifier rejects reading it) and the v6 ones no user_ip4. */
static __always_inline void report(struct bpf_sock_addr *ctx, int v6, __u64 cg,
				   __u32 tgid, __u8 verdict, __u8 op, __u8 proto,
				   __u16 port, struct vge_counters *c)
{
	struct vge_decision *d;

	d = bpf_ringbuf_reserve(&decisions, sizeof(*d), 0);
	if (!d) {
		if (c)
			c->dropped++;
		return;
	}
	__builtin_memset(d, 0, sizeof(*d));
	d->abi = VGE_ABI_VERSION;
	d->size = sizeof(*d);
	d->verdict = verdict;
	d->op = op;
	d->proto = proto;
	d->family = v6 ? 10 : 2;
	d->port = port;
	d->pid = tgid;
	d->cgroup_id = cg;
	d->ts_ns = bpf_ktime_get_ns();
	if (!v6) {
		__u32 a4 = ctx->user_ip4;

		__builtin_memcpy(d->addr, &a4, 4);
	} else {
		__u32 a6[4];

		a6[0] = ctx->user_ip6[0];
		a6[1] = ctx->user_ip6[1];
		a6[2] = ctx->user_ip6[2];
		a6[3] = ctx->user_ip6[3];
		__builtin_memcpy(d->addr, a6, 16);
	}
	bpf_get_current_comm(d->comm, sizeof(d->comm));
	bpf_ringbuf_submit(d, 0);
}

static __always_inline int decide(struct bpf_sock_addr *ctx, int v6, __u8 op)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 cg = bpf_get_current_cgroup_id();
	struct vge_counters *c;
	__u8 *mode, proto;
	__u16 port;

	mode = bpf_map_lookup_elem(&protected, &cg);
	if (!mode || *mode == VGE_MODE_OFF)
		return ALLOW;
	c = counters_get();
	if (tgid == self_tgid) {
		if (c)
			c->self++;
		return ALLOW;
	}
	if (c)
		c->checked++;
	proto = ctx->protocol;
	port = bpf_ntohs((__u16)ctx->user_port);
	if ((op == VGE_OP_BIND && port == 0) ||
	    port_allowed(op == VGE_OP_BIND ? (void *)&allow_bind
					   : (void *)&allow_net,
			 cg, proto, port)) {
		if (c)
			c->allowed++;
		return ALLOW;
	}
	if (*mode == VGE_MODE_SHADOW) {
		if (c)
			c->would_block++;
		report(ctx, v6, cg, tgid, VGE_WOULD_BLOCK, op, proto, port, c);
		return ALLOW;
	}
	if (c)
		c->blocked++;
	report(ctx, v6, cg, tgid, VGE_BLOCKED, op, proto, port, c);
	return DENY;
}

SEC("cgroup/connect4")
int vge_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 0, VGE_OP_CONNECT);
}

SEC("cgroup/connect6")
int vge_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 1, VGE_OP_CONNECT);
}

SEC("cgroup/bind4")
int vge_bind4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 0, VGE_OP_BIND);
}

SEC("cgroup/bind6")
int vge_bind6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, 1, VGE_OP_BIND);
}
