/* jsonw.c - streaming JSON writer into a growable heap buffer.
 *
 * Invariants:
 *  - buf is always allocated, len < cap, and buf[len] == '\0'.
 *  - err is sticky: the first failure is kept and every later write is a
 *    no-op until jsonw_reset(); the text written so far stays readable.
 *  - depth is the number of open containers (0..JSONW_MAX_DEPTH); level 0 is
 *    the top level, level d >= 1 the d-th open container. kind[d] is its
 *    type and first[d] stays set until it receives its first value, which
 *    tells whether a comma is needed. The top level takes one value.
 *  - every key and string byte goes through put_escaped(), so the output is
 *    valid UTF-8 JSON whatever the input bytes are.
 */
#include "jsonw.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONW_INIT_CAP 256

enum { K_TOP, K_OBJ, K_ARR };

struct jsonw {
	char *buf;
	size_t len, cap;
	int err;
	int depth;
	unsigned char kind[JSONW_MAX_DEPTH + 1];
	unsigned char first[JSONW_MAX_DEPTH + 1];
};

static void fail(struct jsonw *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Make room for n more bytes plus the NUL; 0 or -errno (recorded). */
static int reserve(struct jsonw *w, size_t n)
{
	size_t need, cap;
	char *nb;

	if (w->err)
		return w->err;
	if (n > SIZE_MAX - w->len - 1) {
		fail(w, -ENOMEM);
		return -ENOMEM;
	}
	need = w->len + n + 1;
	if (need <= w->cap)
		return 0;
	cap = w->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		fail(w, -ENOMEM);
		return -ENOMEM;
	}
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (n == 0 || reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void put_ch(struct jsonw *w, char c)
{
	put(w, &c, 1);
}

/* Length of the well-formed UTF-8 sequence of a non-ASCII lead byte at s
 * (n bytes available), or 0 if it is invalid: bad lead byte, overlong form,
 * surrogate, above U+10FFFF, bad continuation or truncated. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates U+D800..DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0; /* continuation, C0/C1 overlong, F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Write the escape for one byte that cannot be copied as is. */
static void put_special(struct jsonw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

	switch (c) {
	case '"': put(w, "\\\"", 2); break;
	case '\\': put(w, "\\\\", 2); break;
	case '\n': put(w, "\\n", 2); break;
	case '\r': put(w, "\\r", 2); break;
	case '\t': put(w, "\\t", 2); break;
	case '\b': put(w, "\\b", 2); break;
	case '\f': put(w, "\\f", 2); break;
	default:
		if (c < 0x20 || c == 0x7f)
			put(w, u, sizeof(u));
		else /* byte of an invalid UTF-8 sequence */
			put(w, "\xef\xbf\xbd", 3);
	}
}

/* Write n bytes at str as a quoted JSON string. Runs of bytes that need no
 * escaping (printable ASCII, well-formed UTF-8) are copied in one go. */
static void put_escaped(struct jsonw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, j, l;

	put_ch(w, '"');
	while (i < n && !w->err) {
		for (j = i; j < n; j += l) {
			unsigned char c = s[j];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				l = 1;
			else if (c < 0x80 || (l = utf8_len(s + j, n - j)) == 0)
				break;
		}
		put(w, str + i, j - i);
		if (j == n)
			break;
		put_special(w, s[j]);
		i = j + 1;
	}
	put_ch(w, '"');
}

/* Emit the comma and key that precede a value at the current level;
 * 0 if the value may now be written, -1 otherwise. */
static int begin_value(struct jsonw *w, const char *key)
{
	int d = w->depth;

	if (w->err)
		return -1;
	if ((w->kind[d] == K_OBJ) != (key != NULL) ||
	    (w->kind[d] == K_TOP && !w->first[d])) {
		fail(w, -EINVAL);
		return -1;
	}
	if (!w->first[d])
		put_ch(w, ',');
	w->first[d] = 0;
	if (key) {
		put_escaped(w, key, strlen(key));
		put_ch(w, ':');
	}
	return w->err ? -1 : 0;
}

static void open_level(struct jsonw *w, const char *key, unsigned char kind,
		       char ch)
{
	if (!w->err && w->depth >= JSONW_MAX_DEPTH)
		fail(w, -EINVAL);
	if (begin_value(w, key) < 0)
		return;
	put_ch(w, ch);
	if (w->err)
		return;
	w->depth++;
	w->kind[w->depth] = kind;
	w->first[w->depth] = 1;
}

static void close_level(struct jsonw *w, unsigned char kind, char ch)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->kind[w->depth] != kind) {
		fail(w, -EINVAL);
		return;
	}
	put_ch(w, ch);
	if (!w->err)
		w->depth--;
}

struct jsonw *jsonw_new(void)
{
	struct jsonw *w = calloc(1, sizeof(*w));

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->buf = malloc(JSONW_INIT_CAP);
	if (!w->buf) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->cap = JSONW_INIT_CAP;
	jsonw_reset(w);
	return w;
}

void jsonw_free(struct jsonw *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->buf[0] = '\0';
	w->err = 0;
	w->depth = 0;
	w->kind[0] = K_TOP;
	w->first[0] = 1;
}

void jsonw_obj_open(struct jsonw *w, const char *key)
{
	open_level(w, key, K_OBJ, '{');
}

void jsonw_obj_close(struct jsonw *w)
{
	close_level(w, K_OBJ, '}');
}

void jsonw_arr_open(struct jsonw *w, const char *key)
{
	open_level(w, key, K_ARR, '[');
}

void jsonw_arr_close(struct jsonw *w)
{
	close_level(w, K_ARR, ']');
}

void jsonw_strn(struct jsonw *w, const char *key, const char *s, size_t len)
{
	if (begin_value(w, key) == 0)
		put_escaped(w, s, len);
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	if (!s)
		jsonw_raw(w, key, "null");
	else
		jsonw_strn(w, key, s, strlen(s));
}

void jsonw_int(struct jsonw *w, const char *key, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	if (begin_value(w, key) == 0)
		put(w, num, (size_t)n);
}

void jsonw_uint(struct jsonw *w, const char *key, unsigned long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%llu", v);

	if (begin_value(w, key) == 0)
		put(w, num, (size_t)n);
}

void jsonw_bool(struct jsonw *w, const char *key, int v)
{
	jsonw_raw(w, key, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w, const char *key)
{
	jsonw_raw(w, key, "null");
}

void jsonw_raw(struct jsonw *w, const char *key, const char *json_text)
{
	if (!json_text)
		json_text = "null";
	if (!w->err && json_text[0] == '\0')
		fail(w, -EINVAL);
	if (begin_value(w, key) == 0)
		put(w, json_text, strlen(json_text));
}

const char *jsonw_data(const struct jsonw *w, size_t *len)
{
	if (len)
		*len = w->len;
	return w->buf;
}

int jsonw_error(const struct jsonw *w)
{
	return w->err;
}
