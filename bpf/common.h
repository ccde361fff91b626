/* common.h - helpers every program uses: counters, the event header, the
 * cgroup identity of the current task and the in-kernel dedup. */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

/* Masks x in a way clang cannot fold away, so the verifier sees the bound. */
#define BOUND(x, mask) asm volatile("%0 &= " #mask : "+r"(x))

/* Waking the reader costs an IPI per event on these VMs (~14 us per
 * submit, measured): records are submitted silently and the reader is woken
 * only once WAKEUP_BYTES are waiting; it also drains the ring on its poll
 * timeout (sensor_poll), so latency is bounded by that timeout. */
#define WAKEUP_BYTES (256 * 1024)

static __always_inline void submit_event(void *e)
{
	__u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, waiting >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
						      : BPF_RB_NO_WAKEUP);
}

static __always_inline void count(__u32 type, int what)
{
	struct vg_counters *c = bpf_map_lookup_elem(&counters, &type);

	if (!c)
		return;
	if (what == 0)
		c->emitted++;
	else if (what == 1)
		c->dropped++;
	else
		c->folded++;
}

static __always_inline int class_of(__u32 type)
{
	if (type < VG_OPEN)
		return VG_CLASS_PROCESS;
	if (type < VG_CONNECT)
		return VG_CLASS_FILE;
	if (type < VG_SETUID)
		return VG_CLASS_NETWORK;
	return VG_CLASS_PRIVILEGE;
}

static __always_inline int wanted(__u32 type)
{
	return (type_mask & class_of(type)) != 0;
}

/* The cgroup that names the task's container or service: the unified (v2)
 * cgroup, or on hosts where that is the root, the v1 pids cgroup. */
static __always_inline __u64 task_cgroup(struct task_struct *t, __u16 *flags,
					 struct kernfs_node **kn_out)
{
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	int level = BPF_CORE_READ(t, cgroups, dfl_cgrp, level);

	if (level == 0 && bpf_core_enum_value_exists(enum cgroup_subsys_id,
						     pids_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
		struct cgroup *cg =
			BPF_CORE_READ(t, cgroups, subsys[id & 15], cgroup);

		if (cg && BPF_CORE_READ(cg, level) > 0) {
			*flags |= VG_F_CG_V1;
			kn = BPF_CORE_READ(cg, kn);
		}
	}
	*kn_out = kn;
	return kn ? BPF_CORE_READ(kn, id) : 0;
}

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* Sends the cgroup's path once (per cg_seen LRU residency). */
static __noinline void emit_cgroup(__u64 id, __u16 flags, struct kernfs_node *kn)
{
	__u64 key = id | ((flags & VG_F_CG_V1) ? (1ULL << 63) : 0);
	__u8 one = 1;
	struct vg_cgroup *e;

	if (bpf_map_lookup_elem(&cg_seen, &key))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(VG_CGROUP, 1);
		return;
	}
	__builtin_memset(&e->h, 0, sizeof(e->h));
	e->h.type = VG_CGROUP;
	e->h.size = sizeof(*e);
	e->h.abi = VG_ABI_VERSION;
	e->h.flags = flags;
	e->h.cgroup_id = id;
	e->h.ts_ns = bpf_ktime_get_boot_ns();
	e->hierarchy = (flags & VG_F_CG_V1) ? 1 : 2;
	e->depth = 0;
	for (int i = 0; i < VG_CG_DEPTH; i++) {
		if (!kn || !kn_parent(kn)) /* stop below the root */
			break;
		bpf_probe_read_kernel_str(e->name[i], VG_CG_NAME_LEN,
					  BPF_CORE_READ(kn, name));
		e->depth = i + 1;
		kn = kn_parent(kn);
	}
	if (kn && kn_parent(kn)) /* deeper than VG_CG_DEPTH */
		e->h.flags |= VG_F_TRUNC1;
	submit_event(e);
	bpf_map_update_elem(&cg_seen, &key, &one, BPF_ANY);
	count(VG_CGROUP, 0);
}

/* Fills the common header for the current task; also makes sure user space
 * has the cgroup's path before the first event of that cgroup. */
static __always_inline void fill_hdr(struct vg_hdr *h, __u16 type, __u16 size,
				     struct task_struct *t)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct kernfs_node *kn = 0;
	__u16 flags = 0;

	h->type = type;
	h->size = size;
	h->abi = VG_ABI_VERSION;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->euid = BPF_CORE_READ(t, cred, euid.val);
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = task_cgroup(t, &flags, &kn);
	h->flags = flags;
	h->repeat = 0;
	h->ret = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	emit_cgroup(h->cgroup_id, flags, kn);
}

/* Returns 1 when an identical event was reported within the dedup window
 * (it is then only counted); else 0, with *folded set to the repeats to
 * carry on this report. */
static __always_inline int dedup_hit(struct dedup_key *k, __u32 *folded)
{
	struct dedup_val *v, nv = {};
	__u64 now;

	*folded = 0;
	if (!dedup_window_ns)
		return 0;
	now = bpf_ktime_get_boot_ns();
	v = bpf_map_lookup_elem(&dedup, k);
	if (v) {
		if (now - v->last_ns < dedup_window_ns) {
			__sync_fetch_and_add(&v->folded, 1);
			count(k->type, 2);
			return 1;
		}
		*folded = v->folded;
	}
	nv.last_ns = now;
	bpf_map_update_elem(&dedup, k, &nv, BPF_ANY);
	return 0;
}

static __always_inline struct task_struct *cur(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

#endif
