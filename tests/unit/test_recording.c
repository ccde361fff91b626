/* test_recording.c - unit tests of src/record/recording.c: the zero-run codec
 * against naive reference coders, the exact byte layout, write/read round
 * trips, header validation, truncation at every offset of the last frame,
 * corruption, frame size limits and write errors. Temporary files are
 * mkstemp files under /tmp, removed before exit. */
#include "harness.h"
#include "record/recording.h"
#include "vigil_event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAXN REC_MAX_PAYLOAD

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random buffer where each byte is zero with probability zero_pct %;
 * non-zero bytes are 1..255. */
static void fill_random(uint64_t *s, uint8_t *p, size_t n, unsigned zero_pct)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd(s) % 100 < zero_pct ? 0 : (uint8_t)(1 + rnd(s) % 255);
}

/* ---- naive reference coders ---- */

static size_t ref_put(uint8_t *out, size_t o, size_t v)
{
	while (v >= 0x80) {
		out[o++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[o++] = (uint8_t)v;
	return o;
}

/* One chunk per (zero run, non-zero run): different chunking from
 * rec_encode(), but a valid encoding. */
static size_t ref_encode(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;
	while (i < n) {
		size_t z = 0, l = 0;
		while (i + z < n && in[i + z] == 0)
			z++;
		while (i + z + l < n && in[i + z + l] != 0)
			l++;
		o = ref_put(out, o, z);
		o = ref_put(out, o, l);
		memcpy(out + o, in + i + z, l);
		o += l;
		i += z + l;
	}
	return o;
}

static int ref_get(const uint8_t *in, size_t n, size_t *i, size_t *v)
{
	size_t x = 0;
	for (int s = 0; s < 35; s += 7) {
		if (*i >= n)
			return -1;
		x |= (size_t)(in[*i] & 0x7f) << s;
		if (!(in[(*i)++] & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int ref_decode(const uint8_t *in, size_t n, uint8_t *out, size_t raw)
{
	size_t i = 0, o = 0, z, l;
	while (o < raw) {
		if (ref_get(in, n, &i, &z) || ref_get(in, n, &i, &l))
			return -1;
		for (; z; z--, o++)
			if (o >= raw)
				return -1;
			else
				out[o] = 0;
		for (; l; l--, o++, i++)
			if (o >= raw || i >= n)
				return -1;
			else
				out[o] = in[i];
	}
	return i == n ? 0 : -1;
}

static void test_codec_random(void)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	size_t cap = rec_encode_bound(MAXN);
	uint8_t *x = malloc(MAXN), *enc = malloc(cap), *dec = malloc(MAXN);
	uint8_t *ref = malloc(3 * MAXN + 16);
	int bad = 0;

	for (int t = 0; t < 10000 && bad < 5; t++) {
		size_t n = t % 100 == 0 ? rnd(&s) % (MAXN + 1) : rnd(&s) % 2049;
		unsigned pct = (unsigned)(rnd(&s) % 101);
		fill_random(&s, x, n, pct);
		size_t e = rec_encode(x, n, enc, cap);
		int ok = e <= rec_encode_bound(n) && (e == 0) == (n == 0);
		ok = ok && rec_decode(enc, e, dec, n) == 0 && !memcmp(x, dec, n);
		memset(dec, 0xaa, n);
		ok = ok && ref_decode(enc, e, dec, n) == 0 && !memcmp(x, dec, n);
		size_t re = ref_encode(x, n, ref);
		memset(dec, 0xaa, n);
		ok = ok && rec_decode(ref, re, dec, n) == 0 && !memcmp(x, dec, n);
		ok = ok && rec_encode(x, n, enc, e) == e;
		ok = ok && (e == 0 || rec_encode(x, n, enc, e - 1) == 0);
		if (!ok) {
			bad++;
			fprintf(stderr, "codec mismatch: n=%zu pct=%u\n", n, pct);
		}
	}
	CHECK_INT(bad, 0);
	free(x);
	free(enc);
	free(dec);
	free(ref);
}

/* Patterns at the edge of rec_encode_bound(): literal runs separated by
 * zero runs of exactly 3, with run lengths around varint size steps. */
static void test_codec_bound(void)
{
	static const size_t runs[] = {1, 2, 127, 128, 129, 16383, 16384, 40000};
	size_t cap = rec_encode_bound(MAXN);
	uint8_t *x = malloc(MAXN), *enc = malloc(cap), *dec = malloc(MAXN);

	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		for (size_t i = 0; i < MAXN; i++)
			x[i] = i % (runs[r] + 3) < runs[r] ? 0x5a : 0;
		size_t e = rec_encode(x, MAXN, enc, cap);
		CHECK(e > 0 && e <= rec_encode_bound(MAXN));
		CHECK_INT(rec_decode(enc, e, dec, MAXN), 0);
		CHECK(memcmp(x, dec, MAXN) == 0);
	}
	memset(x, 0, MAXN); /* all zeros: one chunk, 3 + 1 bytes */
	CHECK_INT(rec_encode(x, MAXN, enc, cap), 4);
	CHECK_INT(rec_encode(x, 0, enc, 0), 0);
	CHECK_INT(rec_decode(enc, 0, dec, 0), 0);
	free(x);
	free(enc);
	free(dec);
}

static void test_codec_corrupt(void)
{
	uint8_t out[16];
	static const uint8_t over[] = {0, 5, 1, 2, 3, 4, 5}; /* 5 > raw 3 */
	static const uint8_t zover[] = {4, 0};
	static const uint8_t left[] = {0, 1, 7, 0};
	static const uint8_t short_lit[] = {0, 3, 7, 8};
	static const uint8_t trunc_varint[] = {0x80};
	static const uint8_t overlong[] = {0x83, 0x00, 0x00};
	static const uint8_t empty_chunk[] = {0, 0, 0, 1, 7};
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0x01, 0};
	static const uint8_t good[] = {2, 1, 7};

	CHECK_INT(rec_decode(over, sizeof(over), out, 3), -EBADMSG);
	CHECK_INT(rec_decode(zover, sizeof(zover), out, 3), -EBADMSG);
	CHECK_INT(rec_decode(left, sizeof(left), out, 1), -EBADMSG);
	CHECK_INT(rec_decode(short_lit, sizeof(short_lit), out, 3), -EBADMSG);
	CHECK_INT(rec_decode(trunc_varint, 1, out, 3), -EBADMSG);
	CHECK_INT(rec_decode(overlong, sizeof(overlong), out, 3), -EBADMSG);
	CHECK_INT(rec_decode(empty_chunk, sizeof(empty_chunk), out, 1),
		  -EBADMSG);
	CHECK_INT(rec_decode(huge, sizeof(huge), out, 3), -EBADMSG);
	CHECK_INT(rec_decode(good, 2, out, 3), -EBADMSG); /* input ends */
	CHECK_INT(rec_decode(good, 1, out, 0), -EBADMSG); /* left over */
	CHECK_INT(rec_decode(good, sizeof(good), out, 3), 0);
	CHECK(out[0] == 0 && out[1] == 0 && out[2] == 7);
}

/* ---- file helpers ---- */

static int tmpfile_path(char path[32])
{
	memcpy(path, "/tmp/vigil-rec-XXXXXX", 22);
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	return fd;
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, cap);
	if (fd >= 0)
		close(fd);
	return n < 0 ? 0 : (size_t)n;
}

static void spit(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, buf, n) == (ssize_t)n);
	if (fd >= 0)
		close(fd);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fill_exec(struct vg_exec *e)
{
	memset(e, 0, sizeof(*e));
	e->h.type = VG_EXEC;
	e->h.size = sizeof(*e);
	e->h.abi = VG_ABI_VERSION;
	e->h.pid = 4242;
	e->h.tid = 4242;
	e->h.ppid = 1;
	e->h.ts_ns = 123456789012345ull;
	e->h.cgroup_id = 0x1234;
	memcpy(e->h.comm, "bash", 4);
	memcpy(e->exe, "/usr/bin/bash", 13);
	memcpy(e->parent_exe, "/usr/lib/systemd/systemd", 24);
	memcpy(e->cwd, "/root", 5);
	memcpy(e->args, "bash\0-c\0id", 10);
	e->argc = 3;
	e->args_len = 10;
}

/* ---- layout ---- */

static void test_layout(void)
{
	char path[32];
	int fd = tmpfile_path(path);
	static const uint8_t payload[] = {0, 0, 0, 'a', 'b'};
	uint8_t want[16 + 16 + 4], got[64];

	close(fd);
	memcpy(want, "VIGILREC\1\0\0\0\0\0\0\0", 16);
	put32(want + 16, REC_KIND_EVENT);
	put32(want + 20, 5);
	put32(want + 24, 4);
	/* the CRC covers kind and raw_len, then the payload */
	put32(want + 28, (uint32_t)crc32(crc32(0, want + 16, 8), payload, 5));
	memcpy(want + 32, "\3\2ab", 4);

	struct rec_writer *w = rec_writer_open(path);
	CHECK(w != NULL);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, payload, 5), 0);
	CHECK_INT(rec_writer_close(w), 0);
	CHECK_INT(slurp(path, got, sizeof(got)), sizeof(want));
	CHECK(memcmp(got, want, sizeof(want)) == 0);

	/* a damaged kind is corruption, not an unknown frame to skip */
	{
		FILE *f = fopen(path, "r+b");
		struct rec_reader *r;
		uint32_t k;
		const void *d;
		size_t len;

		CHECK(f != NULL);
		fseek(f, 16, SEEK_SET);
		fputc(REC_KIND_EVENT ^ 0x40, f);
		fclose(f);
		r = rec_reader_open(path);
		CHECK(r != NULL);
		CHECK_INT(rec_next(r, &k, &d, &len), -EBADMSG);
		rec_reader_close(r);
	}
	unlink(path);
}

