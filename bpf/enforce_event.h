/* enforce_event.h - the ABI between bpf/enforce.bpf.c (network enforcement)
 * and src/enforce/netguard.c: map keys and values, and the decision records
 * the kernel sends to user space. Separate from vigil_event.h: the sensor's
 * record ABI (and the recording format) does not change with enforcement.
 *
 * Invariants:
 *  - fixed-size integer fields only, explicit padding, no pointers: the
 *    layout is identical for BPF and x86_64 (sizes pinned by _Static_assert
 *    in netguard.c);
 *  - ports are in host byte order everywhere in this file;
 *  - a cgroup id is the kernfs id of the cgroup v2 directory, i.e. what
 *    bpf_get_current_cgroup_id() returns and the directory's inode number. */
#ifndef VIGIL_ENFORCE_EVENT_H
#define VIGIL_ENFORCE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VGE_ABI_VERSION 2

/* struct vge_cgroup.mode */
#define VGE_MODE_OFF 0
#define VGE_MODE_SHADOW 1  /* report "would block", allow */
#define VGE_MODE_PROTECT 2 /* report "blocked", deny with EPERM */

/* decision record verdicts */
#define VGE_WOULD_BLOCK 1
#define VGE_BLOCKED 2

/* decision record reasons: why it was not allowed */
#define VGE_REASON_RULE 1    /* a deny entry matched (port map or prefix) */
#define VGE_REASON_DEFAULT 2 /* nothing matched; the default posture blocks */

/* what was attempted */
#define VGE_OP_CONNECT 1
#define VGE_OP_BIND 2

/* ip protocol numbers used in keys (other protocols keep their number);
 * 0 in a key or entry means every protocol */
#define VGE_PROTO_ANY 0
#define VGE_PROTO_TCP 6
#define VGE_PROTO_UDP 17

/* Entry verdicts, also a bit set: the kernel ORs the verdicts of every
 * matching entry and DENY wins over ALLOW. 0 = no entry / unused slot. */
#define VGE_VERDICT_ALLOW 1
#define VGE_VERDICT_DENY 2

/* struct vge_cgroup.flags: which optional lookups this cgroup needs, so a
 * cgroup without prefix or any-protocol rules costs what it did before */
#define VGE_CG_PREFIXES 0x01	    /* has entries in `prefixes` */
#define VGE_CG_CONNECT_ANYPROTO 0x02 /* allow_net has proto-0 keys */
#define VGE_CG_BIND_ANYPROTO 0x04   /* allow_bind has proto-0 keys */

/* `protected` value (key: the u64 cgroup id). Read by the kernel as one
 * 8-byte snapshot: mode, defaults, gen and flags always belong together.
 * Every rule key carries gen; the kernel only sees the entries of the
 * cgroup's current gen, so user space replaces a whole rule set by writing
 * it under the next gen and then switching gen here (one map update). */
struct vge_cgroup {
	__u8 mode;	      /* VGE_MODE_* */
	__u8 connect_default; /* VGE_VERDICT_ALLOW, anything else blocks */
	__u8 bind_default;    /* VGE_VERDICT_ALLOW, anything else blocks */
	__u8 gen;	      /* rule-set generation */
	__u8 flags;	      /* VGE_CG_* */
	__u8 pad[3];
};

/* allow_net / allow_bind key (value: __u8 VGE_VERDICT_*). port 0 matches
 * every port of that protocol, proto 0 (VGE_CG_*_ANYPROTO) every protocol. */
struct vge_port_key {
	__u64 cgroup_id;
	__u16 port;
	__u8 proto;
	__u8 gen;
	__u8 pad[4];
};

/* `prefixes` (LPM trie) key: the prefix runs over cgroup id, gen, family
 * and then the address, so prefixlen = VGE_PREFIX_HDR_BITS + the address
 * prefix length; lookups use VGE_PREFIX_HDR_BITS + 128. The cgroup id is
 * the u64 in native byte order, split because the data starts at offset 4.
 * IPv4 (and IPv4-mapped IPv6 destinations) use family 2 and the first 4
 * address bytes; the rest stays zero. */
#define VGE_PREFIX_HDR_BITS 80
struct vge_prefix_key {
	__u32 prefixlen;
	__u32 cgroup_id[2];
	__u8 gen;
	__u8 family; /* 2 / 10 */
	__u8 addr[16]; /* network order */
	__u8 pad[2];
};

/* one entry of a prefix: matches when port and proto match (0 = any) */
struct vge_prefix_entry {
	__u16 port;
	__u8 proto;
	__u8 verdict; /* VGE_VERDICT_*; 0 ends the list */
};

#define VGE_PREFIX_ENTRIES 16
struct vge_prefix_val {
	struct vge_prefix_entry e[VGE_PREFIX_ENTRIES];
};

/* one decision on a protected cgroup that was not allowed */
struct vge_decision {
	__u16 abi;     /* VGE_ABI_VERSION */
	__u16 size;    /* sizeof(struct vge_decision) */
	__u8 verdict;  /* VGE_WOULD_BLOCK / VGE_BLOCKED */
	__u8 op;       /* VGE_OP_* */
	__u8 proto;    /* VGE_PROTO_* or the socket's protocol number */
	__u8 reason;   /* VGE_REASON_* */
	__u16 family;  /* AF_INET (2) / AF_INET6 (10) of the socket */
	__u16 port;    /* destination (connect) or local (bind) port */
	__u32 pid;     /* thread group id */
	__u64 cgroup_id;
	__u64 ts_ns;   /* CLOCK_MONOTONIC */
	__u8 addr[16]; /* as given: IPv4 in the first 4 bytes, network order;
			* an IPv4-mapped destination stays IPv6 here */
	char comm[16];
};

/* per-CPU counters, summed by netguard_counters() */
struct vge_counters {
	__u64 checked;     /* decisions taken for protected cgroups */
	__u64 allowed;     /* of those, allowed (an entry or the default) */
	__u64 would_block; /* shadow mode */
	__u64 blocked;     /* protect mode */
	__u64 dropped;     /* decision records lost: ring buffer full */
	__u64 self;        /* the agent's own connects/binds skipped */
};

#endif
