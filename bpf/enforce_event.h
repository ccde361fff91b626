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

#define VGE_ABI_VERSION 1

/* protected map values */
#define VGE_MODE_OFF 0
#define VGE_MODE_SHADOW 1  /* report "would block", allow */
#define VGE_MODE_PROTECT 2 /* report "blocked", deny with EPERM */

/* decision record verdicts */
#define VGE_WOULD_BLOCK 1
#define VGE_BLOCKED 2

/* what was attempted */
#define VGE_OP_CONNECT 1
#define VGE_OP_BIND 2

/* ip protocol numbers used in keys (other protocols keep their number) */
#define VGE_PROTO_TCP 6
#define VGE_PROTO_UDP 17

/* allow_net / allow_bind key: port 0 allows every port of that protocol */
struct vge_port_key {
	__u64 cgroup_id;
	__u16 port;
	__u8 proto;
	__u8 pad[5];
};

/* one decision on a protected cgroup that was not allowed */
struct vge_decision {
	__u16 abi;     /* VGE_ABI_VERSION */
	__u16 size;    /* sizeof(struct vge_decision) */
	__u8 verdict;  /* VGE_WOULD_BLOCK / VGE_BLOCKED */
	__u8 op;       /* VGE_OP_* */
	__u8 proto;    /* VGE_PROTO_* or the socket's protocol number */
	__u8 pad0;
	__u16 family;  /* AF_INET (2) / AF_INET6 (10) */
	__u16 port;    /* destination (connect) or local (bind) port */
	__u32 pid;     /* thread group id */
	__u64 cgroup_id;
	__u64 ts_ns;   /* CLOCK_MONOTONIC */
	__u8 addr[16]; /* IPv4 in the first 4 bytes, network order */
	char comm[16];
};

/* per-CPU counters, summed by netguard_counters() */
struct vge_counters {
	__u64 checked;     /* decisions taken for protected cgroups */
	__u64 allowed;     /* of those, allowed by the allow maps */
	__u64 would_block; /* shadow mode */
	__u64 blocked;     /* protect mode */
	__u64 dropped;     /* decision records lost: ring buffer full */
	__u64 self;        /* the agent's own connects/binds skipped */
};

#endif
