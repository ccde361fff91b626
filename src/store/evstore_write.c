/* evstore_write.c - the recorder's write path: evstore_add() appends to the
 * resource's open chunk in memory; evstore_flush() writes due chunks in
 * transactions of about 1 MiB and calls retention (evstore_retain.c).
 *
 * Invariants:
 *  - s->pending is the number of events in chunks on the write list that
 *    are not yet in the database; evstore_add refuses (and counts) events
 *    once it reaches queue_events, so memory is bounded;
 *  - a chunk is on the write list when it has unwritten events, or when
 *    it was sealed while its events are stored as uncompressed tails;
 *  - an open chunk is stored as a `chunks` row without data plus one
 *    `tails` row per flush holding the bytes of its encoding added since
 *    (never rewritten); sealing writes the deflated encoding into the row
 *    and deletes the tails, so every event is deflated exactly once;
 *  - writes go in slices of about TXN_BYTES, oldest chunks first; rowids
 *    and resource ids assigned inside a slice are adopted only after its
 *    COMMIT succeeded; a failed slice changes nothing in memory except the
 *    error counters (its events and the rest stay queued);
 *  - a sealed chunk has no encoder; it is freed once written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store/evstore_int.h"
#include "vigil_event.h"

#define RETRY_NS 1000000000ULL
#define TXN_BYTES (1u << 20) /* blob bytes per write transaction */
/* a resource row's first/last times are rewritten when its chunk closes,
 * or when they moved by more than this */
#define RES_LAG_NS (60ULL * 1000000000ULL)

