/* test_jsonw.c - unit tests for the streaming JSON writer: commas and
 * nesting, escaping, UTF-8 validation/replacement, buffer growth, reset,
 * sticky errors, and that output parses with jansson. */
#include "harness.h"
#include "lib/jsonw.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#define FFFD "\xef\xbf\xbd"

/* Write one top-level string value of n bytes and compare the whole output
 * (including the quotes) to want. */
static void check_strn(const char *in, size_t n, const char *want, int line)
{
	struct jsonw *w = jsonw_new();

	if (!w) {
		CHECK(w != NULL);
		return;
	}
	jsonw_strn(w, NULL, in, n);
	if (strcmp(jsonw_data(w, NULL), want) != 0)
		fprintf(stderr, "  (from line %d)\n", line);
	CHECK_STR(jsonw_data(w, NULL), want);
	CHECK_INT(jsonw_error(w), 0);
	jsonw_free(w);
}
#define STRN(lit, want) check_strn(lit, sizeof(lit) - 1, want, __LINE__)

static void test_nesting(void)
{
	struct jsonw *w = jsonw_new();
	size_t len = 0;

	jsonw_obj_open(w, NULL);
	jsonw_str(w, "@timestamp", "2024-01-01T00:00:00Z");
	jsonw_obj_open(w, "event");
	jsonw_str(w, "action", "exec");
	jsonw_obj_close(w);
	jsonw_obj_open(w, "process");
	jsonw_int(w, "pid", 3);
	jsonw_arr_open(w, "args");
	jsonw_str(w, NULL, "a");
	jsonw_str(w, NULL, "b");
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	CHECK_STR(jsonw_data(w, &len),
		  "{\"@timestamp\":\"2024-01-01T00:00:00Z\","
		  "\"event\":{\"action\":\"exec\"},"
		  "\"process\":{\"pid\":3,\"args\":[\"a\",\"b\"]}}");
	CHECK_INT(len, strlen(jsonw_data(w, NULL)));
	CHECK_INT(jsonw_error(w), 0);

	/* empty containers, arrays of arrays, objects in arrays */
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_obj_open(w, "a");
	jsonw_obj_close(w);
	jsonw_arr_open(w, "b");
	jsonw_arr_close(w);
	jsonw_arr_open(w, "c");
	jsonw_arr_open(w, NULL);
	jsonw_int(w, NULL, 1);
	jsonw_arr_close(w);
	jsonw_arr_open(w, NULL);
	jsonw_int(w, NULL, 2);
	jsonw_arr_open(w, NULL);
	jsonw_arr_close(w);
	jsonw_arr_close(w);
	jsonw_obj_open(w, NULL);
	jsonw_obj_close(w);
	jsonw_obj_open(w, NULL);
	jsonw_null(w, "x");
	jsonw_obj_close(w);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	CHECK_STR(jsonw_data(w, NULL),
		  "{\"a\":{},\"b\":[],\"c\":[[1],[2,[]],{},{\"x\":null}]}");
	CHECK_INT(jsonw_error(w), 0);

	/* top-level array and scalar */
	jsonw_reset(w);
	jsonw_arr_open(w, NULL);
	jsonw_arr_close(w);
	CHECK_STR(jsonw_data(w, NULL), "[]");
	jsonw_reset(w);
	jsonw_int(w, NULL, 7);
	CHECK_STR(jsonw_data(w, NULL), "7");
	CHECK_INT(jsonw_error(w), 0);
	jsonw_free(w);
}

static void test_scalars(void)
{
	struct jsonw *w = jsonw_new();

	jsonw_obj_open(w, NULL);
	jsonw_int(w, "min", LLONG_MIN);
	jsonw_int(w, "max", LLONG_MAX);
	jsonw_int(w, "zero", 0);
	jsonw_int(w, "neg", -42);
	jsonw_uint(w, "umax", ULLONG_MAX);
	jsonw_bool(w, "t", 1);
	jsonw_bool(w, "t2", 5);
	jsonw_bool(w, "f", 0);
	jsonw_null(w, "n");
	jsonw_str(w, "s0", NULL);
	jsonw_str(w, "e", "");
	jsonw_strn(w, "e2", NULL, 0);
	jsonw_raw(w, "raw", "{\"k\":[1,2]}");
	jsonw_raw(w, "rawnull", NULL);
	jsonw_obj_close(w);
	CHECK_STR(jsonw_data(w, NULL),
		  "{\"min\":-9223372036854775808,\"max\":9223372036854775807,"
		  "\"zero\":0,\"neg\":-42,\"umax\":18446744073709551615,"
		  "\"t\":true,\"t2\":true,\"f\":false,\"n\":null,\"s0\":null,"
		  "\"e\":\"\",\"e2\":\"\",\"raw\":{\"k\":[1,2]},"
		  "\"rawnull\":null}");
	CHECK_INT(jsonw_error(w), 0);
	jsonw_free(w);
}

