/* recording.c - writer, reader and zero-run codec of the recording file
 * format (docs/recording-format.md).
 *
 * Invariants:
 *  - every integer in the file is little-endian and goes through put_le32()/
 *    get_le32(); no struct is ever written or read as bytes, except kernel
 *    records, which are opaque payloads here.
 *  - the encoder never emits an empty chunk nor a non-minimal varint and
 *    only starts a chunk other than the first at a run of >= 3 zeros; this is
 *    what makes rec_encode_bound() hold (each such chunk costs at most its
 *    input plus len/128). The decoder rejects everything the encoder cannot
 *    produce except other chunk boundaries.
 *  - writer: buf[0..len) is encoded, not yet written data; err is sticky and
 *    once set nothing more is written. A frame is always appended whole.
 *  - reader: buf[pos..end) is read-ahead data; off is the file offset of
 *    buf[pos], i.e. of the next frame. A failed rec_next() leaves pos/off at
 *    the failing frame and makes err sticky.
 */
#include "record/recording.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define REC_MAX_ENC (REC_MAX_PAYLOAD + REC_MAX_PAYLOAD / 128 + 16)
#define REC_MAX_FRAME (REC_FRAME_HDR_LEN + REC_MAX_ENC)
#define WBUF_FLUSH (64 * 1024) /* flush once this much is buffered */
#define WBUF_CAP (WBUF_FLUSH + REC_MAX_FRAME)
#define RBUF_CAP (128 * 1024)

_Static_assert(RBUF_CAP >= REC_MAX_FRAME, "read buffer holds a frame");
_Static_assert(sizeof(REC_MAGIC) - 1 == 8, "magic is 8 bytes");

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* CRC-32 of kind and raw_len (little-endian) then the decoded payload:
 * a damaged kind or length is caught like damaged data. */
static uint32_t crc_of(uint32_t kind, const void *data, size_t len)
{
	uint8_t head[8];
	uLong c = crc32(0L, Z_NULL, 0);

	put_le32(head, kind);
	put_le32(head + 4, (uint32_t)len);
	c = crc32(c, head, sizeof(head));
	if (!len) /* zlib's crc32() answers 0 for a NULL buffer */
		return (uint32_t)c;
	/* len <= REC_MAX_PAYLOAD fits zlib's uInt */
	return (uint32_t)crc32(c, data, (uInt)len);
}

/* ---- codec ---- */

size_t rec_encode_bound(size_t n)
{
	return n + n / 128 + 16;
}

static int put_varint(uint8_t *out, size_t cap, size_t *o, uint64_t v)
{
	do {
		if (*o >= cap)
			return -1;
		out[(*o)++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return 0;
}

/* LEB128, at most 64 bits, minimal form only. */
static int get_varint(const uint8_t *in, size_t n, size_t *i, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned s = 0; s < 64; s += 7) {
		if (*i >= n)
			return -1;
		uint8_t b = in[(*i)++];
		if (s == 63 && b > 1)
			return -1; /* overflow or an 11th byte */
		x |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80)) {
			if (b == 0 && s)
				return -1; /* overlong */
			*v = x;
			return 0;
		}
	}
	return -1;
}

size_t rec_encode(const void *in_, size_t n, uint8_t *out, size_t cap)
{
	const uint8_t *in = in_;
	size_t i = 0, o = 0;

	while (i < n) {
		size_t z = 0;
		while (i + z < n && in[i + z] == 0)
			z++;
		i += z;
		/* literals run until a run of >= 3 zeros or the end; shorter
		 * zero runs are cheaper inside the literals than as a chunk */
		size_t lit = i, j = i;
		while (j < n) {
			if (in[j]) {
				j++;
				continue;
			}
			size_t k = j;
			while (k < n && in[k] == 0 && k - j < 3)
				k++;
			if (k - j >= 3)
				break;
			j = k;
		}
		size_t l = j - lit;
		if (put_varint(out, cap, &o, z) || put_varint(out, cap, &o, l) ||
		    l > cap - o)
			return 0;
		memcpy(out + o, in + lit, l);
		o += l;
		i = j;
	}
	return o;
}