/* ---- round trip ---- */

struct frame {
	uint32_t kind;
	size_t len;
	uint8_t *data;
};

static void test_roundtrip(void)
{
	enum { NF = 3000 };
	struct frame *f = calloc(NF, sizeof(*f));
	uint64_t s = 42;
	char path[32];
	int fd = tmpfile_path(path);
	struct vg_exec ex;

	fill_exec(&ex);
	for (int i = 0; i < NF; i++) {
		static const uint32_t kinds[] = {REC_KIND_META, REC_KIND_EVENT,
						 REC_KIND_CONTAINER,
						 REC_KIND_PROC, 77, 0};
		f[i].kind = kinds[i % 6];
		switch (i % 7) {
		case 0: f[i].len = 0; break;
		case 1: f[i].len = 1 + rnd(&s) % 3000; break; /* zeros */
		case 2: f[i].len = 1 + rnd(&s) % 3000; break; /* no zeros */
		case 3: f[i].len = rnd(&s) % 5000; break; /* random */
		case 4: f[i].len = sizeof(ex); break;
		case 5: f[i].len = i == 5 ? MAXN : rnd(&s) % 64; break;
		default: f[i].len = 22; break; /* meta text */
		}
		f[i].data = malloc(f[i].len + 1);
		switch (i % 7) {
		case 1: memset(f[i].data, 0, f[i].len); break;
		case 2: fill_random(&s, f[i].data, f[i].len, 0); break;
		case 3:
		case 5:
			fill_random(&s, f[i].data, f[i].len,
				    (unsigned)(rnd(&s) % 101));
			break;
		case 4:
			ex.h.tid = (uint32_t)i;
			memcpy(f[i].data, &ex, sizeof(ex));
			break;
		case 6: memcpy(f[i].data, "host=web-1\nboot=12345\n", 22);
		}
	}

	/* write through fdopen (not owned: we close fd ourselves) */
	struct rec_writer *w = rec_writer_fdopen(fd);
	CHECK(w != NULL);
	int werr = 0;
	for (int i = 0; i < NF; i++)
		werr |= rec_write(w, f[i].kind, f[i].data, f[i].len);
	CHECK_INT(werr, 0);
	CHECK_INT(rec_writer_close(w), 0);
	CHECK(fcntl(fd, F_GETFD) >= 0); /* still open */
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);

	struct rec_reader *r = rec_reader_open(path);
	CHECK(r != NULL);
	CHECK_INT(rec_reader_offset(r), 16);
	int mism = 0;
	for (int i = 0; i < NF; i++) {
		uint32_t k = 9999;
		const void *d = NULL;
		size_t len = 1;
		int ret = rec_next(r, &k, &d, &len);
		if (ret != 1 || k != f[i].kind || len != f[i].len || !d ||
		    memcmp(d, f[i].data, len)) {
			fprintf(stderr, "frame %d: ret %d kind %u len %zu: %s\n",
				i, ret, k, len, rec_reader_error(r));
			if (++mism > 3)
				break;
		}
	}
	CHECK_INT(mism, 0);
	uint32_t k;
	const void *d;
	size_t len;
	CHECK_INT(rec_next(r, &k, &d, &len), 0);
	CHECK_INT(rec_next(r, &k, &d, &len), 0);
	CHECK_STR(rec_reader_error(r), "");
	CHECK_INT(rec_reader_offset(r), size);
	rec_reader_close(r);

	for (int i = 0; i < NF; i++)
		free(f[i].data);
	free(f);
	unlink(path);
}

