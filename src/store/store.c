/* store.c - see store.h. One SQLite connection per struct store; every
 * statement used on a hot path is prepared once and cached in st[] (lazily,
 * by stmt()). Invariants:
 *  - a cached statement is reset before the function that stepped it
 *    returns, so no read cursor stays open between calls;
 *  - no transaction is open when a function returns, nor while a caller's
 *    callback runs (callbacks get rows that were copied out first), so
 *    callbacks may use the store;
 *  - every write is one transaction: a failure rolls back and leaves the
 *    database as it was, and in-memory state (dirty flags) is only changed
 *    after a successful commit;
 *  - unsigned 64-bit values are stored as SQLite's signed 64-bit integers
 *    by a two's-complement cast and read back by the reverse cast (exact).
 * SQLite result codes become negative errnos in sql_errno(); the failing
 * step's message is kept in err[] for store_errmsg(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/sqlerr.h"
#include "store/store.h"
#include "store/store_int.h"

enum {
	ST_BEGIN_W,
	ST_BEGIN_R,
	ST_COMMIT,
	ST_MODEL_PUT,
	ST_ENT_DEL,
	ST_RATE_DEL,
	ST_ENT_PUT,
	ST_RATE_PUT,
	ST_MODEL_KEYS,
	ST_MODEL_GET,
	ST_ENT_GET,
	ST_RATE_GET,
	ST_MODEL_DEL,
	ST_PEND_DEL_MODEL,
	ST_PEND_ADD,
	ST_PEND_ALL,
	ST_PEND_ONE,
	ST_PEND_DEL,
	ST_CTL_PUSH,
	ST_CTL_ALL,
	ST_CTL_DEL,
	ST_MAX,
};

static const char *const st_sql[ST_MAX] = {
	[ST_BEGIN_W] = "BEGIN IMMEDIATE",
	[ST_BEGIN_R] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_MODEL_PUT] =
		"INSERT OR REPLACE INTO models(key, kind, state, reason, "
		"parent, created_ns, since_ns, last_new_ns, last_seen_ns, "
		"learn_min_ns, learn_settle_ns) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_ENT_DEL] = "DELETE FROM entries WHERE model = ?1",
	[ST_RATE_DEL] = "DELETE FROM rates WHERE model = ?1",
	[ST_ENT_PUT] =
		"INSERT INTO entries(model, dim, item, first_ns, last_ns, "
		"hits, hours, weeks_seen, last_week, approved, first_by, "
		"first_proc) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_RATE_PUT] = "INSERT INTO rates(model, rate, how, max) "
			"VALUES(?1, ?2, ?3, ?4)",
	[ST_MODEL_KEYS] = "SELECT key FROM models ORDER BY key",
	[ST_MODEL_GET] =
		"SELECT kind, state, reason, parent, created_ns, since_ns, "
		"last_new_ns, last_seen_ns, learn_min_ns, learn_settle_ns "
		"FROM models WHERE key = ?1",
	[ST_ENT_GET] =
		"SELECT dim, item, first_ns, last_ns, hits, hours, "
		"weeks_seen, last_week, approved, first_by, first_proc "
		"FROM entries WHERE model = ?1 ORDER BY first_ns, dim, item",
	[ST_RATE_GET] = "SELECT rate, how, max FROM rates WHERE model = ?1",
	[ST_MODEL_DEL] = "DELETE FROM models WHERE key = ?1",
	[ST_PEND_DEL_MODEL] = "DELETE FROM pending WHERE model = ?1",
	[ST_PEND_ADD] =
		"INSERT INTO pending(model, dim, item, first_ns, hits, reason) "
		"VALUES(?1, ?2, ?3, ?4, 1, ?5) "
		"ON CONFLICT(model, dim, item) DO UPDATE SET hits = hits + 1",
	[ST_PEND_ALL] = "SELECT model, dim, item, first_ns, hits, reason "
			"FROM pending ORDER BY model, dim, item",
	[ST_PEND_ONE] = "SELECT model, dim, item, first_ns, hits, reason "
			"FROM pending WHERE model = ?1 ORDER BY dim, item",
	[ST_PEND_DEL] =
		"DELETE FROM pending WHERE model = ?1 AND dim = ?2 AND item = ?3",
	[ST_CTL_PUSH] = "INSERT INTO control(model, cmd, arg, created_ns) "
			"VALUES(?1, ?2, ?3, ?4)",
	[ST_CTL_ALL] = "SELECT id, model, cmd, arg FROM control ORDER BY id",
	[ST_CTL_DEL] = "DELETE FROM control WHERE id <= ?1",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS models(key TEXT PRIMARY KEY, kind TEXT, "
	"state TEXT, reason TEXT, parent TEXT, created_ns INT, since_ns INT, "
	"last_new_ns INT, last_seen_ns INT, learn_min_ns INT, "
	"learn_settle_ns INT);"
	"CREATE TABLE IF NOT EXISTS entries(model TEXT, dim TEXT, item TEXT, "
	"first_ns INT, last_ns INT, hits INT, hours BLOB, weeks_seen INT, "
	"last_week INT, approved INT, first_by TEXT, first_proc TEXT, "
	"PRIMARY KEY(model, dim, item)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS rates(model TEXT, rate INT, how INT, "
	"max INT, PRIMARY KEY(model, rate, how)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS pending(model TEXT, dim TEXT, item TEXT, "
	"first_ns INT, hits INT, reason TEXT, PRIMARY KEY(model, dim, item)) "
	"WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS control(id INTEGER PRIMARY KEY, "
	"model TEXT, cmd TEXT, arg TEXT, created_ns INT);";

struct store {
	sqlite3 *db;
	int lock_fd;
	char dir[PATH_MAX];
	char path[PATH_MAX];
	char err[PATH_MAX + 512];
	sqlite3_stmt *st[ST_MAX];
	const void **scratch; /* entries or models being saved, sorted */
	size_t scratch_n, scratch_cap;
	int dim_order[DIM_MAX]; /* dimensions by name (primary-key order) */
};

