/* execguard.c - fanotify exec and open permission events -> decide() ->
 * answer (see execguard.h for the model).
 *
 * Invariants:
 *  - every permission event gets exactly one answer: the reader answers
 *    fast-path events itself; for a queued job, whoever first sets
 *    job.answered (decider or watchdog, both under eg->mu) writes it;
 *  - responses are written only under eg->mu and only while fan_fd >= 0,
 *    so execguard_stop() can close fan_fd under the same lock and no late
 *    answer ever goes to a reused descriptor number;
 *  - a queued job's event fd is closed by the decider only, after the job
 *    is answered, so a job fd cannot be reused while a job refers to it;
 *  - every failure answers FAN_ALLOW and is counted (fail open);
 *  - protected-cgroup entries are reference counted: a job holds one, the
 *    table holds one; cg_free runs when the last goes;
 *  - all tables are capped (EXECGUARD_*_CAP);
 *  - the group reports thread ids (FAN_REPORT_TID) so that the open flags
 *    are read from the thread that waits; the reader does nothing more per
 *    event than before (a /proc/TID/cgroup read and a lookup): the other
 *    /proc reads happen on the decider, for protected cgroups only;
 *  - the watch table (registrations of inode marks) has its own lock, wmu,
 *    taken before mu, never while mu is held. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include "enforce/cgroot.h"
#include "enforce/execguard.h"
#include "enforce_event.h"
#include "lib/hashmap.h"

#define FAN_MASK_EXEC FAN_OPEN_EXEC_PERM
#define FAN_MASK_FILE FAN_OPEN_PERM
#define FAN_MASK_DIR (FAN_OPEN_PERM | FAN_EVENT_ON_CHILD)

struct cg_entry {
	uint64_t id;
	int mode;
	int refs;
	void *ctx;
	void (*free_ctx)(void *);
	char path[CGROOT_PATH_MAX];
};

struct job {
	int fd;
	pid_t pid; /* as reported: a thread id with FAN_REPORT_TID */
	int op;	   /* enum execguard_op */
	int answered;
	struct cg_entry *cg;
	uint64_t start_ns;    /* monotonic */
	uint64_t deadline_ns; /* monotonic */
	uint64_t wall_ns;
};

/* What the decider learns about the acting thread from /proc. */
struct actor {
	pid_t tgid; /* the tid itself when status cannot be read */
	int threads;
	int flags, flags_known, via_exec;
	char comm[16];
	char exe[4096];
};

/* One inode watched for opens: a registration's part. */
struct watch_ent {
	char *host; /* the path to resolve again when unwatching */
	uint64_t dev, ino;
};

/* One execguard_watch_path(_tree) call. */
struct watch_reg {
	char *key; /* the string given */
	struct watch_ent *ent;
	size_t n;
	struct watch_reg *next; /* oldest first */
};

/* The kernel mark of one inode, held by every entry naming it. */
struct inode_ref {
	uint64_t dev, ino;
	uint32_t mask;
	int refs;
	struct inode_ref *next; /* same hash */
};

struct execguard {
	int fan_fd;
	int wake_fd;   /* eventfd: wakes the reader on stop */
	int report_fd; /* eventfd: reports waiting */
	pid_t self;
	int report_tid;		      /* FAN_REPORT_TID in effect */
	pid_t reader_tid, decider_tid; /* __atomic: set by the threads */
	uint64_t budget_ns;
	int report_allowed;
	execguard_decide_fn decide;
	void *dctx;
	pthread_t reader, decider;
	int reader_started, decider_started;

	pthread_mutex_t mu; /* everything below */
	pthread_cond_t cv;  /* jobs queued or stopping */
	int stopping;
	struct hashmap *cgs; /* fnv(path) -> struct cg_entry */
	size_t ncg;
	struct job jobs[EXECGUARD_QUEUE_CAP];
	uint64_t head, tail; /* pending jobs: [head, tail) */
	struct execguard_report *reports;
	uint64_t rhead, rtail;
	struct execguard_counters c;
	struct actor actor; /* the decider's scratch */

