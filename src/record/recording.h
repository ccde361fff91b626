/* recording.h - the versioned, compact binary file behind `vigil record` and
 * `vigil replay` (byte layout: docs/recording-format.md).
 *
 * A recording is a 16-byte file header followed by frames. A frame carries a
 * kind and a payload of at most REC_MAX_PAYLOAD bytes, stored zero-run
 * encoded and protected by a CRC-32 of the decoded payload. Kernel records
 * (REC_KIND_EVENT) are stored verbatim, so bpf/vigil_event.h is also part of
 * the format.
 *
 * Errors: functions returning int give >= 0 on success or a negative errno.
 * Writers and readers are not thread-safe; use one per thread. Functions
 * taking a writer/reader require it to be non-NULL unless stated otherwise.
 */
#ifndef VIGIL_RECORDING_H
#define VIGIL_RECORDING_H
#include <stddef.h>
#include <stdint.h>

#define REC_MAGIC "VIGILREC" /* 8 bytes, no NUL in the file */
#define REC_VERSION 1
#define REC_FILE_HDR_LEN 16
#define REC_FRAME_HDR_LEN 16
#define REC_MAX_PAYLOAD 65536 /* largest decoded payload of one frame */

/* Frame kinds. Numbers are never reused; readers return kinds they do not
 * know to the caller, who should skip them (forward compatibility). */
enum rec_kind {
	REC_KIND_META = 1,      /* UTF-8 text, "key=value" lines */
	REC_KIND_EVENT = 2,     /* one kernel record, verbatim struct bytes */
	REC_KIND_CONTAINER = 3, /* opaque, defined by the enrich stage */
	REC_KIND_PROC = 4,      /* opaque, defined by the enrich stage */
};

/* ---- codec (exposed for tests) ---- */

/* Largest output of rec_encode() for n input bytes: n + n/128 + 16. This is
 * also the largest enc_len a reader accepts for a frame of raw_len n.
 * n must be at most SIZE_MAX / 2. */
size_t rec_encode_bound(size_t n);

/* Zero-run encode n bytes at in into out (cap bytes). Returns the encoded
 * length, or 0 when cap is too small (out contents then unspecified).
 * n == 0 encodes to nothing and returns 0. cap >= rec_encode_bound(n)
 * always suffices. in may be NULL only when n is 0. */
size_t rec_encode(const void *in, size_t n, uint8_t *out, size_t cap);

/* Decode exactly n bytes at in into exactly raw_len bytes at out. Returns 0,
 * or -EBADMSG when the input is not a valid encoding of raw_len bytes (bad
 * or overlong varint, empty chunk, output past raw_len, input left over or
 * missing). out contents are unspecified after an error. */
int rec_decode(const uint8_t *in, size_t n, uint8_t *out, size_t raw_len);

/* ---- writer ---- */

struct rec_writer;

/* Create or truncate path (mode 0600 before umask: recordings hold command
 * lines) and start a recording. The file header is buffered like any frame.
 * Returns NULL with errno set on failure. */
struct rec_writer *rec_writer_open(const char *path);

/* Start a recording on an already open fd (e.g. STDOUT_FILENO). The writer
 * does not own fd: rec_writer_close() flushes but does not close it.
 * Returns NULL with errno set (EBADF for fd < 0, ENOMEM). */
struct rec_writer *rec_writer_fdopen(int fd);

/* Append one frame of len bytes at data (NULL allowed when len is 0).
 * Returns 0, -EMSGSIZE when len > REC_MAX_PAYLOAD (nothing written, the
 * writer stays usable), or the writer's sticky error (e.g. -ENOSPC): after
 * the first write(2) failure every call fails with that error and the file
 * must be considered incomplete. Frames are buffered (about 64 KiB) and
 * reach the fd when the buffer fills or on flush/close. */
int rec_write(struct rec_writer *w, uint32_t kind, const void *data,
	      size_t len);

/* Write all buffered frames to the fd (retrying short writes and EINTR).
 * Returns 0 or the sticky error. Does not fsync. */
int rec_writer_flush(struct rec_writer *w);

/* Flush, close the fd if the writer opened it, and free the writer. Returns
 * 0 or the first error seen during the writer's life (including close(2)).
 * Accepts NULL (returns 0). */
int rec_writer_close(struct rec_writer *w);

/* ---- reader ---- */

struct rec_reader;

/* Open path and validate the file header. Returns NULL with errno set:
 * EINVAL when the magic is wrong (not a recording), EPROTO for an
 * unsupported version or non-zero flags, ENODATA when the file ends inside
 * the header, or the errno of open/read/malloc. */
struct rec_reader *rec_reader_open(const char *path);

/* Same on an already open fd positioned at the file header (pipes work:
 * the fd is only read sequentially). The reader does not own fd. */
struct rec_reader *rec_reader_fdopen(int fd);

/* Read the next frame. Returns 1 and sets *kind, *data and *len (data is
 * valid until the next rec_next/rec_reader_close and is non-NULL even when
 * *len is 0), 0 at a clean end of file (exactly at a frame boundary), or:
 *  -ENODATA  the file ends inside a frame (truncated recording);
 *  -EBADMSG  corrupt frame: raw_len > REC_MAX_PAYLOAD, enc_len above
 *            rec_encode_bound(raw_len), bad encoding, or CRC mismatch;
 *  other     -errno of read(2).
 * Errors are sticky: later calls return the same value. Frames of unknown
 * kind are returned like any other. */
int rec_next(struct rec_reader *r, uint32_t *kind, const void **data,
	     size_t *len);

/* A human-readable description of the last rec_next() error, naming the
 * byte offset of the failing frame, e.g. "truncated frame at offset 12345
 * (needed 40 bytes, file ends after 17)" or "corrupt frame at offset 678:
 * checksum mismatch"; "" when there was no error. Valid until close. */
const char *rec_reader_error(const struct rec_reader *r);

/* Byte offset in the file of the frame rec_next() reads next; after an
 * error, the offset of the frame that failed. */
uint64_t rec_reader_offset(const struct rec_reader *r);

/* Free the reader, closing the fd if rec_reader_open() opened it.
 * Accepts NULL. */
void rec_reader_close(struct rec_reader *r);

#endif