/* Records the failure of `what` with SQLite's message; returns -errno. */
static int fail(struct store *s, int rc, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what,
		 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	rc = sql_errno(rc);
	return rc ? rc : -EIO;
}

static sqlite3_stmt *stmt(struct store *s, int which, int *rc)
{
	if (!s->st[which]) {
		int r = sqlite3_prepare_v3(s->db, st_sql[which], -1,
					   SQLITE_PREPARE_PERSISTENT,
					   &s->st[which], NULL);

		if (r != SQLITE_OK) {
			*rc = fail(s, r, "preparing a statement");
			s->st[which] = NULL;
			return NULL;
		}
	}
	return s->st[which];
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	return (uint64_t)sqlite3_column_int64(st, i);
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Steps a statement that returns no rows, then resets it. */
static int run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return fail(s, r, what);
	return 0;
}

static int run_id(struct store *s, int which, const char *what)
{
	int rc = 0;
	sqlite3_stmt *st = stmt(s, which, &rc);

	return st ? run(s, st, what) : rc;
}

static void rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int commit(struct store *s)
{
	int rc = run_id(s, ST_COMMIT, "committing");

	if (rc < 0)
		rollback(s);
	return rc;
}

const char *store_errmsg(const struct store *s)
{
	return s->err;
}

struct sqlite3 *store_db(struct store *s)
{
	return s->db;
}

char *store_errbuf(struct store *s, size_t *cap)
{
	*cap = sizeof(s->err);
	return s->err;
}

/* ---- open / close ---------------------------------------------------- */

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

/* Runs a pragma that returns one text/integer row; copies its value. */
static int pragma_row(struct store *s, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (r == SQLITE_OK) {
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			snprintf(out, len, "%s", col_str(st, 0));
			r = SQLITE_OK;
		} else if (r == SQLITE_DONE) {
			snprintf(out, len, "%s", "");
			r = SQLITE_OK;
		}
	}
	if (r != SQLITE_OK)
		fail(s, r, sql);
	sqlite3_finalize(st);
	return r;
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

