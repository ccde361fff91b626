/* test_store.c - the SQLite store in a fresh temporary directory: models
 * round-trip with every field, only dirty models are written, deletes,
 * pending rows, the control queue's order, the agent lock across
 * processes, refusal of corrupt and newer databases, disk-full and write
 * errors without aborting, and the time to save 1,000 models x 100
 * entries (printed, not asserted). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "model/model.h"
#include "store/store.h"

#define T0 1796216400000000000ULL /* 2026-12-02T13:00:00Z */
#define SEC 1000000000ULL

static char base[64];

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", base, name);
}

static struct model *build(int i)
{
	char key[64], item[80];
	struct model *m;
	struct model_entry e;

	snprintf(key, sizeof(key), "%s:m%d", i % 3 == 0 ? "container" :
			i % 3 == 1 ? "image" : "service", i);
	m = model_new((enum model_kind)(i % 3), key, T0 + (uint64_t)i);
	if (!m)
		return NULL;
	for (int k = 0; k < 12; k++) {
		snprintf(item, sizeof(item), "/usr/bin/p%d <- \"sh\" [uid %d]",
			 k, i);
		model_learn(m, (enum model_dim)(k % DIM_MAX), item,
			    T0 + (uint64_t)k * 3600 * SEC, "web\n1", "httpd");
		model_learn(m, (enum model_dim)(k % DIM_MAX), item,
			    T0 + (uint64_t)k * 9 * 86400 * SEC + 7, "x", "y");
	}
	memset(&e, 0, sizeof(e));
	e.item = "approved \xe2\x9c\x93";
	e.first_ns = UINT64_MAX; /* past INT64_MAX: the cast must be exact */
	e.last_ns = UINT64_MAX - 1;
	e.hits = UINT64_MAX;
	memset(e.hours, 0xa5, sizeof(e.hours));
	e.weeks_seen = 65535;
	e.last_week = 4242;
	e.approved = 1;
	snprintf(e.first_by, sizeof(e.first_by), "%s", "a person");
	model_restore(m, DIM_PRIV, &e);
	model_rate_observe(m, RATE_EXEC, 0, 5);
	model_rate_observe(m, RATE_CONNECT, 167, 4294967295U);
	model_rate_observe(m, RATE_WRITE, i % 168, (uint32_t)i + 1);
	if (i % 2) {
		model_set_state(m, MODEL_ACTIVE, T0 + 7 * 86400 * SEC,
				"stable: no new 'item' for 2d");
		model_set_parent(m, "image:shop/web:1.2");
		model_set_learning(m, 3 * 86400 * SEC, 12 * 3600 * SEC);
	}
	model_restore_times(m, T0 + (uint64_t)i, T0 + 7 * 86400 * SEC + 1,
			    T0 + 3 * SEC, UINT64_MAX - 5);
	return m;
}

struct cmp {
	const struct model *other;
	enum model_dim d;
	int diffs;
};

static int cmp_entry(void *ctx, const struct model_entry *e)
{
	struct cmp *c = ctx;
	const struct model_entry *o = model_find(c->other, c->d, e->item);

	if (!o || o->first_ns != e->first_ns || o->last_ns != e->last_ns ||
	    o->hits != e->hits || memcmp(o->hours, e->hours, sizeof(e->hours)) ||
	    o->weeks_seen != e->weeks_seen || o->last_week != e->last_week ||
	    o->approved != e->approved || strcmp(o->first_by, e->first_by) ||
	    strcmp(o->first_proc, e->first_proc))
		c->diffs++;
	return 0;
}

static int same_model(const struct model *a, const struct model *b)
{
	struct cmp c = {.other = b};
	uint64_t a1, a2, b1, b2;

	if (strcmp(model_key(a), model_key(b)) ||
	    model_kind_of(a) != model_kind_of(b) ||
	    model_state_of(a) != model_state_of(b) ||
	    strcmp(model_reason(a), model_reason(b)) ||
	    strcmp(model_parent(a), model_parent(b)) ||
	    model_created_ns(a) != model_created_ns(b) ||
	    model_state_since_ns(a) != model_state_since_ns(b) ||
	    model_last_new_ns(a) != model_last_new_ns(b) ||
	    model_last_seen_ns(a) != model_last_seen_ns(b) ||
	    model_size(a) != model_size(b))
		return 0;
	model_learning(a, &a1, &a2);
	model_learning(b, &b1, &b2);
	if (a1 != b1 || a2 != b2)
		return 0;
	for (int r = 0; r < RATE_MAX; r++)
		for (int h = 0; h < HOURS_PER_WEEK; h++)
			if (model_rate_max(a, (enum model_rate)r, h) !=
			    model_rate_max(b, (enum model_rate)r, h))
				return 0;
	for (int d = 0; d < DIM_MAX; d++) {
		c.d = (enum model_dim)d;
		model_each(a, c.d, cmp_entry, &c);
	}
	return c.diffs == 0;
}