	pthread_mutex_t wmu; /* the watch table; taken before mu */
	struct watch_reg *regs;
	struct hashmap *inodes; /* hash(dev, ino) -> chain of struct inode_ref */
	size_t ninodes;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* an eventfd write only fails when the counter would overflow 2^64 - 2 */
static void kick(int efd)
{
	uint64_t one = 1;
	ssize_t r = write(efd, &one, sizeof(one));

	(void)r;
}

/* --- under eg->mu --- */

static void cg_unref_locked(struct cg_entry *e, void **free_ctx_arg,
			    void (**free_fn)(void *))
{
	if (--e->refs > 0)
		return;
	*free_ctx_arg = e->ctx;
	*free_fn = e->free_ctx;
	free(e);
}

/* Writes the answer; caller holds mu. A failed write is counted: the kernel
 * then keeps waiting until the group closes (or the task is killed), so it
 * should never happen for an fd we got from the group. */
static void respond_locked(struct execguard *eg, int fd, int allow)
{
	struct fanotify_response r = {.fd = fd,
				      .response = allow ? FAN_ALLOW : FAN_DENY};

	if (eg->fan_fd < 0)
		return; /* stopped: the kernel allowed it on close */
	eg->c.events++;
	if (write(eg->fan_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		eg->c.failed++;
}

static void report_locked(struct execguard *eg, const struct execguard_report *r)
{
	if (eg->rtail - eg->rhead >= EXECGUARD_REPORT_CAP) {
		eg->c.reports_dropped++;
		return;
	}
	eg->reports[eg->rtail++ % EXECGUARD_REPORT_CAP] = *r;
	kick(eg->report_fd);
}

/* --- the reader: fast path, queueing, watchdog --- */

static void fast_allow(struct execguard *eg, int fd)
{
	pthread_mutex_lock(&eg->mu);
	eg->c.fast++;
	respond_locked(eg, fd, 1);
	pthread_mutex_unlock(&eg->mu);
	close(fd);
}

static void failed_allow(struct execguard *eg, int fd)
{
	pthread_mutex_lock(&eg->mu);
	eg->c.failed++;
	respond_locked(eg, fd, 1);
	pthread_mutex_unlock(&eg->mu);
	close(fd);
}

static void on_event(struct execguard *eg, const struct fanotify_event_metadata *m)
{
	char cgpath[CGROOT_PATH_MAX];
	struct cg_entry *e;
	struct job *j;
	int rc;

	/* our threads: the main one (== self) and the two of ours; other
	 * threads of the agent are caught by the decider (tgid == self) */
	if (m->pid == eg->self || m->pid == 1 ||
	    m->pid == __atomic_load_n(&eg->reader_tid, __ATOMIC_RELAXED) ||
	    m->pid == __atomic_load_n(&eg->decider_tid, __ATOMIC_RELAXED)) {
		fast_allow(eg, m->fd);
		return;
	}
	pthread_mutex_lock(&eg->mu);
	rc = eg->ncg == 0;
	pthread_mutex_unlock(&eg->mu);
	if (rc) {
		fast_allow(eg, m->fd);
		return;
	}
	/* no pid -> cgroup cache: a process can move into a protected cgroup
	 * between two execs (runc init does), and a stale "not protected"
	 * would let its first exec through */
	rc = cgroot_pid_path(m->pid, cgpath, sizeof(cgpath));
	if (rc) {
		failed_allow(eg, m->fd);
		return;
	}
	pthread_mutex_lock(&eg->mu);
	e = hashmap_get(eg->cgs, fnv(cgpath));
	if (!e || strcmp(e->path, cgpath) || e->mode == VGE_MODE_OFF) {
		eg->c.fast++;
		respond_locked(eg, m->fd, 1);
		pthread_mutex_unlock(&eg->mu);
		close(m->fd);
		return;
	}
	if (eg->tail - eg->head >= EXECGUARD_QUEUE_CAP || eg->stopping) {
		eg->c.failed++;
		respond_locked(eg, m->fd, 1);
		pthread_mutex_unlock(&eg->mu);
		close(m->fd);
		return;
	}
	j = &eg->jobs[eg->tail++ % EXECGUARD_QUEUE_CAP];
	memset(j, 0, sizeof(*j));
	j->fd = m->fd;
	j->pid = m->pid;
	j->op = (m->mask & FAN_OPEN_EXEC_PERM) ? EXECGUARD_OP_EXEC
						: EXECGUARD_OP_OPEN;
	j->cg = e;
	e->refs++;
	j->start_ns = now_ns(CLOCK_MONOTONIC);
	j->deadline_ns = j->start_ns + eg->budget_ns;
	j->wall_ns = now_ns(CLOCK_REALTIME);
	pthread_cond_signal(&eg->cv);
	pthread_mutex_unlock(&eg->mu);
}

/* Allows every queued job past its deadline; returns ms until the next
 * deadline (-1: none). */
static int watchdog(struct execguard *eg)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC), next = 0;
	int wait = -1;

	pthread_mutex_lock(&eg->mu);
	for (uint64_t i = eg->head; i < eg->tail; i++) {
		struct job *j = &eg->jobs[i % EXECGUARD_QUEUE_CAP];

		if (j->answered)
			continue;
		if (j->deadline_ns <= now) {
			j->answered = 1;
			eg->c.late++;
			respond_locked(eg, j->fd, 1);
		} else if (!next || j->deadline_ns < next) {
			next = j->deadline_ns;
		}
	}
	pthread_mutex_unlock(&eg->mu);
	if (next)
		wait = (int)((next - now + 999999) / 1000000);
	return wait;
}

static void *reader_main(void *arg)
{
	struct execguard *eg = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));

	__atomic_store_n(&eg->reader_tid, gettid(), __ATOMIC_RELAXED);
	for (;;) {
		struct pollfd p[2] = {{eg->fan_fd, POLLIN, 0},
				      {eg->wake_fd, POLLIN, 0}};
		int wait = watchdog(eg);
		uint64_t opens;
		ssize_t n, left;

		if (poll(p, 2, wait) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break; /* stopping */
		if (!(p[0].revents & POLLIN))
			continue;
		n = read(eg->fan_fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		/* FAN_EVENT_NEXT() consumes its length argument: count on a
		 * copy, the loop below needs n whole */
		opens = 0;
		left = n;
		for (struct fanotify_event_metadata *m = (void *)buf;
		     FAN_EVENT_OK(m, left); m = FAN_EVENT_NEXT(m, left))
			opens += m->fd >= 0 && (m->mask & FAN_OPEN_PERM);
		if (opens) {
			pthread_mutex_lock(&eg->mu);
			eg->c.opens += opens;
			pthread_mutex_unlock(&eg->mu);
		}
		for (struct fanotify_event_metadata *m = (void *)buf;
		     FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->mask & FAN_Q_OVERFLOW) {
				pthread_mutex_lock(&eg->mu);
				eg->c.overflow++;
				pthread_mutex_unlock(&eg->mu);
			}
			if (m->fd < 0)
				continue;
			if (m->vers != FANOTIFY_METADATA_VERSION ||
			    !(m->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM))) {
				failed_allow(eg, m->fd);
				continue;
			}
			on_event(eg, m);
		}
	}
	/* an unexpected error ends the reader: close the group so that the
	 * kernel allows everything pending and asks nothing more (fail open) */
	pthread_mutex_lock(&eg->mu);
	if (!eg->stopping && eg->fan_fd >= 0) {
		eg->c.failed++;
		close(eg->fan_fd);
		eg->fan_fd = -1;
	}
	pthread_mutex_unlock(&eg->mu);
	return NULL;
}

/* --- the decider --- */

