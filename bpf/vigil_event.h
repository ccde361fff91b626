/* vigil_event.h - the one definition of the records the kernel sends to user
 * space, shared by bpf/vigil.bpf.c and src/.
 *
 * Invariants (pinned by tests/unit/test_abi.c):
 *  - fixed-size integer fields and char arrays only, explicit padding, no
 *    pointers, no bool, no long: the layout is identical for BPF and x86_64;
 *  - every record starts with struct vg_hdr; hdr.size is the record's size
 *    and hdr.abi is VG_ABI_VERSION; user space checks both before reading;
 *  - event type numbers are never reused; a changed layout bumps the ABI.
 * Recordings (src/record) store these records verbatim, so this file is also
 * part of the recording format.
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_ABI_VERSION 1

#define VG_COMM_LEN 16
#define VG_PATH_LEN 256 /* power of two: BPF code masks offsets with it */
#define VG_ARGS_LEN 512
#define VG_PAYLOAD_LEN 256
#define VG_CG_DEPTH 8
#define VG_CG_NAME_LEN 128

enum vg_type {
	VG_EXEC = 1,
	VG_FORK = 2,
	VG_EXIT = 3,
	VG_OPEN = 10,
	VG_UNLINK = 11,
	VG_RENAME = 12,
	VG_CHMOD = 13,
	VG_CHOWN = 14,
	VG_LINK = 15,
	VG_SYMLINK = 16,
	VG_MKDIR = 17,
	VG_CONNECT = 20,
	VG_ACCEPT = 21,
	VG_BIND = 22,
	VG_LISTEN = 23,
	VG_DNS = 24,
	VG_SETUID = 30,
	VG_SETGID = 31,
	VG_CAPSET = 32,
	VG_PTRACE = 33,
	VG_MOUNT = 34,
	VG_UMOUNT = 35,
	VG_UNSHARE = 36,
	VG_SETNS = 37,
	VG_MODULE_LOAD = 38,
	VG_BPF_LOAD = 39,
	VG_MEMFD_CREATE = 40,
	VG_CGROUP = 50, /* metadata: a cgroup's path, sent once per cgroup */
	VG_TYPE_MAX = 64,
};

/* hdr.flags */
#define VG_F_TRUNC1 0x0001 /* path/exe field truncated */
#define VG_F_TRUNC2 0x0002 /* second path / parent exe truncated */
#define VG_F_ARGS_TRUNC 0x0004
#define VG_F_EXE_MEMFD 0x0008 /* exec of a memfd */
#define VG_F_EXE_DELETED 0x0010 /* exec of an unlinked file */
#define VG_F_RELATIVE 0x0020 /* path1 relative (kernel could not resolve) */
#define VG_F_RELATIVE2 0x0040
#define VG_F_CG_V1 0x0080 /* cgroup_id is a v1 (pids) hierarchy id */
#define VG_F_STDIN_SOCK 0x0100 /* exec: fd 0 is a socket (reverse shells) */
#define VG_F_STDOUT_SOCK 0x0200 /* exec: fd 1 is a socket */
#define VG_F_KILLED 0x0400 /* exec: SIGKILLed by the exec_kill map (the new
			    * program never ran) */

/* exec_kill map (bpf/maps.h), set by sensor_exec_kill_set(): the value is
 * which execs to kill in the cgroup of the key. The key is the header's
 * cgroup_id, with VG_CG_KEY_V1 set when the header has VG_F_CG_V1 (v1 and
 * v2 ids come from different hierarchies and can be equal). */
#define VG_KILL_MEMFD 0x1   /* an exec of a memfd (VG_F_EXE_MEMFD) */
#define VG_KILL_DELETED 0x2 /* an exec of an unlinked file (VG_F_EXE_DELETED) */
#define VG_CG_KEY_V1 (1ULL << 63)

/* vg_file.access bits, derived from the open flags */
#define VG_ACC_READ 0x1
#define VG_ACC_WRITE 0x2
#define VG_ACC_CREATE 0x4
#define VG_ACC_TRUNC 0x8

struct vg_hdr {
	__u16 type;
	__u16 size;
	__u16 abi;
	__u16 flags;
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
	__u64 cgroup_id;
	__u32 repeat; /* identical events folded into this one by the kernel */
	__s32 ret;    /* syscall result (0 or -errno) */
	char comm[VG_COMM_LEN];
};

struct vg_exec {
	struct vg_hdr h;
	__u32 argc;
	__u32 args_len; /* bytes used in args, NUL-separated */
	__u32 egid;
	__u32 pad;
	char exe[VG_PATH_LEN];
	char parent_exe[VG_PATH_LEN];
	char cwd[VG_PATH_LEN];
	char args[VG_ARGS_LEN];
};

struct vg_proc {
	struct vg_hdr h;
	__u32 child_pid; /* fork */
	__u32 exit_code; /* exit: status as wait(2) decodes it */
	__u32 is_thread; /* fork created a thread, not a process */
	__u32 pad;
};

struct vg_file {
	struct vg_hdr h;
	__u32 open_flags;
	__u32 access; /* VG_ACC_* */
	__u32 mode;
	__u32 owner_uid; /* chown */
	__u32 owner_gid;
	__u32 pad;
	char path[VG_PATH_LEN];
	char path2[VG_PATH_LEN]; /* rename/link/symlink: the new name */
};

struct vg_net {
	struct vg_hdr h;
	__u16 family; /* AF_INET / AF_INET6 / AF_UNIX */
	__u16 sock_type;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 backlog;
	__u32 payload_len; /* dns: bytes copied into payload */
	__u8 payload[VG_PAYLOAD_LEN];
};

struct vg_priv {
	struct vg_hdr h;
	__u64 arg[4]; /* per type, see docs/events.md */
	char str1[VG_PATH_LEN];
	char str2[VG_PATH_LEN];
	char str3[64];
};

struct vg_cgroup {
	struct vg_hdr h;
	__u32 depth; /* components used in name[], leaf first */
	__u32 hierarchy; /* 2 = unified, 1 = v1 pids controller */
	char name[VG_CG_DEPTH][VG_CG_NAME_LEN];
};

/* Per-type counters the kernel keeps in a per-CPU array (index = type):
 * reservation failures (drops) and repeats folded by the dedup LRU. */
struct vg_counters {
	__u64 emitted;
	__u64 dropped;
	__u64 folded;
};

#endif
