/* evstore.c - see evstore.h: opening DIR/events.db (schema, pragmas, the
 * integrity check), closing, alerts, stats. Writing and retention are in
 * evstore_write.c, queries in evstore_query.c.
 *
 * Invariants: one SQLite connection per struct evstore; no transaction is
 * open when a public function returns; cached statements are reset before
 * the function that stepped them returns; unsigned 64-bit values are stored
 * as SQLite's signed integers by a two's-complement cast (exact). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/evstore_int.h"
#include "store/sqlerr.h"
#include "vigil_event.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS resources(id INTEGER PRIMARY KEY, "
	"key TEXT UNIQUE NOT NULL, kind TEXT, path TEXT, runtime TEXT, "
	"container_id TEXT, name TEXT, image TEXT, pod_name TEXT, "
	"pod_namespace TEXT, pod_uid TEXT, cg_pod_uid TEXT, unit TEXT, "
	"bundle TEXT, meta_known INT, first_ns INT, last_ns INT);"
	"CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, "
	"res INT NOT NULL, first_ns INT, last_ns INT, n INT, types INT, "
	"b2r INT, host TEXT, raw_len INT, bytes INT, data BLOB);"
	"CREATE TABLE IF NOT EXISTS tails(chunk INT, seq INT, data BLOB, "
	"PRIMARY KEY(chunk, seq));"
	"CREATE INDEX IF NOT EXISTS chunks_res ON chunks(res, first_ns);"
	"CREATE INDEX IF NOT EXISTS chunks_last ON chunks(last_ns);"
	"CREATE TABLE IF NOT EXISTS alerts(id TEXT PRIMARY KEY, ns INT, "
	"res TEXT, score INT, json TEXT);"
	"CREATE INDEX IF NOT EXISTS alerts_ns ON alerts(ns);";

static const char *const st_sql[EVS_MAX] = {
	[EVS_BEGIN_W] = "BEGIN IMMEDIATE",
	[EVS_COMMIT] = "COMMIT",
	[EVS_ROLLBACK] = "ROLLBACK",
	[EVS_RES_PUT] =
		"INSERT INTO resources(key, kind, path, runtime, container_id, "
		"name, image, pod_name, pod_namespace, pod_uid, cg_pod_uid, "
		"unit, bundle, meta_known, first_ns, last_ns) VALUES(?1, ?2, "
		"?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
		"ON CONFLICT(key) DO UPDATE SET path = excluded.path, "
		"runtime = excluded.runtime, cg_pod_uid = excluded.cg_pod_uid, "
		"unit = excluded.unit, "
		"name = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.name, name), "
		"image = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.image, image), "
		"pod_name = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.pod_name, pod_name), "
		"pod_namespace = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.pod_namespace, pod_namespace), "
		"pod_uid = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.pod_uid, pod_uid), "
		"bundle = iif(excluded.meta_known OR NOT meta_known, "
		"excluded.bundle, bundle), "
		"meta_known = max(meta_known, excluded.meta_known), "
		"first_ns = min(first_ns, excluded.first_ns), "
		"last_ns = max(last_ns, excluded.last_ns) RETURNING id",
	[EVS_CHUNK_INS] =
		"INSERT INTO chunks(res, first_ns, last_ns, n, types, b2r, "
		"host, raw_len, bytes, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		"?8, ?9, ?10)",
	[EVS_CHUNK_UPD] =
		"UPDATE chunks SET res = ?1, first_ns = ?2, last_ns = ?3, "
		"n = ?4, types = ?5, b2r = ?6, host = ?7, raw_len = ?8, "
		"bytes = ?9, data = ?10 WHERE id = ?11",
	[EVS_ALERT_PUT] = "INSERT OR REPLACE INTO alerts(id, ns, res, score, "
			  "json) VALUES(?1, ?2, ?3, ?4, ?5)",
	[EVS_TAIL_PUT] = "INSERT OR REPLACE INTO tails(chunk, seq, data) "
			 "VALUES(?1, ?2, ?3)",
	[EVS_TAIL_DEL] = "DELETE FROM tails WHERE chunk = ?1",
};

int evs_fail(struct evstore *s, int rc, const char *what)
{
	int bad = (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
	size_t n;

	snprintf(s->err, sizeof(s->err), "%.512s: %.512s", what,
		 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	n = strlen(s->err);
	if (bad)
		snprintf(s->err + n, sizeof(s->err) - n,
			 " (flight recorder '%.1200s' is damaged: move it "
			 "aside, mv %.1200s %.1200s.corrupt)", s->path, s->path,
			 s->path);
	rc = sql_errno(rc);
	return rc ? rc : -EIO;
}

uint32_t evs_class(uint16_t t)
{
	if (t < VG_OPEN)
		return 1;
	if (t < VG_CONNECT)
		return 2;
	if (t < VG_SETUID)
		return 4;
	return 8;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, i == n ? 0700 : 0755) < 0 && errno != EEXIST)
			return -errno;
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* One text row of a pragma or query into out; SQLite result code. */
static int one_row(struct evstore *s, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	out[0] = 0;
	if (r == SQLITE_OK) {
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);

			snprintf(out, len, "%s", t ? (const char *)t : "");
			r = SQLITE_OK;
		} else if (r == SQLITE_DONE) {
			r = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return r;
}