static int resolve(int fd, int op, char *path, size_t cap, uint64_t *ctime_ns,
		   int *is_script)
{
	char link[64], head[2];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, cap);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG; /* never judge a truncated path */
	path[n] = 0;
	if (fstat(fd, &st))
		return -errno;
	*ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000ULL +
		    (uint64_t)st.st_ctim.tv_nsec;
	/* opens: no read of the file (its contents are not our business,
	 * and a read could wait on a slow filesystem) */
	*is_script = op == EXECGUARD_OP_EXEC && pread(fd, head, 2, 0) == 2 &&
		     head[0] == '#' && head[1] == '!';
	return 0;
}

/* Reads a small /proc file whole; returns its length or -errno. */
static ssize_t read_proc(pid_t tid, const char *what, char *buf, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static long status_field(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

/* The open flags of the call tid is blocked in: enum execguard_flags_src.
 * /proc/TID/syscall: "NR ARG1 ... ARG6 SP PC" (NR decimal, the rest hex;
 * arg[] below counts from 0: open(path, flags), openat(dirfd, path, flags),
 * openat2(dirfd, path, how, size), open_by_handle_at(mfd, handle, flags)),
 * "running", or "-1 SP PC" outside a syscall. Register arguments cannot
 * change while the thread waits; openat2's struct open_how lives in user
 * memory and can. 32-bit callers report their own numbers, which never
 * name a 64-bit open call whose flags we would misread here (and x32 ones
 * carry __X32_SYSCALL_BIT): unknown. */
static int read_open_flags(const struct actor *a, pid_t tid, int *flags,
			   int *via_exec)
{
	unsigned long long arg[6] = {0};
	char buf[320], *p, *end;
	long nr;

	/* the kernel queues the event before the opener sleeps: for a few
	 * microseconds it may still be "running" (no registers to show) */
	for (int i = 0;; i++) {
		struct timespec ts = {0, 20000};

		if (read_proc(tid, "syscall", buf, sizeof(buf)) <= 0)
			return EXECGUARD_FLAGS_UNKNOWN;
		if (strncmp(buf, "running", 7) || i == 100)
			break;
		nanosleep(&ts, NULL); /* at most ~100 x 20 us in all */
	}
	nr = strtol(buf, &end, 10);
	if (end == buf || nr < 0)
		return EXECGUARD_FLAGS_UNKNOWN;
	p = end;
	for (int i = 0; i < 6; i++) {
		arg[i] = strtoull(p, &end, 16);
		if (end == p)
			return EXECGUARD_FLAGS_UNKNOWN;
		p = end;
	}
#ifdef SYS_open
	if (nr == SYS_open) {
		*flags = (int)arg[1];
		return EXECGUARD_FLAGS_EXACT;
	}
#endif
#ifdef SYS_creat
	if (nr == SYS_creat) {
		*flags = O_CREAT | O_WRONLY | O_TRUNC;
		return EXECGUARD_FLAGS_EXACT;
	}
#endif
	if (nr == SYS_openat || nr == SYS_open_by_handle_at) {
		*flags = (int)arg[2];
		return EXECGUARD_FLAGS_EXACT;
	}
	if (nr == SYS_execve || nr == SYS_execveat) {
		*flags = O_RDONLY;
		*via_exec = 1;
		return EXECGUARD_FLAGS_EXACT;
	}
	if (nr == SYS_openat2 && arg[3] >= sizeof(uint64_t)) {
		/* struct open_how starts with its u64 flags. A process
		 * that set up a userfaultfd with kernel faults (needs
		 * CAP_SYS_PTRACE) could make this read wait: the watchdog
		 * then answers meanwhile (fail open) */
		uint64_t v;
		struct iovec local = {&v, sizeof(v)};
		struct iovec remote = {(void *)(uintptr_t)arg[2], sizeof(v)};

		if (process_vm_readv(a->tgid, &local, 1, &remote, 1, 0) !=
			    (ssize_t)sizeof(v) ||
		    v > 0xffffffffULL)
			return EXECGUARD_FLAGS_UNKNOWN;
		*flags = (int)v;
		return EXECGUARD_FLAGS_USER;
	}
	return EXECGUARD_FLAGS_UNKNOWN;
}

/* Fills a from /proc/TID; what cannot be read stays unknown ("", 0). */
static void read_actor(struct execguard *eg, pid_t tid, int op, struct actor *a)
{
	char buf[4096];
	ssize_t n;

	a->tgid = tid;
	a->threads = a->flags = a->flags_known = a->via_exec = 0;
	a->comm[0] = a->exe[0] = 0;
	if (read_proc(tid, "status", buf, sizeof(buf)) > 0) {
		long t = status_field(buf, "\nTgid:");

		if (t > 0)
			a->tgid = (pid_t)t;
		a->threads = (int)status_field(buf, "\nThreads:");
	}
	n = read_proc(tid, "comm", buf, sizeof(a->comm) + 1);
	if (n > 0) {
		if (buf[n - 1] == '\n')
			buf[--n] = 0;
		copy_str(a->comm, sizeof(a->comm), buf);
	}
	snprintf(buf, sizeof(buf), "/proc/%d/exe", (int)tid);
	n = readlink(buf, a->exe, sizeof(a->exe));
	a->exe[n > 0 && (size_t)n < sizeof(a->exe) ? n : 0] = 0;
	if (op != EXECGUARD_OP_OPEN)
		return;
	/* without FAN_REPORT_TID the pid is the leader's: its registers
	 * say nothing about another thread's open */
	if (!eg->report_tid && a->threads != 1)
		return;
	a->flags_known = read_open_flags(a, tid, &a->flags, &a->via_exec);
	if (!a->flags_known)
		a->flags = a->via_exec = 0;
}

static void decide_one(struct execguard *eg, uint64_t slot, int skip)
{
	struct job *j = &eg->jobs[slot % EXECGUARD_QUEUE_CAP];
	struct execguard_report r;
	struct execguard_req q;
	struct cg_entry *cg;
	struct actor *a = &eg->actor; /* decider-only scratch (4 KiB) */
	char path[4096];
	void *fctx = NULL;
	void (*ffn)(void *) = NULL;
	int fd, v, allow, late, own;
	uint64_t start, wall, t1;

	/* the slot is stable until head moves past it (only we move head);
	 * fd, pid, cg and times are never changed by others */
	fd = j->fd;
	cg = j->cg;
	start = j->start_ns;
	wall = j->wall_ns;
	memset(&r, 0, sizeof(r));
	memset(&q, 0, sizeof(q));
	q.op = j->op;
	q.tid = j->pid;
	q.fd = fd;
	q.cgroup_id = cg->id;
	q.cgroup_path = cg->path;
	q.mode = cg->mode;
	q.cg_ctx = cg->ctx;
	q.exe_path = path;
	if (skip) {
		memset(a, 0, sizeof(*a));
		a->tgid = j->pid;
	} else {
		read_actor(eg, j->pid, j->op, a);
	}
	q.pid = a->tgid;
	q.proc_exe = a->exe;
	q.comm = a->comm;
	q.open_flags = a->flags;
	q.flags_known = a->flags_known;
	q.via_exec = a->via_exec;
	/* another thread of the agent (its main thread and ours were
	 * answered by the reader): never judged, like the agent itself */
	own = a->tgid == eg->self;
	v = resolve(fd, j->op, path, sizeof(path), &q.ctime_ns, &q.is_script);
	copy_str(r.exe_path, sizeof(r.exe_path), v ? "?" : path);
	if (own)
		v = EXECGUARD_ALLOW;
	else if (v)
		copy_str(r.reason, sizeof(r.reason), "cannot resolve the file");
	else if (skip)
		copy_str(r.reason, sizeof(r.reason),
			 "not decided within the budget (queued)");
	else
		v = eg->decide(eg->dctx, &q, r.reason, sizeof(r.reason));
	t1 = now_ns(CLOCK_MONOTONIC);

	if (v == EXECGUARD_DENY && q.mode == VGE_MODE_SHADOW)
		v = EXECGUARD_WOULD_DENY;
	allow = v != EXECGUARD_DENY;
	pthread_mutex_lock(&eg->mu);
	late = j->answered;
	if (!late) {
		j->answered = 1;
		respond_locked(eg, fd, allow);
	}
	if ((t1 - start) / 1000 > eg->c.max_decide_us)
		eg->c.max_decide_us = (t1 - start) / 1000;
	r.verdict = v;
	r.op = q.op;
	r.open_flags = q.open_flags;
	r.flags_known = q.flags_known;
	r.via_exec = q.via_exec;
	r.pid = q.pid;
	r.tid = q.tid;
	copy_str(r.proc_exe, sizeof(r.proc_exe), q.proc_exe);
	copy_str(r.comm, sizeof(r.comm), q.comm);
	r.mode = q.mode;
	r.cgroup_id = cg->id;
	r.ts_ns = wall;
	r.decide_us = (uint32_t)((t1 - start) / 1000);
	copy_str(r.cgroup_path, sizeof(r.cgroup_path), cg->path);
	if (own) {
		eg->c.fast++;
		goto done;
	}
	if (q.op == EXECGUARD_OP_OPEN && !q.flags_known && !skip)
		eg->c.flags_unknown++;
	if (v < 0 || (v != EXECGUARD_ALLOW && v != EXECGUARD_DENY &&
		      v != EXECGUARD_WOULD_DENY)) {
		eg->c.failed++;
		r.outcome = EXECGUARD_FAILED;
		if (!r.reason[0])
			copy_str(r.reason, sizeof(r.reason), "decide() failed");
	} else if (late) {
		r.outcome = EXECGUARD_LATE; /* counted by the watchdog */
	} else if (v == EXECGUARD_DENY) {
		eg->c.denied++;
		r.outcome = EXECGUARD_DENIED;
	} else if (v == EXECGUARD_WOULD_DENY) {
		eg->c.would_deny++;
		r.outcome = EXECGUARD_WOULD_DENY_SHADOW;
	} else {
		eg->c.allowed++;
		r.outcome = EXECGUARD_ALLOWED;
	}
	eg->c.checked++;
	if (r.outcome != EXECGUARD_ALLOWED || eg->report_allowed)
		report_locked(eg, &r);
done:
	cg_unref_locked(cg, &fctx, &ffn);
	eg->head++;
	pthread_mutex_unlock(&eg->mu);
	close(fd);
	if (ffn)
		ffn(fctx);
}

/* Stopping: the group fd is closed (or about to be), so the kernel has
 * allowed everything; only descriptors and references are left. */
static void drop_one(struct execguard *eg)
{
	struct job *j = &eg->jobs[eg->head % EXECGUARD_QUEUE_CAP];
	void *fctx = NULL;
	void (*ffn)(void *) = NULL;
	int fd = j->fd;

	cg_unref_locked(j->cg, &fctx, &ffn);
	eg->head++;
	pthread_mutex_unlock(&eg->mu);
	close(fd);
	if (ffn)
		ffn(fctx);
	pthread_mutex_lock(&eg->mu);
}

static void *decider_main(void *arg)
{
	struct execguard *eg = arg;

	__atomic_store_n(&eg->decider_tid, gettid(), __ATOMIC_RELAXED);
	pthread_mutex_lock(&eg->mu);
	for (;;) {
		uint64_t slot;
		int skip;

		while (!eg->stopping && eg->head == eg->tail)
			pthread_cond_wait(&eg->cv, &eg->mu);
		if (eg->stopping) {
			while (eg->head != eg->tail)
				drop_one(eg);
			break;
		}
		slot = eg->head;
		/* already allowed by the watchdog while queued: decide() is
		 * skipped so a backlog drains instead of growing */
		skip = eg->jobs[slot % EXECGUARD_QUEUE_CAP].answered;
		pthread_mutex_unlock(&eg->mu);
		decide_one(eg, slot, skip);
		pthread_mutex_lock(&eg->mu);
	}
	pthread_mutex_unlock(&eg->mu);
	return NULL;
}

/* --- API --- */

static int mark(struct execguard *eg, int dirfd, const char *path)
{
	if (fanotify_mark(eg->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
			  FAN_MASK_EXEC, dirfd, path))
		return -errno;
	pthread_mutex_lock(&eg->mu);
	eg->c.marks++;
	pthread_mutex_unlock(&eg->mu);
	return 0;
}

int execguard_add_fs(struct execguard *eg, const char *path)
{
	if (!eg || !path)
		return -EINVAL;
	return mark(eg, AT_FDCWD, path);
}

static void free_entry_cb(void *ctx, uint64_t key, void *v)
{
	struct cg_entry *e = v;

	(void)ctx;
	(void)key;
	if (--e->refs > 0)
		return; /* a job still holds it (only when the decider hung) */
	if (e->free_ctx)
		e->free_ctx(e->ctx);
	free(e);
}

struct execguard *execguard_start(const struct execguard_opts *o,
				  execguard_decide_fn decide, void *dctx,
				  char *err, size_t errlen)
{
	struct execguard *eg = calloc(1, sizeof(*eg));
	int rc;

	if (!eg || !decide) {
		free(eg);
		snprintf(err, errlen, "%s", decide ? "out of memory"
						   : "no decide callback");
		errno = decide ? ENOMEM : EINVAL;
		return NULL;
	}
	eg->fan_fd = eg->wake_fd = eg->report_fd = -1;
	eg->self = getpid();
	eg->budget_ns = (uint64_t)(o && o->budget_ms ? o->budget_ms : 50) *
			1000000ULL;
	eg->report_allowed = o ? o->report_allowed : 0;
	eg->decide = decide;
	eg->dctx = dctx;
	pthread_mutex_init(&eg->mu, NULL);
	pthread_cond_init(&eg->cv, NULL);
	pthread_mutex_init(&eg->wmu, NULL);
	eg->cgs = hashmap_new(EXECGUARD_CG_CAP);
	eg->inodes = hashmap_new(EXECGUARD_WATCH_CAP);
	eg->reports = calloc(EXECGUARD_REPORT_CAP, sizeof(*eg->reports));
	if (!eg->cgs || !eg->inodes || !eg->reports) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	eg->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	eg->report_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (eg->wake_fd < 0 || eg->report_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		goto fail;
	}
	eg->report_tid = 1;
	eg->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC |
					   FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
					   FAN_REPORT_TID,
				   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (eg->fan_fd < 0 && errno == EINVAL) {
		/* before 4.20: pids are thread group ids; open flags are
		 * then read for single-threaded processes only */
		eg->report_tid = 0;
		eg->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC |
						   FAN_NONBLOCK |
						   FAN_UNLIMITED_QUEUE,
					   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	}
	if (eg->fan_fd < 0) {
		rc = -errno;
		snprintf(err, errlen,
			 "fanotify_init(FAN_CLASS_CONTENT): %s (exec "
			 "enforcement needs CAP_SYS_ADMIN and "
			 "CONFIG_FANOTIFY_ACCESS_PERMISSIONS)",
			 strerror(-rc));
		goto fail;
	}
	rc = mark(eg, AT_FDCWD, "/");
	if (rc) {
		snprintf(err, errlen,
			 "fanotify_mark(FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, "
			 "/): %s",
			 strerror(-rc));
		goto fail;
	}
	if ((rc = -pthread_create(&eg->decider, NULL, decider_main, eg))) {
		snprintf(err, errlen, "pthread_create: %s", strerror(-rc));
		goto fail;
	}
	eg->decider_started = 1;
	if ((rc = -pthread_create(&eg->reader, NULL, reader_main, eg))) {
		snprintf(err, errlen, "pthread_create: %s", strerror(-rc));
		goto fail;
	}
	eg->reader_started = 1;
	return eg;
fail:
	execguard_stop(eg);
	errno = -rc;
	return NULL;
}

static int skip_fstype(const char *t)
{
	static const char *const skip[] = {
		"proc",	   "sysfs",	 "cgroup",     "cgroup2", "devpts",
		"mqueue",  "securityfs", "debugfs",    "tracefs", "bpf",
		"fusectl", "configfs",	 "pstore",     "autofs",  "binfmt_misc",
		"nsfs",	   "efivarfs",	 "hugetlbfs", "rpc_pipefs"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(t, skip[i]))
			return 1;
	return 0;
}

/* mountinfo escapes ' ', '\t', '\n', '\\' as \ooo */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

static int has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; p && *p;) {
		if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

int execguard_mark_mounts(struct execguard *eg, pid_t pid)
{
	char path[64], line[4096], full[EXECGUARD_PATH_MAX + 64];
	int marked = 0;
	FILE *f;

	if (!eg || pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* id parent maj:min root mountpoint opts [optional...] - fstype src superopts */
	while (fgets(line, sizeof(line), f)) {
		char *fields[6] = {0}, *sep, *fstype, *save = NULL, *tok;
		int n = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		fstype = strtok_r(sep + 3, " \n", &save);
		save = NULL;
		for (tok = strtok_r(line, " ", &save); tok && n < 6;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 6 || !fstype || skip_fstype(fstype) ||
		    has_opt(fields[5], "noexec"))
			continue;
		unescape(fields[4]);
		if ((size_t)snprintf(full, sizeof(full), "/proc/%d/root%s",
				     (int)pid, fields[4]) >= sizeof(full))
			continue;
		if (mark(eg, AT_FDCWD, full) == 0)
			marked++;
	}
	fclose(f);
	return marked;
}

/* --- opens: watched inodes --- */

/* Opens path with flags (O_PATH or O_RDONLY | O_DIRECTORY...), on the
 * agent's side: "/proc/PID/root/REST" resolves REST inside that root
 * (RESOLVE_IN_ROOT: absolute symlinks and ".." stay in the container; no
 * magic links), anything else as given. Returns an fd or -errno. */
static int open_host(const char *path, int flags)
{
	const char *p = path, *d;
	char root[48];
	int fd, rfd;

	if (!strncmp(p, "/proc/", 6)) {
		d = p += 6;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p > d && p - d < 12 && !strncmp(p, "/root", 5) &&
		    (p[5] == '/' || !p[5])) {
			struct open_how how;
			const char *rest = p[5] ? p + 5 : "/";

			snprintf(root, sizeof(root), "%.*s", (int)(p + 5 - path),
				 path);
			rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (rfd < 0)
				return -errno;
			memset(&how, 0, sizeof(how));
			how.flags = (uint64_t)(flags | O_CLOEXEC);
			how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
			/* EAGAIN: a rename or mount raced the lookup */
			for (int i = 0; i < 8; i++) {
				fd = (int)syscall(SYS_openat2, rfd, rest, &how,
						  sizeof(how));
				if (fd >= 0 || errno != EAGAIN)
					break;
			}
			if (fd < 0)
				fd = -errno;
			close(rfd);
			return fd;
		}
	}
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Adds or removes (FAN_MARK_ADD / FAN_MARK_REMOVE) the inode mark of fd.
 * fanotify_mark() takes no O_PATH descriptor as its object, but resolves
 * /proc/self/fd/N to exactly that file. Under mu, so that fan_fd is not
 * closed under us. */
static int mark_inode(struct execguard *eg, int fd, unsigned int how,
		      uint32_t mask)
{
	char p[48];
	int rc = 0;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	pthread_mutex_lock(&eg->mu);
	if (eg->fan_fd < 0)
		rc = -EBADF;
	else if (fanotify_mark(eg->fan_fd, how, mask, AT_FDCWD, p))
		rc = -errno;
	pthread_mutex_unlock(&eg->mu);
	return rc;
}

static uint64_t inode_key(uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ULL) ^ ino;

	h ^= h >> 31;
	return h ? h : 1;
}

/* under wmu */
static struct inode_ref *inode_find(struct execguard *eg, uint64_t dev,
				    uint64_t ino)
{
	struct inode_ref *r =
		eg->inodes ? hashmap_get(eg->inodes, inode_key(dev, ino)) : NULL;

	while (r && (r->dev != dev || r->ino != ino))
		r = r->next;
	return r;
}

/* Takes a reference on the inode of fd, marking it when it is new. Under
 * wmu. */
static int inode_hold(struct execguard *eg, int fd, const struct stat *st,
		      uint32_t mask)
{
	uint64_t k = inode_key(st->st_dev, st->st_ino);
	struct inode_ref *r = inode_find(eg, st->st_dev, st->st_ino), *head;
	int rc;

	if (r) {
		if ((r->mask & mask) != mask) {
			rc = mark_inode(eg, fd, FAN_MARK_ADD, mask);
			if (rc)
				return rc;
			r->mask |= mask;
		}
		r->refs++;
		return 0;
	}
	if (!eg->inodes)
		return -ENOMEM;
	if (eg->ninodes >= EXECGUARD_WATCH_CAP)
		return -ENOSPC;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dev = st->st_dev;
	r->ino = st->st_ino;
	r->mask = mask;
	r->refs = 1;
	rc = mark_inode(eg, fd, FAN_MARK_ADD, mask);
	if (rc) {
		free(r);
		return rc;
	}
	head = hashmap_get(eg->inodes, k);
	r->next = head;
	rc = hashmap_put(eg->inodes, k, r);
	if (rc) {
		mark_inode(eg, fd, FAN_MARK_REMOVE, mask);
		free(r);
		return rc;
	}
	eg->ninodes++;
	pthread_mutex_lock(&eg->mu);
	eg->c.watches = eg->ninodes;
	pthread_mutex_unlock(&eg->mu);
	return 0;
}

/* Drops the reference of one entry; the last one removes the kernel mark
 * if the stored path still names the inode. Under wmu. 0 or -ESTALE. */
static int inode_release(struct execguard *eg, const struct watch_ent *w)
{
	uint64_t k = inode_key(w->dev, w->ino);
	struct inode_ref *r = inode_find(eg, w->dev, w->ino), *head;
	struct stat st;
	int fd, rc = 0;

	if (!r || --r->refs > 0)
		return 0;
	fd = open_host(w->host, O_PATH);
	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_dev != w->dev ||
	    (uint64_t)st.st_ino != w->ino)
		rc = -ESTALE;
	else if ((rc = mark_inode(eg, fd, FAN_MARK_REMOVE, r->mask)) == -ENOENT)
		rc = 0; /* the kernel had dropped it already */
	if (fd >= 0)
		close(fd);
	/* unlink r from its chain (replacing a key never needs room) */
	head = hashmap_get(eg->inodes, k);
	if (head == r) {
		if (r->next)
			hashmap_put(eg->inodes, k, r->next);
		else
			hashmap_del(eg->inodes, k);
	} else {
		while (head->next != r)
			head = head->next;
		head->next = r->next;
	}
	free(r);
	eg->ninodes--;
	pthread_mutex_lock(&eg->mu);
	eg->c.watches = eg->ninodes;
	if (rc)
		eg->c.watch_stale++;
	pthread_mutex_unlock(&eg->mu);
	return rc ? -ESTALE : 0;
}

static void reg_free(struct watch_reg *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->ent[i].host);
	free(g->ent);
	free(g->key);
	free(g);
}

