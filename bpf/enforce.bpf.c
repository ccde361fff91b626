// SPDX-License-Identifier: GPL-2.0
/* enforce.bpf.c - Vigil's network enforcement: cgroup sock_addr programs
 * (connect4/6, bind4/6) attached once to the cgroup v2 root with
 * BPF_F_ALLOW_MULTI (a link), so they run for every task on the host.
 *
 * Decision, in order (decide()):
 *  1. the task's cgroup is not in `protected` (or its mode is off) -> allow
 *     (one hash lookup: the whole cost for everything not protected);
 *  2. the agent itself (self_tgid) -> allow; a bind to port 0 (ephemeral)
 *     -> allow;
 *  3. the verdicts of every entry of the cgroup's current rule set (gen)
 *     that matches are ORed together:
 *     - the port map of the operation (allow_net for connect, allow_bind
 *       for bind): {proto, port} and {proto, any port}, plus {any proto,
 *       port} and {any, any} when the cgroup has any-protocol keys;
 *     - connect only, when the cgroup has prefixes: the entries of the
 *       longest prefix in `prefixes` that covers the destination and whose
 *       port and protocol match (an IPv4-mapped IPv6 destination is looked
 *       up as IPv4);
 *  4. any DENY -> not allowed (reason "rule"); else any ALLOW -> allow;
 *     else the cgroup's default for the operation (allow, or not allowed
 *     with reason "default");
 *  5. not allowed: a decision record goes to the `decisions` ring buffer;
 *     shadow mode allows ("would block"), protect mode returns 0: the
 *     syscall fails with EPERM ("blocked").
 * Nothing is special about loopback or DNS. Only the exact (leaf) cgroup is
 * protected, not its descendants. Fail open: the programs live only as long
 * as the links user space holds; when the agent exits or dies the links
 * close and nothing is checked any more. Every map is capped and every
 * loop bounded; records lost to a full ring buffer are counted
 * (vge_counters.dropped). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "enforce_event.h"

char LICENSE[] SEC("license") = "GPL";

#define ALLOW 1
#define DENY 0
#define VERDICTS (VGE_VERDICT_ALLOW | VGE_VERDICT_DENY)

_Static_assert(sizeof(struct vge_cgroup) == sizeof(__u64),
	       "decide() reads the protected value in one 8-byte load");

/* set by user space in .rodata before load */
const volatile __u32 self_tgid = 0;

/* cgroup id -> mode, defaults, current gen, flags */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct vge_cgroup);
} protected SEC(".maps");

/* outbound {cgroup, gen, proto, port} -> VGE_VERDICT_* (connect) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct vge_port_key);
	__type(value, __u8);
} allow_net SEC(".maps");

/* local {cgroup, gen, proto, port} -> VGE_VERDICT_* (bind, i.e. listening
 * ports) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vge_port_key);
	__type(value, __u8);
} allow_bind SEC(".maps");

/* {cgroup, gen, family, destination prefix} -> up to 16 entries (connect) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vge_prefix_key);
	__type(value, struct vge_prefix_val);
} prefixes SEC(".maps");

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

static __always_inline __u8 port_lookup(void *map, struct vge_port_key *k)
{
	__u8 *v = bpf_map_lookup_elem(map, k);

	return v ? *v & VERDICTS : 0;
}

/* verdicts of {proto, port}, {proto, any} and, with anyproto, {any, port}
 * and {any, any} */
static __always_inline __u8 port_verdicts(void *map, __u64 cg, __u8 gen,
					  __u8 proto, __u16 port, int anyproto)
{
	struct vge_port_key k = {};
	__u8 seen;

	k.cgroup_id = cg;
	k.gen = gen;
	k.proto = proto;
	k.port = port;
	seen = port_lookup(map, &k);
	k.port = 0;
	seen |= port_lookup(map, &k);
	if (anyproto) {
		k.proto = 0;
		k.port = port;
		seen |= port_lookup(map, &k);
		k.port = 0;
		seen |= port_lookup(map, &k);
	}
	return seen;
}