/* A vg_exec alone must shrink to a small fraction of its size. */
static void test_exec_compact(void)
{
	struct vg_exec ex;
	uint8_t out[sizeof(ex) + 64], dec[sizeof(ex)];

	fill_exec(&ex);
	size_t e = rec_encode(&ex, sizeof(ex), out, sizeof(out));
	CHECK(e > 0 && e < 200);
	CHECK_INT(rec_decode(out, e, dec, sizeof(ex)), 0);
	CHECK(memcmp(dec, &ex, sizeof(ex)) == 0);
}

/* A small recording read through a pipe (sequential reads only). */
static void test_pipe(void)
{
	char path[32];
	int fd = tmpfile_path(path), p[2];
	uint8_t buf[4096];
	struct vg_exec ex;

	fill_exec(&ex);
	close(fd);
	struct rec_writer *w = rec_writer_open(path);
	CHECK_INT(rec_write(w, REC_KIND_META, "host=a", 6), 0);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, &ex, sizeof(ex)), 0);
	CHECK_INT(rec_writer_close(w), 0);
	size_t n = slurp(path, buf, sizeof(buf));
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], buf, n) == (ssize_t)n);
	close(p[1]);
	struct rec_reader *r = rec_reader_fdopen(p[0]);
	CHECK(r != NULL);
	uint32_t k;
	const void *d;
	size_t len;
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	CHECK(k == REC_KIND_META && len == 6 && !memcmp(d, "host=a", 6));
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	CHECK(k == REC_KIND_EVENT && len == sizeof(ex) &&
	      !memcmp(d, &ex, sizeof(ex)));
	CHECK_INT(rec_next(r, &k, &d, &len), 0);
	rec_reader_close(r);
	CHECK(fcntl(p[0], F_GETFD) >= 0); /* not owned */
	close(p[0]);
	unlink(path);
}

