/* test_abi.c - pins the kernel/user event ABI (bpf/vigil_event.h): sizes and
 * offsets may only change together with VG_ABI_VERSION. */
#include <stddef.h>
#include <string.h>
#include "harness.h"
#include "sensor/sensor.h"
#include "vigil_event.h"

int main(void)
{
	CHECK_INT(VG_ABI_VERSION, 1);
	CHECK_INT(sizeof(struct vg_hdr), 72);
	CHECK_INT(offsetof(struct vg_hdr, pid), 8);
	CHECK_INT(offsetof(struct vg_hdr, ts_ns), 32);
	CHECK_INT(offsetof(struct vg_hdr, cgroup_id), 40);
	CHECK_INT(offsetof(struct vg_hdr, repeat), 48);
	CHECK_INT(offsetof(struct vg_hdr, ret), 52);
	CHECK_INT(offsetof(struct vg_hdr, comm), 56);
	CHECK_INT(sizeof(struct vg_exec), 1368);
	CHECK_INT(offsetof(struct vg_exec, exe), 88);
	CHECK_INT(offsetof(struct vg_exec, parent_exe), 344);
	CHECK_INT(offsetof(struct vg_exec, cwd), 600);
	CHECK_INT(offsetof(struct vg_exec, args), 856);
	CHECK_INT(sizeof(struct vg_proc), 88);
	CHECK_INT(sizeof(struct vg_file), 608);
	CHECK_INT(offsetof(struct vg_file, path), 96);
	CHECK_INT(offsetof(struct vg_file, path2), 352);
	CHECK_INT(sizeof(struct vg_net), 376);
	CHECK_INT(offsetof(struct vg_net, laddr), 80);
	CHECK_INT(offsetof(struct vg_net, payload), 120);
	CHECK_INT(sizeof(struct vg_priv), 680);
	CHECK_INT(offsetof(struct vg_priv, str1), 104);
	CHECK_INT(sizeof(struct vg_cgroup), 1104);
	CHECK_INT(sizeof(struct vg_counters), 24);
	/* flag bits are stored in recordings; the exec_kill map values are
	 * shared with the kernel */
	CHECK_INT(VG_F_EXE_MEMFD, 0x0008);
	CHECK_INT(VG_F_EXE_DELETED, 0x0010);
	CHECK_INT(VG_F_KILLED, 0x0400);
	CHECK_INT(VG_KILL_MEMFD, 1);
	CHECK_INT(VG_KILL_DELETED, 2);
	/* every record size is a multiple of 8: records stay aligned in the
	 * ring buffer and in recordings */
	for (int t = 0; t < VG_TYPE_MAX; t++)
		CHECK(vg_record_size(t) % 8 == 0);

	/* user space refuses wrong sizes, ABI versions and types */
	{
		struct vg_file f;

		memset(&f, 0, sizeof(f));
		f.h.type = VG_OPEN;
		f.h.size = sizeof(f);
		f.h.abi = VG_ABI_VERSION;
		CHECK_INT(vg_record_check(&f, sizeof(f)), 0);
		CHECK(vg_record_check(&f, sizeof(f) - 1) < 0);
		f.h.abi = 2;
		CHECK(vg_record_check(&f, sizeof(f)) < 0);
		f.h.abi = VG_ABI_VERSION;
		f.h.size = 100;
		CHECK(vg_record_check(&f, sizeof(f)) < 0);
		f.h.size = sizeof(f);
		f.h.type = 99;
		CHECK(vg_record_check(&f, sizeof(f)) < 0);
		f.h.type = VG_OPEN;
		/* canonicalisation: garbage after the NUL is cleared, and an
		 * unterminated field is terminated */
		memset(f.path, 'A', sizeof(f.path));
		f.path[3] = 0;
		memset(f.path2, 'B', sizeof(f.path2));
		CHECK_INT(vg_record_check(&f, sizeof(f)), 0);
		CHECK(f.path[4] == 0 && f.path[sizeof(f.path) - 1] == 0);
		CHECK_INT(strlen(f.path2), sizeof(f.path2) - 1);
	}
	{
		struct vg_exec x;

		memset(&x, 0, sizeof(x));
		x.h.type = VG_EXEC;
		x.h.size = sizeof(x);
		x.h.abi = VG_ABI_VERSION;
		x.args_len = sizeof(x.args) + 1;
		CHECK(vg_record_check(&x, sizeof(x)) < 0);
	}
	return h_finish("abi");
}