struct loaded {
	struct model *v[8];
	int n, dirty;
};

static int collect(void *ctx, struct model *m)
{
	struct loaded *l = ctx;

	l->dirty += model_dirty(m);
	if (l->n == 8) {
		model_free(m);
		return -ERANGE;
	}
	l->v[l->n++] = m;
	return 0;
}

static long long count_rows(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_models(const char *dir)
{
	char err[512];
	struct store *s = store_open(dir, 1, err, sizeof(err));
	struct model *m[5], *one;
	struct loaded l = {0};
	struct stat sb;

	CHECK(s != NULL);
	if (!s) {
		fprintf(stderr, "store_open: %s\n", err);
		return;
	}
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	CHECK_STR(store_errmsg(s), "");
	for (int i = 0; i < 5; i++)
		m[i] = build(i);
	CHECK_INT(store_save_models(s, m, 5), 5);
	for (int i = 0; i < 5; i++)
		CHECK(!model_dirty(m[i]));
	CHECK_INT(store_save_models(s, m, 5), 0); /* nothing dirty */

	CHECK_INT(store_load_models(s, collect, &l), 5);
	CHECK_INT(l.n, 5);
	CHECK_INT(l.dirty, 0);
	for (int i = 0; i < l.n; i++) {
		const struct model *o = NULL;

		for (int k = 0; k < 5; k++)
			if (!strcmp(model_key(m[k]), model_key(l.v[i])))
				o = m[k];
		CHECK(o != NULL);
		CHECK(i == 0 || strcmp(model_key(l.v[i - 1]),
				       model_key(l.v[i])) < 0); /* key order */
		CHECK(o && same_model(o, l.v[i]));
		CHECK(o && same_model(l.v[i], o));
	}

	/* a change makes one model dirty; only it is rewritten, fully */
	model_learn(m[2], DIM_DNS, "example.com", T0 + 99 * SEC, "w", "curl");
	CHECK_INT(model_forget(m[2], DIM_PROCESS, "/usr/bin/p0 <- \"sh\" "
			       "[uid 2]"), 0);
	model_rate_restore(m[2], RATE_EXEC, 0, 0);
	CHECK(model_dirty(m[2]));
	CHECK_INT(store_save_models(s, m, 5), 1);
	CHECK(!model_dirty(m[2]));
	one = store_load_model(s, model_key(m[2]));
	CHECK(one != NULL);
	CHECK(one && !model_dirty(one));
	CHECK(one && same_model(one, m[2]) && same_model(m[2], one));
	CHECK(one && model_find(one, DIM_DNS, "example.com") != NULL);
	model_free(one);
	CHECK_INT(count_rows(s, "SELECT count(*) FROM rates WHERE model = "
				"'service:m2'"), 2);

	/* unknown key */
	errno = 0;
	CHECK(store_load_model(s, "container:nope") == NULL);
	CHECK_INT(errno, ENOENT);

	/* delete takes entries, rates and pending rows with it */
	CHECK_INT(store_pending_add(s, "image:m1", "dns", "x.org", T0, "r"), 0);
	CHECK_INT(store_delete_model(s, "image:m1"), 0);
	CHECK_INT(store_delete_model(s, "image:m1"), -ENOENT);
	errno = 0;
	CHECK(store_load_model(s, "image:m1") == NULL && errno == ENOENT);
	CHECK_INT(count_rows(s, "SELECT count(*) FROM entries WHERE model = "
				"'image:m1'"), 0);
	CHECK_INT(count_rows(s, "SELECT count(*) FROM rates WHERE model = "
				"'image:m1'"), 0);
	CHECK_INT(count_rows(s, "SELECT count(*) FROM pending"), 0);
	CHECK_INT(count_rows(s, "SELECT count(*) FROM models"), 4);

	/* fn aborting: its error comes back, the model is its anyway */
	for (int i = 0; i < l.n; i++)
		model_free(l.v[i]);
	memset(&l, 0, sizeof(l));
	l.n = 8;
	CHECK_INT(store_load_models(s, collect, &l), -ERANGE);

	/* reopen: still there */
	store_close(s);
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s != NULL);
	one = s ? store_load_model(s, "service:m2") : NULL;
	CHECK(one && same_model(one, m[2]));
	model_free(one);
	store_close(s);
	for (int i = 0; i < 5; i++)
		model_free(m[i]);
}

