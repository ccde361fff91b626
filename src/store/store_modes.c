/* store_modes.c - the enforcement mode of each resource, kept in the model
 * store so that it survives an agent restart (see store.h). Invariants:
 *  - the modes table is created inside the first write's transaction, so
 *    a store that never had a mode set stays byte-for-byte what store.c
 *    made; readers treat a missing table as "no modes";
 *  - only the four known modes are written; rows holding anything else
 *    (another program's doing) are reported, never handed out;
 *  - statements are prepared per call and finalized before returning, and
 *    no transaction is left open (modes change a few times a day; the
 *    model statements' cache in store.c is not worth sharing);
 *  - failures leave a message for store_errmsg(), like store.c's. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/sqlerr.h"
#include "store/store.h"
#include "store/store_int.h"

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS modes(key TEXT PRIMARY KEY, "
	"mode TEXT NOT NULL, since_ns INT) WITHOUT ROWID";

static const char *const known_modes[] = {"learn", "monitor", "shadow",
					  "protect"};

static int mode_known(const char *m)
{
	for (size_t i = 0; i < sizeof(known_modes) / sizeof(known_modes[0]); i++)
		if (!strcmp(m, known_modes[i]))
			return 1;
	return 0;
}

static void setmsg(struct store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void setmsg(struct store *s, const char *fmt, ...)
{
	size_t cap;
	char *buf = store_errbuf(s, &cap);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* Records the failure of `what` (SQLite result rc) and returns -errno. A
 * corrupt file gets the same advice store_open() gives. */
static int fail(struct store *s, int rc, const char *what)
{
	sqlite3 *db = store_db(s);
	const char *file = sqlite3_db_filename(db, "main");
	int e = sql_errno(rc);

	if (e == -EUCLEAN)
		setmsg(s, "%s: %s: the store is corrupt: move it aside (mv %s "
		       "%s.corrupt) and restart to begin with empty models",
		       what, sqlite3_errmsg(db), file ? file : "vigil.db",
		       file ? file : "vigil.db");
	else
		setmsg(s, "%s: %s", what, sqlite3_errmsg(db));
	return e ? e : -EIO;
}

static void rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(store_db(s)))
		sqlite3_exec(store_db(s), "ROLLBACK", NULL, NULL, NULL);
}

static int check_key(struct store *s, const char *key)
{
	size_t n = key ? strnlen(key, STORE_MODE_KEY_MAX) : 0;

	if (n == 0 || n >= STORE_MODE_KEY_MAX) {
		setmsg(s, "mode of a resource: %s key", n ? "too long a" :
		       "an empty");
		return -EINVAL;
	}
	return 0;
}