int rec_decode(const uint8_t *in, size_t n, uint8_t *out, size_t raw_len)
{
	size_t i = 0, o = 0;

	while (o < raw_len) {
		uint64_t z, l;
		if (get_varint(in, n, &i, &z) || get_varint(in, n, &i, &l))
			return -EBADMSG;
		if ((z == 0 && l == 0) || z > raw_len - o)
			return -EBADMSG;
		memset(out + o, 0, z);
		o += z;
		if (l > raw_len - o || l > n - i)
			return -EBADMSG;
		memcpy(out + o, in + i, l);
		o += l;
		i += l;
	}
	return i == n ? 0 : -EBADMSG;
}

/* ---- writer ---- */

struct rec_writer {
	int fd, own_fd, err;
	size_t len;
	uint8_t buf[WBUF_CAP];
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct rec_writer *rec_writer_fdopen(int fd)
{
	struct rec_writer *w = fd < 0 ? NULL : malloc(sizeof(*w));

	if (!w) {
		errno = fd < 0 ? EBADF : ENOMEM;
		return NULL;
	}
	w->fd = fd;
	w->own_fd = w->err = 0;
	w->len = REC_FILE_HDR_LEN;
	memcpy(w->buf, REC_MAGIC, 8);
	put_le32(w->buf + 8, REC_VERSION);
	put_le32(w->buf + 12, 0);
	return w;
}

struct rec_writer *rec_writer_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct rec_writer *w = fd < 0 ? NULL : rec_writer_fdopen(fd);

	if (w)
		w->own_fd = 1;
	else if (fd >= 0)
		close(fd); /* errno stays ENOMEM */
	return w;
}

int rec_writer_flush(struct rec_writer *w)
{
	if (w->err)
		return w->err;
	int ret = write_all(w->fd, w->buf, w->len);
	w->len = 0;
	if (ret)
		w->err = ret;
	return ret;
}

int rec_write(struct rec_writer *w, uint32_t kind, const void *data,
	      size_t len)
{
	if (w->err)
		return w->err;
	if (len > REC_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (w->len + REC_FRAME_HDR_LEN + rec_encode_bound(len) > WBUF_CAP &&
	    rec_writer_flush(w))
		return w->err;

	uint8_t *hdr = w->buf + w->len;
	size_t enc = rec_encode(data, len, hdr + REC_FRAME_HDR_LEN,
				rec_encode_bound(len)); /* always fits */
	put_le32(hdr, kind);
	put_le32(hdr + 4, (uint32_t)len);
	put_le32(hdr + 8, (uint32_t)enc);
	put_le32(hdr + 12, crc_of(kind, data, len));
	w->len += REC_FRAME_HDR_LEN + enc;
	if (w->len >= WBUF_FLUSH)
		return rec_writer_flush(w);
	return 0;
}

int rec_writer_close(struct rec_writer *w)
{
	if (!w)
		return 0;
	int ret = rec_writer_flush(w);
	if (w->own_fd && close(w->fd) && !ret)
		ret = -errno;
	free(w);
	return ret;
}

/* ---- reader ---- */

struct rec_reader {
	int fd, own_fd, err, eof;
	uint64_t off;
	size_t pos, end;
	char msg[192];
	uint8_t out[REC_MAX_PAYLOAD];
	uint8_t buf[RBUF_CAP];
};

/* Make at least need (<= RBUF_CAP) bytes available at buf + pos unless the
 * file ends first. Returns the number available (capped at need) or -errno. */
static ssize_t fill(struct rec_reader *r, size_t need)
{
	if (r->end - r->pos >= need)
		return (ssize_t)need;
	if (r->pos + need > RBUF_CAP) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	while (!r->eof && r->end - r->pos < need) {
		ssize_t k = read(r->fd, r->buf + r->end, RBUF_CAP - r->end);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			r->eof = 1;
		r->end += (size_t)k;
	}
	size_t have = r->end - r->pos;
	return (ssize_t)(have < need ? have : need);
}

struct rec_reader *rec_reader_fdopen(int fd)
{
	struct rec_reader *r = fd < 0 ? NULL : calloc(1, sizeof(*r));
	int e = fd < 0 ? EBADF : ENOMEM;

	if (r) {
		r->fd = fd;
		ssize_t n = fill(r, REC_FILE_HDR_LEN);
		const uint8_t *h = r->buf;
		e = 0;
		if (n < 0)
			e = (int)-n;
		else if (memcmp(h, REC_MAGIC, n < 8 ? (size_t)n : 8))
			e = EINVAL;
		else if (n < REC_FILE_HDR_LEN)
			e = ENODATA;
		else if (get_le32(h + 8) != REC_VERSION || get_le32(h + 12))
			e = EPROTO;
	}
	if (e) {
		free(r);
		errno = e;
		return NULL;
	}
	r->pos = r->off = REC_FILE_HDR_LEN;
	return r;
}

struct rec_reader *rec_reader_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct rec_reader *r = fd < 0 ? NULL : rec_reader_fdopen(fd);

	if (r) {
		r->own_fd = 1;
	} else if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return r;
}

