/* cgroot.h - the cgroup v2 facts enforcement needs: where the unified
 * hierarchy is mounted, a cgroup's id from its path, and a process's
 * unified cgroup path from /proc/PID/cgroup.
 *
 * A cgroup path here is relative to the v2 mount and starts with '/'
 * ("/web1"); "/" is the root cgroup. A cgroup id is the kernfs id of the
 * directory: the value bpf_get_current_cgroup_id() returns, equal to the
 * directory's inode number on 64-bit kernels. All functions return 0 or
 * -errno and never write past cap (outputs are NUL-terminated). */
#ifndef VIGIL_CGROOT_H
#define VIGIL_CGROOT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROOT_PATH_MAX 512
#define CGROOT_ROOT_ID 1 /* the root cgroup's id: never protected */

/* The unified hierarchy's mount: /sys/fs/cgroup on pure v2 hosts,
 * /sys/fs/cgroup/unified on hybrid ones. -ENOENT when neither is cgroup2. */
int cgroot_mount(char *out, size_t cap);

/* Normalises what a user gave into a path relative to mount: accepts
 * "/web1", "web1" or "<mount>/web1"; drops a trailing '/'. -EINVAL when
 * empty or too long. */
int cgroot_rel(const char *mount, const char *given, char *out, size_t cap);

/* The id of cgroup rel under mount (-ENOENT if it does not exist). */
int cgroot_id(const char *mount, const char *rel, uint64_t *id);

/* The unified ("0::") cgroup path of pid. -ENOENT when the process is
 * gone, -ENODATA when it has no unified line. Reads /proc/PID/cgroup with
 * one open/read/close (no stdio). */
int cgroot_pid_path(pid_t pid, char *out, size_t cap);

#endif
