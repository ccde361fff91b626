/* proc.h - process lifecycle: exec (with the exe, parent exe and cwd from
 * kernel structures, args from the new mm; and the exec_kill SIGKILL of
 * memfd / unlinked-file execs), fork of a new process, exit of the last
 * thread of a process. */
#ifndef VIGIL_PROC_H
#define VIGIL_PROC_H

#define S_IFMT_ 0170000
#define S_IFSOCK_ 0140000

static __always_inline int fd_is_socket(struct task_struct *t, int fd)
{
	struct file *f = fd_file(t, fd);

	return f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT_) == S_IFSOCK_;
}

#define SIGKILL_ 9

/* VG_F_EXE_MEMFD and VG_F_EXE_DELETED for the file being executed. A memfd
 * is a pseudo file named "memfd:NAME" whose dentry is its own parent
 * (d_alloc_pseudo): requiring both keeps a file on disk that is merely
 * named "memfd:x" from passing for one. The kernel creates memfds unlinked
 * (i_nlink 0), so a memfd is flagged deleted too. */
static __always_inline __u16 exe_kind(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	char pfx[8] = {};
	__u16 kind = 0;

	if (BPF_CORE_READ(d, d_inode, i_nlink) == 0)
		kind |= VG_F_EXE_DELETED;
	bpf_probe_read_kernel(pfx, 6, BPF_CORE_READ(d, d_name.name));
	if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' &&
	    pfx[4] == 'd' && pfx[5] == ':' && BPF_CORE_READ(d, d_parent) == d)
		kind |= VG_F_EXE_MEMFD;
	return kind;
}

/* Kills the exec'ing process when its cgroup's exec_kill entry covers an
 * exec of this kind (VG_F_EXE_* bits); returns VG_F_KILLED when SIGKILL was
 * sent. The map is only consulted for memfd / unlinked execs, so ordinary
 * execs pay nothing. sched_process_exec runs after the point of no return,
 * with the new image installed and the process single-threaded: the signal
 * is taken on the way back to user space, before the new program runs one
 * instruction (the kernel refuses to signal global init: -EPERM). */
static __always_inline __u16 exec_kill_check(struct task_struct *t, __u16 kind)
{
	struct kernfs_node *kn = 0;
	__u16 cgf = 0;
	__u32 *want;
	__u64 key;

	if (!kind)
		return 0;
	key = task_cgroup(t, &cgf, &kn);
	if (cgf & VG_F_CG_V1)
		key |= VG_CG_KEY_V1;
	want = bpf_map_lookup_elem(&exec_kill, &key);
	if (!want)
		return 0;
	if (!((*want & VG_KILL_MEMFD) && (kind & VG_F_EXE_MEMFD)) &&
	    !((*want & VG_KILL_DELETED) && (kind & VG_F_EXE_DELETED)))
		return 0;
	return bpf_send_signal(SIGKILL_) == 0 ? VG_F_KILLED : 0;
}

/* report: the process class is wanted. The kill check runs regardless, and
 * before the ring reservation, so a full ring does not let an exec live. */
static __always_inline int handle_exec(struct linux_binprm *bprm, int report)
{
	struct task_struct *t = cur();
	struct file *f = BPF_CORE_READ(bprm, file);
	struct file *pf;
	struct vg_exec *e;
	unsigned long a0, a1;
	__u16 kind, killed;
	__u32 len;

	kind = exe_kind(f);
	killed = exec_kill_check(t, kind);
	if (!report)
		return 0;
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

	e->h.flags |= kind | killed;

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
