/* net.h - network events at syscall exit: connect, accept, bind, listen and
 * DNS queries (the payload of a send to port 53, decoded in user space).
 * Addresses come from the user's sockaddr (connect, bind, sendto) or from the
 * socket itself (accept, listen, connected UDP). */
#ifndef VIGIL_NET_H
#define VIGIL_NET_H

#define AF_INET_ 2
#define AF_INET6_ 10

struct sockaddr_any {
	__u16 family;
	__u16 port; /* network order */
	__u32 v4_or_flow;
	__u8 v6[16];
};

static __always_inline struct sock *fd_sock(struct task_struct *t, int fd,
					    __u16 *type)
{
	struct file *f = fd_file(t, fd);
	struct socket *so;

	if (!f)
		return 0;
	so = BPF_CORE_READ(f, private_data);
	if (!so)
		return 0;
	*type = BPF_CORE_READ(so, type);
	return BPF_CORE_READ(so, sk);
}

/* Reads a user sockaddr into the event's remote (or local) address. */
static __always_inline int read_sockaddr(const void *u, __u16 *family,
					 __u16 *port, __u8 *addr)
{
	struct sockaddr_any sa = {};

	if (!u || bpf_probe_read_user(&sa, sizeof(sa), u) < 0)
		return -1;
	*family = sa.family;
	*port = bpf_ntohs(sa.port);
	if (sa.family == AF_INET_)
		__builtin_memcpy(addr, &sa.v4_or_flow, 4);
	else if (sa.family == AF_INET6_)
		__builtin_memcpy(addr, sa.v6, 16);
	else
		return -1;
	return 0;
}

static __always_inline void sock_addrs(struct sock *sk, struct vg_net *e)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET6_) {
		/* explicit sizes: READ_INTO on an array reads one element */
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk,
				   __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
}

static __always_inline struct vg_net *net_reserve(__u16 type)
{
	struct vg_net *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(type, 1);
		return 0;
	}
	fill_hdr(&e->h, type, sizeof(*e), cur());
	e->family = e->sock_type = e->lport = e->rport = 0;
	__builtin_memset(e->laddr, 0, 16);
	__builtin_memset(e->raddr, 0, 16);
	e->backlog = e->payload_len = 0;
	return e;
}

static __always_inline int net_submit(struct vg_net *e, __u16 type)
{
	submit_event(e);
	count(type, 0);
	return 0;
}

static __always_inline int handle_connect(struct sys_args *a)
{
	struct task_struct *t = cur();
	struct dedup_key k = {};
	struct sockaddr_any sa = {};
	struct vg_net *e;
	__u16 stype = 0;
	__u32 folded;

	if (bpf_probe_read_user(&sa, sizeof(sa), (void *)a->a[1]) < 0)
		return 0;
	if (sa.family != AF_INET_ && sa.family != AF_INET6_)
		return 0;
	k.cgroup_id = bpf_get_current_cgroup_id();
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.type = VG_CONNECT;
	k.bits = sa.port;
	k.obj1 = sa.v4_or_flow;
	if (sa.family == AF_INET6_) {
		__builtin_memcpy(&k.obj1, sa.v6, 8);
		__builtin_memcpy(&k.obj2, sa.v6 + 8, 8);
	}
	k.obj2 ^= ((__u64)(a->ret < 0 ? -a->ret : 0) << 48) |
		  ((__u64)sa.family << 32);
	if (dedup_hit(&k, &folded))
		return 0;
	e = net_reserve(VG_CONNECT);
	if (!e)
		return 0;
	e->h.repeat = folded;
	e->h.ret = a->ret;
	fd_sock(t, a->a[0], &stype);
	e->sock_type = stype;
	read_sockaddr((void *)a->a[1], &e->family, &e->rport, e->raddr);
	return net_submit(e, VG_CONNECT);
}