/* ---- header validation ---- */

static void check_open_errno(const char *path, const void *bytes, size_t n,
			     int want)
{
	spit(path, bytes, n);
	errno = 0;
	struct rec_reader *r = rec_reader_open(path);
	CHECK(r == NULL);
	CHECK_INT(errno, want);
	rec_reader_close(r);
}

static void test_header(void)
{
	char path[32];
	int fd = tmpfile_path(path);

	close(fd);
	check_open_errno(path, "VIGILRED\1\0\0\0\0\0\0\0", 16, EINVAL);
	check_open_errno(path, "hello", 5, EINVAL);
	check_open_errno(path, "VIGILREC\2\0\0\0\0\0\0\0", 16, EPROTO);
	check_open_errno(path, "VIGILREC\0\0\0\0\0\0\0\0", 16, EPROTO);
	check_open_errno(path, "VIGILREC\1\0\0\0\1\0\0\0", 16, EPROTO);
	check_open_errno(path, "", 0, ENODATA);
	check_open_errno(path, "VIGILREC\1\0", 10, ENODATA);
	check_open_errno(path, "VIGIL", 5, ENODATA);

	spit(path, "VIGILREC\1\0\0\0\0\0\0\0", 16); /* empty recording */
	struct rec_reader *r = rec_reader_open(path);
	uint32_t k;
	const void *d;
	size_t len;
	CHECK(r != NULL);
	CHECK_INT(rec_next(r, &k, &d, &len), 0);
	rec_reader_close(r);
	unlink(path);

	errno = 0;
	CHECK(rec_reader_open(path) == NULL && errno == ENOENT);
	errno = 0;
	CHECK(rec_reader_fdopen(-1) == NULL && errno == EBADF);
	errno = 0;
	CHECK(rec_writer_fdopen(-1) == NULL && errno == EBADF);
	CHECK(rec_writer_open("/nonexistent-dir/x") == NULL && errno == ENOENT);
	CHECK_INT(rec_writer_close(NULL), 0);
	rec_reader_close(NULL);
}

