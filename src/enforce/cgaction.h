/* cgaction.h - acting on an offending process or container: SIGKILL one
 * process, kill every process of a cgroup v2, freeze and thaw a cgroup
 * (policy actions "kill", "scope: container" and "freeze", see
 * docs/policies.md and docs/enforcement.md).
 *
 * A cgroup is named as cgroot_rel() takes it: "/web1", "web1", or the full
 * directory "<v2 mount>/web1" (the mount is found with cgroot_mount()).
 * cgroup.kill and cgroup.freeze act on the cgroup and all its descendants,
 * so the root cgroup and any cgroup holding the agent (its own, or an
 * ancestor of it) are refused (-EPERM): the agent never kills or freezes
 * itself. ".." components are refused (-EINVAL).
 *
 * Waits are bounded: the short forms wait up to CGACTION_WAIT_MS (usually
 * a few milliseconds are enough); the _timeout forms take timeout_ms
 * (0: request only, do not wait; at most 60000). All functions return 0 or
 * -errno; -ETIMEDOUT means the request was made (signals sent, freeze
 * requested) but not seen complete in time.
 *
 * Limits: a kill is asynchronous in the kernel (signals are sent, the
 * processes exit when they next run: a process in an uninterruptible
 * kernel wait keeps the cgroup populated until it leaves it); a freeze
 * stops user space only (a task in a kernel wait freezes when it returns
 * to user space); processes moved into a frozen cgroup are frozen too, and
 * a frozen cgroup stays frozen if the agent dies (thaw: write 0 to its
 * cgroup.freeze). The agent's own cgroup is read from /proc/self/cgroup
 * at each call. */
#ifndef VIGIL_CGACTION_H
#define VIGIL_CGACTION_H
#include <sys/types.h>

#define CGACTION_WAIT_MS 1000

/* SIGKILL to pid (a process, in the agent's pid namespace). -EINVAL for
 * pid <= 0, -EPERM for PID 1 and the agent itself, -ESRCH when gone. The
 * pid may have been reused since it was observed: act on fresh pids (one
 * blocked in a permission event cannot be reused while it waits). */
int cgaction_kill_pid(pid_t pid);

/* Kills every process of cgroup and its descendants: "1" into cgroup.kill
 * (kernel 5.14+: atomic against forks), else the fallback
 * cgaction_kill_procs(). Then waits for "populated 0" in cgroup.events. A
 * cgroup removed meanwhile counts as emptied (only an empty cgroup can be
 * removed). -ENOENT when it does not exist. */
int cgaction_kill_cgroup(const char *cgroup);
int cgaction_kill_cgroup_timeout(const char *cgroup, int timeout_ms);

/* The fallback for kernels without cgroup.kill, usable alone: SIGKILL to
 * every pid in cgroup.procs of cgroup and of its descendants (up to 4096
 * cgroups), round after round until all are empty or timeout_ms passed
 * (0: one round). A process forking faster than we read can outrun a
 * round; freezing first stops that, and SIGKILL still kills frozen
 * processes. Never signals PID 1 or the agent. */
int cgaction_kill_procs(const char *cgroup, int timeout_ms);

/* frozen 1: "1" into cgroup.freeze, then waits for "frozen 1" in
 * cgroup.events; frozen 0 (thaw): "0", then waits for "frozen 0". Thawing
 * is refused only on the root cgroup (the agent may thaw its own: someone
 * else froze it). -EOPNOTSUPP when the kernel has no cgroup.freeze
 * (before 5.2). A freeze that times out stays requested: thaw to undo. */
int cgaction_freeze(const char *cgroup, int frozen);
int cgaction_freeze_timeout(const char *cgroup, int frozen, int timeout_ms);

#endif
