/* evstore_retain.c - the recorder's retention (by age, then size per
 * resource and overall, oldest chunks first, in one transaction), giving
 * free pages back (incremental vacuum), and the recovery at open of chunks
 * a crash left open.
 *
 * Invariants: a chunk and its tails are deleted together; a failed
 * retention rolls back and changes nothing (it is retried at the next
 * pass); resource rows without chunks go, and cached resource ids are
 * invalidated (res_epoch) whenever they may have. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store/evstore_int.h"

struct idlist {
	int64_t *v;
	size_t n, cap;
};

static int ids_push(struct idlist *l, int64_t id)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 256;
		int64_t *nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = id;
	return 0;
}

/* Collects the first chunks of query sql (rows: id, bytes; ?1 bound to
 * bind1 when >= 0) until `excess` bytes are covered. */
static int pick(struct evstore *s, const char *sql, int64_t bind1,
		uint64_t excess, struct idlist *l)
{
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	uint64_t got = 0;

	if (r != SQLITE_OK)
		return evs_fail(s, r, "retention");
	if (bind1 >= 0)
		sqlite3_bind_int64(st, 1, bind1);
	while (got < excess && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (ids_push(l, sqlite3_column_int64(st, 0)) < 0) {
			r = SQLITE_NOMEM;
			break;
		}
		got += (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : evs_fail(s, r, "retention");
}

static int over_limit(struct evstore *s, struct idlist *l)
{
	sqlite3_stmt *st;
	int r, rc = 0;

	if (s->o.max_resource_bytes != EVSTORE_NOLIMIT) {
		r = sqlite3_prepare_v2(s->db, "SELECT res, sum(bytes) FROM "
				       "chunks GROUP BY res HAVING sum(bytes) > ?1",
				       -1, &st, NULL);
		if (r != SQLITE_OK)
			return evs_fail(s, r, "retention");
		sqlite3_bind_int64(st, 1, (sqlite3_int64)s->o.max_resource_bytes);
		while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
			rc = pick(s, "SELECT id, bytes FROM chunks WHERE res = ?1 "
				  "ORDER BY first_ns, id",
				  sqlite3_column_int64(st, 0),
				  (uint64_t)sqlite3_column_int64(st, 1) -
					  s->o.max_resource_bytes, l);
		sqlite3_finalize(st);
		if (rc < 0)
			return rc;
	}
	if (s->o.max_bytes != EVSTORE_NOLIMIT) {
		uint64_t total = 0, gone = 0;

		r = sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(bytes), 0) "
				       "FROM chunks", -1, &st, NULL);
		if (r != SQLITE_OK)
			return evs_fail(s, r, "retention");
		if (sqlite3_step(st) == SQLITE_ROW)
			total = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (l->n) { /* already chosen per resource */
			r = sqlite3_prepare_v2(s->db, "SELECT bytes FROM chunks "
					       "WHERE id = ?1", -1, &st, NULL);
			if (r != SQLITE_OK)
				return evs_fail(s, r, "retention");
			for (size_t i = 0; i < l->n; i++) {
				sqlite3_bind_int64(st, 1, l->v[i]);
				if (sqlite3_step(st) == SQLITE_ROW)
					gone += (uint64_t)sqlite3_column_int64(st, 0);
				sqlite3_reset(st);
			}
			sqlite3_finalize(st);
		}
		if (total - gone > s->o.max_bytes)
			rc = pick(s, "SELECT id, bytes FROM chunks "
				  "ORDER BY last_ns, id", -1,
				  total - gone - s->o.max_bytes, l);
	}
	return rc;
}

static int exec_count(struct evstore *s, const char *sql, int64_t arg,
		      uint64_t *count)
{
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (r != SQLITE_OK)
		return evs_fail(s, r, "retention");
	if (arg != INT64_MIN)
		sqlite3_bind_int64(st, 1, arg);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return evs_fail(s, r, "retention");
	if (count)
		*count += (uint64_t)sqlite3_changes(s->db);
	return 0;
}

