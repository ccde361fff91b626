/* path.h - absolute paths from kernel structures (struct path of a file, the
 * cwd, a directory fd), never from user pointers at syscall entry.
 *
 * A path is built right to left in per-CPU scratch so that it ends at
 * buf[SCRATCH_HALF - 1]; a relative user path can then be appended at
 * buf[SCRATCH_HALF] to form "<base>/<relative>". The walk crosses mounts and
 * stops at the task's root, so a container's file reads as the container
 * sees it ("/etc/hostname"), as does a chrooted process's. */
#ifndef VIGIL_PATH_H
#define VIGIL_PATH_H

#define PATH_MAX_COMPONENTS 40
#define AT_FDCWD_ -100

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

struct walk {
	struct mount *mnt;
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct vfsmount *root_mnt;
	struct dentry *root_dentry;
	int off;
	int trunc;
	int done; /* the walk reached a root */
};

/* One step up the tree; a bpf_loop callback so the verifier checks the body
 * once instead of once per component. */
static long walk_step(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct scratch *s = get_scratch();
	struct dentry *parent, *mnt_root, *d = w->dentry;
	struct vfsmount *vm = w->vfsmnt;
	struct mount *m = w->mnt;
	struct qstr name;
	__u32 len;
	int off;

	if (!s || !d || (d == w->root_dentry && vm == w->root_mnt)) {
		w->done = 1;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vm, mnt_root);
	if (d == mnt_root) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);

		/* A detached mount (e.g. runc's bind-mounted copy of itself)
		 * or another namespace's root: no mountpoint to cross, so go
		 * on with the dentries, giving the path within that fs. */
		if (up != m) {
			w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
			w->mnt = up;
			w->vfsmnt = __builtin_preserve_access_index(&up->mnt);
			return 0;
		}
	}
	parent = BPF_CORE_READ(d, d_parent);
	name = BPF_CORE_READ(d, d_name);
	if (parent == d) {
		/* a filesystem root ("/") ends the walk; a pseudo file's
		 * lone dentry (memfd:x, pipe:[n]) is its own name */
		if (w->off != SCRATCH_HALF - 1 || name.len <= 1) {
			w->done = 1;
			return 1;
		}
		parent = 0;
	}
	len = name.len & 255;
	off = w->off & (SCRATCH_HALF - 1);
	if ((int)len + 1 > off) {
		w->trunc = 1;
		return 1;
	}
	off -= len;
	BOUND(off, 2047);
	bpf_probe_read_kernel(&s->buf[off], len, name.name);
	off -= 1;
	BOUND(off, 2047);
	s->buf[off] = '/';
	w->off = off;
	w->dentry = parent;
	return 0;
}

/* Builds the path into s->buf ending at SCRATCH_HALF - 1; returns the start
 * offset, with bit 16 set when components had to be left out. */
static __always_inline int build_path(struct scratch *s, struct vfsmount *vfsmnt,
				      struct dentry *dentry,
				      struct vfsmount *root_mnt,
				      struct dentry *root_dentry)
{
	struct walk w = {
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.vfsmnt = vfsmnt,
		.dentry = dentry,
		.root_mnt = root_mnt,
		.root_dentry = root_dentry,
		.off = SCRATCH_HALF - 1,
	};

	s->buf[SCRATCH_HALF - 1] = 0;
	bpf_loop(PATH_MAX_COMPONENTS, walk_step, &w, 0);
	if (w.dentry && !w.done)
		w.trunc = 1; /* ran out of iterations */
	return (w.off & (SCRATCH_HALF - 1)) | (w.trunc << 16);
}

/* Copies the built path at off into dst; "/" for the root. Sets trunc_flag
 * in *flags when the path did not fit. */
static __always_inline void copy_path(struct scratch *s, int off, char *dst,
				      __u16 *flags, __u16 trunc_flag)
{
	int start = off & (SCRATCH_HALF - 1);
	long n;

	if (off >> 16)
		*flags |= trunc_flag;
	if (start == SCRATCH_HALF - 1 && s->buf[SCRATCH_HALF - 1] == 0) {
		dst[0] = '/';
		dst[1] = 0;
		return;
	}
	n = bpf_probe_read_kernel_str(dst, VG_PATH_LEN, &s->buf[start]);
	if (n == VG_PATH_LEN && SCRATCH_HALF * 2 - start > VG_PATH_LEN)
		*flags |= trunc_flag;
}

static __always_inline void task_root(struct task_struct *t,
				      struct vfsmount **mnt, struct dentry **d)
{
	*mnt = BPF_CORE_READ(t, fs, root.mnt);
	*d = BPF_CORE_READ(t, fs, root.dentry);
}

/* The absolute path of a struct path, into dst. */
static __always_inline void path_of(struct task_struct *t, struct vfsmount *mnt,
				    struct dentry *d, char *dst, __u16 *flags,
				    __u16 trunc_flag)
{
	struct scratch *s = get_scratch();
	struct vfsmount *rm;
	struct dentry *rd;
	int off;

	if (!s)
		return;
	task_root(t, &rm, &rd);
	off = build_path(s, mnt, d, rm, rd);
	copy_path(s, off, dst, flags, trunc_flag);
}

static __always_inline void file_path(struct task_struct *t, struct file *f,
				      char *dst, __u16 *flags, __u16 trunc_flag)
{
	path_of(t, BPF_CORE_READ(f, f_path.mnt), BPF_CORE_READ(f, f_path.dentry),
		dst, flags, trunc_flag);
}

static __always_inline struct file *fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **arr;
	struct file *f = 0;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	arr = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

/* A path argument of a *at() syscall, read at syscall exit (the kernel has
 * faulted the page in by then), made absolute against dfd or the cwd. */
static __always_inline void user_path_at(struct task_struct *t, int dfd,
					 const char *upath, char *dst,
					 __u16 *flags, __u16 trunc_flag,
					 __u16 rel_flag)
{
	struct scratch *s;
	struct vfsmount *mnt, *rm;
	struct dentry *d, *rd;
	char c = 0;
	int off;

	bpf_probe_read_user(&c, 1, upath);
	if (c == '/') {
		if (bpf_probe_read_user_str(dst, VG_PATH_LEN, upath) ==
		    VG_PATH_LEN)
			*flags |= trunc_flag;
		return;
	}
	s = get_scratch();
	if (!s)
		return;
	if (dfd == AT_FDCWD_) {
		mnt = BPF_CORE_READ(t, fs, pwd.mnt);
		d = BPF_CORE_READ(t, fs, pwd.dentry);
	} else {
		struct file *f = fd_file(t, dfd);

		if (!f) {
			bpf_probe_read_user_str(dst, VG_PATH_LEN, upath);
			*flags |= rel_flag;
			return;
		}
		mnt = BPF_CORE_READ(f, f_path.mnt);
		d = BPF_CORE_READ(f, f_path.dentry);
	}
	task_root(t, &rm, &rd);
	off = build_path(s, mnt, d, rm, rd);
	s->buf[SCRATCH_HALF - 1] = '/';
	bpf_probe_read_user_str(&s->buf[SCRATCH_HALF], SCRATCH_HALF, upath);
	copy_path(s, off, dst, flags, trunc_flag);
}

#endif
