/* priv.h - privileged operations at syscall exit: set*id, capset, ptrace,
 * mount/umount, unshare/setns, module and BPF program loads, memfd_create.
 * arg[] meanings per type are listed in docs/events.md. */
#ifndef VIGIL_PRIV_H
#define VIGIL_PRIV_H

#define BPF_PROG_LOAD_ 5

struct cap_data {
	__u32 effective, permitted, inheritable;
};

struct proc_ns_operations___old {
	int type;
} __attribute__((preserve_access_index));

/* CLONE_NEW* of a namespace: a field of ns_common since 6.18, of its ops
 * before. */
static __always_inline __u32 ns_type(struct ns_common *ns)
{
	struct proc_ns_operations___old *ops;

	if (bpf_core_field_exists(ns->ns_type))
		return BPF_CORE_READ(ns, ns_type);
	ops = (void *)BPF_CORE_READ(ns, ops);
	return BPF_CORE_READ(ops, type);
}

static __always_inline int handle_priv(struct sys_args *a, __u16 type)
{
	struct task_struct *t = cur();
	struct vg_priv *e;

	if (type == VG_BPF_LOAD && a->a[0] != BPF_PROG_LOAD_)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(type, 1);
		return 0;
	}
	fill_hdr(&e->h, type, sizeof(*e), t);
	e->h.ret = a->ret;
	e->arg[0] = a->a[0];
	e->arg[1] = a->a[1];
	e->arg[2] = a->a[2];
	e->arg[3] = a->nr;
	e->str1[0] = e->str2[0] = e->str3[0] = 0;

	switch (a->nr) {
	case NR_capset: {
		struct cap_data d[2] = {};

		bpf_probe_read_user(d, sizeof(d), (void *)a->a[1]);
		e->arg[0] = d[0].effective | (__u64)d[1].effective << 32;
		e->arg[1] = d[0].permitted | (__u64)d[1].permitted << 32;
		e->arg[2] = d[0].inheritable | (__u64)d[1].inheritable << 32;
		break;
	}
	case NR_mount:
		bpf_probe_read_user_str(e->str1, VG_PATH_LEN, (void *)a->a[0]);
		user_path_at(t, AT_FDCWD_, (void *)a->a[1], e->str2,
			     &e->h.flags, VG_F_TRUNC2, VG_F_RELATIVE2);
		bpf_probe_read_user_str(e->str3, sizeof(e->str3), (void *)a->a[2]);
		e->arg[0] = a->a[3]; /* mount flags */
		break;
	case NR_umount2:
		user_path_at(t, AT_FDCWD_, (void *)a->a[0], e->str2,
			     &e->h.flags, VG_F_TRUNC2, VG_F_RELATIVE2);
		break;
	case NR_setns: {
		/* the fd names the namespace; nstype 0 means "whatever it is" */
		struct file *f = fd_file(t, a->a[0]);

		if (f) {
			struct ns_common *ns = BPF_CORE_READ(f, f_inode, i_private);

			if (!a->a[1])
				e->arg[1] = ns_type(ns);
			e->arg[2] = BPF_CORE_READ(ns, inum);
		}
		break;
	}
	case NR_init_module:
		bpf_probe_read_user_str(e->str2, VG_PATH_LEN, (void *)a->a[2]);
		break;
	case NR_finit_module: {
		struct file *f = fd_file(t, a->a[0]);

		if (f)
			file_path(t, f, e->str1, &e->h.flags, VG_F_TRUNC1);
		bpf_probe_read_user_str(e->str2, VG_PATH_LEN, (void *)a->a[1]);
		break;
	}
	case NR_bpf: {
		__u32 prog_type = 0;

		bpf_probe_read_user(&prog_type, 4, (void *)a->a[1]);
		e->arg[1] = prog_type;
		bpf_probe_read_user_str(e->str1, 16, (char *)a->a[1] + 48);
		break;
	}
	case NR_memfd_create:
		bpf_probe_read_user_str(e->str1, VG_PATH_LEN, (void *)a->a[0]);
		break;
	}
	submit_event(e);
	count(type, 0);
	return 0;
}

#endif
