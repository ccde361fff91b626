/* evstore.h - the flight recorder: every enriched event, stored per
 * resource (container, host service, or the rest of the host) in its own
 * SQLite file DIR/events.db, so the evidence outlives the container.
 *
 * Storage. Events accumulate in memory in one open *chunk* per resource;
 * a chunk holds at most EVSTORE_CHUNK_EVENTS events spanning at most
 * EVSTORE_CHUNK_SPAN_NS of event time. Each event is the raw kernel record
 * (bpf/vigil_event.h, with its kernel repeat count) plus the enrichment
 * that rendering needs (the process's and its parent's pid, executable
 * and name), delta-coded against the chunk's previous record of the same
 * size and the whole chunk deflated (zlib). A chunk row carries its
 * resource, first/last wall time, event count, event-class mask, the
 * format context (host name, boot-to-wall offset) and the blob; the
 * `resources` table keeps each resource's metadata (struct resource), so a
 * query rebuilds an enrich_view and event_json() prints what live tracing
 * printed (with the metadata as finally known). Alerts go to `alerts`.
 *
 * Writes. evstore_add() never blocks and never touches the disk: it
 * appends to the open chunk, or refuses with -ENOBUFS (and counts the
 * event as dropped) when the queue holds queue_events unwritten events.
 * evstore_flush() writes every chunk with unwritten events once the oldest
 * unwritten event is chunk_age_ns old (or the queue is a quarter full, or
 * force), oldest first, in transactions of about 1 MiB: a closed chunk as
 * its deflated row, an open one as a `tails` row with just its new events
 * (closing it later deflates the whole chunk once and drops the tails).
 * Nothing is lost on a failed write (-ENOSPC, -EIO...): the events stay
 * queued (retried at most once a second) until the queue is full, then
 * new events are dropped, counted. A kill -9 loses at most the unwritten
 * events: those of the last chunk_age_ns (2 s by default) plus one flush
 * interval; chunks left open are readable from their tails and deflated
 * at the next open. WAL with synchronous=NORMAL: a crash never corrupts
 * the file.
 *
 * Retention (at most every 10 s, and on forced flushes): chunks whose last
 * event is older than max_age_ns before the retention clock (the newest of
 * the caller's `now` and the newest stored event) are deleted; then the
 * oldest chunks of each resource storing more than max_resource_bytes, then
 * the oldest chunks overall while more than max_bytes are stored (sizes
 * are stored bytes: deflated, or raw tails while a chunk is open). Alerts
 * follow the age limit. Freed pages go back to the file system
 * (incremental auto-vacuum) once over a quarter of the file is free.
 *
 * Errors: int functions return 0 (or a documented count) or a negative
 * errno (-ENOSPC disk or page limit full, -EUCLEAN corrupt file, -EBUSY,
 * -ENOMEM, -EIO, -EINVAL); evstore_errmsg() then says what failed. Nothing
 * here aborts. Not thread-safe: one struct evstore per thread. */
#ifndef VIGIL_EVSTORE_H
#define VIGIL_EVSTORE_H
#include <stddef.h>
#include <stdint.h>
#include "enrich/enrich.h"
#include "output/event_format.h"

#define EVSTORE_DB_NAME "events.db"
#define EVSTORE_SCHEMA_VERSION 1
#define EVSTORE_CHUNK_EVENTS 1024
#define EVSTORE_CHUNK_SPAN_NS (60ULL * 1000000000ULL)
#define EVSTORE_DEFAULT_AGE_NS (7ULL * 86400ULL * 1000000000ULL)
#define EVSTORE_DEFAULT_BYTES (1ULL << 30)
#define EVSTORE_DEFAULT_RES_BYTES (256ULL << 20)
#define EVSTORE_DEFAULT_QUEUE 262144
#define EVSTORE_DEFAULT_CHUNK_AGE_NS (2ULL * 1000000000ULL)
#define EVSTORE_RETENTION_EVERY_NS (10ULL * 1000000000ULL)
#define EVSTORE_KEY_MAX 208 /* "container:" + 64-hex id, "service:" + unit */
#define EVSTORE_NOLIMIT UINT64_MAX
#define EVSTORE_CHECK_MAX (256LL << 20)

struct evstore;
struct sqlite3;

struct evstore_opts {
	/* 0 means the default; EVSTORE_NOLIMIT disables a limit */
	uint64_t max_age_ns;	     /* default 7 days */
	uint64_t max_bytes;	     /* default 1 GiB, all resources */
	uint64_t max_resource_bytes; /* default 256 MiB (capped at max_bytes) */
	uint64_t queue_events;	     /* default 262,144 unwritten events */
	uint64_t chunk_age_ns;	     /* default 2 s */
	/* chunk-age clock (monotonic ns); NULL: CLOCK_MONOTONIC */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	int create;	/* create DIR and the file when missing (agent) */
	int check;	/* check the file at open (agent): PRAGMA quick_check
			 * up to EVSTORE_CHECK_MAX bytes, above that the
			 * header, schema and newest rows only */
	int read_only;	/* query only */
};

/* Opens DIR/events.db. NULL with errno and a one-line explanation in err:
 * ENOENT (no file and !create), EUCLEAN (corrupt or not SQLite: the
 * message names the file and says to move it aside), EPROTO (schema newer
 * than this build), EACCES, ENOMEM, EIO. */
struct evstore *evstore_open(const char *dir, const struct evstore_opts *o,
			     char *err, size_t errlen);
/* Writes everything queued (evstore_flush(s, 0, 1)) then closes. NULL ok. */
void evstore_close(struct evstore *s);
const char *evstore_errmsg(const struct evstore *s);
const char *evstore_path(const struct evstore *s);

