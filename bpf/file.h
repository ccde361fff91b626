/* file.h - file events at syscall exit. A successful open is resolved from
 * the struct file behind the returned fd; it is deduplicated before any path
 * work on (inode, device, access), so a loop reopening one file costs a map
 * lookup. Other file syscalls are rare and always reported. */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#define O_ACCMODE_ 3
#define O_CREAT_ 0100
#define O_TRUNC_ 01000
#define FMODE_CREATED_ 0x100000

struct sys_args {
	__u64 a[6];
	long ret;
	__u32 nr;
};

static __always_inline __u32 access_of(__u32 flags)
{
	__u32 acc = 0, m = flags & O_ACCMODE_;

	if (m == 0 || m == 2)
		acc |= VG_ACC_READ;
	if (m == 1 || m == 2)
		acc |= VG_ACC_WRITE;
	if (flags & O_TRUNC_)
		acc |= VG_ACC_TRUNC;
	return acc;
}

/* FNV-1a over the first 256 bytes of a user string, for deduplicating
 * failed opens that have no inode. */
static __always_inline __u64 user_str_hash(const char *u)
{
	struct scratch *s = get_scratch();
	__u64 h = 14695981039346656037ULL;
	long n;

	if (!s)
		return 0;
	n = bpf_probe_read_user_str(&s->buf[SCRATCH_HALF], 256, u);
	for (int i = 0; i < 256; i++) {
		if (i >= n)
			break;
		h = (h ^ (__u8)s->buf[SCRATCH_HALF + i]) * 1099511628211ULL;
	}
	return h;
}

static __always_inline int handle_open(struct sys_args *a)
{
	struct task_struct *t = cur();
	struct dedup_key k = {};
	const char *upath;
	struct vg_file *e;
	struct file *f = 0;
	__u32 flags, folded;
	int dfd = AT_FDCWD_;

	switch (a->nr) {
	case NR_open:
		upath = (const char *)a->a[0];
		flags = a->a[1];
		break;
	case NR_creat:
		upath = (const char *)a->a[0];
		flags = O_CREAT_ | O_TRUNC_ | 1;
		break;
	case NR_openat2: {
		__u64 f64 = 0;

		bpf_probe_read_user(&f64, sizeof(f64), (void *)a->a[2]);
		flags = f64;
		dfd = a->a[0];
		upath = (const char *)a->a[1];
		break;
	}
	default:
		dfd = a->a[0];
		upath = (const char *)a->a[1];
		flags = a->a[2];
	}

	k.cgroup_id = bpf_get_current_cgroup_id();
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.type = VG_OPEN;
	k.bits = access_of(flags);
	if (a->ret >= 0) {
		f = fd_file(t, a->ret);
		if (!f)
			return 0;
		if (BPF_CORE_READ(f, f_mode) & FMODE_CREATED_)
			k.bits |= VG_ACC_CREATE;
		k.obj1 = BPF_CORE_READ(f, f_inode, i_ino);
		k.obj2 = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	} else {
		k.obj1 = user_str_hash(upath);
		k.obj2 = (__u64)(-a->ret) << 32 | dfd;
	}
	if (dedup_hit(&k, &folded))
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(VG_OPEN, 1);
		return 0;
	}
	fill_hdr(&e->h, VG_OPEN, sizeof(*e), t);
	e->h.repeat = folded;
	e->h.ret = a->ret;
	e->open_flags = flags;
	e->access = k.bits;
	e->mode = a->nr == NR_creat ? a->a[1] : (a->nr == NR_openat2 ? 0 : a->a[3]);
	e->owner_uid = e->owner_gid = e->pad = 0;
	e->path[0] = e->path2[0] = 0;
	if (f)
		file_path(t, f, e->path, &e->h.flags, VG_F_TRUNC1);
	else
		user_path_at(t, dfd, upath, e->path, &e->h.flags, VG_F_TRUNC1,
			     VG_F_RELATIVE);
	submit_event(e);
	count(VG_OPEN, 0);
	return 0;
}

/* unlink, rename, chmod, chown, link, symlink, mkdir and their *at forms */
static __always_inline int handle_file_op(struct sys_args *a, __u16 type)
{
	struct task_struct *t = cur();
	int dfd1 = AT_FDCWD_, dfd2 = AT_FDCWD_, fd = -1;
	const char *p1 = 0, *p2 = 0;
	struct vg_file *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(type, 1);
		return 0;
	}
	fill_hdr(&e->h, type, sizeof(*e), t);
	e->h.ret = a->ret;
	e->open_flags = e->access = e->mode = e->pad = 0;
	e->owner_uid = e->owner_gid = 0;
	e->path[0] = e->path2[0] = 0;

	switch (a->nr) {
	case NR_unlink:
		p1 = (const char *)a->a[0];
		break;
	case NR_unlinkat:
		dfd1 = a->a[0];
		p1 = (const char *)a->a[1];
		e->open_flags = a->a[2]; /* AT_REMOVEDIR */
		break;
	case NR_rename:
	case NR_link:
		p1 = (const char *)a->a[0];
		p2 = (const char *)a->a[1];
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		dfd1 = a->a[0];
		p1 = (const char *)a->a[1];
		dfd2 = a->a[2];
		p2 = (const char *)a->a[3];
		break;
	case NR_symlink:
		p1 = (const char *)a->a[1]; /* the link; path2 = target text */
		p2 = (const char *)a->a[0];
		break;
	case NR_symlinkat:
		dfd1 = a->a[1];
		p1 = (const char *)a->a[2];
		p2 = (const char *)a->a[0];
		break;
	case NR_chmod:
	case NR_mkdir:
		p1 = (const char *)a->a[0];
		e->mode = a->a[1];
		break;
	case NR_fchmod:
		fd = a->a[0];
		e->mode = a->a[1];
		break;
	case NR_fchmodat:
	case NR_fchmodat2:
	case NR_mkdirat:
		dfd1 = a->a[0];
		p1 = (const char *)a->a[1];
		e->mode = a->a[2];
		break;
	case NR_chown:
	case NR_lchown:
		p1 = (const char *)a->a[0];
		e->owner_uid = a->a[1];
		e->owner_gid = a->a[2];
		break;
	case NR_fchown:
		fd = a->a[0];
		e->owner_uid = a->a[1];
		e->owner_gid = a->a[2];
		break;
	case NR_fchownat:
		dfd1 = a->a[0];
		p1 = (const char *)a->a[1];
		e->owner_uid = a->a[2];
		e->owner_gid = a->a[3];
		break;
	}
	if (fd >= 0) {
		struct file *f = fd_file(t, fd);

		if (f)
			file_path(t, f, e->path, &e->h.flags, VG_F_TRUNC1);
	} else if (p1) {
		user_path_at(t, dfd1, p1, e->path, &e->h.flags, VG_F_TRUNC1,
			     VG_F_RELATIVE);
	}
	if (p2 && type == VG_SYMLINK) {
		bpf_probe_read_user_str(e->path2, VG_PATH_LEN, p2);
	} else if (p2) {
		user_path_at(t, dfd2, p2, e->path2, &e->h.flags, VG_F_TRUNC2,
			     VG_F_RELATIVE2);
	}
	submit_event(e);
	count(type, 0);
	return 0;
}

#endif
