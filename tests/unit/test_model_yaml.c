/* test_model_yaml.c - YAML export/import of a model: export -> import ->
 * export gives identical bytes (also with quotes, backslashes, control
 * characters, Unicode line separators, invalid UTF-8 and empty strings),
 * every field survives, and bad input is refused naming the line. */
#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "model/model.h"
#include "model/model_yaml.h"

#define T0 1796216400000000000ULL /* 2026-12-02T13:00:00Z */
#define SEC 1000000000ULL

static char *export_str(const struct model *m, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	if (myaml_export(m, f) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static struct model *import_str(const char *text, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct model *m;

	if (!f)
		return NULL;
	m = myaml_import(f, err, errlen);
	fclose(f);
	return m;
}

static const char *tricky[] = {
	"plain",
	"",
	"say \"hi\"",
	"back\\slash\\",
	"new\nline\r\n",
	"tab\there",
	"bell\a esc\x1b del\x7f",
	"caf\xc3\xa9 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3",
	"nel\xc2\x85 ls\xe2\x80\xa8 ps\xe2\x80\xa9 bom\xef\xbb\xbf c1\xc2\x9b",
	"  leading and trailing  ",
	"# not a comment",
	"key: value",
	"- dash",
	"'single'",
	"{braces} [brackets] & * ! | > % @ `",
	"null",
	"true",
	"123",
	"~",
};

static struct model *build(void)
{
	struct model *m = model_new(MODEL_CONTAINER, "container:web\"1\"", T0);
	struct model_entry e;

	if (!m)
		return NULL;
	model_set_state(m, MODEL_ACTIVE, T0 + 7 * 86400 * SEC,
			"stable: no new \"item\" for 2d\\\n(ok)");
	model_set_parent(m, "image:shop/web:1.2 \xe2\x9c\x93");
	model_set_learning(m, 7 * 86400 * SEC, 1500 * 1000000ULL);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		model_learn(m, (enum model_dim)(i % DIM_MAX), tricky[i],
			    T0 + i * SEC + 123456789, tricky[i],
			    i % 2 ? "httpd" : "");
	model_learn(m, DIM_PROCESS, "/usr/sbin/httpd <- /bin/sh [uid 0]",
		    T0 + SEC, "web1", "httpd");
	for (int k = 0; k < 30; k++)
		model_learn(m, DIM_PROCESS, "/usr/sbin/httpd <- /bin/sh [uid 0]",
			    T0 + (uint64_t)k * 3 * 3600 * SEC, "web1", "httpd");
	memset(&e, 0, sizeof(e));
	e.item = "approved \"one\"";
	e.first_ns = T0 + 5;
	e.last_ns = T0 + 2 * SEC;
	e.hits = 18446744073709551615ULL;
	e.hours[0] = 0x81;
	e.hours[20] = 0x80;
	e.weeks_seen = 65535;
	e.last_week = (uint16_t)model_week_of(e.last_ns);
	e.approved = 1;
	snprintf(e.first_by, sizeof(e.first_by), "%s", "person \"x\"");
	snprintf(e.first_proc, sizeof(e.first_proc), "%s", "vigil");
	model_restore(m, DIM_FILE_WRITE, &e);
	for (int h = 0; h < HOURS_PER_WEEK; h += 2)
		model_rate_observe(m, RATE_EXEC, h, (uint32_t)h * 1000 + 1);
	model_rate_observe(m, RATE_WRITE, 167, 4294967295U);
	model_restore_times(m, T0, T0 + 7 * 86400 * SEC, T0 + 3 * SEC + 1,
			    T0 + 90 * 3600 * SEC + 999);
	return m;
}

struct cmp {
	const struct model *other;
	enum model_dim d;
	int diffs;
};

static int cmp_entry(void *ctx, const struct model_entry *e)
{
	struct cmp *c = ctx;
	const struct model_entry *o = model_find(c->other, c->d, e->item);

	if (!o || o->first_ns != e->first_ns || o->last_ns != e->last_ns ||
	    o->hits != e->hits || memcmp(o->hours, e->hours, sizeof(e->hours)) ||
	    o->weeks_seen != e->weeks_seen || o->last_week != e->last_week ||
	    o->approved != e->approved || strcmp(o->first_by, e->first_by) ||
	    strcmp(o->first_proc, e->first_proc)) {
		fprintf(stderr, "entry differs: %s\n", e->item);
		c->diffs++;
	}
	return 0;
}

static int same_model(const struct model *a, const struct model *b)
{
	struct cmp c = {.other = b};
	uint64_t a1, a2, b1, b2;

	if (strcmp(model_key(a), model_key(b)) ||
	    model_kind_of(a) != model_kind_of(b) ||
	    model_state_of(a) != model_state_of(b) ||
	    strcmp(model_reason(a), model_reason(b)) ||
	    strcmp(model_parent(a), model_parent(b)) ||
	    model_created_ns(a) != model_created_ns(b) ||
	    model_state_since_ns(a) != model_state_since_ns(b) ||
	    model_last_new_ns(a) != model_last_new_ns(b) ||
	    model_last_seen_ns(a) != model_last_seen_ns(b) ||
	    model_size(a) != model_size(b))
		return 0;
	model_learning(a, &a1, &a2);
	model_learning(b, &b1, &b2);
	if (a1 != b1 || a2 != b2)
		return 0;
	for (int r = 0; r < RATE_MAX; r++)
		for (int h = 0; h < HOURS_PER_WEEK; h++)
			if (model_rate_max(a, (enum model_rate)r, h) !=
			    model_rate_max(b, (enum model_rate)r, h))
				return 0;
	for (int d = 0; d < DIM_MAX; d++) {
		c.d = (enum model_dim)d;
		model_each(a, c.d, cmp_entry, &c);
	}
	return c.diffs == 0;
}

static void test_round_trip(void)
{
	struct model *m = build(), *m2, *m3;
	char err[256], *y1, *y2, *y3;
	size_t n1, n2;

	CHECK(m != NULL);
	y1 = export_str(m, &n1);
	CHECK(y1 != NULL);
	m2 = import_str(y1, err, sizeof(err));
	if (!m2)
		fprintf(stderr, "import: %s\n", err);
	CHECK(m2 != NULL);
	if (!m2)
		goto out;
	CHECK(model_dirty(m2));
	CHECK(same_model(m, m2));
	CHECK(same_model(m2, m));
	y2 = export_str(m2, &n2);
	CHECK(y2 != NULL);
	CHECK_INT(n1, n2);
	CHECK(y2 && n1 == n2 && memcmp(y1, y2, n1) == 0);
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		CHECK(model_find(m2, (enum model_dim)(i % DIM_MAX), tricky[i]));
	/* spot checks of the text a person reads */
	CHECK(strstr(y1, "model: \"container:web\\\"1\\\"\"\n") != NULL);
	CHECK(strstr(y1, "state: active\nreason: \"stable: no new "
			 "\\\"item\\\" for 2d\\\\\\n(ok)\"\n") != NULL);
	CHECK(strstr(y1, "created: 2026-12-02T13:00:00Z\n") != NULL);
	CHECK(strstr(y1, "learned_until: 2026-12-09T13:00:00Z\n") != NULL);
	CHECK(strstr(y1, "learn_min: 7d\nlearn_settle: 1500ms\n") != NULL);
	CHECK(strstr(y1, "first_seen: 2026-12-02T13:00:00.123456789Z") != NULL);
	CHECK(strstr(y1, "\"nel\\u0085 ls\\u2028 ps\\u2029 bom\\ufeff "
			 "c1\\u009b\"") != NULL);
	CHECK(strstr(y1, "\"bell\\x07 esc\\x1b del\\x7f\"") != NULL);
	CHECK(strstr(y1, "    - item: \"approved \\\"one\\\"\"\n") != NULL);
	CHECK(strstr(y1, "      approved: true\n") != NULL);
	CHECK(strstr(y1, "      hours: [0, 7, 167]\n") != NULL);
	CHECK(strstr(y1, "  write: {167: 4294967295}\n") != NULL);
	free(y2);

	/* invalid UTF-8 becomes U+FFFD, and is then stable */
	model_learn(m2, DIM_DNS, "bad\xff\xfe utf8 \xc3", T0, "", "");
	y2 = export_str(m2, NULL);
	CHECK(y2 && strstr(y2, "\"bad\xef\xbf\xbd\xef\xbf\xbd utf8 "
			       "\xef\xbf\xbd\"") != NULL);
	m3 = y2 ? import_str(y2, err, sizeof(err)) : NULL;
	CHECK(m3 != NULL);
	y3 = m3 ? export_str(m3, NULL) : NULL;
	CHECK(y3 && y2 && strcmp(y2, y3) == 0);
	free(y2);
	free(y3);
	model_free(m3);

	/* an empty model */
	m3 = model_new(MODEL_SERVICE, "service:cron.service", 0);
	y2 = export_str(m3, NULL);
	CHECK(y2 && strstr(y2, "entries: {}\nrates: {}\n") != NULL);
	CHECK(y2 && strstr(y2, "learning_since: 1970-01-01T00:00:00Z\n"));
	model_free(m3);
	m3 = y2 ? import_str(y2, err, sizeof(err)) : NULL;
	CHECK(m3 && model_size(m3) == 0 && model_kind_of(m3) == MODEL_SERVICE);
	y3 = m3 ? export_str(m3, NULL) : NULL;
	CHECK(y3 && y2 && strcmp(y2, y3) == 0);
	free(y2);
	free(y3);
	model_free(m3);
out:
	free(y1);
	model_free(m2);
	model_free(m);
}

static const char good_head[] = "# comment\n"		/* 1 */
				"model: \"container:a\"\n" /* 2 */
				"kind: container\n"	/* 3 */
				"state: learning\n"	/* 4 */
				"created: 2026-12-02T13:00:00Z\n" /* 5 */
				"entries:\n"		/* 6 */
				"  process:\n"		/* 7 */
				"    - item: \"/bin/sh\"\n" /* 8 */
				"      hits: 3\n";	/* 9 */

static void expect_err(const char *text, const char *want)
{
	char err[256] = "";
	struct model *m = import_str(text, err, sizeof(err));

	CHECK(m == NULL);
	CHECK_INT(m ? 0 : errno, EINVAL);
	if (strncmp(err, want, strlen(want))) {
		fprintf(stderr, "error was \"%s\"\n", err);
		CHECK_STR(err, want);
	} else {
		CHECK(1);
	}
	model_free(m);
}

static void test_errors(void)
{
	char buf[2048], err[256];
	struct model *m;

	m = import_str(good_head, err, sizeof(err));
	CHECK(m != NULL);
	CHECK(m && model_find(m, DIM_PROCESS, "/bin/sh") &&
	      model_find(m, DIM_PROCESS, "/bin/sh")->hits == 3);
	model_free(m);

	snprintf(buf, sizeof(buf), "%s  proces:\n    - item: \"x\"\n",
		 good_head);
	expect_err(buf, "line 10: unknown dimension 'proces'");
	snprintf(buf, sizeof(buf), "%s      first_seen: 2026-13-02T13:00:00Z\n",
		 good_head);
	expect_err(buf, "line 10: bad time '2026-13-02T13:00:00Z'");
	snprintf(buf, sizeof(buf), "%s      last_seen: yesterday\n", good_head);
	expect_err(buf, "line 10: bad time 'yesterday'");
	expect_err("# a model\nkind: container\nstate: active\n",
		   "line 2: missing 'model:'");
	expect_err("", "line 1: empty document");
	snprintf(buf, sizeof(buf), "%s      hours: [3, 168]\n", good_head);
	expect_err(buf, "line 10: bad hour of week '168'");
	snprintf(buf, sizeof(buf), "%s      colour: red\n", good_head);
	expect_err(buf, "line 10: unknown entry key 'colour'");
	snprintf(buf, sizeof(buf), "%s    - item: \"/bin/sh\"\n", good_head);
	expect_err(buf, "line 10: duplicate item '/bin/sh' in 'process'");
	snprintf(buf, sizeof(buf), "%srates:\n  exec: {3: -1}\n", good_head);
	expect_err(buf, "line 11: bad rate '-1'");
	snprintf(buf, sizeof(buf), "%sstate: sleeping\n", good_head);
	expect_err(buf, "line 10: duplicate key 'state'");
	expect_err("model: \"a\"\nkind: pod\n", "line 2: unknown kind 'pod'");
	expect_err("model: \"service:x\"\nreason: \"unterminated\n",
		   "line 3: found unexpected end of stream");
	expect_err("model: \"service:x\"\nreason: \"bad \\q escape\"\n",
		   "line 2: found unknown escape character");
	expect_err("model: \"service:x\"\nlearn_min: 3 days\n",
		   "line 2: bad duration '3 days'");
	expect_err("model: \"x\"\n", "line 1: missing 'kind:'");
	expect_err("- just\n- a list\n", "line 1: not a Vigil model");

	/* kind from the key's prefix; plain scalars accepted too */
	m = import_str("model: image:shop/web:1\nstate: active\n", err,
		       sizeof(err));
	CHECK(m && model_kind_of(m) == MODEL_IMAGE &&
	      model_state_of(m) == MODEL_ACTIVE);
	CHECK(m && !strcmp(model_key(m), "image:shop/web:1"));
	model_free(m);
}

static void test_times(void)
{
	char b[MYAML_TIME_MAX];
	uint64_t ns = 1;

	CHECK_STR(myaml_format_time(0, b, sizeof(b)), "1970-01-01T00:00:00Z");
	CHECK_STR(myaml_format_time(T0 + 500000000, b, sizeof(b)),
		  "2026-12-02T13:00:00.500Z");
	CHECK_STR(myaml_format_time(T0 + 1000, b, sizeof(b)),
		  "2026-12-02T13:00:00.000001Z");
	CHECK_STR(myaml_format_time(UINT64_MAX, b, sizeof(b)),
		  "2554-07-21T23:34:33.709551615Z");
	CHECK_INT(myaml_parse_time("2554-07-21T23:34:33.709551615Z", &ns), 0);
	CHECK(ns == UINT64_MAX);
	CHECK_INT(myaml_parse_time("2554-07-21T23:34:33.709551616Z", &ns),
		  -EINVAL);
	CHECK_INT(myaml_parse_time("2028-02-29T00:00:00.5Z", &ns), 0);
	CHECK_STR(myaml_format_time(ns, b, sizeof(b)),
		  "2028-02-29T00:00:00.500Z");
	CHECK_INT(myaml_parse_time("2027-02-29T00:00:00Z", &ns), -EINVAL);
	CHECK_INT(myaml_parse_time("1969-12-31T23:59:59Z", &ns), -EINVAL);
	CHECK_INT(myaml_parse_time("2026-12-02T13:00:00", &ns), -EINVAL);
	CHECK_INT(myaml_parse_time("2026-12-02T13:00:00.Z", &ns), -EINVAL);
	CHECK_INT(myaml_parse_time("2026-12-02T13:00:00.1234567891Z", &ns),
		  -EINVAL);
	CHECK_INT(myaml_parse_time("2026-12-02T24:00:00Z", &ns), -EINVAL);
	CHECK_STR(myaml_format_duration(0, b, sizeof(b)), "0");
	CHECK_STR(myaml_format_duration(90 * SEC, b, sizeof(b)), "90s");
	CHECK_STR(myaml_format_duration(3600 * SEC, b, sizeof(b)), "1h");
	CHECK_STR(myaml_format_duration(17, b, sizeof(b)), "17ns");
	CHECK_INT(myaml_parse_duration("12h", &ns), 0);
	CHECK(ns == 12 * 3600 * SEC);
	CHECK_INT(myaml_parse_duration("12", &ns), -EINVAL);
	CHECK_INT(myaml_parse_duration("99999999999d", &ns), -EINVAL);
	CHECK_INT(myaml_parse_duration("1w", &ns), -EINVAL);
}

int main(void)
{
	test_times();
	test_round_trip();
	test_errors();
	return h_finish("model_yaml");
}