/* Keeps the first problem of a quick_check report, on one line. */
static void one_line(char *buf)
{
	static const char hdr[] = "*** in database main ***\n";
	size_t n = strlen(hdr);

	if (!strncmp(buf, hdr, n))
		memmove(buf, buf + n, strlen(buf + n) + 1);
	buf[strcspn(buf, "\n")] = 0;
}

/* The explanation for a database that cannot be read. */
static void corrupt_msg(struct store *s, int r, const char *detail, char *err,
			size_t errlen)
{
	const char *p = s->path;

	if ((r & 0xff) == SQLITE_NOTADB)
		seterr(err, errlen,
		       "store '%s' is not an SQLite database or is corrupt "
		       "(%s): move it aside (mv %s %s.corrupt) and restart to "
		       "begin with empty models", p, detail, p, p);
	else
		seterr(err, errlen,
		       "store '%s' is corrupt (%s): move it aside (mv %s "
		       "%s.corrupt) and restart to begin with empty models",
		       p, detail, p, p);
}

/* Checks and (when new) creates the schema; 0 or -errno with err set. */
static int open_check(struct store *s, char *err, size_t errlen)
{
	char buf[256];
	long ver;
	int r;

	r = pragma_row(s, "PRAGMA user_version", buf, sizeof(buf));
	if (r != SQLITE_OK)
		goto sqlfail;
	ver = strtol(buf, NULL, 10);
	if (ver > STORE_SCHEMA_VERSION) {
		seterr(err, errlen,
		       "store '%s' has schema version %ld, newer than this "
		       "vigil supports (%d): run a newer vigil, or move it "
		       "aside (mv %s %s.new) to begin with empty models",
		       s->path, ver, STORE_SCHEMA_VERSION, s->path, s->path);
		return -EPROTO;
	}
	/* quick_check returns "ok" or one row per problem */
	r = pragma_row(s, "PRAGMA quick_check", buf, sizeof(buf));
	if (r != SQLITE_OK)
		goto sqlfail;
	if (strcmp(buf, "ok")) {
		one_line(buf);
		corrupt_msg(s, SQLITE_CORRUPT, buf, err, errlen);
		return -EUCLEAN;
	}
	r = pragma_row(s, "PRAGMA journal_mode=WAL", buf, sizeof(buf));
	if (r != SQLITE_OK)
		goto sqlfail;
	r = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (r != SQLITE_OK)
		goto sqlfail;
	if (ver == STORE_SCHEMA_VERSION)
		return 0;
	/* new database: create the schema, unless another process just did */
	r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL);
	if (r == SQLITE_OK)
		r = sqlite3_exec(s->db, "PRAGMA user_version = 1", NULL, NULL,
				 NULL);
	if (r == SQLITE_OK)
		r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (r != SQLITE_OK) {
		fail(s, r, "creating the schema");
		rollback(s);
		goto sqlfail;
	}
	return 0;
sqlfail:
	if ((r & 0xff) == SQLITE_CORRUPT || (r & 0xff) == SQLITE_NOTADB) {
		corrupt_msg(s, r, sqlite3_errmsg(s->db), err, errlen);
		return -EUCLEAN;
	}
	seterr(err, errlen, "cannot open store '%s': %s", s->path,
	       sqlite3_errmsg(s->db));
	return sql_errno(r) ? sql_errno(r) : -EIO;
}

struct store *store_open(const char *dir, int create, char *err, size_t errlen)
{
	struct store *s;
	struct stat sb;
	int rc, r, flags = SQLITE_OPEN_READWRITE;

