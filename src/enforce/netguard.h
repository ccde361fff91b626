/* netguard.h - in-kernel network enforcement for protected cgroups: loads
 * bpf/enforce.bpf.c, attaches its connect4/6 and bind4/6 programs once to
 * the cgroup v2 root, and fills its maps.
 *
 * Semantics (details in docs/enforcement.md):
 *  - only cgroups given to netguard_protect() / netguard_set_rules() are
 *    checked (the exact cgroup, not its descendants); every other task is
 *    allowed after one lookup;
 *  - a cgroup has one rule set: port entries for connect and for bind
 *    ({protocol, port} -> allow or deny), destination prefixes for connect
 *    (each with up to VGE_PREFIX_ENTRIES {protocol, port, verdict}), and a
 *    default posture for connect and for bind. Deny beats allow because a
 *    rule set merged from several policies must let an explicit deny win
 *    whatever order the policies came in; of the prefixes only the longest
 *    match counts, so a narrower prefix can carve an exception out of a
 *    wider one (allow 10.1.0.0/16 inside deny 10.0.0.0/8) with one kernel
 *    lookup. For the addresses it covers, the narrower prefix replaces the
 *    wider one's entries entirely, unless the rule set asks for
 *    all_prefixes. A connect or bind no entry speaks for gets the default,
 *    which is "block" unless set otherwise: that is what an allow list
 *    means, and what the older netguard_allow*() callers rely on;
 *  - a bind to port 0 is always allowed (the kernel picks the port; there
 *    is nothing to judge), and so is everything the agent itself does;
 *  - an IPv4-mapped IPv6 destination (::ffff:a.b.c.d) is matched against
 *    IPv4 prefixes: it is IPv4 on the wire, and a rule must not be
 *    bypassed by opening the socket as AF_INET6;
 *  - shadow mode reports "would block" and allows; protect mode reports
 *    "blocked" and the syscall fails with EPERM;
 *  - fail open: the programs are held by links owned by this object; when
 *    the agent closes it, exits or crashes, nothing is enforced any more.
 * Order matters with the older calls: netguard_allow*() for a cgroup
 * before switching it to protect, or its first connects are blocked.
 * netguard_set_rules() needs no order: it switches atomically.
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
	uint8_t reason;	 /* VGE_REASON_RULE (a deny matched) or
			  * VGE_REASON_DEFAULT (nothing allowed it) */
	uint16_t family; /* 2 = IPv4, 10 = IPv6 (of the socket: an IPv4-mapped
			  * destination is reported as IPv6) */
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
 * checking while keeping the entries). Keeps the cgroup's rule set and
 * defaults (block, unless netguard_set_rules() said otherwise). The root
 * cgroup (id 1) is refused with -EINVAL. -ENOSPC at the map's cap. */
int netguard_protect(struct netguard *ng, uint64_t cgroup_id, int mode);
/* Add one allow entry to the cgroup's current rule set (an existing deny
 * for the same key stays a deny). proto: VGE_PROTO_TCP or VGE_PROTO_UDP
 * (any ip protocol number 1..255 works); port 0 = every port. */
int netguard_allow(struct netguard *ng, uint64_t cgroup_id, int proto,
		   uint16_t port);
int netguard_allow_listen(struct netguard *ng, uint64_t cgroup_id, int proto,
			  uint16_t port);

/* One {protocol, port} entry of connect or bind. */
struct netguard_port_rule {
	uint8_t proto;	 /* ip protocol number; 0 = every protocol */
	uint8_t verdict; /* VGE_VERDICT_ALLOW or VGE_VERDICT_DENY */
	uint16_t port;	 /* host order; 0 = every port */
};

/* One entry of a destination prefix (connect only). Entries with the same
 * family, prefix and length share one kernel prefix: at most
 * VGE_PREFIX_ENTRIES different {proto, port, verdict} per prefix. */
struct netguard_prefix_rule {
	uint8_t family;	  /* 2 = IPv4, 10 = IPv6 */
	uint8_t plen;	  /* address prefix length: 0..32 or 0..128 */
	uint8_t proto;	  /* 0 = every protocol */
	uint8_t verdict;  /* VGE_VERDICT_ALLOW or VGE_VERDICT_DENY */
	uint16_t port;	  /* 0 = every port */
	uint8_t addr[16]; /* network order, IPv4 in the first 4 bytes; bits
			   * past plen are ignored */
};

/* A cgroup's whole network rule set. The arrays belong to the caller and
 * are only read during the call; duplicates are fine (merged). */
struct netguard_rules {
	const struct netguard_port_rule *connect;
	size_t n_connect;
	const struct netguard_port_rule *bind;
	size_t n_bind;
	const struct netguard_prefix_rule *prefixes;
	size_t n_prefixes;
	uint8_t connect_default; /* VGE_VERDICT_ALLOW; else (0 or DENY) block */
	uint8_t bind_default;	 /* VGE_VERDICT_ALLOW; else (0 or DENY) block */
	/* 1: every prefix covering the destination counts, not only the
	 * longest: each prefix is installed with the entries of the shorter
	 * prefixes that cover it, which is what rules merged from several
	 * policies need for "deny overrides allow" (a wide deny is not undone
	 * by a narrower allow). The VGE_PREFIX_ENTRIES cap then applies to the
	 * merged entries. 0: longest prefix only. */
	uint8_t all_prefixes;
};

/* Replaces the cgroup's whole rule set (including what netguard_allow*()
 * added) and sets its mode, with no moment where neither the old nor the
 * new set is in force: the new entries are written under the next rule-set
 * generation, which the kernel ignores until one update of the cgroup's
 * `protected` value switches mode, defaults and generation together; the
 * old entries are deleted only after every program that may still be
 * using the old generation has finished (an RCU grace period). A connect
 * blocked by both sets is therefore never let through, and one allowed by
 * both never blocked. Maps need room for both sets for a moment.
 * r NULL: no entries, both defaults block. mode as for netguard_protect().
 * Errors: -EINVAL (bad mode, cgroup, verdict, family or prefix length),
 * -E2BIG (more than VGE_PREFIX_ENTRIES entries for one prefix), -ENOSPC
 * (a map is full), -ENOMEM; on any of them the old set stays in force
 * untouched. */
int netguard_set_rules(struct netguard *ng, uint64_t cgroup_id, int mode,
		       const struct netguard_rules *r);

/* Removes the cgroup and every entry of it (ports, prefixes; also for a
 * cgroup that is gone). 0 even if it was not protected. */
int netguard_release(struct netguard *ng, uint64_t cgroup_id);

/* Pure: checks a prefix rule and brings it to the form the kernel matches:
 * an IPv6 prefix inside ::ffff:0:0/96 becomes the IPv4 prefix (mapped
 * destinations are looked up as IPv4), address bits past plen are cleared.
 * 0 or -EINVAL. Exposed for tests. */
int netguard_prefix_norm(struct netguard_prefix_rule *p);

/* Waits up to timeout_ms and hands decision records to the callback;
 * returns how many or -errno. */
int netguard_poll(struct netguard *ng, int timeout_ms);
/* An fd that becomes readable when records are waiting (for epoll). */
int netguard_fd(struct netguard *ng);
void netguard_counters(struct netguard *ng, struct netguard_counters *out);
/* Detaches (links closed), unloads, frees. NULL is fine. */
void netguard_close(struct netguard *ng);

#endif
