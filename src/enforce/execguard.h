/* execguard.h - exec and open enforcement for protected cgroups with
 * fanotify permission events: FAN_OPEN_EXEC_PERM on whole filesystems
 * (execs), FAN_OPEN_PERM on chosen inodes (opens).
 *
 * Every exec-open (the binary, a script's interpreter, the dynamic loader)
 * on a marked filesystem, and every open of a watched inode (a file, or any
 * direct child of a watched directory: execguard_watch_path), waits for an
 * answer. Two threads of our own:
 *  - the reader answers at once whatever is not ours to judge: the agent
 *    itself, PID 1, and every process whose unified cgroup (read from
 *    /proc/TID/cgroup) is not protected; it queues the rest and acts as
 *    the watchdog: a queued event not decided within the budget is allowed
 *    and counted as late;
 *  - the decider resolves the file (path as the container sees it, ctime,
 *    "#!" for execs), the acting process (its executable and comm; for an
 *    open, the flags of its pending open call), calls the caller's decide()
 *    and answers, unless the watchdog already did.
 * So every event is answered within budget_ms plus scheduling delay, and
 * any failure (queue full, process gone, decide() error or slowness)
 * allows: fail open. Closing the fanotify fd (execguard_stop, or the
 * process dying) makes the kernel allow everything still pending.
 *
 * decide() runs on the decider thread: it must be thread-safe with respect
 * to the caller's other threads (see policy_execset in policy_allow.h).
 * Reports (denied, would deny, late, failed) are queued for the caller's
 * thread: poll execguard_fd() and call execguard_poll().
 *
 * Opens. Marks are per inode, not per container: a watched inode is
 * watched for everyone who opens it (other containers sharing an image
 * layer or a volume, the host through a bind mount). Those opens are
 * answered on the fast path like unprotected execs: one /proc/TID/cgroup
 * read and a hash lookup in our reader, a fanotify round trip (tens of
 * microseconds) for them. Covered: opens (open, openat, openat2, creat,
 * open_by_handle_at, io_uring, the kernel's opens for execve) of a watched
 * regular file, or of a regular file that is (or later becomes) a direct
 * child of a watched directory, by a process of a protected cgroup; hard
 * links to a watched inode too (same inode). Not covered: files created
 * later in directories not watched (new subdirectories of a watched tree
 * included), opening a directory itself, devices, FIFOs and sockets
 * (fanotify reports regular files and directories only), O_PATH opens,
 * unlink and rename (no permission event), reads and writes through
 * descriptors opened before the mark or passed in from elsewhere. An
 * O_CREAT open is judged after the kernel created the file: a refused one
 * leaves the (empty) file behind; O_TRUNC is applied after the answer, so
 * a refused O_TRUNC open truncates nothing.
 *
 * Open flags. The opener is blocked inside its syscall while we decide;
 * /proc/TID/syscall (read again for up to ~2 ms while it still says
 * "running": the event is queued just before the opener sleeps) gives the
 * call and its register arguments: flags of
 * open(2) (arg 2), openat(2) (arg 3), open_by_handle_at(2) (arg 3), creat(2)
 * (O_CREAT|O_WRONLY|O_TRUNC): exact (EXECGUARD_FLAGS_EXACT). openat2(2)
 * passes a struct open_how in user memory, read with process_vm_readv
 * after the kernel copied it: another thread, or another process sharing
 * that memory, could have changed it in between (EXECGUARD_FLAGS_USER: a
 * claim, not a proof). Opens made by the kernel for execve/execveat are
 * read-only (via_exec). Anything else (io_uring, 32-bit and x32 callers,
 * unknown calls, a /proc read failing) gives EXECGUARD_FLAGS_UNKNOWN: the
 * decision is still asked, with flags_known == 0.
 *
 * Not enforced: execs on filesystems that are not marked (see
 * execguard_mark_mounts), memfd execs, and code loaded without exec
 * (mmap by a loader, interpreters reading scripts: "sh /tmp/x").
 * Functions returning int give 0 or -errno unless stated otherwise. */