	seterr(err, errlen, "%s", "");
	if (!dir || !*dir) {
		seterr(err, errlen, "empty store directory");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->lock_fd = -1;
	for (int i = 0; i < DIM_MAX; i++) { /* insertion sort by name */
		int k = i;

		while (k > 0 && strcmp(model_dim_name((enum model_dim)i),
				       model_dim_name((enum model_dim)
						      s->dim_order[k - 1])) < 0) {
			s->dim_order[k] = s->dim_order[k - 1];
			k--;
		}
		s->dim_order[k] = i;
	}
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
		    sizeof(s->dir) ||
	    (size_t)snprintf(s->path, sizeof(s->path), "%s/%s", dir,
			     STORE_DB_NAME) >= sizeof(s->path)) {
		seterr(err, errlen, "store directory '%s' is too long", dir);
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (create) {
		rc = mkdir_p(dir);
		if (rc < 0) {
			seterr(err, errlen, "cannot create store directory "
			       "'%s': %s", dir, strerror(-rc));
			goto out;
		}
		flags |= SQLITE_OPEN_CREATE;
	} else if (stat(s->path, &sb) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			seterr(err, errlen, "no store at '%s' (the agent "
			       "creates it when it first runs)", s->path);
		else
			seterr(err, errlen, "cannot open store '%s': %s",
			       s->path, strerror(-rc));
		goto out;
	}
	r = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (r != SQLITE_OK) {
		rc = access(s->path, R_OK | W_OK) < 0 && errno == EACCES ?
			     -EACCES :
			     sql_errno(r);
		if (rc == 0)
			rc = -EIO;
		seterr(err, errlen, "cannot open store '%s': %s", s->path,
		       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = open_check(s, err, errlen);
out:
	if (rc < 0) {
		store_close(s);
		errno = -rc;
		return NULL;
	}
	s->err[0] = 0;
	return s;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	free(s->scratch);
	if (s->db)
		sqlite3_close_v2(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

/* ---- models ---------------------------------------------------------- */

struct put_ctx {
	struct store *s;
	sqlite3_stmt *st;
	const char *key, *dim;
	int rc;
};

static int put_entry(void *vctx, const struct model_entry *e)
{
	struct put_ctx *c = vctx;
	sqlite3_stmt *st = c->st;

	bind_str(st, 1, c->key);
	bind_str(st, 2, c->dim);
	bind_str(st, 3, e->item);
	bind_u64(st, 4, e->first_ns);
	bind_u64(st, 5, e->last_ns);
	bind_u64(st, 6, e->hits);
	sqlite3_bind_blob(st, 7, e->hours, sizeof(e->hours), SQLITE_STATIC);
	sqlite3_bind_int(st, 8, e->weeks_seen);
	sqlite3_bind_int(st, 9, e->last_week);
	sqlite3_bind_int(st, 10, e->approved);
	sqlite3_bind_text(st, 11, e->first_by,
			  (int)strnlen(e->first_by, sizeof(e->first_by)),
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 12, e->first_proc,
			  (int)strnlen(e->first_proc, sizeof(e->first_proc)),
			  SQLITE_STATIC);
	c->rc = run(c->s, st, "writing an entry");
	return c->rc < 0;
}

static int scratch_reserve(struct store *s, size_t n)
{
	const void **nv;

	if (n <= s->scratch_cap)
		return 0;
	nv = realloc(s->scratch, n * sizeof(*nv));
	if (!nv) {
		snprintf(s->err, sizeof(s->err), "saving models: out of memory");
		return -ENOMEM;
	}
	s->scratch = nv;
	s->scratch_cap = n;
	return 0;
}

static int collect_entry(void *ctx, const struct model_entry *e)
{
	struct store *s = ctx;

	s->scratch[s->scratch_n++] = e;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct model_entry *x = *(const struct model_entry *const *)a;
	const struct model_entry *y = *(const struct model_entry *const *)b;

	return strcmp(x->item, y->item);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(model_key(*(const struct model *const *)a),
		      model_key(*(const struct model *const *)b));
}

static int put_model(struct store *s, const struct model *m)
{
	const char *key = model_key(m);
	uint64_t lmin, lsettle;
	sqlite3_stmt *st;
	struct put_ctx c = {.s = s, .key = key};
	int rc = 0;

	if (!(st = stmt(s, ST_MODEL_PUT, &rc)))
		return rc;
	model_learning(m, &lmin, &lsettle);
	bind_str(st, 1, key);
	bind_str(st, 2, model_kind_name(model_kind_of(m)));
	bind_str(st, 3, model_state_name(model_state_of(m)));
	bind_str(st, 4, model_reason(m));
	bind_str(st, 5, model_parent(m));
	bind_u64(st, 6, model_created_ns(m));
	bind_u64(st, 7, model_state_since_ns(m));
	bind_u64(st, 8, model_last_new_ns(m));
	bind_u64(st, 9, model_last_seen_ns(m));
	bind_u64(st, 10, lmin);
	bind_u64(st, 11, lsettle);
	if ((rc = run(s, st, "writing a model")) < 0)
		return rc;
	for (int w = ST_ENT_DEL; w <= ST_RATE_DEL; w++) {
		if (!(st = stmt(s, w, &rc)))
			return rc;
		bind_str(st, 1, key);
		if ((rc = run(s, st, "deleting old rows")) < 0)
			return rc;
	}
	if (!(c.st = stmt(s, ST_ENT_PUT, &rc)))
		return rc;
	/* in primary-key order: B-tree inserts then touch each page once */
	for (int i = 0; i < DIM_MAX; i++) {
		enum model_dim d = (enum model_dim)s->dim_order[i];
		size_t n = model_count(m, d);

		if (!n)
			continue;
		if ((rc = scratch_reserve(s, n)) < 0)
			return rc;
		c.dim = model_dim_name(d);
		s->scratch_n = 0;
		model_each(m, d, collect_entry, s);
		qsort(s->scratch, s->scratch_n, sizeof(*s->scratch), cmp_item);
		for (size_t k = 0; k < s->scratch_n; k++)
			if (put_entry(&c, s->scratch[k]))
				return c.rc;
	}
	if (!(st = stmt(s, ST_RATE_PUT, &rc)))
		return rc;
	for (int r = 0; r < RATE_MAX; r++) {
		for (int h = 0; h < HOURS_PER_WEEK; h++) {
			uint32_t max = model_rate_max(m, (enum model_rate)r, h);

			if (!max)
				continue;
			bind_str(st, 1, key);
			sqlite3_bind_int(st, 2, r);
			sqlite3_bind_int(st, 3, h);
			sqlite3_bind_int64(st, 4, max);
			if ((rc = run(s, st, "writing a rate")) < 0)
				return rc;
		}
	}
	return 0;
}

int store_save_models(struct store *s, struct model **models, size_t n)
{
	struct model **dirty;
	int rc, count = 0;

	for (size_t i = 0; i < n; i++)
		count += models[i] && model_dirty(models[i]);
	if (!count)
		return 0;
	/* models in key order too (see put_model) */
	dirty = malloc((size_t)count * sizeof(*dirty));
	if (!dirty) {
		snprintf(s->err, sizeof(s->err), "saving models: out of memory");
		return -ENOMEM;
	}
	count = 0;
	for (size_t i = 0; i < n; i++)
		if (models[i] && model_dirty(models[i]))
			dirty[count++] = models[i];
	qsort(dirty, (size_t)count, sizeof(*dirty), cmp_key);
	if ((rc = run_id(s, ST_BEGIN_W, "starting a write")) < 0)
		goto out;
	for (int i = 0; i < count; i++) {
		rc = put_model(s, dirty[i]);
		if (rc < 0) {
			rollback(s);
			goto out;
		}
	}
	if ((rc = commit(s)) < 0)
		goto out;
	for (int i = 0; i < count; i++)
		model_clear_dirty(dirty[i]);
	rc = count;
out:
	free(dirty);
	return rc;
}

static int load_entries(struct store *s, struct model *m, const char *key)
{
	int rc = 0, r;
	sqlite3_stmt *st = stmt(s, ST_ENT_GET, &rc);

	if (!st)
		return rc;
	bind_str(st, 1, key);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct model_entry e;
		int d = model_dim_parse(col_str(st, 0));
		const void *hours = sqlite3_column_blob(st, 5);
		size_t hlen = (size_t)sqlite3_column_bytes(st, 5);

		if (d < 0)
			continue; /* a dimension this build does not know */
		memset(&e, 0, sizeof(e));
		e.item = col_str(st, 1);
		e.first_ns = col_u64(st, 2);
		e.last_ns = col_u64(st, 3);
		e.hits = col_u64(st, 4);
		if (hours)
			memcpy(e.hours, hours,
			       hlen < sizeof(e.hours) ? hlen : sizeof(e.hours));
		e.weeks_seen = (uint16_t)sqlite3_column_int(st, 6);
		e.last_week = (uint16_t)sqlite3_column_int(st, 7);
		e.approved = (uint8_t)(sqlite3_column_int(st, 8) != 0);
		snprintf(e.first_by, sizeof(e.first_by), "%s", col_str(st, 9));
		snprintf(e.first_proc, sizeof(e.first_proc), "%s",
			 col_str(st, 10));
		rc = model_restore(m, (enum model_dim)d, &e);
		if (rc == -ENOMEM) {
			sqlite3_reset(st);
			snprintf(s->err, sizeof(s->err), "loading model '%s': "
				 "out of memory", key);
			return rc;
		}
		rc = 0; /* -ENOSPC: over a (smaller) cap, keep the first */
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : fail(s, r, "reading entries");
}

static int load_rates(struct store *s, struct model *m, const char *key)
{
	int rc = 0, r;
	sqlite3_stmt *st = stmt(s, ST_RATE_GET, &rc);

	if (!st)
		return rc;
	bind_str(st, 1, key);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 max = sqlite3_column_int64(st, 2);

		model_rate_restore(m, (enum model_rate)sqlite3_column_int(st, 0),
				   sqlite3_column_int(st, 1),
				   max < 0 ? 0 :
				   max > UINT32_MAX ? UINT32_MAX : (uint32_t)max);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : fail(s, r, "reading rates");
}

/* Builds the model `key` inside a read transaction; 0, -ENOENT, -errno. */
static int load_one(struct store *s, const char *key, struct model **out)
{
	struct model *m = NULL;
	sqlite3_stmt *st;
	uint64_t t[6];
	int rc = 0, r, kind, state;

	*out = NULL;
	if (!(st = stmt(s, ST_MODEL_GET, &rc)))
		return rc;
	if ((rc = run_id(s, ST_BEGIN_R, "starting a read")) < 0)
		return rc;
	bind_str(st, 1, key);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		rollback(s);
		if (r == SQLITE_DONE) {
			snprintf(s->err, sizeof(s->err), "no model '%s'", key);
			return -ENOENT;
		}
		return fail(s, r, "reading a model");
	}
	kind = model_kind_parse(col_str(st, 0));
	state = model_state_parse(col_str(st, 1));
	if (kind < 0 || state < 0) {
		snprintf(s->err, sizeof(s->err),
			 "model '%s' in the store has unknown %s '%s'", key,
			 kind < 0 ? "kind" : "state",
			 col_str(st, kind < 0 ? 0 : 1));
		rc = -EINVAL;
		goto fail;
	}
	for (int i = 0; i < 6; i++)
		t[i] = col_u64(st, 4 + i);
	m = model_new((enum model_kind)kind, key, t[0]);
	if (!m) {
		snprintf(s->err, sizeof(s->err), "loading model '%s': out of "
			 "memory", key);
		rc = -ENOMEM;
		goto fail;
	}
	model_set_state(m, (enum model_state)state, t[1], col_str(st, 2));
	model_set_parent(m, col_str(st, 3));
	model_set_learning(m, t[4], t[5]);
	sqlite3_reset(st);
	if ((rc = load_entries(s, m, key)) < 0 ||
	    (rc = load_rates(s, m, key)) < 0)
		goto fail;
	if ((rc = commit(s)) < 0)
		goto fail;
	/* last: model_set_state() and model_restore() move the times */
	model_restore_times(m, t[0], t[1], t[2], t[3]);
	model_clear_dirty(m);
	*out = m;
	return 0;
fail:
	sqlite3_reset(st);
	rollback(s);
	model_free(m);
	return rc;
}

struct keys {
	char **v;
	size_t n, cap;
};

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int keys_add(struct keys *k, const char *key)
{
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 64;
		char **nv = realloc(k->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		k->v = nv;
		k->cap = nc;
	}
	if (!(k->v[k->n] = strdup(key)))
		return -ENOMEM;
	k->n++;
	return 0;
}

int store_load_models(struct store *s, int (*fn)(void *ctx, struct model *m),
		      void *ctx)
{
	struct keys k = {0};
	sqlite3_stmt *st;
	int rc = 0, r, count = 0;

	if (!(st = stmt(s, ST_MODEL_KEYS, &rc)))
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = keys_add(&k, col_str(st, 0))) < 0)
			break;
	sqlite3_reset(st);
	if (rc < 0) {
		snprintf(s->err, sizeof(s->err), "listing models: out of "
			 "memory");
		goto out;
	}
	if (r != SQLITE_DONE) {
		rc = fail(s, r, "listing models");
		goto out;
	}
	for (size_t i = 0; i < k.n; i++) {
		struct model *m;

		rc = load_one(s, k.v[i], &m);
		if (rc == -ENOENT)
			continue; /* deleted since the listing */
		if (rc < 0)
			goto out;
		count++;
		if ((rc = fn(ctx, m)) < 0)
			goto out;
	}
	rc = count;
out:
	keys_free(&k);
	return rc;
}

struct model *store_load_model(struct store *s, const char *key)
{
	struct model *m;
	int rc = load_one(s, key, &m);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return m;
}

int store_delete_model(struct store *s, const char *key)
{
	static const int del[] = {ST_MODEL_DEL, ST_ENT_DEL, ST_RATE_DEL,
				  ST_PEND_DEL_MODEL};
	sqlite3_stmt *st;
	int rc = 0, changes = 0;

	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++)
		if (!stmt(s, del[i], &rc))
			return rc;
	if ((rc = run_id(s, ST_BEGIN_W, "starting a write")) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++) {
		st = s->st[del[i]];
		bind_str(st, 1, key);
		if ((rc = run(s, st, "deleting a model")) < 0) {
			rollback(s);
			return rc;
		}
		changes += sqlite3_changes(s->db);
	}
	if ((rc = commit(s)) < 0)
		return rc;
	return changes ? 0 : -ENOENT;
}

/* ---- pending --------------------------------------------------------- */

int store_pending_add(struct store *s, const char *model, const char *dim,
		      const char *item, uint64_t now_ns, const char *reason)
{
	int rc = 0;
	sqlite3_stmt *st = stmt(s, ST_PEND_ADD, &rc);

	if (!st)
		return rc;
	bind_str(st, 1, model);
	bind_str(st, 2, dim);
	bind_str(st, 3, item);
	bind_u64(st, 4, now_ns);
	bind_str(st, 5, reason);
	return run(s, st, "recording a pending item");
}

struct pend_row {
	char *model, *dim, *item, *reason;
	uint64_t first_ns, hits;
};

int store_pending_each(struct store *s, const char *model,
		       int (*fn)(void *ctx, const char *model, const char *dim,
				 const char *item, uint64_t first_ns,
				 uint64_t hits, const char *reason),
		       void *ctx)
{
	struct pend_row *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc = 0, r;

	if (!(st = stmt(s, model ? ST_PEND_ONE : ST_PEND_ALL, &rc)))
		return rc;
	if (model)
		bind_str(st, 1, model);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pend_row *p;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct pend_row *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		p = &v[n];
		p->model = strdup(col_str(st, 0));
		p->dim = strdup(col_str(st, 1));
		p->item = strdup(col_str(st, 2));
		p->reason = strdup(col_str(st, 5));
		p->first_ns = col_u64(st, 3);
		p->hits = col_u64(st, 4);
		n++;
		if (!p->model || !p->dim || !p->item || !p->reason) {
			rc = -ENOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc < 0)
		snprintf(s->err, sizeof(s->err), "reading pending items: out "
			 "of memory");
	else if (r != SQLITE_DONE)
		rc = fail(s, r, "reading pending items");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fn(ctx, v[i].model, v[i].dim, v[i].item, v[i].first_ns,
			v[i].hits, v[i].reason);
	for (size_t i = 0; i < n; i++) {
		free(v[i].model);
		free(v[i].dim);
		free(v[i].item);
		free(v[i].reason);
	}
	free(v);
	return rc ? rc : (int)n;
}

int store_pending_remove(struct store *s, const char *model, const char *dim,
			 const char *item)
{
	int rc = 0;
	sqlite3_stmt *st = stmt(s, ST_PEND_DEL, &rc);

	if (!st)
		return rc;
	bind_str(st, 1, model);
	bind_str(st, 2, dim);
	bind_str(st, 3, item);
	if ((rc = run(s, st, "removing a pending item")) < 0)
		return rc;
	return sqlite3_changes(s->db) ? 0 : -ENOENT;
}

/* ---- control queue --------------------------------------------------- */

int store_ctl_push(struct store *s, const char *model, const char *cmd,
		   const char *arg, uint64_t now_ns)
{
	int rc = 0;
	sqlite3_stmt *st = stmt(s, ST_CTL_PUSH, &rc);

	if (!st)
		return rc;
	bind_str(st, 1, model);
	bind_str(st, 2, cmd);
	bind_str(st, 3, arg);
	bind_u64(st, 4, now_ns);
	return run(s, st, "queueing a command");
}

struct ctl_row {
	sqlite3_int64 id;
	char *model, *cmd, *arg;
};

int store_ctl_take(struct store *s,
		   int (*fn)(void *ctx, const char *model, const char *cmd,
			     const char *arg),
		   void *ctx)
{
	struct ctl_row *v = NULL;
	size_t n = 0, cap = 0, taken = 0;
	sqlite3_stmt *st;
	int rc = 0, r;

	if (!(st = stmt(s, ST_CTL_ALL, &rc)) || !stmt(s, ST_CTL_DEL, &rc))
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_row *p;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct ctl_row *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		p = &v[n++];
		p->id = sqlite3_column_int64(st, 0);
		p->model = strdup(col_str(st, 1));
		p->cmd = strdup(col_str(st, 2));
		p->arg = strdup(col_str(st, 3));
		if (!p->model || !p->cmd || !p->arg) {
			rc = -ENOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc < 0)
		snprintf(s->err, sizeof(s->err), "reading commands: out of "
			 "memory");
	else if (r != SQLITE_DONE)
		rc = fail(s, r, "reading commands");
	while (rc == 0 && taken < n) {
		int f = fn(ctx, v[taken].model, v[taken].cmd, v[taken].arg);

		taken++;
		if (f < 0)
			rc = f;
	}
	if (taken) {
		int d;

		st = s->st[ST_CTL_DEL];
		sqlite3_bind_int64(st, 1, v[taken - 1].id);
		d = run_id(s, ST_BEGIN_W, "starting a write");
		if (d == 0)
			d = run(s, st, "deleting taken commands");
		d = d < 0 ? (rollback(s), d) : commit(s);
		if (rc == 0)
			rc = d;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].model);
		free(v[i].cmd);
		free(v[i].arg);
	}
	free(v);
	return rc ? rc : (int)taken;
}

/* ---- agent lock ------------------------------------------------------ */

int store_lock_agent(struct store *s)
{
	char path[PATH_MAX + 16], pid[32];
	int fd, n;

	if (s->lock_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_LOCK_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;

		snprintf(s->err, sizeof(s->err), "cannot open '%s': %s", path,
			 strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? EBUSY : errno;

		snprintf(s->err, sizeof(s->err), "%s '%s'",
			 e == EBUSY ? "another agent holds" : "cannot lock",
			 path);
		close(fd);
		return -e;
	}
	/* the holder's pid, for people; the lock itself is the flock */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) != n) {
		/* informational only: the lock is held all the same */
	}
	s->lock_fd = fd;
	return 0;
}

int store_agent_running(const char *dir)
{
	char path[PATH_MAX + 16];
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
			     STORE_LOCK_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		rc = errno == EWOULDBLOCK ? 1 : -errno;
	else
		flock(fd, LOCK_UN);
	close(fd);
	return rc;
}
