/* maps.h - the maps of vigil.bpf.c and the read-only configuration user
 * space sets before load. Every map has a fixed cap; LRU maps evict the
 * least recently used entry, which only costs a repeated report. */
#ifndef VIGIL_MAPS_H
#define VIGIL_MAPS_H

/* set by user space in .rodata before load */
const volatile __u32 self_tgid = 0;
const volatile __u64 dedup_window_ns = 30ULL * 1000000000ULL;
const volatile __u32 type_mask = 0xffffffff; /* VG_CLASS_* bits to report */

#define VG_CLASS_PROCESS 0x1
#define VG_CLASS_FILE 0x2
#define VG_CLASS_NETWORK 0x4
#define VG_CLASS_PRIVILEGE 0x8

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_TYPE_MAX);
	__type(key, __u32);
	__type(value, struct vg_counters);
} counters SEC(".maps");

/* Dedup: (cgroup, process, object, action) -> when last reported and how
 * many identical events were folded since. */
struct dedup_key {
	__u64 cgroup_id;
	__u64 obj1;
	__u64 obj2;
	__u32 tgid;
	__u16 type;
	__u16 bits;
};

struct dedup_val {
	__u64 last_ns;
	__u32 folded;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dedup_key);
	__type(value, struct dedup_val);
} dedup SEC(".maps");

/* cgroups whose path has been sent (VG_CGROUP); key has bit 63 set for v1 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u8);
} cg_seen SEC(".maps");

/* cgroups whose memfd / deleted-file execs are killed at exec time:
 * key = cgroup id (| VG_CG_KEY_V1 for a v1 pids id), value = VG_KILL_*
 * bits. Looked up only for execs of a memfd or of an unlinked file. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} exec_kill SEC(".maps");

/* per-CPU scratch for building paths right to left, see path.h */
#define SCRATCH_HALF 2048
struct scratch {
	char buf[SCRATCH_HALF * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

#endif