__attribute__((format(printf, 3, 4))) static int
reader_fail(struct rec_reader *r, int err, const char *fmt, ...)
{
	const char *what = err == -EBADMSG   ? "corrupt frame"
			   : err == -ENODATA ? "truncated frame"
					     : "read error in frame";
	int n = snprintf(r->msg, sizeof(r->msg), "%s at offset %llu", what,
			 (unsigned long long)r->off);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	r->err = err;
	return err;
}

/* Make need bytes of the current frame available: 1 when they are, 0 at a
 * clean end of file (no byte of the frame), or a recorded error. */
static int frame_bytes(struct rec_reader *r, size_t need)
{
	ssize_t n = fill(r, need);

	if (n < 0)
		return reader_fail(r, (int)n, ": %s", strerror((int)-n));
	if (n == 0)
		return 0;
	if ((size_t)n < need)
		return reader_fail(r, -ENODATA,
				   " (needed %zu bytes, file ends after %zd)",
				   need, n);
	return 1;
}

int rec_next(struct rec_reader *r, uint32_t *kind, const void **data,
	     size_t *len)
{
	int ret = r->err ? r->err : frame_bytes(r, REC_FRAME_HDR_LEN);

	if (ret <= 0)
		return ret;
	const uint8_t *h = r->buf + r->pos;
	uint32_t k = get_le32(h), raw = get_le32(h + 4);
	uint32_t enc = get_le32(h + 8), crc = get_le32(h + 12);
	if (raw > REC_MAX_PAYLOAD)
		return reader_fail(r, -EBADMSG, ": payload length %u exceeds %u",
				   raw, REC_MAX_PAYLOAD);
	if (enc > rec_encode_bound(raw))
		return reader_fail(r, -EBADMSG,
				   ": encoded length %u exceeds %zu for payload "
				   "length %u",
				   enc, rec_encode_bound(raw), raw);
	size_t total = REC_FRAME_HDR_LEN + (size_t)enc;
	ret = frame_bytes(r, total);
	if (ret <= 0)
		return ret; /* never 0: the frame header is there */

	const uint8_t *p = r->buf + r->pos + REC_FRAME_HDR_LEN; /* fill moved */
	if (rec_decode(p, enc, r->out, raw))
		return reader_fail(r, -EBADMSG, ": bad encoding");
	if (crc_of(k, r->out, raw) != crc)
		return reader_fail(r, -EBADMSG, ": checksum mismatch");
	r->pos += total;
	r->off += total;
	*kind = k;
	*data = r->out;
	*len = raw;
	return 1;
}

const char *rec_reader_error(const struct rec_reader *r)
{
	return r->msg;
}

uint64_t rec_reader_offset(const struct rec_reader *r)
{
	return r->off;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r);
}
