/* cgaction.c - kill a process, kill / freeze / thaw a cgroup v2 (see
 * cgaction.h). Every wait is a bounded loop over cgroup.events: read it,
 * then poll it (kernfs signals a change with POLLPRI) for at most 20 ms, so
 * a missed notification costs 20 ms, never a hang. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "enforce/cgaction.h"
#include "enforce/cgroot.h"

#define KILL_MAX_CGROUPS 4096

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the deadline for timeout_ms, or -1 when timeout_ms is negative */
static long long deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return now_ms() + (timeout_ms > 60000 ? 60000 : timeout_ms);
}

int cgaction_kill_pid(pid_t pid)
{
	if (pid <= 0)
		return -EINVAL;
	if (pid == 1 || pid == getpid())
		return -EPERM;
	return kill(pid, SIGKILL) ? -errno : 0;
}

/* Checks cgroup and builds "<mount><rel>" in dir. own: refuse the agent's
 * cgroup and its ancestors too. */
static int target(const char *cgroup, int own, char *dir, size_t cap)
{
	char mount[CGROOT_PATH_MAX], norm[CGROOT_PATH_MAX], self[CGROOT_PATH_MAX];
	struct stat st;
	size_t n;
	int rc;

	if (!cgroup)
		return -EINVAL;
	if ((rc = cgroot_mount(mount, sizeof(mount))) ||
	    (rc = cgroot_rel(mount, cgroup, norm, sizeof(norm))))
		return rc;
	if (!strcmp(norm, "/"))
		return -EPERM; /* the root cgroup: everything */
	/* never climb out of the hierarchy */
	for (const char *p = norm; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || !p[3])
			return -EINVAL;
	if (own) {
		if ((rc = cgroot_pid_path(getpid(), self, sizeof(self))))
			return rc;
		n = strlen(norm);
		if (!strncmp(self, norm, n) && (self[n] == '/' || !self[n]))
			return -EPERM; /* the agent is in it or below it */
	}
	if ((size_t)snprintf(dir, cap, "%s%s", mount, norm) >= cap)
		return -ENAMETOOLONG;
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[CGROOT_PATH_MAX * 2 + 32];
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != strlen(val))
		rc = -EIO;
	close(fd);
	return rc;
}

/* Waits until "key want" is a line of dir/cgroup.events; 0 or -ETIMEDOUT
 * (-errno when the file cannot be read: -ENOENT or -ENODEV when the cgroup
 * was removed). */
static int wait_event(const char *dir, const char *key, int want,
		      long long deadline)
{
	char path[CGROOT_PATH_MAX * 2 + 32], buf[256];
	size_t klen = strlen(key);
	int fd, rc = -ETIMEDOUT;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		struct pollfd p = {fd, POLLPRI, 0};
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		long long left;
		char *l = buf;

		if (n < 0) {
			rc = -errno;
			break;
		}
		buf[n] = 0;
		while (l && *l) {
			if (!strncmp(l, key, klen) && l[klen] == ' ' &&
			    atoi(l + klen + 1) == want) {
				rc = 0;
				break;
			}
			l = strchr(l, '\n');
			if (l)
				l++;
		}
		left = deadline - now_ms();
		if (!rc || left <= 0)
			break;
		poll(&p, 1, left < 20 ? (int)left : 20);
	}
	close(fd);
	return rc;
}

/* SIGKILLs every pid in dir/cgroup.procs and, recursively, in its
 * descendants (*budget cgroups at most); returns how many pids were
 * listed. */
static int kill_tree(const char *dir, int *budget)
{
	char path[CGROOT_PATH_MAX * 2 + 32], sub[CGROOT_PATH_MAX * 2 + 32];
	pid_t self = getpid();
	struct dirent *de;
	int listed = 0;
	FILE *f;
	DIR *d;

	if ((*budget)-- <= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (f) {
		long pid;

		while (fscanf(f, "%ld", &pid) == 1) {
			listed++;
			if (pid > 1 && pid != self)
				kill((pid_t)pid, SIGKILL);
		}
		fclose(f);
	}
	d = opendir(dir);
	if (!d)
		return listed;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
				     de->d_name) >= sizeof(sub))
			continue;
		listed += kill_tree(sub, budget);
	}
	closedir(d);
	return listed;
}

static int kill_procs_dir(const char *dir, long long deadline)
{
	for (;;) {
		int budget = KILL_MAX_CGROUPS;
		struct timespec ts = {0, 5 * 1000000L};

		if (kill_tree(dir, &budget) == 0)
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL); /* let the signals land */
	}
}

int cgaction_kill_procs(const char *cgroup, int timeout_ms)
{
	char dir[CGROOT_PATH_MAX * 2];
	long long deadline = deadline_of(timeout_ms);
	int rc = deadline < 0 ? -EINVAL : target(cgroup, 1, dir, sizeof(dir));

	return rc ? rc : kill_procs_dir(dir, deadline);
}

int cgaction_kill_cgroup_timeout(const char *cgroup, int timeout_ms)
{
	char dir[CGROOT_PATH_MAX * 2];
	long long deadline = deadline_of(timeout_ms);
	int rc = deadline < 0 ? -EINVAL : target(cgroup, 1, dir, sizeof(dir));

	if (rc)
		return rc;
	rc = write_file(dir, "cgroup.kill", "1");
	if (rc == -ENOENT) /* before 5.14: the directory exists, the file not */
		return kill_procs_dir(dir, deadline);
	if (rc || timeout_ms == 0)
		return rc;
	rc = wait_event(dir, "populated", 0, deadline);
	/* removed meanwhile (runc removes a container's cgroup once its
	 * init died): only an empty cgroup can be removed */
	return rc == -ENOENT || rc == -ENODEV ? 0 : rc;
}

int cgaction_kill_cgroup(const char *cgroup)
{
	return cgaction_kill_cgroup_timeout(cgroup, CGACTION_WAIT_MS);
}

int cgaction_freeze_timeout(const char *cgroup, int frozen, int timeout_ms)
{
	char dir[CGROOT_PATH_MAX * 2];
	long long deadline = deadline_of(timeout_ms);
	int rc;

	frozen = !!frozen;
	rc = deadline < 0 ? -EINVAL : target(cgroup, frozen, dir, sizeof(dir));
	if (rc)
		return rc;
	rc = write_file(dir, "cgroup.freeze", frozen ? "1" : "0");
	if (rc == -ENOENT)
		return -EOPNOTSUPP; /* before 5.2 */
	if (rc || timeout_ms == 0)
		return rc;
	return wait_event(dir, "frozen", frozen, deadline);
}

int cgaction_freeze(const char *cgroup, int frozen)
{
	return cgaction_freeze_timeout(cgroup, frozen, CGACTION_WAIT_MS);
}