/* Undoes every entry of g (under wmu) and frees it; 0 or -ESTALE. */
static int reg_undo(struct execguard *eg, struct watch_reg *g)
{
	int rc = 0;

	for (size_t i = 0; i < g->n; i++)
		if (inode_release(eg, &g->ent[i]))
			rc = -ESTALE;
	reg_free(g);
	return rc;
}

/* Appends an entry for fd (already open on host) to g, holding its inode.
 * Under wmu. */
static int reg_add(struct execguard *eg, struct watch_reg *g, size_t *cap,
		   int fd, const char *host, uint32_t mask)
{
	struct stat st;
	char *h;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	if (g->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct watch_ent *n = realloc(g->ent, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->ent = n;
		*cap = ncap;
	}
	h = strdup(host);
	if (!h)
		return -ENOMEM;
	rc = inode_hold(eg, fd, &st, mask);
	if (rc) {
		free(h);
		return rc;
	}
	g->ent[g->n].host = h;
	g->ent[g->n].dev = st.st_dev;
	g->ent[g->n].ino = st.st_ino;
	g->n++;
	return 0;
}

static void reg_append(struct execguard *eg, struct watch_reg *g)
{
	struct watch_reg **pp = &eg->regs;

	while (*pp)
		pp = &(*pp)->next;
	*pp = g;
}

static struct watch_reg *reg_new(const char *key)
{
	struct watch_reg *g = calloc(1, sizeof(*g));

	if (g && !(g->key = strdup(key))) {
		free(g);
		g = NULL;
	}
	return g;
}

int execguard_watch_path(struct execguard *eg, const char *path)
{
	struct watch_reg *g;
	struct stat st;
	size_t cap = 0;
	int fd, rc;

	if (!eg || !path || path[0] != '/')
		return -EINVAL;
	fd = open_host(path, O_PATH);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	g = reg_new(path);
	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&eg->wmu);
	rc = reg_add(eg, g, &cap, fd, path,
		     S_ISDIR(st.st_mode) ? FAN_MASK_DIR : FAN_MASK_FILE);
	if (rc)
		reg_free(g);
	else
		reg_append(eg, g);
	pthread_mutex_unlock(&eg->wmu);
	close(fd);
	return rc;
}

