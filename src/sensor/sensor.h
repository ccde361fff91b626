/* sensor.h - loads and attaches the BPF sensor and delivers its records.
 *
 * The sensor owns the BPF objects; records are handed to the caller's
 * callback in ring-buffer order, after their size and ABI version are
 * checked and their string fields made NUL-terminated and zero-padded (so
 * that identical events are identical bytes, which recordings rely on). */
#ifndef VIGIL_SENSOR_H
#define VIGIL_SENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "vigil_event.h"

struct sensor;

struct sensor_opts {
	uint32_t class_mask;	  /* VG class bits (process 1, file 2, net 4, priv 8) */
	uint64_t dedup_window_ns; /* 0 disables in-kernel dedup */
};

/* Returns 0 to continue, negative to stop polling with that error. */
typedef int (*sensor_cb)(void *ctx, const void *rec, size_t len);

struct sensor *sensor_open(const struct sensor_opts *o, sensor_cb cb, void *ctx,
			   char *err, size_t errlen);
/* Waits up to timeout_ms for records and delivers them; returns the number
 * delivered or -errno. */
int sensor_poll(struct sensor *s, int timeout_ms);
/* Per-type totals since load, summed over CPUs (index = enum vg_type);
 * malformed records seen in user space are added to dropped[0]. */
void sensor_counters(struct sensor *s, struct vg_counters out[VG_TYPE_MAX]);
void sensor_close(struct sensor *s);

/* Kill at exec what fanotify cannot see. Exec enforcement (execguard,
 * FAN_OPEN_EXEC_PERM) judges the file the kernel opens for execve; an exec
 * of a memfd (memfd_create + fexecve / execveat(AT_EMPTY_PATH)) or of a file
 * already unlinked opens nothing on a marked filesystem. This makes the
 * sensor's sched_process_exec program send SIGKILL to such execs in one
 * cgroup: flags VG_KILL_MEMFD (exe is a memfd), VG_KILL_DELETED (exe has no
 * link left; the kernel creates memfds unlinked, so this covers memfds
 * too), or both; flags 0 removes the entry (removing an absent one is not
 * an error). The exec event of a killed process carries VG_F_KILLED.
 *
 * cgroup_id: the cgroup as the exec event header names it: a cgroup v2 id
 * (cgroot_id()), or on hosts where the process's v2 cgroup is the root, its
 * v1 pids cgroup id | VG_CG_KEY_V1. Exact cgroup only: descendants are not
 * covered.
 *
 * What the process sees: the kernel has already committed to the new image
 * (the point of no return is behind; execve does not fail), so the process
 * dies of SIGKILL on its way back to user space without running a single
 * instruction of the new program; its parent's wait() reports it killed by
 * SIGKILL (the exit event has exit_code 9). Side effects of the exec itself
 * (setuid transitions, the comm change) have happened.
 *
 * Limits: the map holds 4,096 cgroups (-E2BIG beyond); it lives as long as
 * the sensor (fail open: nothing is killed once the agent is gone); the
 * agent's own process and global init are never killed. A memfd holding a
 * script is not seen as one: the kernel executes the interpreter (a normal
 * file) and the script is only its argument. Any memfd exec in the cgroup
 * dies, including a container runtime's own if it executes a memfd copy of
 * itself after joining the cgroup (runc 1.1 clones itself before: `runc
 * exec` keeps working, tests/e2e/test_exec_kill.py).
 *
 * Returns 0, -EINVAL (cgroup_id 0, unknown flag bits), -EPERM (cgroup id
 * 1, the v2 root: every host process) or -errno from the map update. */
int sensor_exec_kill_set(struct sensor *s, uint64_t cgroup_id, uint32_t flags);

/* Checks a record's header (size for its type, ABI) and canonicalises its
 * string fields in place. Returns 0 or -EBADMSG. Used by replay too. */
int vg_record_check(void *rec, size_t len);
/* Expected size of a record type, 0 for an unknown type. */
size_t vg_record_size(uint16_t type);

#endif