#ifndef VIGIL_EXECGUARD_H
#define VIGIL_EXECGUARD_H
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EXECGUARD_CG_CAP 4096	 /* protected cgroups */
#define EXECGUARD_QUEUE_CAP 256	 /* execs and opens waiting for decide() */
#define EXECGUARD_REPORT_CAP 1024 /* reports waiting for execguard_poll() */
#define EXECGUARD_PATH_MAX 512
#define EXECGUARD_WATCH_CAP 16384 /* watched inodes (marks for opens) */

/* execguard_req.op, execguard_report.op */
enum execguard_op {
	EXECGUARD_OP_EXEC = 0, /* FAN_OPEN_EXEC_PERM: a program being executed */
	EXECGUARD_OP_OPEN = 1, /* FAN_OPEN_PERM: a watched file being opened */
};

/* execguard_req.flags_known, execguard_report.flags_known */
enum execguard_flags_src {
	EXECGUARD_FLAGS_UNKNOWN = 0, /* open_flags is 0 and means nothing */
	EXECGUARD_FLAGS_EXACT = 1,   /* from the pending call's registers */
	EXECGUARD_FLAGS_USER = 2,    /* openat2: read from user memory */
};

/* decide() results */
enum execguard_verdict {
	EXECGUARD_ALLOW = 0,
	EXECGUARD_DENY = 1,	  /* denied in protect mode, reported in shadow */
	EXECGUARD_WOULD_DENY = 2, /* report only, whatever the mode */
};

/* What decide() gets. Pointers are valid during the call only. */
struct execguard_req {
	uint64_t cgroup_id;
	const char *cgroup_path; /* "/web1", relative to the cgroup v2 mount */
	const char *exe_path;	 /* the file, as the container sees it: the
				  * program (exec) or the opened file (open),
				  * by the name it was opened with (a hard
				  * link's own name: fstat(fd) tells the inode) */
	pid_t pid;		 /* thread group id, in the agent's pid ns (the
				  * tid if /proc/TID/status cannot be read) */
	int mode;		 /* VGE_MODE_SHADOW / VGE_MODE_PROTECT */
	int fd;			 /* the file, read-only: do not close */
	uint64_t ctime_ns;	 /* status change time, wall clock */
	int is_script;		 /* starts with "#!" (exec only; 0 for opens) */
	void *cg_ctx;		 /* as given to execguard_protect() */
	int op;			 /* enum execguard_op */
	pid_t tid;		 /* the waiting thread (== pid if single-threaded) */
	/* the acting process: for an exec, the one calling execve, i.e. the
	 * new program's parent-to-be (a policy's "parent"); "" when unknown
	 * (a kernel thread, a /proc read failing, a path over 4 KiB) */
	const char *proc_exe;	 /* readlink /proc/TID/exe: as the container
				  * sees it, like exe_path */
	const char *comm;	 /* the waiting thread's comm */
	/* opens only (0 for execs) */
	int open_flags;		 /* O_* of the pending call, if flags_known */
	int flags_known;	 /* enum execguard_flags_src */
	int via_exec;		 /* the kernel opened it for execve/execveat
				  * (open_flags O_RDONLY, flags exact) */
};

/* 1 when open flags ask for write access to the file's contents: O_WRONLY,
 * O_RDWR, access mode 3, or O_TRUNC (which truncates even with O_RDONLY).
 * O_CREAT alone does not write an existing file. */
static inline int execguard_open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
}

/* Returns enum execguard_verdict, or -errno (then the exec is allowed and
 * counted as failed). May write a short reason. */
typedef int (*execguard_decide_fn)(void *ctx, const struct execguard_req *r,
				   char *reason, size_t reason_cap);