static int pseudo_fs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return 1;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case BPF_FS_MAGIC:
		return 1;
	}
	return 0;
}

/* Opens rel (no symlinks anywhere, never above rootfd) as a directory. */
static int open_below(int rootfd, const char *rel)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		      RESOLVE_NO_MAGICLINKS;
	for (int i = 0; i < 8; i++) {
		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : fd;
}

int execguard_watch_path_tree(struct execguard *eg, const char *path,
			      int max_dirs)
{
	char **queue = NULL, host[EXECGUARD_PATH_MAX + 4096];
	size_t qhead = 0, qtail = 0, qcap = 0, cap = 0;
	struct watch_reg *g;
	int rootfd, rc = 0, truncated = 0;

	if (!eg || !path || path[0] != '/' || max_dirs < 1 ||
	    max_dirs > EXECGUARD_WATCH_CAP)
		return -EINVAL;
	rootfd = open_host(path, O_RDONLY | O_DIRECTORY);
	if (rootfd < 0)
		return rootfd;
	g = reg_new(path);
	if (!g) {
		close(rootfd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&eg->wmu);
	rc = reg_add(eg, g, &cap, rootfd, path, FAN_MASK_DIR);
	if (rc)
		goto out;
	/* breadth first over paths relative to the root; each directory is
	 * opened again from the root without following any symlink */
	queue = malloc(sizeof(*queue) * 16);
	if (!queue || !(queue[qtail++] = strdup("."))) {
		rc = -ENOMEM;
		goto out;
	}
	qcap = 16;
	while (qhead < qtail && !truncated) {
		char *rel = queue[qhead++];
		int dfd = open_below(rootfd, rel);
		struct dirent *de;
		DIR *d;

		if (dfd < 0 || !(d = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			continue;
		}
		while ((de = readdir(d))) {
			char *sub;
			int sfd;

			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
				continue;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (asprintf(&sub, "%s/%s", rel, de->d_name) < 0)
				continue;
			sfd = open_below(rootfd, sub);
			if (sfd < 0 || pseudo_fs(sfd)) {
				if (sfd >= 0)
					close(sfd);
				free(sub);
				continue;
			}
			if (g->n >= (size_t)max_dirs) {
				close(sfd);
				free(sub);
				truncated = 1;
				break;
			}
			snprintf(host, sizeof(host), "%s/%s",
				 strcmp(path, "/") ? path : "", sub + 2);
			if (reg_add(eg, g, &cap, sfd, host, FAN_MASK_DIR)) {
				close(sfd);
				free(sub);
				truncated = 1; /* -ENOSPC or -ENOMEM: cut here */
				break;
			}
			close(sfd);
			if (qtail == qcap) {
				char **nq = realloc(queue, sizeof(*queue) * qcap * 2);

				if (!nq) {
					free(sub);
					truncated = 1;
					break;
				}
				queue = nq;
				qcap *= 2;
			}
			queue[qtail++] = sub;
		}
		closedir(d);
	}
out:
	if (rc) {
		reg_free(g); /* nothing held: reg_add failed on the root */
	} else {
		reg_append(eg, g);
		rc = (int)g->n;
		if (truncated) {
			pthread_mutex_lock(&eg->mu);
			eg->c.watch_truncated++;
			pthread_mutex_unlock(&eg->mu);
		}
	}
	pthread_mutex_unlock(&eg->wmu);
	for (size_t i = 0; i < qtail; i++)
		free(queue[i]);
	free(queue);
	close(rootfd);
	return rc;
}

int execguard_unwatch_path(struct execguard *eg, const char *path)
{
	struct watch_reg **pp, *g;
	int rc = -ENOENT;

	if (!eg || !path)
		return -EINVAL;
	pthread_mutex_lock(&eg->wmu);
	for (pp = &eg->regs; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->key, path)) {
			g = *pp;
			*pp = g->next;
			rc = reg_undo(eg, g);
			break;
		}
	}
	pthread_mutex_unlock(&eg->wmu);
	return rc;
}

