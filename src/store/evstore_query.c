/* evstore_query.c - reading the flight recorder: resources by container
 * id/name or service, a resource's events in a time range (decompressed
 * and decoded chunk by chunk, each record re-checked), alerts.
 *
 * Invariants: callbacks get copies or buffers owned here that stay valid
 * only during the call; statements are finalized before returning; a
 * damaged chunk (bad deflate stream, bad encoding, bad record) is skipped
 * and counted, never trusted; times above INT64_MAX are clamped (SQLite
 * integers are signed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/evstore_int.h"
#include "vigil_event.h"

static sqlite3_int64 clamp(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static enum cg_runtime runtime_of(const char *name)
{
	for (int rt = CG_HOST; rt <= CG_PODMAN; rt++)
		if (!strcmp(cg_runtime_name((enum cg_runtime)rt), name))
			return (enum cg_runtime)rt;
	return CG_HOST;
}

#define RES_COLS                                                              \
	"id, key, path, runtime, container_id, name, image, pod_name, "       \
	"pod_namespace, pod_uid, cg_pod_uid, unit, bundle, meta_known, "      \
	"first_ns, last_ns"

static void row_resource(sqlite3_stmt *st, struct evstore_resource *o)
{
	struct resource *r = &o->res;

	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	snprintf(o->key, sizeof(o->key), "%s", col(st, 1));
	snprintf(r->path, sizeof(r->path), "%s", col(st, 2));
	r->cg.runtime = runtime_of(col(st, 3));
	snprintf(r->cg.container_id, sizeof(r->cg.container_id), "%s",
		 col(st, 4));
	snprintf(r->meta.name, sizeof(r->meta.name), "%s", col(st, 5));
	snprintf(r->meta.image, sizeof(r->meta.image), "%s", col(st, 6));
	snprintf(r->meta.pod_name, sizeof(r->meta.pod_name), "%s", col(st, 7));
	snprintf(r->meta.pod_namespace, sizeof(r->meta.pod_namespace), "%s",
		 col(st, 8));
	snprintf(r->meta.pod_uid, sizeof(r->meta.pod_uid), "%s", col(st, 9));
	snprintf(r->cg.pod_uid, sizeof(r->cg.pod_uid), "%s", col(st, 10));
	snprintf(r->cg.unit, sizeof(r->cg.unit), "%s", col(st, 11));
	snprintf(r->meta.bundle, sizeof(r->meta.bundle), "%s", col(st, 12));
	r->meta_known = sqlite3_column_int(st, 13);
	o->first_ns = (uint64_t)sqlite3_column_int64(st, 14);
	o->last_ns = (uint64_t)sqlite3_column_int64(st, 15);
}

int evstore_find_resources(struct evstore *s, enum evstore_find how,
			   const char *what,
			   int (*fn)(void *ctx, const struct evstore_resource *r),
			   void *ctx)
{
	static const char *const sql[] = {
		[EVSTORE_FIND_CONTAINER] =
			"SELECT " RES_COLS " FROM resources WHERE kind = "
			"'container' AND (container_id = ?1 OR name = ?1 OR "
			"(length(?1) >= 3 AND substr(container_id, 1, "
			"length(?1)) = ?1)) ORDER BY (container_id = ?1 OR "
			"name = ?1) DESC, last_ns DESC",
		[EVSTORE_FIND_SERVICE] =
			"SELECT " RES_COLS " FROM resources WHERE kind = "
			"'service' AND (unit = ?1 OR unit = ?1 || '.service') "
			"ORDER BY last_ns DESC",
		[EVSTORE_FIND_KEY] = "SELECT " RES_COLS " FROM resources "
				     "WHERE key = ?1",
	};
	struct evstore_resource *row = malloc(sizeof(*row));
	sqlite3_stmt *st;
	int r, n = 0, stop = 0;

	if (!row)
		return -ENOMEM;
	if ((unsigned)how > EVSTORE_FIND_KEY) {
		free(row);
		return -EINVAL;
	}
	r = sqlite3_prepare_v2(s->db, sql[how], -1, &st, NULL);
	if (r != SQLITE_OK) {
		free(row);
		return evs_fail(s, r, "looking up resources");
	}
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		row_resource(st, row);
		n++;
		stop = fn ? fn(ctx, row) : 0;
	}
	sqlite3_finalize(st);
	free(row);
	if (!stop && r != SQLITE_DONE)
		return evs_fail(s, r, "looking up resources");
	return n;
}

struct chunk_iter {
	uint8_t *raw;
	size_t cap;
	struct evchunk_dec *dec;
	sqlite3_stmt *tails;
};

static int reserve(struct chunk_iter *it, size_t n)
{
	uint8_t *nb;

	if (n <= it->cap)
		return 0;
	if (n > EVS_MAX_RAW)
		return -EBADMSG;
	nb = realloc(it->raw, n);
	if (!nb)
		return -ENOMEM;
	it->raw = nb;
	it->cap = n;
	return 0;
}

/* An open chunk (no data yet): its tails, concatenated. */
static int read_tails(struct chunk_iter *it, int64_t id, size_t *n)
{
	int r, rc = 0;

	*n = 0;
	sqlite3_bind_int64(it->tails, 1, id);
	while ((r = sqlite3_step(it->tails)) == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(it->tails, 0);
		size_t l = (size_t)sqlite3_column_bytes(it->tails, 0);

		rc = reserve(it, *n + l);
		if (rc < 0)
			break;
		if (l)
			memcpy(it->raw + *n, b, l);
		*n += l;
	}
	sqlite3_reset(it->tails);
	if (rc == 0 && r != SQLITE_DONE)
		rc = -EBADMSG;
	return rc;
}

