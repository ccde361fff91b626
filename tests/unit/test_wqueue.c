/* test_wqueue.c - the webhook disk queue: FIFO order, resume after a
 * reopen (a restart) with new entries numbered after the old ones, the
 * file and byte caps, leftover temporary files, and a producer and a
 * consumer thread racing (every entry exactly once, in order). */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "alert/wqueue.h"

static char dir[256];

static void push_str(struct wqueue *q, const char *s)
{
	CHECK_INT(wqueue_push(q, s, strlen(s)), 0);
}

/* Pops the head and returns its text (static buffer), "" when empty. */
static const char *pop_str(struct wqueue *q)
{
	static char out[256];
	char *data;
	size_t len;
	uint64_t seq;
	int rc = wqueue_peek(q, &data, &len, &seq);

	out[0] = 0;
	if (rc != 1)
		return out;
	snprintf(out, sizeof(out), "%s", data);
	free(data);
	CHECK_INT(wqueue_pop(q, seq), 0);
	return out;
}

static int files_in(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;

	if (!dd)
		return -1;
	while ((e = readdir(dd)))
		n += e->d_name[0] != '.';
	closedir(dd);
	return n;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void order_and_resume(void)
{
	struct wqueue *q;
	char *data;
	size_t len;
	uint64_t seq, seq2;
	char tmp[512];
	FILE *f;

	CHECK_INT(wqueue_open(dir, 100, 1 << 20, &q), 0);
	CHECK_INT(wqueue_peek(q, &data, &len, &seq), 0);
	push_str(q, "a1");
	push_str(q, "a2");
	push_str(q, "a3");
	CHECK_INT(wqueue_count(q), 3);
	CHECK_INT(wqueue_bytes(q), 6);
	CHECK_INT(wqueue_sync(q), 0);
	CHECK_STR(pop_str(q), "a1");
	/* peeking twice gives the same head; popping another seq fails */
	CHECK_INT(wqueue_peek(q, &data, &len, &seq), 1);
	free(data);
	CHECK_INT(wqueue_peek(q, &data, &len, &seq2), 1);
	CHECK_STR(data, "a2");
	CHECK_INT(len, 2);
	free(data);
	CHECK(seq == seq2);
	CHECK_INT(wqueue_pop(q, seq + 1), -EINVAL);
	wqueue_close(q);

	/* a "restart": the rest comes back first, in order; an interrupted
	 * push (a .tmp file) is cleaned up */
	snprintf(tmp, sizeof(tmp), "%s/00000000000000000099.json.tmp", dir);
	f = fopen(tmp, "w");
	if (f) {
		fputs("partial", f);
		fclose(f);
	}
	CHECK_INT(wqueue_open(dir, 100, 1 << 20, &q), 0);
	CHECK(access(tmp, F_OK) != 0);
	CHECK_INT(wqueue_count(q), 2);
	CHECK_INT(wqueue_bytes(q), 4);
	push_str(q, "b1");
	CHECK_STR(pop_str(q), "a2");
	wqueue_close(q);
	CHECK_INT(wqueue_open(dir, 100, 1 << 20, &q), 0);
	push_str(q, "b2");
	CHECK_STR(pop_str(q), "a3");
	CHECK_STR(pop_str(q), "b1");
	CHECK_STR(pop_str(q), "b2");
	CHECK_STR(pop_str(q), "");
	CHECK_INT(wqueue_count(q), 0);
	CHECK_INT(wqueue_bytes(q), 0);
	CHECK_INT(files_in(dir), 0);
	wqueue_close(q);
	/* numbering never goes back: the next entry follows the last one */
	CHECK_INT(wqueue_open(dir, 100, 1 << 20, &q), 0);
	push_str(q, "c1");
	CHECK_INT(wqueue_peek(q, &data, &len, &seq), 1);
	free(data);
	CHECK(seq >= 1);
	CHECK_STR(pop_str(q), "c1");
	wqueue_close(q);
}

static void caps(void)
{
	struct wqueue *q;
	char sub[300];

	snprintf(sub, sizeof(sub), "%s/cap", dir);
	CHECK_INT(wqueue_open(sub, 3, 1000, &q), 0);
	push_str(q, "1");
	push_str(q, "2");
	push_str(q, "3");
	CHECK_INT(wqueue_push(q, "4", 1), -ENOSPC);
	CHECK_INT(wqueue_count(q), 3);
	CHECK_STR(pop_str(q), "1");
	push_str(q, "5"); /* room again */
	CHECK_STR(pop_str(q), "2");
	CHECK_STR(pop_str(q), "3");
	CHECK_STR(pop_str(q), "5");
	wqueue_close(q);
	/* byte cap, also across a reopen */
	CHECK_INT(wqueue_open(sub, 100, 10, &q), 0);
	push_str(q, "123456");
	CHECK_INT(wqueue_push(q, "12345", 5), -ENOSPC);
	wqueue_close(q);
	CHECK_INT(wqueue_open(sub, 100, 10, &q), 0);
	CHECK_INT(wqueue_push(q, "12345", 5), -ENOSPC);
	CHECK_INT(wqueue_push(q, "1234", 4), 0);
	CHECK_STR(pop_str(q), "123456");
	CHECK_STR(pop_str(q), "1234");
	wqueue_close(q);
}

#define N_RACE 300

static void *producer(void *arg)
{
	struct wqueue *q = arg;
	char b[32];

	for (int i = 0; i < N_RACE; i++) {
		int n = snprintf(b, sizeof(b), "m%d", i);

		while (wqueue_push(q, b, (size_t)n) == -ENOSPC)
			usleep(100);
	}
	return NULL;
}

static void race(void)
{
	struct wqueue *q;
	pthread_t th;
	char sub[300], want[32];
	int next = 0, bad = 0;

	snprintf(sub, sizeof(sub), "%s/race", dir);
	CHECK_INT(wqueue_open(sub, 50, 1 << 20, &q), 0);
	pthread_create(&th, NULL, producer, q);
	while (next < N_RACE) {
		char *data;
		size_t len;
		uint64_t seq;

		if (wqueue_peek(q, &data, &len, &seq) != 1) {
			usleep(50);
			continue;
		}
		snprintf(want, sizeof(want), "m%d", next++);
		if (strcmp(data, want))
			bad++;
		free(data);
		if (wqueue_pop(q, seq))
			bad++;
	}
	pthread_join(th, NULL);
	CHECK_INT(bad, 0);
	CHECK_INT(wqueue_count(q), 0);
	wqueue_close(q);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-wqueue-%d", (int)getpid());
	order_and_resume();
	caps();
	race();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return h_finish("test_wqueue");
}
