/* proc.h - process lifecycle: exec (with the exe, parent exe and cwd from
 * kernel structures, args from the new mm), fork of a new process, exit of
 * the last thread of a process. */
#ifndef VIGIL_PROC_H
#define VIGIL_PROC_H

#define S_IFMT_ 0170000
#define S_IFSOCK_ 0140000

static __always_inline int fd_is_socket(struct task_struct *t, int fd)
{
	struct file *f = fd_file(t, fd);

	return f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT_) == S_IFSOCK_;
}

static __always_inline int handle_exec(struct linux_binprm *bprm)
{
	struct task_struct *t = cur();
	struct file *f = BPF_CORE_READ(bprm, file);
	struct file *pf;
	struct vg_exec *e;
	unsigned long a0, a1;
	__u32 len;
	char pfx[8] = {};

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(VG_EXEC, 1);
		return 0;
	}
	fill_hdr(&e->h, VG_EXEC, sizeof(*e), t);
	e->exe[0] = e->parent_exe[0] = e->cwd[0] = 0;
	file_path(t, f, e->exe, &e->h.flags, VG_F_TRUNC1);
	pf = BPF_CORE_READ(t, real_parent, mm, exe_file);
	if (pf)
		file_path(t, pf, e->parent_exe, &e->h.flags, VG_F_TRUNC2);
	path_of(t, BPF_CORE_READ(t, fs, pwd.mnt),
		BPF_CORE_READ(t, fs, pwd.dentry), e->cwd, &e->h.flags, 0);

	if (BPF_CORE_READ(f, f_path.dentry, d_inode, i_nlink) == 0)
		e->h.flags |= VG_F_EXE_DELETED;
	bpf_probe_read_kernel(pfx, 6, BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' &&
	    pfx[4] == 'd' && pfx[5] == ':')
		e->h.flags |= VG_F_EXE_MEMFD;

	if (fd_is_socket(t, 0))
		e->h.flags |= VG_F_STDIN_SOCK;
	if (fd_is_socket(t, 1))
		e->h.flags |= VG_F_STDOUT_SOCK;
	e->argc = BPF_CORE_READ(bprm, argc);
	e->egid = BPF_CORE_READ(t, cred, egid.val);
	e->pad = 0;
	a0 = BPF_CORE_READ(t, mm, arg_start);
	a1 = BPF_CORE_READ(t, mm, arg_end);
	len = a1 > a0 ? a1 - a0 : 0;
	if (len > VG_ARGS_LEN) {
		len = VG_ARGS_LEN;
		e->h.flags |= VG_F_ARGS_TRUNC;
	}
	if (len == VG_ARGS_LEN) {
		if (bpf_probe_read_user(e->args, VG_ARGS_LEN, (void *)a0) < 0)
			len = 0;
	} else {
		__u64 n = len;

		BOUND(n, 511);
		if (bpf_probe_read_user(e->args, n, (void *)a0) < 0)
			len = 0;
	}
	e->args_len = len;
	submit_event(e);
	count(VG_EXEC, 0);
	return 0;
}

static __always_inline int handle_fork(struct task_struct *child)
{
	struct vg_proc *e;

	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0; /* a thread: not a new process */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(VG_FORK, 1);
		return 0;
	}
	fill_hdr(&e->h, VG_FORK, sizeof(*e), cur());
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->exit_code = 0;
	e->is_thread = 0;
	e->pad = 0;
	submit_event(e);
	count(VG_FORK, 0);
	return 0;
}

static __always_inline int handle_exit(struct task_struct *p)
{
	struct vg_proc *e;

	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0; /* other threads live on */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(VG_EXIT, 1);
		return 0;
	}
	fill_hdr(&e->h, VG_EXIT, sizeof(*e), p);
	e->child_pid = 0;
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->is_thread = 0;
	e->pad = 0;
	submit_event(e);
	count(VG_EXIT, 0);
	return 0;
}

#endif