/* ---- truncation and corruption ---- */

/* Reads path; expects `good` frames then the return value want; returns the
 * reader (caller closes) for message checks. */
static struct rec_reader *read_expect(const char *path, int good, int want)
{
	struct rec_reader *r = rec_reader_open(path);
	uint32_t k;
	const void *d;
	size_t len;
	int n = 0, ret;

	CHECK(r != NULL);
	if (!r)
		return NULL;
	while ((ret = rec_next(r, &k, &d, &len)) == 1)
		n++;
	CHECK_INT(n, good);
	CHECK_INT(ret, want);
	CHECK_INT(rec_next(r, &k, &d, &len), want); /* sticky */
	return r;
}

/* Writes NGOOD small frames and one vg_exec; returns the file size and the
 * last frame's offset. */
enum { NGOOD = 50 };
static size_t write_sample(const char *path, size_t *last)
{
	struct rec_writer *w = rec_writer_open(path);
	struct vg_exec ex;
	uint8_t buf[300];
	uint64_t s = 7;

	fill_exec(&ex);
	for (int i = 0; i < NGOOD; i++) {
		fill_random(&s, buf, sizeof(buf), 50);
		CHECK_INT(rec_write(w, REC_KIND_PROC, buf, i * 5), 0);
	}
	CHECK_INT(rec_write(w, REC_KIND_EVENT, &ex, sizeof(ex)), 0);
	CHECK_INT(rec_writer_close(w), 0);

	/* locate the last frame by walking the file */
	struct rec_reader *r = rec_reader_open(path);
	uint32_t k;
	const void *d;
	size_t len;
	for (int i = 0; i < NGOOD; i++)
		CHECK_INT(rec_next(r, &k, &d, &len), 1);
	*last = (size_t)rec_reader_offset(r);
	rec_reader_close(r);
	int fd = open(path, O_RDONLY);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	return (size_t)size;
}

static void test_truncation(void)
{
	char path[32];
	int fd = tmpfile_path(path);
	size_t last;

	close(fd);
	size_t size = write_sample(path, &last);
	CHECK(last > 16 && size - last > 16 && size - last < sizeof(struct vg_exec));
	for (size_t cut = size; cut-- > last;) {
		CHECK(truncate(path, (off_t)cut) == 0);
		struct rec_reader *r =
			read_expect(path, NGOOD, cut == last ? 0 : -ENODATA);
		char want[160];
		size_t need = cut - last < 16 ? 16 : size - last;
		if (cut == last)
			want[0] = '\0';
		else
			snprintf(want, sizeof(want),
				 "truncated frame at offset %zu (needed %zu "
				 "bytes, file ends after %zu)",
				 last, need, cut - last);
		if (r) {
			CHECK_STR(rec_reader_error(r), want);
			CHECK_INT(rec_reader_offset(r), last);
		}
		rec_reader_close(r);
	}
	unlink(path);
}

static void test_corruption(void)
{
	char path[32];
	int fd = tmpfile_path(path);
	static uint8_t orig[1 << 16], buf[1 << 16];
	size_t last;

	close(fd);
	write_sample(path, &last);
	size_t size = slurp(path, orig, sizeof(orig));
	/* frame 20 (payload 100 bytes): flip each byte of crc + payload */
	struct rec_reader *r = rec_reader_open(path);
	uint32_t k;
	const void *d;
	size_t len;
	for (int i = 0; i < 20; i++)
		rec_next(r, &k, &d, &len);
	size_t off = (size_t)rec_reader_offset(r);
	rec_reader_close(r);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "corrupt frame at offset %zu: ", off);

	uint32_t enc = orig[off + 8] | orig[off + 9] << 8;
	int fails = 0;
	for (size_t b = off + 12; b < off + 16 + enc; b++) {
		memcpy(buf, orig, size);
		buf[b] ^= (uint8_t)(1u << (b % 8));
		spit(path, buf, size);
		r = read_expect(path, 20, -EBADMSG);
		if (r && strncmp(rec_reader_error(r), prefix, strlen(prefix)))
			fails++;
		if (r && rec_reader_offset(r) != off)
			fails++;
		rec_reader_close(r);
	}
	CHECK_INT(fails, 0);

	/* checksum message exactly */
	memcpy(buf, orig, size);
	buf[off + 12] ^= 0xff;
	spit(path, buf, size);
	r = read_expect(path, 20, -EBADMSG);
	char want[128];
	snprintf(want, sizeof(want), "%schecksum mismatch", prefix);
	if (r)
		CHECK_STR(rec_reader_error(r), want);
	rec_reader_close(r);

	/* raw_len above the limit, enc_len above the bound */
	memcpy(buf, orig, size);
	put32(buf + off + 4, MAXN + 1);
	spit(path, buf, size);
	rec_reader_close(read_expect(path, 20, -EBADMSG));
	memcpy(buf, orig, size);
	put32(buf + off + 8, (uint32_t)rec_encode_bound(100) + 1);
	spit(path, buf, size);
	rec_reader_close(read_expect(path, 20, -EBADMSG));
	unlink(path);
}

