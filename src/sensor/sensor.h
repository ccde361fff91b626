/* sensor.h - loads and attaches the BPF sensor and delivers its records.
 *
 * The sensor owns the BPF objects; records are handed to the caller's
 * callback in ring-buffer order, after their size and ABI version are
 * checked and their string fields made NUL-terminated and zero-padded (so
 * that identical events are identical bytes, which recordings rely on). */
#ifndef VIGIL_SENSOR_H
#define VIGIL_SENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "vigil_event.h"

struct sensor;

struct sensor_opts {
	uint32_t class_mask;	  /* VG class bits (process 1, file 2, net 4, priv 8) */
	uint64_t dedup_window_ns; /* 0 disables in-kernel dedup */
};

/* Returns 0 to continue, negative to stop polling with that error. */
typedef int (*sensor_cb)(void *ctx, const void *rec, size_t len);

struct sensor *sensor_open(const struct sensor_opts *o, sensor_cb cb, void *ctx,
			   char *err, size_t errlen);
/* Waits up to timeout_ms for records and delivers them; returns the number
 * delivered or -errno. */
int sensor_poll(struct sensor *s, int timeout_ms);
/* Per-type totals since load, summed over CPUs (index = enum vg_type);
 * malformed records seen in user space are added to dropped[0]. */
void sensor_counters(struct sensor *s, struct vg_counters out[VG_TYPE_MAX]);
void sensor_close(struct sensor *s);

/* Checks a record's header (size for its type, ABI) and canonicalises its
 * string fields in place. Returns 0 or -EBADMSG. Used by replay too. */
int vg_record_check(void *rec, size_t len);
/* Expected size of a record type, 0 for an unknown type. */
size_t vg_record_size(uint16_t type);

#endif
