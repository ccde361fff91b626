/* strbuf.h - a growable byte buffer for building text (CEF lines, syslog
 * frames, HTTP bodies).
 *
 * Errors are sticky like jsonw's: after the first failed allocation every
 * append is a no-op and strbuf_error() reports -ENOMEM, so a caller builds
 * a whole message and checks once. The data is always NUL-terminated (the
 * NUL is not counted in len), and may itself contain NUL bytes. */
#ifndef VIGIL_STRBUF_H
#define VIGIL_STRBUF_H
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NULL until the first append */
	size_t len, cap;
	int err;
};

#define STRBUF_INIT {NULL, 0, 0, 0}

/* Empties the buffer (keeps its capacity) and clears the error. */
void strbuf_reset(struct strbuf *b);
/* Frees the memory; the buffer is STRBUF_INIT again. */
void strbuf_free(struct strbuf *b);
void strbuf_add(struct strbuf *b, const void *data, size_t n);
void strbuf_adds(struct strbuf *b, const char *s); /* NULL adds nothing */
void strbuf_addc(struct strbuf *b, char c);
void strbuf_addf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The text ("" when empty, never NULL) and its length. */
const char *strbuf_data(const struct strbuf *b, size_t *len);
/* 0 or -ENOMEM. */
int strbuf_error(const struct strbuf *b);
#endif
