// SPDX-License-Identifier: GPL-2.0
/* vigil.bpf.c - Vigil's kernel sensor. Thin program bodies: the logic lives
 * in the helper headers (common.h, path.h, proc.h, file.h, net.h, priv.h).
 *
 * Attach points are chosen to work without tracefs, kprobes, fentry or LSM:
 * tp_btf sched_process_{exec,fork,exit} and tp_btf sys_exit, which sees every
 * syscall's arguments (still in pt_regs) together with its result, so paths
 * and addresses are read after the kernel itself has used them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "vigil_event.h"
#include "syscalls_x86.h"
#include "maps.h"
#include "common.h"
#include "path.h"
#include "proc.h"
#include "file.h"
#include "net.h"
#include "priv.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	if (is_self())
		return 0;
	/* exec_kill applies even when process events are not reported */
	return handle_exec(bprm, wanted(VG_EXEC));
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork, struct task_struct *parent, struct task_struct *child)
{
	if (is_self() || !wanted(VG_FORK))
		return 0;
	return handle_fork(child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit, struct task_struct *p)
{
	if (is_self() || !wanted(VG_EXIT))
		return 0;
	return handle_exit(p);
}

/* Maps a syscall number to the event it produces, 0 for none. */
static __always_inline __u16 event_of(__u32 nr)
{
	switch (nr) {
	case NR_open: case NR_openat: case NR_openat2: case NR_creat:
		return VG_OPEN;
	case NR_unlink: case NR_unlinkat:
		return VG_UNLINK;
	case NR_rename: case NR_renameat: case NR_renameat2:
		return VG_RENAME;
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_fchmodat2:
		return VG_CHMOD;
	case NR_chown: case NR_fchown: case NR_lchown: case NR_fchownat:
		return VG_CHOWN;
	case NR_link: case NR_linkat:
		return VG_LINK;
	case NR_symlink: case NR_symlinkat:
		return VG_SYMLINK;
	case NR_mkdir: case NR_mkdirat:
		return VG_MKDIR;
	case NR_connect:
		return VG_CONNECT;
	case NR_accept: case NR_accept4:
		return VG_ACCEPT;
	case NR_bind:
		return VG_BIND;
	case NR_listen:
		return VG_LISTEN;
	case NR_sendto: case NR_sendmsg: case NR_sendmmsg:
		return VG_DNS;
	case NR_setuid: case NR_setreuid: case NR_setresuid: case NR_setfsuid:
		return VG_SETUID;
	case NR_setgid: case NR_setregid: case NR_setresgid: case NR_setfsgid:
		return VG_SETGID;
	case NR_capset:
		return VG_CAPSET;
	case NR_ptrace:
		return VG_PTRACE;
	case NR_mount:
		return VG_MOUNT;
	case NR_umount2:
		return VG_UMOUNT;
	case NR_unshare:
		return VG_UNSHARE;
	case NR_setns:
		return VG_SETNS;
	case NR_init_module: case NR_finit_module:
		return VG_MODULE_LOAD;
	case NR_bpf:
		return VG_BPF_LOAD;
	case NR_memfd_create:
		return VG_MEMFD_CREATE;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	struct sys_args a;
	__u16 type;

	a.nr = BPF_CORE_READ(regs, orig_ax);
	type = event_of(a.nr);
	if (!type || is_self() || !wanted(type))
		return 0;
	if (type == VG_DNS && ret < 0)
		return 0;
	a.ret = ret;
	a.a[0] = BPF_CORE_READ(regs, di);
	a.a[1] = BPF_CORE_READ(regs, si);
	a.a[2] = BPF_CORE_READ(regs, dx);
	a.a[3] = BPF_CORE_READ(regs, r10);
	a.a[4] = BPF_CORE_READ(regs, r8);
	a.a[5] = BPF_CORE_READ(regs, r9);

	if (type == VG_OPEN)
		return handle_open(&a);
	if (type < VG_CONNECT)
		return handle_file_op(&a, type);
	if (type == VG_CONNECT)
		return handle_connect(&a);
	if (type == VG_ACCEPT)
		return handle_accept(&a);
	if (type == VG_BIND || type == VG_LISTEN)
		return handle_bind_listen(&a, type);
	if (type == VG_DNS)
		return handle_send(&a);
	return handle_priv(&a, type);
}