/* Deletes by age, then by size per resource and overall; one transaction. */
int evs_retention(struct evstore *s, uint64_t now_wall)
{
	uint64_t rnow = now_wall > s->newest_ns ? now_wall : s->newest_ns;
	uint64_t cut = s->o.max_age_ns != EVSTORE_NOLIMIT && rnow > s->o.max_age_ns
			       ? rnow - s->o.max_age_ns : 0;
	uint64_t chunks = 0, alerts = 0;
	struct idlist l = {0};
	int rc = evs_run(s, EVS_BEGIN_W, "starting retention");

	if (rc == 0 && cut)
		rc = exec_count(s, "DELETE FROM tails WHERE chunk IN (SELECT id "
				"FROM chunks WHERE last_ns < ?1)", (int64_t)cut,
				NULL);
	if (rc == 0 && cut)
		rc = exec_count(s, "DELETE FROM chunks WHERE last_ns < ?1",
				(int64_t)cut, &chunks);
	if (rc == 0 && cut)
		rc = exec_count(s, "DELETE FROM alerts WHERE ns < ?1",
				(int64_t)cut, &alerts);
	if (rc == 0)
		rc = over_limit(s, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rc = exec_count(s, "DELETE FROM chunks WHERE id = ?1", l.v[i],
				&chunks);
		if (rc == 0)
			rc = evs_del_tails(s, l.v[i]);
	}
	if (rc == 0 && chunks) {
		s->res_epoch++; /* cached resource ids may be gone */
		rc = exec_count(s, "DELETE FROM resources WHERE NOT EXISTS "
				"(SELECT 1 FROM chunks WHERE res = resources.id)",
				INT64_MIN, NULL);
	}
	if (rc == 0)
		rc = evs_run(s, EVS_COMMIT, "committing retention");
	free(l.v);
	if (rc < 0) {
		evs_rollback(s);
		return rc;
	}
	s->stats.pruned_chunks += chunks;
	s->stats.pruned_alerts += alerts;
	evs_vacuum(s, 0);
	return 0;
}

static int64_t pragma_int(struct evstore *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void evs_vacuum(struct evstore *s, int all)
{
	int64_t fl = pragma_int(s, "PRAGMA freelist_count");
	int64_t pc = pragma_int(s, "PRAGMA page_count");

	/* free pages are reused by new chunks; give them back when many */
	if (fl > 0 && (all || fl * 4 > pc))
		sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL,
			     NULL);
}

/* After a crash: deflates every chunk left open (data NULL) from its
 * tails, in one transaction. 0 or -errno (the chunks stay readable). */
int evs_recover(struct evstore *s, uint64_t *count)
{
	sqlite3_stmt *q = NULL, *t = NULL;
	struct evchunk c;
	int r, rc;

	memset(&c, 0, sizeof(c));
	rc = evs_run(s, EVS_BEGIN_W, "recovering open chunks");
	if (rc < 0)
		return rc;
	r = sqlite3_prepare_v2(s->db, "SELECT id, raw_len FROM chunks WHERE "
			       "data IS NULL", -1, &q, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_prepare_v2(s->db, "SELECT data FROM tails WHERE "
				       "chunk = ?1 ORDER BY seq", -1, &t, NULL);
	while (r == SQLITE_OK && (r = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		sqlite3_stmt *u;
		size_t zn;

		c.len = 0;
		sqlite3_bind_int64(t, 1, id);
		while ((r = sqlite3_step(t)) == SQLITE_ROW) {
			const void *b = sqlite3_column_blob(t, 0);
			size_t n = (size_t)sqlite3_column_bytes(t, 0);

			if (c.len + n > c.cap) {
				uint8_t *nb = realloc(c.buf, c.len + n);

				if (!nb) {
					r = SQLITE_NOMEM;
					break;
				}
				c.buf = nb;
				c.cap = c.len + n;
			}
			if (n)
				memcpy(c.buf + c.len, b, n);
			c.len += n;
		}
		sqlite3_reset(t);
		if (r != SQLITE_DONE)
			break;
		r = SQLITE_OK;
		if (!c.len || evs_compress(s, c.buf, c.len, &zn) < 0)
			continue; /* nothing to do; stays readable as tails */
		if (sqlite3_prepare_v2(s->db, "UPDATE chunks SET data = ?1, "
				       "raw_len = ?2, bytes = ?3 WHERE id = ?4",
				       -1, &u, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_blob(u, 1, s->zbuf, (int)zn, SQLITE_STATIC);
		sqlite3_bind_int64(u, 2, (sqlite3_int64)c.len);
		sqlite3_bind_int64(u, 3, (sqlite3_int64)zn);
		sqlite3_bind_int64(u, 4, id);
		r = sqlite3_step(u);
		sqlite3_finalize(u);
		if (r != SQLITE_DONE)
			break;
		r = evs_del_tails(s, id) < 0 ? SQLITE_IOERR : SQLITE_OK;
		if (count)
			(*count)++;
	}
	if (r == SQLITE_DONE)
		r = SQLITE_OK;
	sqlite3_finalize(q);
	sqlite3_finalize(t);
	free(c.buf);
	if (r != SQLITE_OK) {
		rc = evs_fail(s, r, "recovering open chunks");
		evs_rollback(s);
		return rc;
	}
	rc = evs_run(s, EVS_COMMIT, "recovering open chunks");
	if (rc < 0)
		evs_rollback(s);
	return rc;
}