static void free_inode_chain(void *ctx, uint64_t key, void *v)
{
	(void)ctx;
	(void)key;
	for (struct inode_ref *r = v, *n; r; r = n) {
		n = r->next;
		free(r);
	}
}

/* Forgets every registration and inode reference (no kernel call); the
 * inode table starts empty again (NULL if that allocation failed: watches
 * then fail with -ENOMEM). */
static void forget_watches(struct execguard *eg, int renew)
{
	for (struct watch_reg *g = eg->regs, *n; g; g = n) {
		n = g->next;
		reg_free(g);
	}
	eg->regs = NULL;
	hashmap_free(eg->inodes, free_inode_chain, NULL);
	eg->inodes = renew ? hashmap_new(EXECGUARD_WATCH_CAP) : NULL;
	eg->ninodes = 0;
}

int execguard_unwatch_all(struct execguard *eg)
{
	int rc = 0;

	if (!eg)
		return -EINVAL;
	pthread_mutex_lock(&eg->wmu);
	pthread_mutex_lock(&eg->mu);
	if (eg->fan_fd >= 0 &&
	    fanotify_mark(eg->fan_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL))
		rc = -errno;
	eg->c.watches = 0;
	pthread_mutex_unlock(&eg->mu);
	forget_watches(eg, 1);
	if (!eg->inodes && !rc)
		rc = -ENOMEM;
	pthread_mutex_unlock(&eg->wmu);
	return rc;
}