static uint64_t clock_now(struct evstore *s)
{
	struct timespec ts;

	if (s->o.clock)
		return s->o.clock(s->o.clock_ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void chunk_free(struct evchunk *c)
{
	struct evres *er;

	if (!c)
		return;
	er = c->res;
	evchunk_enc_free(c->enc);
	free(c->buf);
	free(c);
	if (--er->nchunks == 0 && er->orphan)
		free(er);
}

static void wlist_add(struct evstore *s, struct evchunk *c);

static void open_unlink(struct evstore *s, struct evchunk *c)
{
	if (c->oprev)
		c->oprev->onext = c->onext;
	else
		s->ohead = c->onext;
	if (c->onext)
		c->onext->oprev = c->oprev;
	else
		s->otail = c->oprev;
	c->onext = c->oprev = NULL;
}

/* Closes a chunk to new events; frees it if nothing is left to write. */
static void seal(struct evstore *s, struct evchunk *c)
{
	open_unlink(s, c);
	c->res->open = NULL;
	evchunk_enc_free(c->enc);
	c->enc = NULL;
	c->sealed = 1;
	if (c->in_wlist)
		return;
	if (c->rowid) { /* stored as tails: deflate it with the next write */
		c->dirty_mono = clock_now(s);
		if (!s->oldest_dirty)
			s->oldest_dirty = c->dirty_mono;
		wlist_add(s, c);
	}
	else
		chunk_free(c);
}

static int free_res(void *ctx, uint64_t key, void *v)
{
	(void)ctx;
	(void)key;
	free(v);
	return 0;
}

void evs_free_chunks(struct evstore *s)
{
	struct evchunk *c, *next;

	for (c = s->ohead; c; c = next) { /* open and not queued */
		next = c->onext;
		if (!c->in_wlist)
			chunk_free(c);
	}
	for (c = s->whead; c; c = next) {
		next = c->wnext;
		chunk_free(c);
	}
	s->ohead = s->otail = s->whead = s->wtail = NULL;
	if (s->res)
		hashmap_each(s->res, free_res, NULL);
}

static int evictable(void *ctx, uint64_t key, void *v)
{
	uint64_t *keys = ctx;
	struct evres *r = v;

	if (!r->nchunks && keys[0] < 4096)
		keys[1 + keys[0]++] = key;
	return 0;
}

/* Makes room in the resource map by forgetting idle resources. */
static void evict_idle(struct evstore *s)
{
	static const size_t n = 4097;
	uint64_t *keys = calloc(n, sizeof(*keys));

	if (!keys)
		return;
	hashmap_each(s->res, evictable, keys);
	for (uint64_t i = 0; i < keys[0]; i++)
		free(hashmap_del(s->res, keys[1 + i]));
	free(keys);
}

/* Same container or unit as when er was made (cgroup keys may return). */
static int same_identity(const struct evres *er, const struct resource *r)
{
	return er->snap.cg.runtime == r->cg.runtime &&
	       !strcmp(er->snap.cg.container_id, r->cg.container_id) &&
	       !strcmp(er->snap.cg.unit, r->cg.unit);
}

static struct evres *res_of(struct evstore *s, const struct resource *r)
{
	struct evres *er = hashmap_get(s->res, r->key);

	if (er && !same_identity(er, r)) {
		/* another resource now: the old entry lives on only for its
		 * queued chunks (freed with the last one) */
		hashmap_del(s->res, r->key);
		er->orphan = 1;
		if (!er->nchunks)
			free(er);
		else if (er->open)
			seal(s, er->open);
		er = NULL;
	}
	if (er) {
		if (r->meta_known && !er->snap_known) {
			er->snap = *r;
			er->snap_known = 1;
			er->meta_dirty = 1;
		}
		return er;
	}
	er = calloc(1, sizeof(*er));
	if (!er)
		return NULL;
	if (hashmap_put(s->res, r->key, er) < 0) {
		evict_idle(s);
		if (hashmap_put(s->res, r->key, er) < 0) {
			free(er);
			return NULL;
		}
	}
	er->cg_key = r->key;
	er->snap = *r;
	er->snap_known = r->meta_known;
	evstore_resource_key(r, er->key, sizeof(er->key));
	return er;
}

static struct evchunk *chunk_new(struct evstore *s, struct evres *er,
				 const struct format_ctx *fc)
{
	struct evchunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->enc = evchunk_enc_new();
	if (!c->enc) {
		free(c);
		return NULL;
	}
	c->res = er;
	er->nchunks++;
	c->b2r = fc->boot_to_real_ns;
	snprintf(c->host, sizeof(c->host), "%s",
		 fc->host_name ? fc->host_name : "");
	c->opened_mono = clock_now(s);
	c->oprev = s->otail;
	if (s->otail)
		s->otail->onext = c;
	else
		s->ohead = c;
	s->otail = c;
	er->open = c;
	return c;
}

static void wlist_add(struct evstore *s, struct evchunk *c)
{
	c->in_wlist = 1;
	c->wnext = NULL;
	if (s->wtail)
		s->wtail->wnext = c;
	else
		s->whead = c;
	s->wtail = c;
}

int evstore_add(struct evstore *s, const void *rec, size_t len,
		const struct enrich_view *v, const struct format_ctx *fc,
		uint64_t wall_ns)
{
	const struct vg_hdr *h = rec;
	struct evres *er;
	struct evchunk *c;

	if (len < sizeof(*h) || len > 4096 || h->size != len || !v || !v->res)
		return -EINVAL;
	if (s->pending >= s->o.queue_events) {
		s->stats.dropped++;
		return -ENOBUFS;
	}
	er = res_of(s, v->res);
	if (!er)
		goto nomem;
	c = er->open;
	if (c && (wall_ns > c->first_ns + EVSTORE_CHUNK_SPAN_NS ||
		  wall_ns + EVSTORE_CHUNK_SPAN_NS < c->last_ns ||
		  c->b2r != fc->boot_to_real_ns ||
		  strcmp(c->host, fc->host_name ? fc->host_name : ""))) {
		seal(s, c);
		c = NULL;
	}
	if (!c && !(c = chunk_new(s, er, fc)))
		goto nomem;
	if (evchunk_enc_add(c->enc, &c->buf, &c->len, &c->cap, rec, len, v) < 0)
		goto nomem;
	if (!c->n || wall_ns < c->first_ns)
		c->first_ns = wall_ns;
	if (wall_ns > c->last_ns)
		c->last_ns = wall_ns;
	if (!er->first_ns || wall_ns < er->first_ns)
		er->first_ns = wall_ns;
	if (wall_ns > er->last_ns)
		er->last_ns = wall_ns;
	if (wall_ns > s->newest_ns)
		s->newest_ns = wall_ns;
	c->types |= evs_class(h->type);
	c->n++;
	s->pending++;
	s->stats.added++;
	if (!c->in_wlist) {
		c->dirty_mono = clock_now(s);
		if (!s->oldest_dirty)
			s->oldest_dirty = c->dirty_mono;
		wlist_add(s, c);
	}
	if (c->n >= EVSTORE_CHUNK_EVENTS)
		seal(s, c);
	return 0;
nomem:
	s->stats.dropped++;
	return -ENOMEM;
}

/* ---- writing ---------------------------------------------------------- */

static int step_done(struct evstore *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return evs_fail(s, r, what);
	return 0;
}

int evs_run(struct evstore *s, int which, const char *what)
{
	int rc = 0;
	sqlite3_stmt *st = evs_stmt(s, which, &rc);

	return st ? step_done(s, st, what) : rc;
}

static void text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Inserts or updates the resource row; sets er->batch_id. */
static int put_res(struct evstore *s, struct evres *er)
{
	const struct resource *r = &er->snap;
	int rc = 0, x;
	sqlite3_stmt *st = evs_stmt(s, EVS_RES_PUT, &rc);

	if (!st)
		return rc;
	text(st, 1, er->key);
	text(st, 2, r->cg.runtime != CG_HOST ? "container" :
		    r->cg.unit[0] ? "service" : "host");
	text(st, 3, r->path);
	text(st, 4, cg_runtime_name(r->cg.runtime));
	text(st, 5, r->cg.container_id);
	text(st, 6, r->meta.name);
	text(st, 7, r->meta.image);
	text(st, 8, r->meta.pod_name);
	text(st, 9, r->meta.pod_namespace);
	text(st, 10, r->meta.pod_uid);
	text(st, 11, r->cg.pod_uid);
	text(st, 12, r->cg.unit);
	text(st, 13, r->meta.bundle);
	sqlite3_bind_int(st, 14, er->snap_known);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)er->first_ns);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)er->last_ns);
	x = sqlite3_step(st);
	if (x == SQLITE_ROW) {
		er->batch_id = sqlite3_column_int64(st, 0);
		er->batch_last = er->last_ns ? er->last_ns : 1;
	}
	sqlite3_reset(st);
	if (x != SQLITE_ROW)
		return evs_fail(s, x, "storing a resource");
	return 0;
}

