/* sensor.c - open -> configure rodata -> load -> attach of the BPF skeleton,
 * and the ring-buffer consumer.
 *
 * Failing to raise RLIMIT_MEMLOCK is not fatal: kernels >= 5.11 charge BPF
 * memory to the memory cgroup and libbpf skips the rlimit there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sensor/sensor.h"
#include "vigil.skel.h"

struct sensor {
	struct vigil_bpf *skel;
	struct ring_buffer *rb;
	sensor_cb cb;
	void *ctx;
	uint64_t bad_records;
	int stop_err;
	/* the ring is mapped read-only: records are copied here to check */
	union {
		struct vg_hdr h;
		char bytes[4096];
	} copy;
};

static int on_record(void *ctx, void *data, size_t len)
{
	struct sensor *s = ctx;
	int err;

	if (len > sizeof(s->copy)) {
		s->bad_records++;
		return 0;
	}
	memcpy(s->copy.bytes, data, len);
	if (vg_record_check(s->copy.bytes, len) < 0) {
		s->bad_records++;
		return 0;
	}
	err = s->cb(s->ctx, s->copy.bytes, len);
	if (err < 0)
		s->stop_err = err;
	return err < 0 ? err : 0;
}

static int quiet_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG)
		return 0;
	if (lvl == LIBBPF_INFO && !getenv("VIGIL_BPF_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct sensor *sensor_open(const struct sensor_opts *o, sensor_cb cb, void *ctx,
			   char *err, size_t errlen)
{
	struct sensor *s = calloc(1, sizeof(*s));
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cb = cb;
	s->ctx = ctx;
	libbpf_set_print(quiet_print);
	s->skel = vigil_bpf__open();
	if (!s->skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s",
			 strerror(-rc));
		goto fail;
	}
	s->skel->rodata->self_tgid = getpid();
	s->skel->rodata->dedup_window_ns = o->dedup_window_ns;
	s->skel->rodata->type_mask = o->class_mask;
	rc = vigil_bpf__load(s->skel);
	if (rc) {
		snprintf(err, errlen,
			 "cannot load the BPF sensor: %s (needs root and a kernel "
			 "with BTF at /sys/kernel/btf/vmlinux)",
			 strerror(-rc));
		goto fail;
	}
	rc = vigil_bpf__attach(s->skel);
	if (rc) {
		snprintf(err, errlen, "cannot attach the BPF sensor: %s",
			 strerror(-rc));
		goto fail;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_record, s,
				 NULL);
	if (!s->rb) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the ring buffer: %s",
			 strerror(-rc));
		goto fail;
	}
	return s;
fail:
	sensor_close(s);
	errno = -rc;
	return NULL;
}

int sensor_poll(struct sensor *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms);

	/* the kernel side wakes us only for large batches (bpf/common.h):
	 * drain what waits silently */
	if (n >= 0 && !s->stop_err) {
		int m = ring_buffer__consume(s->rb);

		n = m < 0 ? m : n + m;
	}

	if (s->stop_err) {
		n = s->stop_err;
		s->stop_err = 0;
	}
	return n == -EINTR ? 0 : n;
}

void sensor_counters(struct sensor *s, struct vg_counters out[VG_TYPE_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct vg_counters *per;

	memset(out, 0, sizeof(*out) * VG_TYPE_MAX);
	if (ncpu <= 0)
		return;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return;
	for (uint32_t t = 0; t < VG_TYPE_MAX; t++) {
		if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.counters), &t,
					per))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[t].emitted += per[c].emitted;
			out[t].dropped += per[c].dropped;
			out[t].folded += per[c].folded;
		}
	}
	out[0].dropped += s->bad_records;
	free(per);
}

int sensor_exec_kill_set(struct sensor *s, uint64_t cgroup_id, uint32_t flags)
{
	int fd;

	if (!s || !cgroup_id || (flags & ~(uint32_t)(VG_KILL_MEMFD | VG_KILL_DELETED)))
		return -EINVAL;
	if (cgroup_id == 1) /* the v2 root cgroup (CGROOT_ROOT_ID) */
		return -EPERM;
	fd = bpf_map__fd(s->skel->maps.exec_kill);
	if (!flags) {
		if (bpf_map_delete_elem(fd, &cgroup_id) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (bpf_map_update_elem(fd, &cgroup_id, &flags, BPF_ANY))
		return -errno;
	return 0;
}

void sensor_close(struct sensor *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	vigil_bpf__destroy(s->skel);
	free(s);
}