/* The underlying SQLite connection (diagnostics and tests only). */
struct sqlite3 *evstore_db(struct evstore *s);

/* "container:<id>", "service:<unit>" or "host": the resource's key. */
void evstore_resource_key(const struct resource *r, char *buf, size_t cap);

/* Queues one enriched event (rec: a checked record of len bytes, at most
 * 4096; wall_ns its wall-clock time). 0, -ENOBUFS when the queue is full
 * or -ENOMEM (both counted as dropped), -EINVAL for a bad record. */
int evstore_add(struct evstore *s, const void *rec, size_t len,
		const struct enrich_view *v, const struct format_ctx *fc,
		uint64_t wall_ns);

/* Stores an alert at once (id unique; a repeated id replaces the row).
 * resource_key may be "" when unknown. */
int evstore_add_alert(struct evstore *s, const char *id, uint64_t wall_ns,
		      const char *resource_key, int score, const char *json);

/* Writes what is due (see above) and applies retention when due;
 * now_wall_ns is the retention clock (0: the newest stored event). Returns
 * the number of events written, or the first failure's -errno (what was
 * not written stays queued). Cheap when nothing is due. */
int evstore_flush(struct evstore *s, uint64_t now_wall_ns, int force);

/* Closes every open chunk to new events, so the next flush stores them
 * deflated (shutdown does this; the benchmark and tests use it). */
void evstore_seal_all(struct evstore *s);

struct evstore_stats {
	uint64_t added;	      /* accepted by evstore_add */
	uint64_t stored;      /* of which written */
	uint64_t queued;      /* of which not yet written */
	uint64_t dropped;     /* refused: queue full or no memory */
	uint64_t write_errors; /* failed write transactions */
	uint64_t chunks_written, bytes_written; /* row writes, blob bytes */
	uint64_t pruned_chunks, pruned_alerts;
	uint64_t alerts, alert_errors;
	uint64_t recovered_chunks; /* left open by a crash, deflated at open */
	int last_error;	      /* -errno of the last failed write, or 0 */
};
void evstore_stats(const struct evstore *s, struct evstore_stats *out);

/* ---- queries (evstore_query.c) ---- */

enum evstore_find {
	EVSTORE_FIND_CONTAINER, /* full id, id prefix, or name */
	EVSTORE_FIND_SERVICE,	/* unit, ".service" optional */
	EVSTORE_FIND_KEY,	/* exact resource key */
};

struct evstore_resource {
	int64_t id;
	char key[EVSTORE_KEY_MAX];
	struct resource res; /* path, cg and meta rebuilt from the row */
	uint64_t first_ns, last_ns;
};

/* Calls fn for each resource matching `what`, most recently seen first;
 * stops when fn returns non-zero. Returns the number of matches or -errno. */
int evstore_find_resources(struct evstore *s, enum evstore_find how,
			   const char *what,
			   int (*fn)(void *ctx, const struct evstore_resource *r),
			   void *ctx);

struct evstore_event {
	const void *rec; /* checked record (vg_record_check passed) */
	size_t len;
	const struct enrich_view *view;
	const struct format_ctx *fc;
	uint64_t wall_ns;
};

/* Calls fn for every stored event of r with since <= wall <= until whose
 * class (process 1, file 2, network 4, privilege 8) is in class_mask, in
 * stored order (chunks by first time). Stops when fn returns non-zero and
 * returns that; else the number of events, or -errno. Damaged chunks are
 * skipped and counted in *bad (may be NULL). */
int evstore_each_event(struct evstore *s, const struct evstore_resource *r,
		       uint64_t since, uint64_t until, uint32_t class_mask,
		       int (*fn)(void *ctx, const struct evstore_event *e),
		       void *ctx, uint64_t *bad);

struct evstore_alert {
	char id[64];
	uint64_t ns;
	char resource[EVSTORE_KEY_MAX];
	int score;
	const char *json; /* valid during the callback / until freed */
};

/* Alerts of resource_key (NULL: all) with since <= ns <= until, by time. */
int evstore_each_alert(struct evstore *s, const char *resource_key,
		       uint64_t since, uint64_t until,
		       int (*fn)(void *ctx, const struct evstore_alert *a),
		       void *ctx);
/* One alert by id or unique id prefix; out->json is malloc'd (free it).
 * -ENOENT when none, -EEXIST when the prefix is ambiguous. */
int evstore_get_alert(struct evstore *s, const char *id,
		      struct evstore_alert *out);

/* ---- chunk codec (evchunk.c; exposed for tests and the benchmark) ---- */

struct evchunk_enc;
struct evchunk_enc *evchunk_enc_new(void);
void evchunk_enc_free(struct evchunk_enc *e);
/* Starts a new chunk (drops the previous records' state). */
void evchunk_enc_reset(struct evchunk_enc *e);
/* Appends one event to buf (grown as needed; *len updated). 0 or -ENOMEM,
 * -EINVAL (len 0 or over 4096). */
int evchunk_enc_add(struct evchunk_enc *e, uint8_t **buf, size_t *len,
		    size_t *cap, const void *rec, size_t reclen,
		    const struct enrich_view *v);

struct evchunk_dec;
struct evchunk_dec *evchunk_dec_new(void);
void evchunk_dec_free(struct evchunk_dec *d);
/* Decodes from the start of an encoded chunk of n bytes (not copied). */
void evchunk_dec_reset(struct evchunk_dec *d, const uint8_t *buf, size_t n);
/* Next event: 1 with *rec and *len (a checked record, valid until the next
 * call) and v->proc/v->parent (v->res is left alone), 0 at the end, or
 * -EBADMSG for damaged input. */
int evchunk_dec_next(struct evchunk_dec *d, const void **rec, size_t *len,
		     struct enrich_view *v);
#endif
