/* test_store_modes.c - enforcement modes in the model store (real SQLite in
 * a fresh temporary directory): set, replace, get, list in key order with
 * the time set, delete; they survive closing and reopening the store; bad
 * arguments; a store without the table (older stores) reads as empty and
 * is left untouched by reads; rows with an unknown mode are reported while
 * the good ones are still listed; a table of another layout, a read-only
 * connection, a store the process may not write and a corrupt file give
 * clear errors without aborting. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "store/store.h"

#define T0 1796216400000000000ULL /* 2026-12-02T13:00:00Z */
#define ID1 "3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID2 "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID3 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char base[64];

static struct store *open_in(const char *name, char *dir, size_t len)
{
	char err[1024];
	struct store *s;

	snprintf(dir, len, "%s/%s", base, name);
	s = store_open(dir, 1, err, sizeof(err));
	if (!s)
		fprintf(stderr, "store_open(%s): %s\n", dir, err);
	return s;
}

static int table_count(struct store *s)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM sqlite_master "
			       "WHERE name = 'modes'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

struct seen {
	char keys[8][STORE_MODE_KEY_MAX];
	char modes[8][STORE_MODE_MAX];
	uint64_t since[8];
	int n, stop_at;
	struct store *s; /* set: the callback deletes what it is handed */
};

static int collect(void *ctx, const char *key, const char *mode,
		   uint64_t since_ns)
{
	struct seen *x = ctx;

	if (x->n < 8) {
		snprintf(x->keys[x->n], sizeof(x->keys[0]), "%s", key);
		snprintf(x->modes[x->n], sizeof(x->modes[0]), "%s", mode);
		x->since[x->n] = since_ns;
	}
	x->n++;
	if (x->s)
		CHECK_INT(store_mode_delete(x->s, key), 0);
	return x->stop_at && x->n == x->stop_at ? 7 : 0;
}