/* ---- sizes and write errors ---- */

static void test_sizes(void)
{
	char path[32];
	int fd = tmpfile_path(path);
	uint8_t *big = malloc(MAXN + 1);
	uint64_t s = 99;

	close(fd);
	fill_random(&s, big, MAXN + 1, 0);
	struct rec_writer *w = rec_writer_open(path);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, NULL, 0), 0);
	CHECK_INT(rec_write(w, 5, "", 0), 0);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, big, MAXN + 1), -EMSGSIZE);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, big, MAXN), 0); /* no zeros */
	memset(big, 0, MAXN);
	CHECK_INT(rec_write(w, REC_KIND_PROC, big, MAXN), 0); /* all zeros */
	CHECK_INT(rec_writer_close(w), 0);

	struct rec_reader *r = rec_reader_open(path);
	uint32_t k;
	const void *d;
	size_t len;
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	CHECK(k == REC_KIND_EVENT && len == 0 && d != NULL);
	CHECK_INT(rec_reader_offset(r), 32);
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	CHECK(k == 5 && len == 0);
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	s = 99;
	fill_random(&s, big, MAXN, 0);
	CHECK(k == REC_KIND_EVENT && len == MAXN && !memcmp(d, big, MAXN));
	CHECK_INT(rec_next(r, &k, &d, &len), 1);
	memset(big, 0, MAXN);
	CHECK(k == REC_KIND_PROC && len == MAXN && !memcmp(d, big, MAXN));
	CHECK_INT(rec_next(r, &k, &d, &len), 0);
	rec_reader_close(r);
	free(big);
	unlink(path);
}

static void test_write_errors(void)
{
	uint8_t buf[4000];
	int ret = 0, i;

	if (access("/dev/full", W_OK)) {
		fprintf(stderr, "no /dev/full, skipping write error test\n");
		return;
	}
	fill_random(&(uint64_t){5}, buf, sizeof(buf), 0);
	struct rec_writer *w = rec_writer_open("/dev/full");
	CHECK(w != NULL);
	for (i = 0; i < 100 && ret == 0; i++)
		ret = rec_write(w, REC_KIND_EVENT, buf, sizeof(buf));
	CHECK_INT(ret, -ENOSPC); /* reported once the buffer is written */
	CHECK(i > 1);
	CHECK_INT(rec_write(w, REC_KIND_EVENT, buf, 1), -ENOSPC);
	CHECK_INT(rec_writer_flush(w), -ENOSPC);
	CHECK_INT(rec_writer_close(w), -ENOSPC);

	w = rec_writer_open("/dev/full"); /* error surfaces at flush/close */
	CHECK_INT(rec_write(w, REC_KIND_META, "a=b", 3), 0);
	CHECK_INT(rec_writer_flush(w), -ENOSPC);
	CHECK_INT(rec_writer_close(w), -ENOSPC);
	w = rec_writer_open("/dev/full");
	CHECK_INT(rec_writer_close(w), -ENOSPC);
}

int main(void)
{
	test_codec_random();
	test_codec_bound();
	test_codec_corrupt();
	test_layout();
	test_roundtrip();
	test_exec_compact();
	test_pipe();
	test_header();
	test_truncation();
	test_corruption();
	test_sizes();
	test_write_errors();
	return h_finish("recording");
}