struct pend {
	char got[8][160];
	int n, stop_at;
};

static int pend_fn(void *ctx, const char *model, const char *dim,
		   const char *item, uint64_t first_ns, uint64_t hits,
		   const char *reason)
{
	struct pend *p = ctx;

	if (p->n == p->stop_at)
		return 7;
	snprintf(p->got[p->n++], sizeof(p->got[0]), "%s|%s|%s|%llu|%llu|%s",
		 model, dim, item, (unsigned long long)(first_ns - T0),
		 (unsigned long long)hits, reason);
	return 0;
}

struct ctl {
	char got[8][128];
	int n, fail_at;
	struct store *s;
};

static int ctl_fn(void *ctx, const char *model, const char *cmd,
		  const char *arg)
{
	struct ctl *c = ctx;

	snprintf(c->got[c->n++], sizeof(c->got[0]), "%s|%s|%s", model, cmd,
		 arg);
	if (c->n == 1 && c->s) /* pushed while taking: stays for next time */
		store_ctl_push(c->s, "m9", "delete", "", T0);
	return c->n == c->fail_at ? -EINVAL : 0;
}

static void test_pending_control(const char *dir)
{
	char err[512];
	struct store *s = store_open(dir, 1, err, sizeof(err));
	struct pend p = {.stop_at = -1};
	struct ctl c = {.fail_at = -1};

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_pending_add(s, "container:b", "dns", "evil.com", T0 + 1,
				    "new during learning"), 0);
	CHECK_INT(store_pending_add(s, "container:b", "dns", "evil.com", T0 + 9,
				    "other"), 0);
	CHECK_INT(store_pending_add(s, "container:b", "args", "sh: -c \"x\"",
				    T0 + 2, NULL), 0);
	CHECK_INT(store_pending_add(s, "container:a", "dns", "a.org", T0, "r"),
		  0);
	CHECK_INT(store_pending_each(s, "container:b", pend_fn, &p), 2);
	CHECK_INT(p.n, 2);
	CHECK_STR(p.got[0], "container:b|args|sh: -c \"x\"|2|1|");
	CHECK_STR(p.got[1], "container:b|dns|evil.com|1|2|new during learning");
	p.n = 0;
	CHECK_INT(store_pending_each(s, NULL, pend_fn, &p), 3);
	CHECK_STR(p.got[0], "container:a|dns|a.org|0|1|r");
	p.n = 0;
	p.stop_at = 1;
	CHECK_INT(store_pending_each(s, NULL, pend_fn, &p), 7);
	CHECK_INT(store_pending_remove(s, "container:b", "dns", "evil.com"), 0);
	CHECK_INT(store_pending_remove(s, "container:b", "dns", "evil.com"),
		  -ENOENT);
	p.n = 0;
	p.stop_at = -1;
	CHECK_INT(store_pending_each(s, "container:b", pend_fn, &p), 1);
	CHECK_INT(store_pending_each(s, "container:zzz", pend_fn, &p), 0);

	CHECK_INT(store_ctl_take(s, ctl_fn, &c), 0);
	CHECK_INT(store_ctl_push(s, "m1", "relearn", NULL, T0), 0);
	CHECK_INT(store_ctl_push(s, "m2", "approve", "dns\tevil.com", T0), 0);
	CHECK_INT(store_ctl_push(s, "m1", "extend", "", T0), 0);
	c.s = s;
	CHECK_INT(store_ctl_take(s, ctl_fn, &c), 3);
	CHECK_INT(c.n, 3);
	CHECK_STR(c.got[0], "m1|relearn|");
	CHECK_STR(c.got[1], "m2|approve|dns\tevil.com");
	CHECK_STR(c.got[2], "m1|extend|");
	c.n = 0;
	c.s = NULL;
	CHECK_INT(store_ctl_take(s, ctl_fn, &c), 1);
	CHECK_STR(c.got[0], "m9|delete|");
	/* a failing command is taken; the rest stay */
	store_ctl_push(s, "a", "x", "1", T0);
	store_ctl_push(s, "b", "y", "2", T0);
	store_ctl_push(s, "c", "z", "3", T0);
	c.n = 0;
	c.fail_at = 2;
	CHECK_INT(store_ctl_take(s, ctl_fn, &c), -EINVAL);
	c.n = 0;
	c.fail_at = -1;
	CHECK_INT(store_ctl_take(s, ctl_fn, &c), 1);
	CHECK_STR(c.got[0], "c|z|3");
	store_close(s);
}