static void corrupt_msg(struct evstore *s, const char *detail, char *err,
			size_t errlen)
{
	const char *p = s->path;

	seterr(err, errlen,
	       "flight recorder '%s' is corrupt or not an SQLite database "
	       "(%s): move it aside (mv %s %s.corrupt; also its -wal and -shm "
	       "files) and restart to record into a new one, or run with "
	       "--no-record-events", p, detail, p, p);
}

static int exec_sql(struct evstore *s, const char *sql)
{
	int r = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return r == SQLITE_OK ? 0 : r;
}

/* Checks, configures and (when new) creates the schema; 0 or -errno. */
static int open_check(struct evstore *s, char *err, size_t errlen)
{
	char buf[256];
	long ver;
	int r;

	r = one_row(s, "PRAGMA user_version", buf, sizeof(buf));
	if (r != SQLITE_OK)
		goto sqlfail;
	ver = strtol(buf, NULL, 10);
	if (ver > EVSTORE_SCHEMA_VERSION) {
		seterr(err, errlen, "flight recorder '%s' has schema version "
		       "%ld, newer than this vigil supports (%d): run a newer "
		       "vigil, or move it aside (mv %s %s.new)", s->path, ver,
		       EVSTORE_SCHEMA_VERSION, s->path, s->path);
		return -EPROTO;
	}
	if (s->o.check && file_size(s->path) > EVSTORE_CHECK_MAX) {
		/* big: the header, the schema and the newest rows only (a
		 * cold quick_check reads the whole file: ~10 s per GiB) */
		r = one_row(s, ver ? "SELECT max(id) || max(last_ns) FROM chunks "
				   "UNION ALL SELECT count(*) FROM resources"
				   : "SELECT count(*) FROM sqlite_master",
			    buf, sizeof(buf));
		if (r != SQLITE_OK)
			goto sqlfail;
	} else if (s->o.check) {
		r = one_row(s, "PRAGMA quick_check", buf, sizeof(buf));
		if (r != SQLITE_OK)
			goto sqlfail;
		if (strcmp(buf, "ok")) {
			static const char hdr[] = "*** in database main ***\n";

			if (!strncmp(buf, hdr, sizeof(hdr) - 1))
				memmove(buf, buf + sizeof(hdr) - 1,
					strlen(buf + sizeof(hdr) - 1) + 1);
			buf[strcspn(buf, "\n")] = 0;
			corrupt_msg(s, buf, err, errlen);
			return -EUCLEAN;
		}
	}
	if (s->o.read_only)
		return ver == EVSTORE_SCHEMA_VERSION ? 0 : -ENOENT;
	if (ver == 0 && (r = exec_sql(s, "PRAGMA auto_vacuum=INCREMENTAL")))
		goto sqlfail;
	r = one_row(s, "PRAGMA journal_mode=WAL", buf, sizeof(buf));
	if (r == SQLITE_OK)
		r = exec_sql(s, "PRAGMA synchronous=NORMAL;"
				"PRAGMA wal_autocheckpoint=256;"
				"PRAGMA journal_size_limit=16777216");
	if (r != SQLITE_OK)
		goto sqlfail;
	if (ver == EVSTORE_SCHEMA_VERSION)
		return 0;
	r = exec_sql(s, "BEGIN IMMEDIATE");
	if (!r)
		r = exec_sql(s, schema_sql);
	if (!r)
		r = exec_sql(s, "PRAGMA user_version = 1");
	if (!r)
		r = exec_sql(s, "COMMIT");
	if (r) {
		if (!sqlite3_get_autocommit(s->db))
			exec_sql(s, "ROLLBACK");
		goto sqlfail;
	}
	return 0;
sqlfail:
	if ((r & 0xff) == SQLITE_CORRUPT || (r & 0xff) == SQLITE_NOTADB) {
		corrupt_msg(s, sqlite3_errmsg(s->db), err, errlen);
		return -EUCLEAN;
	}
	seterr(err, errlen, "cannot open flight recorder '%s': %s", s->path,
	       sqlite3_errmsg(s->db));
	return sql_errno(r) ? sql_errno(r) : -EIO;
}

static void defaults(struct evstore_opts *o)
{
	if (!o->max_age_ns)
		o->max_age_ns = EVSTORE_DEFAULT_AGE_NS;
	if (!o->max_bytes)
		o->max_bytes = EVSTORE_DEFAULT_BYTES;
	if (!o->max_resource_bytes)
		o->max_resource_bytes = EVSTORE_DEFAULT_RES_BYTES;
	if (o->max_resource_bytes > o->max_bytes)
		o->max_resource_bytes = o->max_bytes;
	if (!o->queue_events)
		o->queue_events = EVSTORE_DEFAULT_QUEUE;
	if (!o->chunk_age_ns)
		o->chunk_age_ns = EVSTORE_DEFAULT_CHUNK_AGE_NS;
}

