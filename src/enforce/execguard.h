/* execguard.h - exec enforcement for protected cgroups with fanotify
 * permission events (FAN_OPEN_EXEC_PERM on whole filesystems).
 *
 * Every exec-open (the binary, a script's interpreter, the dynamic loader)
 * on a marked filesystem waits for an answer. Two threads of our own:
 *  - the reader answers at once whatever is not ours to judge: the agent
 *    itself, PID 1, and every process whose unified cgroup (read from
 *    /proc/PID/cgroup) is not protected; it queues the rest and acts as
 *    the watchdog: a queued exec not decided within the budget is allowed
 *    and counted as late;
 *  - the decider resolves the file (path as the container sees it, ctime,
 *    "#!"), calls the caller's decide() and answers, unless the watchdog
 *    already did.
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
 * Not enforced: execs on filesystems that are not marked (see
 * execguard_mark_mounts), memfd execs, and code loaded without exec
 * (mmap by a loader, interpreters reading scripts: "sh /tmp/x").
 * Functions returning int give 0 or -errno unless stated otherwise. */
#ifndef VIGIL_EXECGUARD_H
#define VIGIL_EXECGUARD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EXECGUARD_CG_CAP 4096	 /* protected cgroups */
#define EXECGUARD_QUEUE_CAP 256	 /* execs waiting for decide() */
#define EXECGUARD_REPORT_CAP 1024 /* reports waiting for execguard_poll() */
#define EXECGUARD_PATH_MAX 512

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
	const char *exe_path;	 /* the file, as the container sees it */
	pid_t pid;		 /* thread group id, in the agent's pid ns */
	int mode;		 /* VGE_MODE_SHADOW / VGE_MODE_PROTECT */
	int fd;			 /* the file, read-only: do not close */
	uint64_t ctime_ns;	 /* status change time, wall clock */
	int is_script;		 /* starts with "#!" */
	void *cg_ctx;		 /* as given to execguard_protect() */
};

/* Returns enum execguard_verdict, or -errno (then the exec is allowed and
 * counted as failed). May write a short reason. */
typedef int (*execguard_decide_fn)(void *ctx, const struct execguard_req *r,
				   char *reason, size_t reason_cap);

enum execguard_outcome {
	EXECGUARD_ALLOWED = 0,	   /* only with opts.report_allowed */
	EXECGUARD_DENIED = 1,	   /* exec failed with EPERM */
	EXECGUARD_WOULD_DENY_SHADOW = 2, /* shadow mode: allowed, reported */
	EXECGUARD_LATE = 3,	   /* allowed: no decision within the budget */
	EXECGUARD_FAILED = 4,	   /* allowed: the decision path failed */
};

struct execguard_report {
	int outcome;		/* enum execguard_outcome */
	int verdict;		/* what decide() said (-errno if it failed) */
	pid_t pid;
	int mode;
	uint64_t cgroup_id;
	uint64_t ts_ns;		/* wall clock of the exec attempt */
	uint32_t decide_us;	/* time from the event to the decision */
	char cgroup_path[256];	/* truncated past 255 bytes */
	char exe_path[EXECGUARD_PATH_MAX]; /* truncated past 511 bytes */
	char reason[160];
};

typedef void (*execguard_report_fn)(void *ctx, const struct execguard_report *r);

struct execguard_opts {
	uint32_t budget_ms;   /* 0 -> 50 */
	int report_allowed;   /* also report allowed execs of protected cgroups */
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