/* Inflates the chunk of the current row into it->raw; 0 or -EBADMSG. */
static int inflate_row(sqlite3_stmt *st, struct chunk_iter *it, size_t *n)
{
	uint64_t raw_len = (uint64_t)sqlite3_column_int64(st, 6);
	const void *blob = sqlite3_column_blob(st, 7);
	int blen = sqlite3_column_bytes(st, 7);
	uLongf out = (uLongf)raw_len;

	int rc;

	if (sqlite3_column_type(st, 7) == SQLITE_NULL)
		return read_tails(it, sqlite3_column_int64(st, 0), n);
	if (raw_len > EVS_MAX_RAW || !blob || blen <= 0)
		return -EBADMSG;
	rc = reserve(it, raw_len);
	if (rc < 0)
		return rc;
	if (uncompress(it->raw, &out, blob, (uLong)blen) != Z_OK ||
	    out != raw_len)
		return -EBADMSG;
	*n = out;
	return 0;
}

int evstore_each_event(struct evstore *s, const struct evstore_resource *r,
		       uint64_t since, uint64_t until, uint32_t class_mask,
		       int (*fn)(void *ctx, const struct evstore_event *e),
		       void *ctx, uint64_t *bad)
{
	struct chunk_iter it = {0};
	sqlite3_stmt *st;
	int x, n = 0, stop = 0;

	it.dec = evchunk_dec_new();
	if (!it.dec)
		return -ENOMEM;
	x = sqlite3_prepare_v2(s->db,
			       "SELECT id, first_ns, last_ns, types, b2r, host, "
			       "raw_len, data FROM chunks WHERE res = ?1 AND "
			       "last_ns >= ?2 AND first_ns <= ?3 "
			       "ORDER BY first_ns, id", -1, &st, NULL);
	if (x == SQLITE_OK)
		x = sqlite3_prepare_v2(s->db, "SELECT data FROM tails WHERE "
				       "chunk = ?1 ORDER BY seq", -1, &it.tails,
				       NULL);
	if (x != SQLITE_OK) {
		sqlite3_finalize(st);
		evchunk_dec_free(it.dec);
		return evs_fail(s, x, "reading events");
	}
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, clamp(since));
	sqlite3_bind_int64(st, 3, clamp(until));
	while (!stop && (x = sqlite3_step(st)) == SQLITE_ROW) {
		char host[256];
		struct format_ctx fc = {host, sqlite3_column_int64(st, 4)};
		struct enrich_view v = {&r->res, NULL, NULL};
		struct evstore_event e = {NULL, 0, &v, &fc, 0};
		size_t raw_n;
		int d;

		if (!((uint32_t)sqlite3_column_int(st, 3) & class_mask))
			continue;
		snprintf(host, sizeof(host), "%s", col(st, 5));
		d = inflate_row(st, &it, &raw_n);
		if (d == -ENOMEM) {
			stop = -ENOMEM;
			break;
		}
		if (d < 0) {
			if (bad)
				(*bad)++;
			continue;
		}
		evchunk_dec_reset(it.dec, it.raw, raw_n);
		while (!stop && (d = evchunk_dec_next(it.dec, &e.rec, &e.len,
						      &v)) == 1) {
			const struct vg_hdr *h = e.rec;

			e.wall_ns = h->ts_ns + (uint64_t)fc.boot_to_real_ns;
			if (e.wall_ns < since || e.wall_ns > until ||
			    !(evs_class(h->type) & class_mask))
				continue;
			n++;
			stop = fn(ctx, &e);
		}
		if (d < 0 && bad)
			(*bad)++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(it.tails);
	evchunk_dec_free(it.dec);
	free(it.raw);
	if (stop)
		return stop;
	if (x != SQLITE_DONE && x != SQLITE_ROW)
		return evs_fail(s, x, "reading events");
	return n;
}