static void test_lock(const char *dir)
{
	char err[512];
	struct store *s = store_open(dir, 1, err, sizeof(err)), *s2;
	pid_t pid;
	int status = -1;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_agent_running(dir), 0);
	CHECK_INT(store_lock_agent(s), 0);
	CHECK_INT(store_lock_agent(s), 0); /* already ours */
	CHECK_INT(store_agent_running(dir), 1);
	pid = fork();
	if (pid == 0) {
		struct store *c = store_open(dir, 0, NULL, 0);
		int rc = c ? store_lock_agent(c) : -1;

		store_close(c);
		_exit(rc == -EBUSY ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	s2 = store_open(dir, 0, err, sizeof(err));
	CHECK(s2 && store_lock_agent(s2) == -EBUSY);
	CHECK(s2 && strstr(store_errmsg(s2), "another agent") != NULL);
	store_close(s);
	CHECK_INT(store_agent_running(dir), 0);
	CHECK(s2 && store_lock_agent(s2) == 0);
	store_close(s2);
	CHECK_INT(store_agent_running("/nonexistent/vigil"), 0);
}

static void overwrite(const char *path, off_t at, size_t len)
{
	char junk[4096];
	int fd = open(path, O_WRONLY);

	memset(junk, 0xa7, sizeof(junk));
	for (size_t i = 0; i < sizeof(junk); i += 7)
		junk[i] = (char)i;
	CHECK(fd >= 0);
	while (len > 0) {
		size_t n = len < sizeof(junk) ? len : sizeof(junk);

		CHECK(pwrite(fd, junk, n, at) == (ssize_t)n);
		at += (off_t)n;
		len -= n;
	}
	close(fd);
}

static void test_refusals(void)
{
	char dir[128], db[160], err[1024];
	struct store *s;
	struct model *m[20];
	struct stat sb;
	sqlite3 *raw;

	/* corrupt pages after the header */
	path_in(dir, sizeof(dir), "corrupt");
	snprintf(db, sizeof(db), "%s/vigil.db", dir);
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s != NULL);
	for (int i = 0; i < 20; i++)
		m[i] = build(i);
	CHECK_INT(s ? store_save_models(s, m, 20) : -1, 20);
	for (int i = 0; i < 20; i++)
		model_free(m[i]);
	store_close(s);
	CHECK(stat(db, &sb) == 0 && sb.st_size > 8192);
	overwrite(db, 4096, (size_t)sb.st_size - 4096);
	errno = 0;
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EUCLEAN);
	CHECK(strstr(err, "is corrupt") != NULL);
	CHECK(strstr(err, "mv ") && strstr(err, "vigil.db.corrupt"));
	printf("  corrupt: %s\n", err);
	store_close(s);

	/* garbage from the first byte: not an SQLite database */
	overwrite(db, 0, 8192);
	errno = 0;
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EUCLEAN);
	CHECK(strstr(err, "not an SQLite database or is corrupt") != NULL);
	CHECK(strstr(err, "begin with empty models") != NULL);
	printf("  garbage: %s\n", err);
	store_close(s);

	/* a newer schema */
	path_in(dir, sizeof(dir), "newer");
	snprintf(db, sizeof(db), "%s/vigil.db", dir);
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s != NULL);
	store_close(s);
	CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
	CHECK(sqlite3_exec(raw, "PRAGMA user_version = 2", 0, 0, 0) ==
	      SQLITE_OK);
	sqlite3_close(raw);
	errno = 0;
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EPROTO);
	CHECK(strstr(err, "schema version 2, newer") != NULL);
	store_close(s);

	/* missing store without create */
	path_in(dir, sizeof(dir), "absent");
	errno = 0;
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s == NULL && errno == ENOENT);
	CHECK(strstr(err, "no store at") != NULL);
}