int evs_compress(struct evstore *s, const uint8_t *buf, size_t len,
		 size_t *out)
{
	uLong bound = deflateBound(&s->z, len);

	if (bound > s->zcap) {
		uint8_t *nb = realloc(s->zbuf, bound);

		if (!nb)
			return -ENOMEM;
		s->zbuf = nb;
		s->zcap = bound;
	}
	deflateReset(&s->z);
	s->z.next_in = (Bytef *)buf;
	s->z.avail_in = (uInt)len;
	s->z.next_out = s->zbuf;
	s->z.avail_out = (uInt)s->zcap;
	if (deflate(&s->z, Z_FINISH) != Z_STREAM_END)
		return -EIO;
	*out = s->zcap - s->z.avail_out;
	return 0;
}

static void bind_meta(sqlite3_stmt *st, const struct evchunk *c,
		      size_t raw_len, size_t bytes)
{
	sqlite3_bind_int64(st, 1, c->res->batch_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->first_ns);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->last_ns);
	sqlite3_bind_int(st, 4, (int)c->n);
	sqlite3_bind_int(st, 5, (int)c->types);
	sqlite3_bind_int64(st, 6, c->b2r);
	text(st, 7, c->host);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)raw_len);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)bytes);
}

/* Inserts or updates the chunk's row: data NULL (open, events in tails)
 * or the deflated encoding (zn bytes in s->zbuf). Sets c->new_rowid;
 * *fresh when a new row was made (an update found none: pruned). */
static int put_row(struct evstore *s, struct evchunk *c, int sealed, size_t zn,
		   int *fresh)
{
	int upd = c->rowid != 0, rc = 0, r;
	sqlite3_stmt *st;

again:
	st = evs_stmt(s, upd ? EVS_CHUNK_UPD : EVS_CHUNK_INS, &rc);
	if (!st)
		return rc;
	bind_meta(st, c, c->len, sealed ? zn : c->len);
	if (sealed)
		sqlite3_bind_blob(st, 10, s->zbuf, (int)zn, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	if (upd)
		sqlite3_bind_int64(st, 11, c->rowid);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return evs_fail(s, r, "writing events");
	if (upd && sqlite3_changes(s->db) == 0) { /* pruned meanwhile */
		upd = 0;
		goto again;
	}
	*fresh = !upd;
	c->new_rowid = upd ? c->rowid : sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int put_tail(struct evstore *s, struct evchunk *c, size_t from)
{
	int rc = 0, r;
	sqlite3_stmt *st = evs_stmt(s, EVS_TAIL_PUT, &rc);

	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, c->new_rowid);
	sqlite3_bind_int(st, 2, (int)c->new_tails);
	sqlite3_bind_blob(st, 3, c->buf + from, (int)(c->len - from),
			  SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE)
		return evs_fail(s, r, "writing events");
	c->new_tails++;
	s->stats.bytes_written += c->len - from;
	return 0;
}

int evs_del_tails(struct evstore *s, int64_t chunk)
{
	int rc = 0, r;
	sqlite3_stmt *st = evs_stmt(s, EVS_TAIL_DEL, &rc);

	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, chunk);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : evs_fail(s, r, "writing events");
}