int execguard_protect(struct execguard *eg, const char *cgroup_path,
		      uint64_t cgroup_id, int mode, void *cg_ctx,
		      void (*cg_free)(void *))
{
	struct cg_entry *e, *old;
	void *fctx = NULL;
	void (*ffn)(void *) = NULL;
	uint64_t h;
	int rc = 0;

	if (!eg || !cgroup_path || cgroup_path[0] != '/' || !cgroup_path[1] ||
	    strlen(cgroup_path) >= sizeof(e->path) ||
	    (mode != VGE_MODE_OFF && mode != VGE_MODE_SHADOW &&
	     mode != VGE_MODE_PROTECT))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = cgroup_id;
	e->mode = mode;
	e->refs = 1;
	e->ctx = cg_ctx;
	e->free_ctx = cg_free;
	copy_str(e->path, sizeof(e->path), cgroup_path);
	h = fnv(cgroup_path);
	pthread_mutex_lock(&eg->mu);
	old = hashmap_get(eg->cgs, h);
	if (old && strcmp(old->path, cgroup_path)) {
		rc = -EEXIST; /* 64-bit hash collision: refuse, never mix up */
	} else if (!old && eg->ncg >= EXECGUARD_CG_CAP) {
		rc = -ENOSPC;
	} else {
		rc = hashmap_put(eg->cgs, h, e);
		if (!rc && old) {
			/* same ctx given again: only the mode changes */
			if (old->ctx == cg_ctx)
				old->free_ctx = NULL;
			cg_unref_locked(old, &fctx, &ffn);
		} else if (!rc) {
			eg->ncg++;
		}
	}
	pthread_mutex_unlock(&eg->mu);
	if (rc)
		free(e);
	if (ffn)
		ffn(fctx);
	return rc;
}

