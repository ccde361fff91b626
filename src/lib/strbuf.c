/* strbuf.c - growable byte buffer, see strbuf.h.
 *
 * Invariants: buf is NULL (len == cap == 0) or holds cap bytes with
 * len < cap and buf[len] == '\0'; err is sticky until strbuf_reset(). */
#include "lib/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct strbuf *b, size_t n)
{
	size_t need, cap;
	char *nb;

	if (b->err)
		return b->err;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	nb = realloc(b->buf, cap);
	if (!nb) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->buf = nb;
	b->cap = cap;
	return 0;
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->buf)
		b->buf[0] = 0;
}

void strbuf_free(struct strbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void strbuf_add(struct strbuf *b, const void *data, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = 0;
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	if (s)
		strbuf_add(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	if (reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *strbuf_data(const struct strbuf *b, size_t *len)
{
	if (len)
		*len = b->len;
	return b->buf ? b->buf : "";
}

int strbuf_error(const struct strbuf *b)
{
	return b->err;
}
