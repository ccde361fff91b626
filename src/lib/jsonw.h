/* jsonw.h - streaming JSON writer into a growable heap buffer.
 *
 * Build one JSON text (normally one object, printed as one line) by calling
 * the open/close/value functions in document order; commas, quotes and
 * escaping are handled here. Errors are sticky: after the first failure every
 * later call is a no-op until jsonw_reset(), and jsonw_error() reports it, so
 * callers can write a whole event and check once at the end.
 *
 * Keys: inside an object every value needs a non-NULL key; at top level and
 * inside an array the key must be NULL. Breaking this rule is -EINVAL.
 * All strings (keys and values) are escaped; the output is always valid
 * UTF-8: invalid UTF-8 bytes are each replaced by U+FFFD.
 *
 * The writer is not thread-safe; use one per thread. Functions taking a
 * struct jsonw * require it to be non-NULL unless stated otherwise.
 */
#ifndef VIGIL_JSONW_H
#define VIGIL_JSONW_H
#include <stddef.h>

/* Maximum number of simultaneously open objects/arrays. */
#define JSONW_MAX_DEPTH 32

struct jsonw;

/* Allocate an empty writer. Returns NULL with errno = ENOMEM on failure. */
struct jsonw *jsonw_new(void);

/* Free the writer and its buffer. Accepts NULL. */
void jsonw_free(struct jsonw *w);

/* Empty the buffer, close all levels and clear the error; the allocated
 * capacity is kept so the next event does not reallocate. */
void jsonw_reset(struct jsonw *w);

/* Open an object ('{') / array ('['), as member `key` of the enclosing
 * object, or with key NULL at top level or as an array element.
 * Opening more than JSONW_MAX_DEPTH levels is -EINVAL. */
void jsonw_obj_open(struct jsonw *w, const char *key);
void jsonw_arr_open(struct jsonw *w, const char *key);

/* Close the innermost level, which must be an object / array respectively;
 * closing with nothing open or the wrong kind is -EINVAL. */
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_close(struct jsonw *w);

/* String value from a NUL-terminated string; s NULL writes JSON null. */
void jsonw_str(struct jsonw *w, const char *key, const char *s);

/* String value from len bytes at s, binary-safe: NUL bytes are written as
 * \u0000. s may be NULL only when len is 0. */
void jsonw_strn(struct jsonw *w, const char *key, const char *s, size_t len);

/* Number, boolean (v != 0 is true) and null values. */
void jsonw_int(struct jsonw *w, const char *key, long long v);
void jsonw_uint(struct jsonw *w, const char *key, unsigned long long v);
void jsonw_bool(struct jsonw *w, const char *key, int v);
void jsonw_null(struct jsonw *w, const char *key);

/* Insert json_text, which the caller guarantees is exactly one valid JSON
 * value, verbatim (not checked). NULL writes null; "" is -EINVAL. */
void jsonw_raw(struct jsonw *w, const char *key, const char *json_text);

/* The text written so far, always NUL-terminated (never NULL); its length
 * without the NUL goes to *len when len is non-NULL. The pointer is valid
 * until the next call on w. It is a complete JSON text only when every level
 * has been closed and jsonw_error() is 0. */
const char *jsonw_data(const struct jsonw *w, size_t *len);

/* 0, or the first error since jsonw_new()/jsonw_reset(): -ENOMEM when an
 * allocation failed, -EINVAL on nesting overflow/underflow, a key/container
 * mismatch, or a second top-level value. */
int jsonw_error(const struct jsonw *w);

#endif
