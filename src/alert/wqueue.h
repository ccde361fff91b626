/* wqueue.h - a FIFO of byte strings on disk: one file per entry, named by
 * a monotonic sequence number (DIR/00000000000000000042.json), so queued
 * webhook alerts survive an endpoint outage and an agent restart and are
 * delivered in the order they were queued.
 *
 * One producer thread pushes, one consumer thread peeks and pops; the
 * counters are shared under a mutex. A push writes a temporary file,
 * fsyncs it and renames it into place; wqueue_sync() fsyncs the directory
 * (the consumer calls it before sending, so an entry is durable before
 * its first delivery attempt). Opening scans the directory: existing
 * entries come first in sequence order, leftover temporary files are
 * removed, and new entries are numbered after the highest one. */
#ifndef VIGIL_WQUEUE_H
#define VIGIL_WQUEUE_H
#include <stddef.h>
#include <stdint.h>

struct wqueue;

/* Creates dir (one level) if needed. Caps: entries and total bytes; a push
 * beyond either fails with -ENOSPC. 0 or -errno. */
int wqueue_open(const char *dir, uint64_t max_files, uint64_t max_bytes,
		struct wqueue **out);
void wqueue_close(struct wqueue *q);
/* Appends len bytes; 0, -ENOSPC (over a cap), or -errno (write failed). */
int wqueue_push(struct wqueue *q, const void *data, size_t len);
/* The oldest entry: 1 and a malloc'ed copy in *data (NUL-terminated, len
 * without the NUL) and its sequence number; 0 when empty; -errno when its
 * file cannot be read (*seq is still set, so the caller may pop it). */
int wqueue_peek(struct wqueue *q, char **data, size_t *len, uint64_t *seq);
/* Removes the oldest entry, which must be seq. 0 or -errno. */
int wqueue_pop(struct wqueue *q, uint64_t seq);
/* fsyncs the directory if an entry was added since the last call. */
int wqueue_sync(struct wqueue *q);
uint64_t wqueue_count(struct wqueue *q);
uint64_t wqueue_bytes(struct wqueue *q);
#endif