static __always_inline int handle_accept(struct sys_args *a)
{
	struct task_struct *t = cur();
	struct dedup_key k = {};
	struct sock *sk;
	struct vg_net *e;
	__u16 stype = 0;
	__u32 folded;

	if (a->ret < 0)
		return 0;
	sk = fd_sock(t, a->ret, &stype);
	if (!sk)
		return 0;
	k.cgroup_id = bpf_get_current_cgroup_id();
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.type = VG_ACCEPT;
	k.bits = BPF_CORE_READ(sk, __sk_common.skc_num);
	k.obj1 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	BPF_CORE_READ_INTO(&k.obj2, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[2]);
	if (dedup_hit(&k, &folded))
		return 0;
	e = net_reserve(VG_ACCEPT);
	if (!e)
		return 0;
	e->h.repeat = folded;
	e->h.ret = a->ret;
	e->sock_type = stype;
	sock_addrs(sk, e);
	return net_submit(e, VG_ACCEPT);
}

static __always_inline int handle_bind_listen(struct sys_args *a, __u16 type)
{
	struct task_struct *t = cur();
	struct vg_net *e;
	struct sock *sk;
	__u16 stype = 0;

	e = net_reserve(type);
	if (!e)
		return 0;
	e->h.ret = a->ret;
	sk = fd_sock(t, a->a[0], &stype);
	e->sock_type = stype;
	if (type == VG_BIND) {
		read_sockaddr((void *)a->a[1], &e->family, &e->lport, e->laddr);
	} else {
		if (sk)
			sock_addrs(sk, e);
		e->backlog = a->a[1];
	}
	if (e->family != AF_INET_ && e->family != AF_INET6_) {
		bpf_ringbuf_discard(e, 0); /* unix and netlink sockets */
		return 0;
	}
	return net_submit(e, type);
}

/* sendto/sendmsg/sendmmsg: only datagrams to port 53 become "dns" events */
static __always_inline int handle_send(struct sys_args *a)
{
	struct task_struct *t = cur();
	const void *name = 0, *buf = 0;
	__u64 len = 0;
	struct sock *sk;
	struct vg_net *e;
	__u16 stype = 0, family = 0, port = 0;
	__u8 addr[16] = {};

	if (a->ret < 0)
		return 0;
	if (a->nr == NR_sendto) {
		name = (void *)a->a[4];
		buf = (void *)a->a[1];
		len = a->a[2];
	} else {
		struct user_msghdr m = {};
		struct iovec iov = {};

		if (bpf_probe_read_user(&m, sizeof(m), (void *)a->a[1]) < 0)
			return 0;
		name = m.msg_name;
		if (m.msg_iov &&
		    bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov) == 0) {
			buf = iov.iov_base;
			len = iov.iov_len;
		}
	}
	sk = fd_sock(t, a->a[0], &stype);
	if (stype != 2 /* SOCK_DGRAM */)
		return 0;
	if (name) {
		if (read_sockaddr(name, &family, &port, addr) < 0)
			return 0;
	} else if (sk) {
		port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	}
	if (port != 53 || !buf)
		return 0;
	e = net_reserve(VG_DNS);
	if (!e)
		return 0;
	e->h.ret = a->ret;
	e->sock_type = stype;
	if (sk)
		sock_addrs(sk, e);
	if (name) {
		e->family = family;
		__builtin_memcpy(e->raddr, addr, 16);
	}
	e->rport = 53;
	if (len > VG_PAYLOAD_LEN)
		len = VG_PAYLOAD_LEN;
	if (len == VG_PAYLOAD_LEN) {
		if (bpf_probe_read_user(e->payload, VG_PAYLOAD_LEN, buf) < 0)
			len = 0;
	} else {
		BOUND(len, 255);
		if (bpf_probe_read_user(e->payload, len, buf) < 0)
			len = 0;
	}
	e->payload_len = len;
	return net_submit(e, VG_DNS);
}

#endif