static void test_escaping(void)
{
	char in[2], want[16];
	int c;

	STRN("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	STRN("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	STRN("a\0b", "\"a\\u0000b\"");
	STRN("\0\0", "\"\\u0000\\u0000\"");
	STRN("\x7f", "\"\\u007f\"");
	STRN(" ~", "\" ~\"");
	/* every control byte, one at a time */
	for (c = 0; c < 0x20; c++) {
		const char *sh = NULL;

		switch (c) {
		case '\n': sh = "\\n"; break;
		case '\r': sh = "\\r"; break;
		case '\t': sh = "\\t"; break;
		case '\b': sh = "\\b"; break;
		case '\f': sh = "\\f"; break;
		}
		in[0] = (char)c;
		if (sh)
			snprintf(want, sizeof(want), "\"%s\"", sh);
		else
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		check_strn(in, 1, want, __LINE__);
	}
	/* keys are escaped too */
	{
		struct jsonw *w = jsonw_new();

		jsonw_obj_open(w, NULL);
		jsonw_str(w, "k\"\n\x01\xff", "v");
		jsonw_obj_close(w);
		CHECK_STR(jsonw_data(w, NULL),
			  "{\"k\\\"\\n\\u0001" FFFD "\":\"v\"}");
		jsonw_free(w);
	}
	/* jsonw_str stops at NUL, jsonw_strn does not */
	{
		struct jsonw *w = jsonw_new();

		jsonw_arr_open(w, NULL);
		jsonw_str(w, NULL, "ab\0cd");
		jsonw_strn(w, NULL, "ab\0cd", 5);
		jsonw_arr_close(w);
		CHECK_STR(jsonw_data(w, NULL), "[\"ab\",\"ab\\u0000cd\"]");
		jsonw_free(w);
	}
}

static void test_utf8(void)
{
	/* valid sequences, including every range boundary, are kept */
	STRN("\xc3\xa9", "\"\xc3\xa9\"");                   /* U+00E9 */
	STRN("\xe2\x82\xac", "\"\xe2\x82\xac\"");           /* U+20AC */
	STRN("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");   /* U+1F600 */
	STRN("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");   /* U+0080 U+07FF */
	STRN("\xe0\xa0\x80\xed\x9f\xbf", "\"\xe0\xa0\x80\xed\x9f\xbf\"");
	STRN("\xee\x80\x80\xef\xbf\xbf", "\"\xee\x80\x80\xef\xbf\xbf\"");
	STRN("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
	     "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
	STRN("a\xc3\xa9z\xe2\x82\xac\"", "\"a\xc3\xa9z\xe2\x82\xac\\\"\"");

	/* invalid: every byte of the bad sequence becomes one U+FFFD */
	STRN("\x80", "\"" FFFD "\"");                        /* lone cont. */
	STRN("a\x80z", "\"a" FFFD "z\"");
	STRN("\xc0\xaf", "\"" FFFD FFFD "\"");               /* overlong */
	STRN("\xc1\xbf", "\"" FFFD FFFD "\"");
	STRN("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	STRN("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	STRN("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");      /* surrogate */
	STRN("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"");
	STRN("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* >max */
	STRN("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	STRN("\xe2\x82", "\"" FFFD FFFD "\"");               /* truncated */
	STRN("x\xe2\x82", "\"x" FFFD FFFD "\"");
	STRN("\xe2\x82z", "\"" FFFD FFFD "z\"");
	STRN("\xf0\x9f\x98", "\"" FFFD FFFD FFFD "\"");
	STRN("\xc3", "\"" FFFD "\"");
	STRN("\xff", "\"" FFFD "\"");
	STRN("\xfe\xff", "\"" FFFD FFFD "\"");
	/* a bad byte does not swallow the valid text after it */
	STRN("\xff\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
	STRN("\xe2\x82\xe2\x82\xac", "\"" FFFD FFFD "\xe2\x82\xac\"");
	STRN("\xc3\n", "\"" FFFD "\\n\"");
}

/* Encode code point cp as UTF-8 into out; returns the byte count. */
static size_t utf8_enc(unsigned cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Parse w's output with jansson (NULs allowed) and return the top-level
 * string, or NULL. */
static json_t *parse(struct jsonw *w)
{
	json_error_t e;
	size_t len;
	const char *d = jsonw_data(w, &len);
	json_t *j = json_loadb(d, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);

	if (!j)
		fprintf(stderr, "jansson: %s at %d\n", e.text, e.position);
	return j;
}

static void test_large(void)
{
	const size_t mib = 1u << 20;
	unsigned char *big = malloc(mib + 4);
	struct jsonw *w = jsonw_new(), *w2 = jsonw_new();
	uint32_t seed = 12345;
	size_t n = 0, len = 0, len2 = 0, i;
	const char *d;
	json_t *j;

	if (!big || !w || !w2) {
		CHECK(0);
		goto out;
	}
	/* 1 MiB of plain ASCII */
	memset(big, 'x', mib);
	jsonw_strn(w, NULL, (const char *)big, mib);
	d = jsonw_data(w, &len);
	CHECK_INT(len, mib + 2);
	CHECK_INT(jsonw_error(w), 0);
	CHECK(d[0] == '"' && d[mib + 1] == '"' && d[mib + 2] == '\0');
	CHECK(d[1] == 'x' && d[mib] == 'x');

	/* 1 MiB of NULs: 6x expansion */
	jsonw_reset(w);
	memset(big, 0, mib);
	jsonw_strn(w, NULL, (const char *)big, mib);
	d = jsonw_data(w, &len);
	CHECK_INT(len, 6 * mib + 2);
	CHECK(memcmp(d + 1, "\\u0000", 6) == 0);
	CHECK(memcmp(d + len - 7, "\\u0000\"", 7) == 0);
	CHECK_INT(jsonw_error(w), 0);

	/* ~1 MiB of random valid UTF-8 (controls included) round-trips */
	while (n < mib) {
		uint32_t r = rnd(&seed), cp;

		switch (r % 4) {
		case 0: cp = r >> 8 & 0x7f; break;
		case 1: cp = 0x80 + (r >> 8) % 0x780; break;
		case 2: cp = 0x800 + (r >> 8) % 0xf800; break;
		default: cp = 0x10000 + (r >> 8) % 0x100000; break;
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n += utf8_enc(cp, big + n);
	}
	jsonw_reset(w);
	jsonw_strn(w, NULL, (const char *)big, n);
	j = parse(w);
	CHECK(j && json_is_string(j));
	if (j && json_is_string(j)) {
		CHECK_INT(json_string_length(j), n);
		CHECK(memcmp(json_string_value(j), big, n) == 0);
	}
	json_decref(j);

	/* 1 MiB of random bytes: always valid JSON, and deterministic */
	for (i = 0; i < mib; i++)
		big[i] = (unsigned char)(rnd(&seed) >> 7);
	jsonw_reset(w);
	jsonw_strn(w, NULL, (const char *)big, mib);
	jsonw_strn(w2, NULL, (const char *)big, mib);
	j = parse(w);
	CHECK(j && json_is_string(j));
	json_decref(j);
	d = jsonw_data(w, &len);
	CHECK(len == (jsonw_data(w2, &len2), len2) &&
	      memcmp(d, jsonw_data(w2, NULL), len) == 0);
out:
	jsonw_free(w);
	jsonw_free(w2);
	free(big);
}

static void test_reset(void)
{
	struct jsonw *w = jsonw_new();
	const char *p;
	size_t len = 99;
	int i;

	CHECK_STR(jsonw_data(w, &len), "");
	CHECK_INT(len, 0);
	jsonw_arr_open(w, NULL);
	for (i = 0; i < 1000; i++)
		jsonw_str(w, NULL, "some text");
	jsonw_arr_close(w);
	p = jsonw_data(w, NULL);
	jsonw_reset(w);
	CHECK_STR(jsonw_data(w, &len), "");
	CHECK_INT(len, 0);
	jsonw_obj_open(w, NULL);
	jsonw_int(w, "a", 1);
	jsonw_obj_close(w);
	CHECK_STR(jsonw_data(w, NULL), "{\"a\":1}");
	/* capacity kept: a smaller document reuses the same buffer */
	CHECK(jsonw_data(w, NULL) == p);
	/* reset clears a previous error */
	jsonw_obj_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_reset(w);
	CHECK_INT(jsonw_error(w), 0);
	jsonw_null(w, NULL);
	CHECK_STR(jsonw_data(w, NULL), "null");
	jsonw_free(w);
	jsonw_free(NULL);
}

static void test_errors(void)
{
	struct jsonw *w = jsonw_new();
	size_t len;
	int i;

	/* close with nothing open */
	jsonw_obj_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_reset(w);
	jsonw_arr_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);

	/* unbalanced close after a balanced object; later writes ignored */
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_int(w, "a", 1);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_str(w, NULL, "ignored");
	jsonw_arr_open(w, NULL);
	CHECK_STR(jsonw_data(w, &len), "{\"a\":1}");
	CHECK_INT(len, 7);
	CHECK_INT(jsonw_error(w), -EINVAL);

	/* wrong kind of close */
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_arr_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_reset(w);
	jsonw_arr_open(w, NULL);
	jsonw_obj_close(w);
	CHECK_INT(jsonw_error(w), -EINVAL);

	/* key/container mismatch */
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_int(w, NULL, 1);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_reset(w);
	jsonw_arr_open(w, NULL);
	jsonw_int(w, "k", 1);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_reset(w);
	jsonw_obj_open(w, "k");
	CHECK_INT(jsonw_error(w), -EINVAL);
	CHECK_STR(jsonw_data(w, NULL), "");

	/* second top-level value, empty raw */
	jsonw_reset(w);
	jsonw_int(w, NULL, 1);
	jsonw_int(w, NULL, 2);
	CHECK_INT(jsonw_error(w), -EINVAL);
	CHECK_STR(jsonw_data(w, NULL), "1");
	jsonw_reset(w);
	jsonw_arr_open(w, NULL);
	jsonw_raw(w, NULL, "");
	CHECK_INT(jsonw_error(w), -EINVAL);

	/* exactly JSONW_MAX_DEPTH levels work, one more overflows */
	jsonw_reset(w);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_open(w, NULL);
	CHECK_INT(jsonw_error(w), 0);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_close(w);
	CHECK_INT(jsonw_error(w), 0);
	CHECK_INT(strlen(jsonw_data(w, NULL)), 2 * JSONW_MAX_DEPTH);
	jsonw_reset(w);
	for (i = 0; i < JSONW_MAX_DEPTH + 1; i++)
		jsonw_obj_open(w, i ? "k" : NULL);
	CHECK_INT(jsonw_error(w), -EINVAL);
	jsonw_free(w);
}

#if defined(__SANITIZE_ADDRESS__)
#define NO_OOM_TEST 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_OOM_TEST 1
#endif
#endif

/* Force realloc failure with RLIMIT_AS: the writer must record -ENOMEM,
 * keep its text NUL-terminated and ignore later writes. Not under ASan,
 * which reserves huge address ranges and aborts on failed allocations. */
static void test_oom(void)
{
#ifndef NO_OOM_TEST
	const size_t chunk = 1u << 20;
	struct rlimit old, lim;
	struct jsonw *w = jsonw_new();
	char *s = malloc(chunk);
	unsigned long pages = 0;
	size_t len, len2;
	FILE *f;
	int i;

	if (!w || !s || getrlimit(RLIMIT_AS, &old) != 0) {
		CHECK(0);
		goto out;
	}
	f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%lu", &pages) != 1) {
		if (f)
			fclose(f);
		printf("jsonw: OOM test skipped (no /proc/self/statm)\n");
		goto out;
	}
	fclose(f);
	memset(s, 'y', chunk);
	lim = old;
	lim.rlim_cur = (rlim_t)pages * 4096 + (rlim_t)64 * chunk;
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < lim.rlim_cur)
		lim.rlim_cur = old.rlim_cur;
	if (setrlimit(RLIMIT_AS, &lim) != 0) {
		CHECK(0);
		goto out;
	}
	jsonw_arr_open(w, NULL);
	for (i = 0; i < 256 && jsonw_error(w) == 0; i++)
		jsonw_strn(w, NULL, s, chunk);
	setrlimit(RLIMIT_AS, &old);
	CHECK_INT(jsonw_error(w), -ENOMEM);
	jsonw_data(w, &len);
	CHECK(jsonw_data(w, NULL)[len] == '\0');
	jsonw_str(w, NULL, "after");
	jsonw_arr_close(w);
	jsonw_data(w, &len2);
	CHECK_INT(len2, len);
	CHECK_INT(jsonw_error(w), -ENOMEM);
	/* the writer is usable again after reset */
	jsonw_reset(w);
	jsonw_int(w, NULL, 1);
	CHECK_STR(jsonw_data(w, NULL), "1");
out:
	jsonw_free(w);
	free(s);
#endif
}

static void test_jansson(void)
{
	struct jsonw *w = jsonw_new();
	json_t *j, *p, *a;
	int i;

	jsonw_obj_open(w, NULL);
	jsonw_str(w, "@timestamp", "2024-05-06T07:08:09.123456789Z");
	jsonw_obj_open(w, "event");
	jsonw_str(w, "action", "exec");
	jsonw_arr_open(w, "category");
	jsonw_str(w, NULL, "process");
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "process");
	jsonw_int(w, "pid", 3);
	jsonw_uint(w, "start", 1ULL << 62); /* jansson: <= LLONG_MAX */
	jsonw_str(w, "name", "caf\xc3\xa9\xff");
	jsonw_arr_open(w, "args");
	jsonw_str(w, NULL, "a");
	jsonw_strn(w, NULL, "b\0\n\"\\\x01\x7f", 7);
	jsonw_str(w, NULL, "\xe2\x82");
	jsonw_arr_close(w);
	jsonw_obj_open(w, "parent");
	jsonw_int(w, "pid", -1);
	jsonw_bool(w, "interactive", 0);
	jsonw_null(w, "title");
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	jsonw_raw(w, "labels", "{\"k\":[1,true,null]}");
	jsonw_arr_open(w, "deep");
	for (i = 0; i < 20; i++)
		jsonw_arr_open(w, NULL);
	jsonw_str(w, NULL, "\xf0\x9f\x98\x80");
	for (i = 0; i < 20; i++)
		jsonw_arr_close(w);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	CHECK_INT(jsonw_error(w), 0);

	j = parse(w);
	CHECK(json_is_object(j));
	p = json_object_get(j, "process");
	CHECK_INT(json_integer_value(json_object_get(p, "pid")), 3);
	CHECK(json_integer_value(json_object_get(p, "start")) == 1LL << 62);
	CHECK_STR(json_string_value(json_object_get(p, "name")),
		  "caf\xc3\xa9" FFFD);
	CHECK_STR(json_string_value(json_object_get(
			  json_object_get(j, "event"), "action")), "exec");
	a = json_object_get(p, "args");
	CHECK_INT(json_array_size(a), 3);
	CHECK_STR(json_string_value(json_array_get(a, 0)), "a");
	CHECK_INT(json_string_length(json_array_get(a, 1)), 7);
	CHECK(json_string_value(json_array_get(a, 1)) &&
	      memcmp(json_string_value(json_array_get(a, 1)),
		     "b\0\n\"\\\x01\x7f", 7) == 0);
	CHECK_STR(json_string_value(json_array_get(a, 2)), FFFD FFFD);
	CHECK(json_is_false(json_object_get(json_object_get(p, "parent"),
					    "interactive")));
	CHECK(json_is_array(json_object_get(json_object_get(j, "labels"),
					    "k")));
	json_decref(j);
	jsonw_free(w);
}

int main(void)
{
	test_nesting();
	test_scalars();
	test_escaping();
	test_utf8();
	test_large();
	test_reset();
	test_errors();
	test_oom();
	test_jansson();
	return h_finish("jsonw");
}
