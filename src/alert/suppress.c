/* suppress.c - see suppress.h. The table is created on first use; at most
 * SUPPRESS_CAP rules are loaded (the newest), a cap that keeps matching a
 * cheap linear scan per alert. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "alert/suppress.h"
#include "output/event_format.h"

#define SUPPRESS_CAP 1024

struct rule {
	char *rule, *resource, *item;
	uint64_t until_ns;
};

struct suppressions {
	struct rule r[SUPPRESS_CAP];
	size_t n;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS suppressions(id INTEGER PRIMARY KEY, "
	"rule TEXT NOT NULL, resource TEXT NOT NULL, item TEXT NOT NULL, "
	"until_ns INT NOT NULL, reason TEXT NOT NULL, created_ns INT NOT NULL)";

int suppress_add(sqlite3 *db, const char *rule, const char *resource,
		 const char *item, uint64_t until_ns, const char *reason,
		 uint64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO suppressions(rule, resource, item, "
			       "until_ns, reason, created_ns) VALUES(?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, item, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)until_ns);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)now_ns);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rc;
}

void suppress_free(struct suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].rule);
		free(s->r[i].resource);
		free(s->r[i].item);
	}
	free(s);
}

struct suppressions *suppress_load(sqlite3 *db, uint64_t now_ns)
{
	struct suppressions *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;

	if (!s)
		return NULL;
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT rule, resource, item, until_ns FROM "
			       "suppressions WHERE until_ns = 0 OR until_ns > ? "
			       "ORDER BY id DESC LIMIT 1024",
			       -1, &st, NULL) != SQLITE_OK) {
		free(s);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_ns);
	while (s->n < SUPPRESS_CAP && sqlite3_step(st) == SQLITE_ROW) {
		struct rule *r = &s->r[s->n];

		r->rule = strdup((const char *)sqlite3_column_text(st, 0));
		r->resource = strdup((const char *)sqlite3_column_text(st, 1));
		r->item = strdup((const char *)sqlite3_column_text(st, 2));
		r->until_ns = (uint64_t)sqlite3_column_int64(st, 3);
		s->n++;
		if (!r->rule || !r->resource || !r->item)
			break;
	}
	sqlite3_finalize(st);
	return s;
}

int suppress_match(const struct suppressions *s, const char *rule,
		   const char *resource, const char *item, uint64_t at_ns)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct rule *r = &s->r[i];

		if (!r->rule || !r->resource || !r->item)
			continue;
		if (r->until_ns && at_ns >= r->until_ns)
			continue;
		if (fnmatch(r->rule, rule ? rule : "", 0) == 0 &&
		    fnmatch(r->resource, resource ? resource : "", 0) == 0 &&
		    fnmatch(r->item, item ? item : "", 0) == 0)
			return 1;
	}
	return 0;
}

size_t suppress_count(const struct suppressions *s)
{
	return s ? s->n : 0;
}

int suppress_print(sqlite3 *db, FILE *out, uint64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT id, rule, resource, item, until_ns, reason "
			       "FROM suppressions ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t until = (uint64_t)sqlite3_column_int64(st, 4);
		char ts[48] = "never";

		if (until)
			format_time(ts, sizeof(ts), (int64_t)until);
		fprintf(out, "%lld  rule=%s resource=%s item=%s until=%s%s  "
			     "reason: %s\n",
			(long long)sqlite3_column_int64(st, 0),
			sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
			sqlite3_column_text(st, 3), ts,
			until && until <= now_ns ? " (expired)" : "",
			sqlite3_column_text(st, 5));
		n++;
	}
	sqlite3_finalize(st);
	return n;
}
