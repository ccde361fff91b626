/* cgroot.c - cgroup v2 mount, cgroup ids and per-process cgroup paths (see
 * cgroot.h). Stateless; safe to call from any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "enforce/cgroot.h"

static int is_cgroup2(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroot_mount(char *out, size_t cap)
{
	static const char *const cands[] = {"/sys/fs/cgroup",
					    "/sys/fs/cgroup/unified"};

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (!is_cgroup2(cands[i]))
			continue;
		if ((size_t)snprintf(out, cap, "%s", cands[i]) >= cap)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

int cgroot_rel(const char *mount, const char *given, char *out, size_t cap)
{
	size_t ml = strlen(mount), n;
	const char *p = given;

	if (!given || !*given || cap < 2)
		return -EINVAL;
	if (!strncmp(given, mount, ml) && (given[ml] == '/' || !given[ml]))
		p = given + ml;
	if ((size_t)snprintf(out, cap, "%s%s", *p == '/' ? "" : "/", p) >= cap)
		return -EINVAL;
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	return 0;
}

int cgroot_id(const char *mount, const char *rel, uint64_t *id)
{
	char path[CGROOT_PATH_MAX + 64];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", mount, rel) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = (uint64_t)st.st_ino;
	return 0;
}

int cgroot_pid_path(pid_t pid, char *out, size_t cap)
{
	char path[32], buf[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	buf[n] = 0;
	/* "0::/path\n" is the unified line; it may be first or last */
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = 0;
		if (!strncmp(line, "0::", 3)) {
			if ((size_t)snprintf(out, cap, "%s", line + 3) >= cap)
				return -ENAMETOOLONG;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n == 0 ? -ENOENT : -ENODATA;
}