int execguard_release(struct execguard *eg, const char *cgroup_path)
{
	struct cg_entry *e;
	void *fctx = NULL;
	void (*ffn)(void *) = NULL;
	uint64_t h;

	if (!eg || !cgroup_path)
		return -EINVAL;
	h = fnv(cgroup_path);
	pthread_mutex_lock(&eg->mu);
	e = hashmap_get(eg->cgs, h);
	if (!e || strcmp(e->path, cgroup_path)) {
		pthread_mutex_unlock(&eg->mu);
		return -ENOENT;
	}
	hashmap_del(eg->cgs, h);
	eg->ncg--;
	cg_unref_locked(e, &fctx, &ffn);
	pthread_mutex_unlock(&eg->mu);
	if (ffn)
		ffn(fctx);
	return 0;
}

int execguard_fd(struct execguard *eg)
{
	return eg ? eg->report_fd : -1;
}

int execguard_poll(struct execguard *eg, execguard_report_fn cb, void *ctx)
{
	struct execguard_report r;
	uint64_t drain;
	int n = 0;

	if (!eg)
		return -EINVAL;
	if (read(eg->report_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN)
		return -errno;
	for (;;) {
		pthread_mutex_lock(&eg->mu);
		if (eg->rhead == eg->rtail) {
			pthread_mutex_unlock(&eg->mu);
			break;
		}
		r = eg->reports[eg->rhead++ % EXECGUARD_REPORT_CAP];
		pthread_mutex_unlock(&eg->mu);
		if (cb)
			cb(ctx, &r);
		n++;
	}
	return n;
}

void execguard_counters(struct execguard *eg, struct execguard_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (!eg)
		return;
	pthread_mutex_lock(&eg->mu);
	*out = eg->c;
	pthread_mutex_unlock(&eg->mu);
}

void execguard_stop(struct execguard *eg)
{
	int abandoned = 0;

	if (!eg)
		return;
	pthread_mutex_lock(&eg->mu);
	eg->stopping = 1;
	pthread_cond_broadcast(&eg->cv);
	pthread_mutex_unlock(&eg->mu);
	if (eg->wake_fd >= 0)
		kick(eg->wake_fd);
	if (eg->reader_started)
		pthread_join(eg->reader, NULL);
	/* closing the group allows every pending event (fail open) */
	pthread_mutex_lock(&eg->mu);
	if (eg->fan_fd >= 0)
		close(eg->fan_fd);
	eg->fan_fd = -1;
	pthread_mutex_unlock(&eg->mu);
	if (eg->decider_started) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_timedjoin_np(eg->decider, NULL, &ts)) {
			pthread_detach(eg->decider);
			abandoned = 1;
		}
	}
	if (abandoned)
		return; /* the decider may still wake up and use eg */
	hashmap_free(eg->cgs, free_entry_cb, NULL);
	forget_watches(eg, 0);
	pthread_mutex_destroy(&eg->wmu);
	free(eg->reports);
	if (eg->wake_fd >= 0)
		close(eg->wake_fd);
	if (eg->report_fd >= 0)
		close(eg->report_fd);
	pthread_mutex_destroy(&eg->mu);
	pthread_cond_destroy(&eg->cv);
	free(eg);
}
