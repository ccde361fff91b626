/* netguard.h - in-kernel network enforcement for protected cgroups: loads
 * bpf/enforce.bpf.c, attaches its connect4/6 and bind4/6 programs once to
 * the cgroup v2 root, and fills its maps.
 *
 * Semantics (details in docs/enforcement.md):
 *  - only cgroups given to netguard_protect() are checked (the exact cgroup,
 *    not its descendants); every other task is allowed after one lookup;
 *  - a connect is allowed when its {protocol, destination port} was given to
 *    netguard_allow(), a bind when its {protocol, local port} was given to
 *    netguard_allow_listen() or the port is 0; port 0 in an allow call
 *    allows every port of that protocol;
 *  - shadow mode reports "would block" and allows; protect mode reports
 *    "blocked" and the syscall fails with EPERM;
 *  - the agent's own process is never blocked;
 *  - fail open: the programs are held by links owned by this object; when
 *    the agent closes it, exits or crashes, nothing is enforced any more.
 * Order matters: call netguard_allow*() for a cgroup before switching it to
 * protect, or its first connects are blocked.
 *
 * Not thread-safe: use one netguard from one thread (the agent's main loop).
 * Functions returning int give 0 or -errno. */
#ifndef VIGIL_NETGUARD_H
#define VIGIL_NETGUARD_H
#include <stddef.h>
#include <stdint.h>
#include "enforce_event.h"

struct netguard;

/* One decision that was not an allow (decoded struct vge_decision). */
struct netguard_decision {
	uint64_t cgroup_id;
	uint64_t ts_ns;	 /* CLOCK_MONOTONIC */
	uint32_t pid;
	uint8_t verdict; /* VGE_WOULD_BLOCK / VGE_BLOCKED */
	uint8_t op;	 /* VGE_OP_CONNECT / VGE_OP_BIND */
	uint8_t proto;	 /* VGE_PROTO_TCP / VGE_PROTO_UDP / other ip protocol */
	uint16_t family; /* 2 = IPv4, 10 = IPv6 */
	uint16_t port;
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	char comm[16];	  /* NUL-terminated */
};

typedef void (*netguard_cb)(void *ctx, const struct netguard_decision *d);

struct netguard_counters {
	uint64_t checked, allowed, would_block, blocked; /* kernel, all CPUs */
	uint64_t dropped;     /* decision records lost (ring buffer full) */
	uint64_t self;	      /* the agent's own connects/binds let through */
	uint64_t bad_records; /* malformed records seen in user space */
	uint64_t map_full;    /* protect/allow calls refused: a map at its cap */
};

/* Loads and attaches. cgroup_mount: the cgroup v2 mount (NULL: found with
 * cgroot_mount()). On failure returns NULL with errno set and a sentence in
 * err (the caller runs without network enforcement). */
struct netguard *netguard_open(const char *cgroup_mount, netguard_cb cb,
			       void *ctx, char *err, size_t errlen);

/* mode: VGE_MODE_SHADOW or VGE_MODE_PROTECT (or VGE_MODE_OFF to stop
 * checking while keeping the allow entries). The root cgroup (id 1) is
 * refused with -EINVAL. -ENOSPC at the map's cap. */
int netguard_protect(struct netguard *ng, uint64_t cgroup_id, int mode);
/* proto: VGE_PROTO_TCP or VGE_PROTO_UDP (any ip protocol number works) */
int netguard_allow(struct netguard *ng, uint64_t cgroup_id, int proto,
		   uint16_t port);
int netguard_allow_listen(struct netguard *ng, uint64_t cgroup_id, int proto,
			  uint16_t port);
/* Removes the cgroup and every allow entry of it (also for a cgroup that
 * is gone). 0 even if it was not protected. */
int netguard_release(struct netguard *ng, uint64_t cgroup_id);

/* Waits up to timeout_ms and hands decision records to the callback;
 * returns how many or -errno. */
int netguard_poll(struct netguard *ng, int timeout_ms);
/* An fd that becomes readable when records are waiting (for epoll). */
int netguard_fd(struct netguard *ng);
void netguard_counters(struct netguard *ng, struct netguard_counters *out);
/* Detaches (links closed), unloads, frees. NULL is fine. */
void netguard_close(struct netguard *ng);

#endif