static void test_basics(void)
{
	char dir[128], err[512], buf[STORE_MODE_MAX], small[4];
	struct seen x = {0};
	struct store *s = open_in("basic", dir, sizeof(dir));

	CHECK(s != NULL);
	if (!s)
		return;
	/* a store that never had a mode: empty, and reads do not create it */
	CHECK_INT(store_mode_get(s, ID1, buf, sizeof(buf)), -ENOENT);
	CHECK_STR(buf, "");
	CHECK(strstr(store_errmsg(s), "no mode for") != NULL);
	CHECK_INT(store_mode_list(s, collect, &x), 0);
	CHECK_INT(store_mode_delete(s, ID1), -ENOENT);
	CHECK_INT(table_count(s), 0);

	CHECK_INT(store_mode_put(s, ID1, "protect", T0), 0);
	CHECK_INT(table_count(s), 1);
	CHECK_INT(store_mode_get(s, ID1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "protect");
	CHECK_INT(store_mode_put(s, ID2, "shadow", T0 + 1), 0);
	CHECK_INT(store_mode_put(s, ID3, "learn", T0 + 2), 0);
	/* replacing keeps one row per key, with the new time */
	CHECK_INT(store_mode_put(s, ID1, "monitor", T0 + 3), 0);
	CHECK_INT(store_mode_get(s, ID1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "monitor");
	/* -ERANGE: "monitor" needs 8 bytes */
	CHECK_INT(store_mode_get(s, ID1, small, sizeof(small)), -ERANGE);
	CHECK_STR(small, "");

	CHECK_INT(store_mode_list(s, collect, &x), 3);
	CHECK_INT(x.n, 3);
	CHECK_STR(x.keys[0], ID3); /* key order */
	CHECK_STR(x.modes[0], "learn");
	CHECK_INT(x.since[0], T0 + 2);
	CHECK_STR(x.keys[1], ID1);
	CHECK_STR(x.modes[1], "monitor");
	CHECK_INT(x.since[1], T0 + 3);
	CHECK_STR(x.keys[2], ID2);
	CHECK_STR(x.modes[2], "shadow");

	/* fn stops the walk with its value */
	memset(&x, 0, sizeof(x));
	x.stop_at = 2;
	CHECK_INT(store_mode_list(s, collect, &x), 7);
	CHECK_INT(x.n, 2);

	/* survives close and reopen (the point of keeping them) */
	store_close(s);
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_mode_get(s, ID2, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "shadow");
	CHECK_INT(store_mode_delete(s, ID2), 0);
	CHECK_INT(store_mode_get(s, ID2, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(store_mode_delete(s, ID2), -ENOENT);

	/* the callback may change the store (rows are read first) */
	memset(&x, 0, sizeof(x));
	x.s = s;
	CHECK_INT(store_mode_list(s, collect, &x), 2);
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_mode_list(s, collect, &x), 0);
	store_close(s);
}

static void test_args(void)
{
	char dir[128], buf[STORE_MODE_MAX], key[STORE_MODE_KEY_MAX + 1];
	struct store *s = open_in("args", dir, sizeof(dir));

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_mode_put(s, ID1, "turbo", T0), -EINVAL);
	CHECK(strstr(store_errmsg(s), "unknown mode 'turbo'") != NULL);
	CHECK_INT(store_mode_put(s, ID1, "", T0), -EINVAL);
	CHECK_INT(store_mode_put(s, ID1, NULL, T0), -EINVAL);
	CHECK_INT(store_mode_put(s, ID1, "Protect", T0), -EINVAL);
	CHECK_INT(store_mode_put(s, "", "protect", T0), -EINVAL);
	CHECK_INT(store_mode_put(s, NULL, "protect", T0), -EINVAL);
	CHECK(strstr(store_errmsg(s), "empty key") != NULL);
	memset(key, 'k', sizeof(key));
	key[STORE_MODE_KEY_MAX] = 0; /* 256 bytes: one too many */
	CHECK_INT(store_mode_put(s, key, "protect", T0), -EINVAL);
	CHECK(strstr(store_errmsg(s), "too long") != NULL);
	CHECK_INT(store_mode_get(s, key, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(store_mode_delete(s, key), -EINVAL);
	key[STORE_MODE_KEY_MAX - 1] = 0; /* 255: the longest */
	CHECK_INT(store_mode_put(s, key, "protect", T0), 0);
	CHECK_INT(store_mode_get(s, key, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "protect");
	/* nothing was written by the refused calls */
	CHECK_INT(store_mode_get(s, ID1, buf, sizeof(buf)), -ENOENT);
	store_close(s);
}

/* Rows written by something else: an unknown mode, an empty key. */
static void test_bad_rows(void)
{
	char dir[128], buf[STORE_MODE_MAX];
	struct seen x = {0};
	struct store *s = open_in("badrows", dir, sizeof(dir));

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_mode_put(s, ID1, "protect", T0), 0);
	CHECK_INT(store_mode_put(s, ID3, "shadow", T0), 0);
	CHECK(sqlite3_exec(store_db(s), "INSERT INTO modes VALUES('" ID2
			   "', 'turbo', 5), ('', 'learn', 6)", 0, 0, 0) ==
	      SQLITE_OK);
	CHECK_INT(store_mode_get(s, ID2, buf, sizeof(buf)), -EINVAL);
	CHECK_STR(buf, "");
	CHECK(strstr(store_errmsg(s), "unknown mode 'turbo' for '" ID2 "'"));
	printf("  bad row: %s\n", store_errmsg(s));
	/* the good rows are handed out, then the bad one is reported */
	CHECK_INT(store_mode_list(s, collect, &x), -EINVAL);
	CHECK_INT(x.n, 2);
	CHECK_STR(x.keys[0], ID3);
	CHECK_STR(x.keys[1], ID1);
	/* the first bad row in key order is named */
	CHECK(strstr(store_errmsg(s), "for an empty key") != NULL);
	CHECK(sqlite3_exec(store_db(s), "DELETE FROM modes WHERE key = ''", 0,
			   0, 0) == SQLITE_OK);
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_mode_list(s, collect, &x), -EINVAL);
	CHECK_INT(x.n, 2);
	CHECK(strstr(store_errmsg(s), "'turbo' for '" ID2 "'") != NULL);
	/* setting it again repairs it */
	CHECK_INT(store_mode_put(s, ID2, "learn", T0), 0);
	memset(&x, 0, sizeof(x));
	CHECK_INT(store_mode_list(s, collect, &x), 3);
	store_close(s);
}

/* A modes table of another layout (not ours): a clear error, no abort. */
static void test_foreign_table(void)
{
	char dir[128], buf[STORE_MODE_MAX];
	struct seen x = {0};
	struct store *s = open_in("foreign", dir, sizeof(dir));

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(sqlite3_exec(store_db(s), "CREATE TABLE modes(x INT)", 0, 0, 0)
	      == SQLITE_OK);
	CHECK(store_mode_put(s, ID1, "protect", T0) < 0);
	CHECK(strstr(store_errmsg(s), "recording a mode: ") != NULL);
	printf("  foreign table: %s\n", store_errmsg(s));
	CHECK(store_mode_get(s, ID1, buf, sizeof(buf)) < 0);
	CHECK(strstr(store_errmsg(s), "reading a mode: ") != NULL);
	CHECK(store_mode_list(s, collect, &x) < 0);
	CHECK(strstr(store_errmsg(s), "reading modes: ") != NULL);
	CHECK(sqlite3_get_autocommit(store_db(s))); /* no transaction left */
	store_close(s);
}

static void test_unwritable(void)
{
	char dir[128], err[1024], buf[STORE_MODE_MAX];
	struct store *s = open_in("readonly", dir, sizeof(dir));
	pid_t pid;
	int status = -1;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(store_mode_put(s, ID1, "protect", T0), 0);
	/* a connection that may not write */
	CHECK(sqlite3_exec(store_db(s), "PRAGMA query_only = 1", 0, 0, 0) ==
	      SQLITE_OK);
	CHECK_INT(store_mode_put(s, ID2, "protect", T0), -EROFS);
	CHECK(strstr(store_errmsg(s), "recording a mode: ") != NULL);
	printf("  read-only: %s\n", store_errmsg(s));
	CHECK(sqlite3_get_autocommit(store_db(s)));
	CHECK_INT(store_mode_delete(s, ID1), -EROFS);
	CHECK_INT(store_mode_get(s, ID1, buf, sizeof(buf)), 0); /* reads do */
	CHECK_STR(buf, "protect");
	store_close(s);

	/* a store this process may not write (another user's files): first
	 * its directory cannot be entered, then only its files are read-only
	 * to others (as store_open and SQLite leave them) */
	for (int round = 0; round < 2; round++) {
	if (round == 1)
		CHECK(chmod(dir, 0755) == 0);
	pid = fork();
	if (pid == 0) {
		struct store *c;
		int rc;

		if (getuid() == 0 && setuid(65534) < 0)
			_exit(2);
		c = store_open(dir, 0, err, sizeof(err));
		if (!c) { /* refused at open: fine, if it says why */
			fprintf(stderr, "  not writable (open): %s\n", err);
			_exit(strstr(err, dir) ? 0 : 3);
		}
		rc = store_mode_put(c, ID3, "protect", T0);
		fprintf(stderr, "  not writable: %d %s\n", rc, store_errmsg(c));
		_exit(rc < 0 && strstr(store_errmsg(c), "recording a mode")
			      ? 0 : 4);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s != NULL);
	CHECK(s && store_mode_get(s, ID3, buf, sizeof(buf)) == -ENOENT);
	store_close(s);
}

static void test_corrupt(void)
{
	char dir[128], db[200], err[1024], junk[4096];
	struct store *s = open_in("corrupt", dir, sizeof(dir));
	struct stat sb;
	int fd;

	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 400; i++) {
		char key[64];

		snprintf(key, sizeof(key), "%060d", i);
		CHECK_INT(store_mode_put(s, key, "protect", T0 + (uint64_t)i),
			  0);
	}
	store_close(s);
	snprintf(db, sizeof(db), "%s/vigil.db", dir);
	CHECK(stat(db, &sb) == 0 && sb.st_size > 8192);
	memset(junk, 0xa7, sizeof(junk));
	fd = open(db, O_WRONLY);
	CHECK(fd >= 0);
	for (off_t at = 4096; at < sb.st_size; at += (off_t)sizeof(junk))
		CHECK(pwrite(fd, junk, sizeof(junk), at) == (ssize_t)sizeof(junk));
	close(fd);
	errno = 0;
	s = store_open(dir, 0, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EUCLEAN);
	CHECK(strstr(err, "corrupt") && strstr(err, "vigil.db.corrupt"));
	printf("  corrupt: %s\n", err);
	store_close(s);
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/vigil-modes-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(base, 0755); /* the unprivileged child must reach its store */
	test_basics();
	test_args();
	test_bad_rows();
	test_foreign_table();
	test_unwritable();
	test_corrupt();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return h_finish("test_store_modes");
}