/* 1 if the modes table exists, 0 if not, or -errno. */
static int have_table(struct store *s, const char *what)
{
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(store_db(s),
				   "SELECT 1 FROM sqlite_master WHERE type = "
				   "'table' AND name = 'modes'", -1, &st, NULL);

	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW || r == SQLITE_DONE) {
		sqlite3_finalize(st);
		return r == SQLITE_ROW;
	}
	r = fail(s, r, what);
	sqlite3_finalize(st);
	return r;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st,
		   const char *what)
{
	int r = sqlite3_prepare_v2(store_db(s), sql, -1, st, NULL);

	if (r != SQLITE_OK) {
		r = fail(s, r, what);
		sqlite3_finalize(*st);
		*st = NULL;
		return r;
	}
	return 0;
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

int store_mode_put(struct store *s, const char *key, const char *mode,
		   uint64_t now_ns)
{
	static const char what[] = "recording a mode";
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((rc = check_key(s, key)) < 0)
		return rc;
	if (!mode || !mode_known(mode)) {
		setmsg(s, "unknown mode '%s' (learn, monitor, shadow or "
		       "protect)", mode ? mode : "");
		return -EINVAL;
	}
	r = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (r != SQLITE_OK)
		return fail(s, r, what);
	r = sqlite3_exec(db, create_sql, NULL, NULL, NULL);
	if (r != SQLITE_OK) {
		rc = fail(s, r, what);
		goto out;
	}
	if ((rc = prepare(s, "INSERT OR REPLACE INTO modes(key, mode, "
			  "since_ns) VALUES(?1, ?2, ?3)", &st, what)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now_ns);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		rc = fail(s, r, what);
		goto out;
	}
	r = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (r != SQLITE_OK)
		rc = fail(s, r, what);
out:
	sqlite3_finalize(st);
	if (rc < 0)
		rollback(s);
	return rc;
}

int store_mode_get(struct store *s, const char *key, char *buf, size_t cap)
{
	static const char what[] = "reading a mode";
	sqlite3_stmt *st = NULL;
	const char *m;
	int rc, r;

	if (buf && cap)
		buf[0] = 0;
	if ((rc = check_key(s, key)) < 0)
		return rc;
	if ((rc = have_table(s, what)) <= 0) {
		if (rc == 0)
			setmsg(s, "no mode for '%s'", key);
		return rc < 0 ? rc : -ENOENT;
	}
	if ((rc = prepare(s, "SELECT mode FROM modes WHERE key = ?1", &st,
			  what)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		setmsg(s, "no mode for '%s'", key);
		rc = -ENOENT;
	} else if (r != SQLITE_ROW) {
		rc = fail(s, r, what);
	} else if (!mode_known(m = col_str(st, 0))) {
		setmsg(s, "the store holds an unknown mode '%.32s' for '%s' "
		       "(set it again with 'vigil mode set')", m, key);
		rc = -EINVAL;
	} else if (!buf || strlen(m) >= cap) {
		setmsg(s, "reading a mode: buffer too small");
		rc = -ERANGE;
	} else {
		memcpy(buf, m, strlen(m) + 1);
	}
	sqlite3_finalize(st);
	return rc;
}

struct mode_row {
	char *key;
	char mode[STORE_MODE_MAX];
	uint64_t since_ns;
};

int store_mode_list(struct store *s,
		    int (*fn)(void *ctx, const char *key, const char *mode,
			      uint64_t since_ns),
		    void *ctx)
{
	static const char what[] = "reading modes";
	struct mode_row *v = NULL;
	size_t n = 0, cap = 0, delivered = 0;
	sqlite3_stmt *st = NULL;
	char bad[STORE_MODE_KEY_MAX + 96] = "";
	int rc, r;

	if ((rc = have_table(s, what)) <= 0)
		return rc;
	if ((rc = prepare(s, "SELECT key, mode, since_ns FROM modes ORDER BY "
			  "key", &st, what)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = col_str(st, 0), *m = col_str(st, 1);

		if (!*key && !bad[0])
			snprintf(bad, sizeof(bad), "the store holds a mode "
				 "('%.32s') for an empty key", m);
		else if (!mode_known(m) && !bad[0])
			snprintf(bad, sizeof(bad), "the store holds an unknown "
				 "mode '%.32s' for '%.*s' (set it again with "
				 "'vigil mode set')", m, STORE_MODE_KEY_MAX - 1,
				 key);
		if (!*key || !mode_known(m))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct mode_row *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		v[n].key = strdup(key);
		snprintf(v[n].mode, sizeof(v[n].mode), "%s", m);
		v[n].since_ns = (uint64_t)sqlite3_column_int64(st, 2);
		if (!v[n++].key) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == -ENOMEM)
		setmsg(s, "%s: out of memory", what);
	else if (r != SQLITE_DONE)
		rc = fail(s, r, what);
	sqlite3_finalize(st);
	while (rc == 0 && delivered < n) {
		int f = fn(ctx, v[delivered].key, v[delivered].mode,
			   v[delivered].since_ns);

		delivered++;
		if (f)
			rc = f;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	if (rc)
		return rc;
	if (bad[0]) {
		setmsg(s, "%s", bad);
		return -EINVAL;
	}
	return (int)delivered;
}

int store_mode_delete(struct store *s, const char *key)
{
	static const char what[] = "deleting a mode";
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((rc = check_key(s, key)) < 0)
		return rc;
	if ((rc = have_table(s, what)) <= 0) {
		if (rc == 0)
			setmsg(s, "no mode for '%s'", key);
		return rc < 0 ? rc : -ENOENT;
	}
	if ((rc = prepare(s, "DELETE FROM modes WHERE key = ?1", &st,
			  what)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		rc = fail(s, r, what);
	} else if (!sqlite3_changes(store_db(s))) {
		setmsg(s, "no mode for '%s'", key);
		rc = -ENOENT;
	}
	sqlite3_finalize(st);
	return rc;
}