static int put_chunk(struct evstore *s, struct evchunk *c)
{
	int rc = 0, fresh = 0;
	size_t zn = 0;

	if (c->res->batch_gen != s->gen) {
		struct evres *er = c->res;

		er->batch_last = 0;
		if (!er->db_id || er->db_epoch != s->res_epoch || er->meta_dirty ||
		    c->sealed || er->first_ns < er->db_first ||
		    er->last_ns > er->db_last + RES_LAG_NS) {
			rc = put_res(s, er);
			if (rc < 0)
				return rc;
		} else {
			er->batch_id = er->db_id;
		}
		er->batch_gen = s->gen;
	}
	c->new_tails = c->tails;
	c->new_len_written = c->len_written;
	if (c->sealed) {
		rc = evs_compress(s, c->buf, c->len, &zn);
		if (rc < 0) {
			snprintf(s->err, sizeof(s->err), "compressing failed");
			return rc;
		}
		rc = put_row(s, c, 1, zn, &fresh);
		if (rc == 0 && c->rowid && !fresh)
			rc = evs_del_tails(s, c->rowid);
		s->stats.bytes_written += zn;
		return rc;
	}
	rc = put_row(s, c, 0, 0, &fresh);
	if (rc == 0 && fresh && c->rowid) { /* row was pruned: all again */
		c->new_tails = 0;
		c->new_len_written = 0;
	}
	if (rc == 0 && c->len > c->new_len_written)
		rc = put_tail(s, c, c->new_len_written);
	c->new_len_written = c->len;
	return rc;
}

void evs_rollback(struct evstore *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Writes the write list, oldest first, in transactions of about
 * TXN_BYTES (so the WAL stays small and, on a filling disk, what fits is
 * kept); each committed slice is adopted at once. After a failure the
 * rest stays queued. Returns the events written, or the failure. */
static int write_batch(struct evstore *s, uint64_t now)
{
	uint64_t written = 0, chunks = 0;
	int rc = 0;

	while (s->whead && rc == 0) {
		struct evchunk *c, *end;
		uint64_t bytes0 = s->stats.bytes_written;

		s->gen++;
		rc = evs_run(s, EVS_BEGIN_W, "starting a write");
		for (c = s->whead; rc == 0 && c &&
				   s->stats.bytes_written - bytes0 < TXN_BYTES;
		     c = c->wnext)
			rc = put_chunk(s, c);
		end = c;
		if (rc == 0)
			rc = evs_run(s, EVS_COMMIT, "committing events");
		if (rc < 0) {
			evs_rollback(s);
			s->gen++; /* resource ids of this slice are void */
			s->stats.bytes_written = bytes0;
			break;
		}
		while (s->whead != end) {
			c = s->whead;
			s->whead = c->wnext;
			if (c->res->batch_last) { /* its row was written */
				c->res->db_id = c->res->batch_id;
				c->res->db_epoch = s->res_epoch;
				c->res->db_first = c->res->first_ns;
				c->res->db_last = c->res->batch_last;
				c->res->meta_dirty = 0;
				c->res->batch_last = 0;
			}
			written += c->n - c->n_written;
			s->pending -= c->n - c->n_written;
			c->rowid = c->new_rowid;
			c->tails = c->new_tails;
			c->len_written = c->new_len_written;
			c->n_written = c->n;
			c->in_wlist = 0;
			c->dirty_mono = 0;
			c->wnext = NULL;
			chunks++;
			if (c->sealed)
				chunk_free(c);
		}
		if (!s->whead)
			s->wtail = NULL;
	}
	s->oldest_dirty = s->whead ? s->whead->dirty_mono : 0;
	s->stats.stored += written;
	s->stats.chunks_written += chunks;
	if (rc < 0) {
		s->stats.write_errors++;
		s->stats.last_error = rc;
		s->last_fail = now ? now : 1;
		if (rc == -ENOSPC) /* a checkpoint may give WAL space back */
			sqlite3_wal_checkpoint_v2(s->db, NULL,
						  SQLITE_CHECKPOINT_TRUNCATE,
						  NULL, NULL);
		return rc;
	}
	s->last_fail = 0;
	return (int)(written > INT32_MAX ? INT32_MAX : written);
}

int evstore_flush(struct evstore *s, uint64_t now_wall_ns, int force)
{
	uint64_t now = clock_now(s);
	int rc = 0;

	if (s->o.read_only)
		return 0;
	/* chunks of quiet resources stop taking events after the span */
	while (s->ohead && now - s->ohead->opened_mono >= EVSTORE_CHUNK_SPAN_NS)
		seal(s, s->ohead);
	if (s->whead &&
	    (force || s->pending >= s->o.queue_events / 4 ||
	     now - s->oldest_dirty >= s->o.chunk_age_ns) &&
	    (force || !s->last_fail || now - s->last_fail >= RETRY_NS))
		rc = write_batch(s, now);
	if (force || !s->last_retention ||
	    now - s->last_retention >= EVSTORE_RETENTION_EVERY_NS) {
		int r = evs_retention(s, now_wall_ns);

		s->last_retention = now ? now : 1;
		if (r < 0) {
			s->stats.write_errors++;
			s->stats.last_error = r;
			if (rc >= 0)
				rc = r;
		}
	}
	return rc;
}

void evstore_seal_all(struct evstore *s)
{
	while (s->ohead)
		seal(s, s->ohead);
}