enum execguard_outcome {
	EXECGUARD_ALLOWED = 0,	   /* only with opts.report_allowed */
	EXECGUARD_DENIED = 1,	   /* the exec or open failed with EPERM */
	EXECGUARD_WOULD_DENY_SHADOW = 2, /* shadow mode: allowed, reported */
	EXECGUARD_LATE = 3,	   /* allowed: no decision within the budget */
	EXECGUARD_FAILED = 4,	   /* allowed: the decision path failed */
};

struct execguard_report {
	int outcome;		/* enum execguard_outcome */
	int verdict;		/* what decide() said (-errno if it failed) */
	int op;			/* enum execguard_op */
	int open_flags;		/* as in execguard_req */
	int flags_known;
	int via_exec;
	pid_t pid;
	pid_t tid;
	int mode;
	uint64_t cgroup_id;
	uint64_t ts_ns;		/* wall clock of the exec or open attempt */
	uint32_t decide_us;	/* time from the event to the decision */
	char cgroup_path[256];	/* truncated past 255 bytes */
	char exe_path[EXECGUARD_PATH_MAX]; /* truncated past 511 bytes */
	char proc_exe[EXECGUARD_PATH_MAX]; /* "" unknown; truncated likewise */
	char comm[16];
	char reason[160];
};

typedef void (*execguard_report_fn)(void *ctx, const struct execguard_report *r);

struct execguard_opts {
	uint32_t budget_ms;   /* 0 -> 50 */
	int report_allowed;   /* also report allowed execs and opens of
			       * protected cgroups */
};

struct execguard_counters {
	uint64_t events;      /* permission events answered */
	uint64_t fast;	      /* allowed at once: self, PID 1, not protected */
	uint64_t checked;     /* sent to decide() */
	uint64_t allowed;     /* decide() allowed */
	uint64_t denied;      /* answered FAN_DENY */
	uint64_t would_deny;  /* shadow: allowed, reported */
	uint64_t late;	      /* allowed by the watchdog */
	uint64_t failed;      /* allowed: /proc, queue, decide() or answer failed */
	uint64_t overflow;    /* kernel queue overflows */
	uint64_t reports_dropped;
	uint64_t marks;	      /* filesystems marked */
	uint64_t max_decide_us;
	/* opens (the counters above count execs and opens together) */
	uint64_t opens;	      /* open permission events answered */
	uint64_t flags_unknown; /* opens decided with flags_known == 0 */
	uint64_t watches;     /* inodes watched now */
	uint64_t watch_truncated; /* trees cut at max_dirs */
	uint64_t watch_stale; /* marks unwatch could not reach (see there) */
};

struct execguard;

/* Creates the fanotify group (FAN_CLASS_CONTENT), marks the filesystem of
 * "/" and starts the threads. NULL with errno and a sentence in err when
 * fanotify permission events are not available (the caller runs without
 * exec enforcement). */
struct execguard *execguard_start(const struct execguard_opts *o,
				  execguard_decide_fn decide, void *dctx,
				  char *err, size_t errlen);

/* Marks the filesystem holding path (FAN_MARK_FILESYSTEM). Marking a
 * filesystem twice is harmless. */
int execguard_add_fs(struct execguard *eg, const char *path);

/* Marks every filesystem mounted in pid's mount namespace that can hold
 * executables (skips proc, sysfs, cgroup, devpts, mqueue... and noexec
 * mounts), through /proc/PID/root. Returns how many were marked, or -errno
 * when the mount table cannot be read. Call it when protecting a container
 * (pid = any process of it): its /dev tmpfs, volumes and an overlay rootfs
 * are then covered too. */
int execguard_mark_mounts(struct execguard *eg, pid_t pid);