static void row_alert(sqlite3_stmt *st, struct evstore_alert *a)
{
	snprintf(a->id, sizeof(a->id), "%s", col(st, 0));
	a->ns = (uint64_t)sqlite3_column_int64(st, 1);
	snprintf(a->resource, sizeof(a->resource), "%s", col(st, 2));
	a->score = sqlite3_column_int(st, 3);
	a->json = col(st, 4);
}

int evstore_each_alert(struct evstore *s, const char *resource_key,
		       uint64_t since, uint64_t until,
		       int (*fn)(void *ctx, const struct evstore_alert *a),
		       void *ctx)
{
	struct evstore_alert a;
	sqlite3_stmt *st;
	int r, n = 0, stop = 0;

	r = sqlite3_prepare_v2(s->db,
			       "SELECT id, ns, res, score, json FROM alerts "
			       "WHERE (?1 IS NULL OR res = ?1) AND ns >= ?2 AND "
			       "ns <= ?3 ORDER BY ns, id", -1, &st, NULL);
	if (r != SQLITE_OK)
		return evs_fail(s, r, "reading alerts");
	if (resource_key)
		sqlite3_bind_text(st, 1, resource_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, clamp(since));
	sqlite3_bind_int64(st, 3, clamp(until));
	while (!stop && (r = sqlite3_step(st)) == SQLITE_ROW) {
		row_alert(st, &a);
		n++;
		stop = fn(ctx, &a);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (r != SQLITE_DONE)
		return evs_fail(s, r, "reading alerts");
	return n;
}

int evstore_get_alert(struct evstore *s, const char *id,
		      struct evstore_alert *out)
{
	sqlite3_stmt *st;
	int r, rows = 0, exact = 0;

	memset(out, 0, sizeof(*out));
	r = sqlite3_prepare_v2(s->db,
			       "SELECT id, ns, res, score, json FROM alerts "
			       "WHERE id = ?1 OR (length(?1) >= 4 AND "
			       "substr(id, 1, length(?1)) = ?1) "
			       "ORDER BY id = ?1 DESC LIMIT 2", -1, &st, NULL);
	if (r != SQLITE_OK)
		return evs_fail(s, r, "reading alerts");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows++ == 0) {
			row_alert(st, out);
			out->json = strdup(out->json);
			exact = !strcmp(out->id, id);
			if (!out->json) {
				r = SQLITE_NOMEM;
				break;
			}
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free((char *)out->json);
		out->json = NULL;
		return evs_fail(s, r, "reading alerts");
	}
	if (rows == 0)
		return -ENOENT;
	if (rows > 1 && !exact) {
		free((char *)out->json);
		out->json = NULL;
		return -EEXIST;
	}
	return 0;
}
