/* test_cgroot.c - cgroup v2 path helpers (src/enforce/cgroot.c): user input
 * normalisation, this process's unified cgroup, a vanished pid. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "enforce/cgroot.h"

int main(void)
{
	char out[64], mount[CGROOT_PATH_MAX];
	uint64_t id;

	CHECK_INT(cgroot_rel("/sys/fs/cgroup", "/web1", out, sizeof(out)), 0);
	CHECK_STR(out, "/web1");
	CHECK_INT(cgroot_rel("/sys/fs/cgroup", "web1/", out, sizeof(out)), 0);
	CHECK_STR(out, "/web1");
	CHECK_INT(cgroot_rel("/sys/fs/cgroup", "/sys/fs/cgroup/a/b//", out,
			     sizeof(out)), 0);
	CHECK_STR(out, "/a/b");
	CHECK_INT(cgroot_rel("/sys/fs/cgroup", "/sys/fs/cgroup", out,
			     sizeof(out)), 0);
	CHECK_STR(out, "/");
	/* a sibling that merely shares the prefix is not under the mount */
	CHECK_INT(cgroot_rel("/sys/fs/cgroup", "/sys/fs/cgroupx", out,
			     sizeof(out)), 0);
	CHECK_STR(out, "/sys/fs/cgroupx");
	CHECK_INT(cgroot_rel("/m", "", out, sizeof(out)), -EINVAL);
	CHECK_INT(cgroot_rel("/m", "/0123456789", out, 8), -EINVAL);

	CHECK_INT(cgroot_pid_path(getpid(), out, sizeof(out)), 0);
	CHECK(out[0] == '/');
	CHECK_INT(cgroot_pid_path(0x3fffffff, out, sizeof(out)), -ENOENT);

	if (cgroot_mount(mount, sizeof(mount)) == 0) {
		CHECK_INT(cgroot_id(mount, "/", &id), 0);
		CHECK_INT(id, CGROOT_ROOT_ID);
		CHECK_INT(cgroot_id(mount, "/no-such-vigil-cgroup", &id),
			  -ENOENT);
	}
	return h_finish("test_cgroot");
}