/* Watches one inode for opens (FAN_OPEN_PERM inode mark). path is a path
 * on the agent's side: a host path, or a container's file through its
 * process's root, "/proc/PID/root/etc/shadow"; the part after
 * "/proc/PID/root" is then resolved inside that root (openat2
 * RESOLVE_IN_ROOT: the container's absolute symlinks stay in the container,
 * magic links are refused), a final symlink followed. A regular file is
 * marked itself; a directory with FAN_EVENT_ON_CHILD, so that opens of its
 * regular files, including ones created later, are judged (not of its
 * subdirectories' contents: execguard_watch_path_tree). Each call is one
 * registration (undone by one execguard_unwatch_path with the same string);
 * the kernel mark stays while any registration holds its inode. Marking
 * opens no file (O_PATH), so it never waits on our own guard.
 * -ENOENT when path does not exist (nothing is marked: a file created
 * later is covered only through a watched directory), -EOPNOTSUPP for
 * other file types (fanotify reports regular files and directories only),
 * -ENOSPC past EXECGUARD_WATCH_CAP inodes. */
int execguard_watch_path(struct execguard *eg, const char *path);

/* Watches the directory path (resolved as above) and its subdirectories
 * breadth first, at most max_dirs directories (1..EXECGUARD_WATCH_CAP),
 * for a pattern ending in "/" "**". Symlinks below path are not followed;
 * proc, sysfs, cgroup, debugfs, tracefs, securityfs and bpf mounts below
 * it are skipped. One registration for the whole tree. Returns how many
 * directories are watched (>= 1), or -errno when path itself cannot be
 * watched (-ENOTDIR for a file). A tree bigger than max_dirs is cut
 * (counters.watch_truncated): the directories past the cut are not
 * covered, nor are directories created later. */
int execguard_watch_path_tree(struct execguard *eg, const char *path,
			      int max_dirs);

/* Undoes the oldest registration made with exactly this string (either
 * function above). Kernel marks of inodes no other registration holds are
 * removed: the stored path is resolved again, and a mark is removed only
 * when it still names the same inode (device and inode number). When it
 * does not (renamed, deleted, the container gone: then the kernel usually
 * dropped the mark with the filesystem), the mark, if any, is left in the
 * kernel (counters.watch_stale; decide() will be asked about an inode no
 * longer listed) and -ESTALE is returned after everything else was undone.
 * -ENOENT when no registration has this string. To replace a set without a
 * moment unwatched: watch the new paths first, then unwatch the old ones. */
int execguard_unwatch_path(struct execguard *eg, const char *path);

/* Removes every inode mark (FAN_MARK_FLUSH: filesystem marks for execs
 * stay) and forgets every registration. */
int execguard_unwatch_all(struct execguard *eg);

/* Protects cgroup_path (relative to the v2 mount, e.g. "/web1") in mode
 * VGE_MODE_SHADOW or VGE_MODE_PROTECT, or changes its mode/ctx. cg_ctx is
 * handed to decide(); cg_free (may be NULL) is called on it once nothing
 * uses it any more (after release or replacement), possibly on the decider
 * thread. "/" and paths of CGROOT_PATH_MAX bytes or more are refused
 * (-EINVAL); -ENOSPC past EXECGUARD_CG_CAP. */
int execguard_protect(struct execguard *eg, const char *cgroup_path,
		      uint64_t cgroup_id, int mode, void *cg_ctx,
		      void (*cg_free)(void *));
/* Stops protecting; -ENOENT if it was not protected. */
int execguard_release(struct execguard *eg, const char *cgroup_path);

/* Readable (eventfd) while reports are waiting. */
int execguard_fd(struct execguard *eg);
/* Hands every waiting report to cb on the calling thread; returns how
 * many. */
int execguard_poll(struct execguard *eg, execguard_report_fn cb, void *ctx);
void execguard_counters(struct execguard *eg, struct execguard_counters *out);

/* Stops both threads and closes the fanotify fd, so nothing is left
 * waiting; then frees everything. If decide() hangs past one second the
 * decider thread is abandoned (its memory leaked, never touched again by
 * us). NULL is fine. */
void execguard_stop(struct execguard *eg);

#endif
