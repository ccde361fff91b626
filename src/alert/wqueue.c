/* wqueue.c - the disk-backed FIFO of wqueue.h.
 *
 * Invariants (under mu): the queue holds the entries old[oi..nold) (found
 * at open, ascending) followed by the contiguous range [rd, next); count
 * and bytes describe exactly those files. Only the producer writes files
 * numbered next, and only after they are complete (tmp + fsync + rename)
 * does it advance next, so a failed push leaves no gap and no partial
 * entry. Only the consumer removes files, always the oldest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "alert/wqueue.h"

#define SEQ_DIGITS 20
#define SUFFIX ".json"

struct wqueue {
	pthread_mutex_t mu;
	char dir[PATH_MAX];
	int dirfd;
	uint64_t max_files, max_bytes;
	uint64_t *old; /* entries found at open, ascending */
	size_t nold, oi;
	uint64_t rd, next; /* entries queued since open: [rd, next) */
	uint64_t count, bytes;
	int dirty; /* a rename since the last directory fsync */
};

static int entry_path(const struct wqueue *q, uint64_t seq, const char *sfx,
		      char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%0*llu%s", q->dir, SEQ_DIGITS,
			 (unsigned long long)seq, sfx);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* "00000000000000000042.json" -> 42; -1 for any other name. */
static int parse_name(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	for (int i = 0; i < SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + SEQ_DIGITS, SUFFIX))
		return -1;
	*seq = v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int scan(struct wqueue *q)
{
	DIR *d = opendir(q->dir);
	struct dirent *e;
	size_t cap = 0;
	uint64_t seq, max = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct stat st;

		if (strlen(e->d_name) > 4 &&
		    !strcmp(e->d_name + strlen(e->d_name) - 4, ".tmp")) {
			unlinkat(q->dirfd, e->d_name, 0); /* an interrupted push */
			continue;
		}
		if (parse_name(e->d_name, &seq) < 0 ||
		    fstatat(q->dirfd, e->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (q->nold == cap) {
			uint64_t *n = realloc(q->old, (cap ? cap * 2 : 64) *
						      sizeof(*n));

			if (!n) {
				closedir(d);
				return -ENOMEM;
			}
			q->old = n;
			cap = cap ? cap * 2 : 64;
		}
		q->old[q->nold++] = seq;
		q->count++;
		q->bytes += (uint64_t)st.st_size;
		if (seq > max)
			max = seq;
	}
	closedir(d);
	if (q->nold)
		qsort(q->old, q->nold, sizeof(*q->old), cmp_u64);
	q->rd = q->next = q->nold ? max + 1 : 1;
	return 0;
}

int wqueue_open(const char *dir, uint64_t max_files, uint64_t max_bytes,
		struct wqueue **out)
{
	struct wqueue *q;
	int rc;

	*out = NULL;
	if (strlen(dir) >= sizeof(q->dir) - SEQ_DIGITS - 8)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	snprintf(q->dir, sizeof(q->dir), "%s", dir);
	q->max_files = max_files;
	q->max_bytes = max_bytes;
	q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dirfd < 0) {
		rc = -errno;
		wqueue_close(q);
		return rc;
	}
	rc = scan(q);
	if (rc < 0) {
		wqueue_close(q);
		return rc;
	}
	*out = q;
	return 0;
}

void wqueue_close(struct wqueue *q)
{
	if (!q)
		return;
	if (q->dirfd >= 0)
		close(q->dirfd);
	pthread_mutex_destroy(&q->mu);
	free(q->old);
	free(q);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		p += k;
		len -= (size_t)k;
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

int wqueue_push(struct wqueue *q, const void *data, size_t len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&q->mu);
	seq = q->next;
	rc = q->count + 1 > q->max_files || q->bytes + len > q->max_bytes
		     ? -ENOSPC : 0;
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	if ((rc = entry_path(q, seq, SUFFIX ".tmp", tmp, sizeof(tmp))) < 0 ||
	    (rc = entry_path(q, seq, SUFFIX, final, sizeof(final))) < 0)
		return rc;
	rc = write_file(tmp, data, len);
	if (!rc && rename(tmp, final) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	pthread_mutex_lock(&q->mu);
	q->next = seq + 1;
	q->count++;
	q->bytes += len;
	q->dirty = 1;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static int head(struct wqueue *q, uint64_t *seq)
{
	int have = 1;

	pthread_mutex_lock(&q->mu);
	if (q->oi < q->nold)
		*seq = q->old[q->oi];
	else if (q->rd < q->next)
		*seq = q->rd;
	else
		have = 0;
	pthread_mutex_unlock(&q->mu);
	return have;
}

int wqueue_peek(struct wqueue *q, char **data, size_t *len, uint64_t *seq)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	int fd, rc;
	size_t got = 0;

	*data = NULL;
	*len = 0;
	if (!head(q, seq))
		return 0;
	if ((rc = entry_path(q, *seq, SUFFIX, path, sizeof(path))) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return rc;
		}
		got += (size_t)k;
	}
	close(fd);
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 1;
}

int wqueue_pop(struct wqueue *q, uint64_t seq)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t h, size = 0;
	int rc;

	if (!head(q, &h) || h != seq)
		return -EINVAL;
	if ((rc = entry_path(q, seq, SUFFIX, path, sizeof(path))) < 0)
		return rc;
	if (stat(path, &st) == 0)
		size = (uint64_t)st.st_size;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	pthread_mutex_lock(&q->mu);
	if (q->oi < q->nold)
		q->oi++;
	else
		q->rd++;
	q->count--;
	q->bytes = q->bytes > size ? q->bytes - size : 0;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int wqueue_sync(struct wqueue *q)
{
	int dirty;

	pthread_mutex_lock(&q->mu);
	dirty = q->dirty;
	q->dirty = 0;
	pthread_mutex_unlock(&q->mu);
	return dirty && fsync(q->dirfd) < 0 ? -errno : 0;
}

uint64_t wqueue_count(struct wqueue *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	n = q->count;
	pthread_mutex_unlock(&q->mu);
	return n;
}

uint64_t wqueue_bytes(struct wqueue *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	n = q->bytes;
	pthread_mutex_unlock(&q->mu);
	return n;
}