static void test_full(void)
{
	char dir[128], err[512];
	struct store *s;
	struct model *m[50];
	pid_t pid;
	int status = -1, rc;

	path_in(dir, sizeof(dir), "full");
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 50; i++)
		m[i] = build(i);
	/* the page limit stands in for a full disk */
	CHECK(sqlite3_exec(store_db(s), "PRAGMA max_page_count = 8", 0, 0,
			   0) == SQLITE_OK);
	rc = store_save_models(s, m, 50);
	CHECK_INT(rc, -ENOSPC);
	CHECK(strstr(store_errmsg(s), "full") != NULL);
	printf("  full: %s\n", store_errmsg(s));
	for (int i = 0; i < 50; i++)
		CHECK(model_dirty(m[i])); /* nothing was saved */
	CHECK_INT(count_rows(s, "SELECT count(*) FROM models"), 0);
	CHECK(sqlite3_exec(store_db(s), "PRAGMA max_page_count = 1000000", 0,
			   0, 0) == SQLITE_OK);
	CHECK_INT(store_save_models(s, m, 50), 50);
	store_close(s);

	/* a write error from the file system (file size limit) */
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = 64 * 1024, .rlim_max = RLIM_INFINITY};
		struct store *c = store_open(dir, 0, NULL, 0);

		signal(SIGXFSZ, SIG_IGN);
		if (!c || setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		for (int i = 0; i < 50; i++)
			model_learn(m[i], DIM_FILE_READ, "/a/long/path/to/"
				    "make/the/rows/bigger/than/before", T0,
				    "w", "p");
		rc = 0;
		for (int k = 0; k < 20 && rc >= 0; k++) {
			for (int i = 0; i < 50; i++) {
				char it[64];

				snprintf(it, sizeof(it), "/file/%d", k);
				model_learn(m[i], DIM_FILE_WRITE, it, T0, "", "");
			}
			rc = store_save_models(c, m, 50);
		}
		fprintf(stderr, "  write error: %d %s\n", rc, store_errmsg(c));
		store_close(c);
		_exit(rc == -EIO || rc == -ENOSPC ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s != NULL); /* still a good database */
	CHECK(s && count_rows(s, "SELECT count(*) FROM models") == 50);
	store_close(s);
	for (int i = 0; i < 50; i++)
		model_free(m[i]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_cb(void *ctx, struct model *m)
{
	*(size_t *)ctx += model_size(m);
	model_free(m);
	return 0;
}

static void test_bulk(void)
{
	enum { NM = 1000, NE = 100 };
	struct model **m = calloc(NM, sizeof(*m));
	char dir[128], err[512], key[64], item[96];
	struct store *s;
	size_t total = 0;
	double t;
	int rc;

	path_in(dir, sizeof(dir), "bulk");
	s = store_open(dir, 1, err, sizeof(err));
	CHECK(s != NULL && m != NULL);
	if (!s || !m)
		goto out;
	for (int i = 0; i < NM; i++) {
		snprintf(key, sizeof(key), "container:bulk-%04d", i);
		m[i] = model_new(MODEL_CONTAINER, key, T0);
		for (int k = 0; k < NE && m[i]; k++) {
			snprintf(item, sizeof(item), "/var/lib/app/data/%d/f%d",
				 i, k);
			model_learn(m[i], (enum model_dim)(k % DIM_MAX), item,
				    T0 + (uint64_t)k * SEC, "bulk", "app");
		}
	}
	t = now_s();
	rc = store_save_models(s, m, NM);
	t = now_s() - t;
	CHECK_INT(rc, NM);
	printf("  saved %d models x %d entries in %.3f s\n", NM, NE, t);
	t = now_s();
	CHECK_INT(store_load_models(s, count_cb, &total), NM);
	t = now_s() - t;
	CHECK_INT(total, NM * NE);
	printf("  loaded them in %.3f s\n", t);
	/* one dirty model among the thousand: a cheap save */
	model_learn(m[500], DIM_DNS, "example.com", T0, "", "");
	t = now_s();
	CHECK_INT(store_save_models(s, m, NM), 1);
	printf("  saved 1 dirty model of %d in %.4f s\n", NM, now_s() - t);
out:
	store_close(s);
	for (int i = 0; m && i < NM; i++)
		model_free(m[i]);
	free(m);
}

static void rm_rf(const char *dir)
{
	char cmd[256];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s", dir);
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(void)
{
	char dir[128];

	snprintf(base, sizeof(base), "/tmp/vigil-store-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	path_in(dir, sizeof(dir), "a/b/store");
	test_models(dir);
	path_in(dir, sizeof(dir), "pc");
	test_pending_control(dir);
	path_in(dir, sizeof(dir), "lock");
	test_lock(dir);
	test_refusals();
	test_full();
	test_bulk();
	rm_rf(base);
	return h_finish("store");
}