struct evstore *evstore_open(const char *dir, const struct evstore_opts *o,
			     char *err, size_t errlen)
{
	struct evstore *s;
	struct stat sb;
	int rc = 0, r, flags;

	seterr(err, errlen, "%s", "");
	if (!dir || !*dir || !o) {
		seterr(err, errlen, "empty data directory");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->o = *o;
	defaults(&s->o);
	flags = s->o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
		    sizeof(s->dir) ||
	    (size_t)snprintf(s->path, sizeof(s->path), "%s/%s", dir,
			     EVSTORE_DB_NAME) >= sizeof(s->path)) {
		seterr(err, errlen, "data directory '%s' is too long", dir);
		rc = -ENAMETOOLONG;
		goto out;
	}
	s->res = hashmap_new(1 << 16);
	if (!s->res) {
		rc = -ENOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if (s->o.create && !s->o.read_only) {
		rc = mkdir_p(dir);
		if (rc < 0) {
			seterr(err, errlen, "cannot create data directory "
			       "'%s': %s", dir, strerror(-rc));
			goto out;
		}
		flags |= SQLITE_OPEN_CREATE;
	} else if (stat(s->path, &sb) < 0) {
		rc = -errno;
		seterr(err, errlen, rc == -ENOENT ? "no flight recorder at "
		       "'%s' (the agent, vigil run, creates it)" :
		       "cannot open flight recorder '%s': %s", s->path,
		       strerror(-rc));
		goto out;
	}
	r = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (r != SQLITE_OK) {
		rc = sql_errno(r) ? sql_errno(r) : -EIO;
		seterr(err, errlen, "cannot open flight recorder '%s': %s",
		       s->path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = open_check(s, err, errlen);
	if (rc == -ENOENT)
		seterr(err, errlen, "flight recorder '%s' is empty", s->path);
	if (rc == 0 && !s->o.read_only) {
		char buf[64];

		if (one_row(s, "SELECT max(last_ns) FROM chunks", buf,
			    sizeof(buf)) == SQLITE_OK)
			s->newest_ns = strtoull(buf, NULL, 10);
		if (deflateInit(&s->z, 6) == Z_OK)
			s->z_ok = 1;
		else
			rc = -ENOMEM;
		if (rc == 0 && s->o.create)
			evs_recover(s, &s->stats.recovered_chunks);
	}
out:
	if (rc < 0) {
		evstore_close(s);
		errno = -rc;
		return NULL;
	}
	s->err[0] = 0;
	return s;
}

const char *evstore_errmsg(const struct evstore *s)
{
	return s->err;
}

struct sqlite3 *evstore_db(struct evstore *s)
{
	return s->db;
}

const char *evstore_path(const struct evstore *s)
{
	return s->path;
}

void evstore_resource_key(const struct resource *r, char *buf, size_t cap)
{
	if (r->cg.runtime != CG_HOST)
		snprintf(buf, cap, "container:%s", r->cg.container_id);
	else if (r->cg.unit[0])
		snprintf(buf, cap, "service:%s", r->cg.unit);
	else
		snprintf(buf, cap, "host");
}

int evstore_add_alert(struct evstore *s, const char *id, uint64_t wall_ns,
		      const char *resource_key, int score, const char *json)
{
	int rc = 0, r;
	sqlite3_stmt *st = evs_stmt(s, EVS_ALERT_PUT, &rc);

	if (!st) {
		s->stats.alert_errors++;
		return rc;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)wall_ns);
	sqlite3_bind_text(st, 3, resource_key ? resource_key : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(st, 4, score);
	sqlite3_bind_text(st, 5, json, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r != SQLITE_DONE) {
		s->stats.alert_errors++;
		return evs_fail(s, r, "storing an alert");
	}
	s->stats.alerts++;
	return 0;
}

/* The cached statement `which` (prepared on first use), or NULL with *rc. */
sqlite3_stmt *evs_stmt(struct evstore *s, int which, int *rc)
{
	if (!s->st[which]) {
		int r = sqlite3_prepare_v3(s->db, st_sql[which], -1,
					   SQLITE_PREPARE_PERSISTENT,
					   &s->st[which], NULL);

		if (r != SQLITE_OK) {
			*rc = evs_fail(s, r, "preparing a statement");
			s->st[which] = NULL;
			return NULL;
		}
	}
	return s->st[which];
}

void evstore_stats(const struct evstore *s, struct evstore_stats *out)
{
	*out = s->stats;
	out->queued = s->pending;
}

void evstore_close(struct evstore *s)
{
	if (!s)
		return;
	if (s->db && !s->o.read_only && s->z_ok) {
		evstore_seal_all(s);
		evstore_flush(s, 0, 1);
		evs_vacuum(s, 1);
	}
	evs_free_chunks(s);
	for (int i = 0; i < EVS_MAX; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db) {
		if (!s->o.read_only)
			sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)",
				     NULL, NULL, NULL);
		sqlite3_close_v2(s->db);
	}
	if (s->z_ok)
		deflateEnd(&s->z);
	free(s->zbuf);
	hashmap_free(s->res, NULL, NULL);
	free(s);
}
