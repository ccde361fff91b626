/* execguard.c - fanotify exec permission events -> decide() -> answer (see
 * execguard.h for the model).
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
 *  - all tables are capped (EXECGUARD_*_CAP). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "enforce/cgroot.h"
#include "enforce/execguard.h"
#include "enforce_event.h"
#include "lib/hashmap.h"

#define FAN_MASK_EXEC FAN_OPEN_EXEC_PERM

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
	pid_t pid;
	int answered;
	struct cg_entry *cg;
	uint64_t start_ns;    /* monotonic */
	uint64_t deadline_ns; /* monotonic */
	uint64_t wall_ns;
};

struct execguard {
	int fan_fd;
	int wake_fd;   /* eventfd: wakes the reader on stop */
	int report_fd; /* eventfd: reports waiting */
	pid_t self;
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

	if (m->pid == eg->self || m->pid == 1) {
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

	for (;;) {
		struct pollfd p[2] = {{eg->fan_fd, POLLIN, 0},
				      {eg->wake_fd, POLLIN, 0}};
		int wait = watchdog(eg);
		ssize_t n;

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
			    !(m->mask & FAN_MASK_EXEC)) {
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

static int resolve(int fd, char *path, size_t cap, uint64_t *ctime_ns,
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
	*is_script = pread(fd, head, 2, 0) == 2 && head[0] == '#' &&
		     head[1] == '!';
	return 0;
}

static void decide_one(struct execguard *eg, uint64_t slot, int skip)
{
	struct job *j = &eg->jobs[slot % EXECGUARD_QUEUE_CAP];
	struct execguard_report r;
	struct execguard_req q;
	struct cg_entry *cg;
	char path[4096];
	void *fctx = NULL;
	void (*ffn)(void *) = NULL;
	int fd, v, allow, late;
	uint64_t start, wall, t1;

	/* the slot is stable until head moves past it (only we move head);
	 * fd, pid, cg and times are never changed by others */
	fd = j->fd;
	cg = j->cg;
	start = j->start_ns;
	wall = j->wall_ns;
	memset(&r, 0, sizeof(r));
	memset(&q, 0, sizeof(q));
	q.pid = j->pid;
	q.fd = fd;
	q.cgroup_id = cg->id;
	q.cgroup_path = cg->path;
	q.mode = cg->mode;
	q.cg_ctx = cg->ctx;
	q.exe_path = path;
	v = resolve(fd, path, sizeof(path), &q.ctime_ns, &q.is_script);
	copy_str(r.exe_path, sizeof(r.exe_path), v ? "?" : path);
	if (v)
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
	r.pid = q.pid;
	r.mode = q.mode;
	r.cgroup_id = cg->id;
	r.ts_ns = wall;
	r.decide_us = (uint32_t)((t1 - start) / 1000);
	copy_str(r.cgroup_path, sizeof(r.cgroup_path), cg->path);
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
	eg->cgs = hashmap_new(EXECGUARD_CG_CAP);
	eg->reports = calloc(EXECGUARD_REPORT_CAP, sizeof(*eg->reports));
	if (!eg->cgs || !eg->reports) {
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
	eg->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC |
					   FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
				   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
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
	free(eg->reports);
	if (eg->wake_fd >= 0)
		close(eg->wake_fd);
	if (eg->report_fd >= 0)
		close(eg->report_fd);
	pthread_mutex_destroy(&eg->mu);
	pthread_cond_destroy(&eg->cv);
	free(eg);
}