/* verdicts of the matching entries of the longest prefix covering the
 * destination. v6 is a compile-time constant: connect4 contexts have no
 * user_ip6 (the verifier rejects reading it) and connect6 no user_ip4. */
static __always_inline __u8 prefix_verdicts(struct bpf_sock_addr *ctx, int v6,
					    __u64 cg, __u8 gen, __u8 proto,
					    __u16 port)
{
	struct vge_prefix_key k = {};
	struct vge_prefix_val *val;
	__u8 seen = 0;

	k.prefixlen = VGE_PREFIX_HDR_BITS + 128;
	__builtin_memcpy(k.cgroup_id, &cg, sizeof(cg));
	k.gen = gen;
	if (!v6) {
		__u32 a4 = ctx->user_ip4;

		k.family = 2;
		__builtin_memcpy(k.addr, &a4, 4);
	} else {
		__u32 a6[4];

		a6[0] = ctx->user_ip6[0];
		a6[1] = ctx->user_ip6[1];
		a6[2] = ctx->user_ip6[2];
		a6[3] = ctx->user_ip6[3];
		if (a6[0] == 0 && a6[1] == 0 && a6[2] == bpf_htonl(0xffff)) {
			/* ::ffff:a.b.c.d: a dual-stack socket going to IPv4 */
			k.family = 2;
			__builtin_memcpy(k.addr, &a6[3], 4);
		} else {
			k.family = 10;
			__builtin_memcpy(k.addr, a6, 16);
		}
	}
	val = bpf_map_lookup_elem(&prefixes, &k);
	if (!val)
		return 0;
	for (int i = 0; i < VGE_PREFIX_ENTRIES; i++) {
		struct vge_prefix_entry e = val->e[i];

		if (!e.verdict)
			break;
		if ((!e.port || e.port == port) && (!e.proto || e.proto == proto))
			seen |= e.verdict;
	}
	return seen & VERDICTS;
}

static __always_inline void report(struct bpf_sock_addr *ctx, int v6, __u64 cg,
				   __u32 tgid, __u8 verdict, __u8 reason,
				   __u8 op, __u8 proto, __u16 port,
				   struct vge_counters *c)
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
	d->reason = reason;
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
	struct vge_cgroup *p, st;
	__u8 proto, seen, def, reason;
	__u64 raw;
	__u16 port;

	p = bpf_map_lookup_elem(&protected, &cg);
	if (!p)
		return ALLOW;
	/* one 8-byte load: gen, flags and defaults of the same rule set even
	 * if user space switches it meanwhile (a preallocated hash element can
	 * be reused under a reader); a plain struct copy would be byte loads */
	raw = *(volatile __u64 *)p;
	__builtin_memcpy(&st, &raw, sizeof(st));
	if (st.mode == VGE_MODE_OFF)
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
	if (op == VGE_OP_BIND) {
		if (port == 0) {
			if (c)
				c->allowed++;
			return ALLOW;
		}
		seen = port_verdicts(&allow_bind, cg, st.gen, proto, port,
				     st.flags & VGE_CG_BIND_ANYPROTO);
		def = st.bind_default;
	} else {
		seen = port_verdicts(&allow_net, cg, st.gen, proto, port,
				     st.flags & VGE_CG_CONNECT_ANYPROTO);
		if (st.flags & VGE_CG_PREFIXES)
			seen |= prefix_verdicts(ctx, v6, cg, st.gen, proto, port);
		def = st.connect_default;
	}
	if (seen & VGE_VERDICT_DENY) {
		reason = VGE_REASON_RULE;
	} else if ((seen & VGE_VERDICT_ALLOW) || def == VGE_VERDICT_ALLOW) {
		if (c)
			c->allowed++;
		return ALLOW;
	} else {
		reason = VGE_REASON_DEFAULT;
	}
	if (st.mode == VGE_MODE_SHADOW) {
		if (c)
			c->would_block++;
		report(ctx, v6, cg, tgid, VGE_WOULD_BLOCK, reason, op, proto,
		       port, c);
		return ALLOW;
	}
	if (c)
		c->blocked++;
	report(ctx, v6, cg, tgid, VGE_BLOCKED, reason, op, proto, port, c);
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
