/* incident_show.c - `vigil incident list` and `vigil incident show`: the
 * stored alerts, one line each, and a bundle written by `incident export`
 * (incident_cmd.c) rendered for a person.
 *
 * Invariants: recorded text is printed with control characters escaped and
 * arguments quoted when they have blanks; a bundle is read through zlib
 * (plain JSON or a gzip'd tar, found by content), at most 1 GiB, and any
 * file that is not one exits 3 with a message naming it. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "cli/cli.h"
#include "output/event_format.h"
#include "store/evstore.h"

#define MAX_BUNDLE (1ULL << 30)

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* Recorded text on a terminal: control characters escaped. */
static void put_clean(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc(c, f);
	}
}

/* One argument: quoted when it has blanks or quotes. */
static void put_arg(FILE *f, const char *s)
{
	int q = !s || !*s || strpbrk(s, " \t'\"\\$") != NULL;

	if (q)
		putc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', f);
		put_clean(f, (char[2]){*s, 0});
	}
	if (q)
		putc('"', f);
}

static const char *jstr(json_t *o, const char *path)
{
	char key[64];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		o = json_object_get(o, key);
		p += n + (p[n] == '.');
	}
	return json_is_string(o) ? json_string_value(o) : NULL;
}

static json_t *jget(json_t *o, const char *path)
{
	char key[64];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		o = json_object_get(o, key);
		p += n + (p[n] == '.');
	}
	return o;
}

/* ---- list ------------------------------------------------------------- */

static int list_one(void *ctx, const struct evstore_alert *a)
{
	const int *json = ctx;
	json_t *doc;
	char ts[48];

	if (*json) {
		puts(a->json);
		return 0;
	}
	doc = json_loads(a->json, 0, NULL);
	format_time(ts, sizeof(ts), (int64_t)a->ns);
	printf("%s  %s  %3d  ", a->id, ts, a->score);
	put_clean(stdout, a->resource[0] ? a->resource : "-");
	fputs("  ", stdout);
	put_clean(stdout, jstr(doc, "rule.name") ? jstr(doc, "rule.name") : "?");
	if (jstr(doc, "vigil.alert.item") && *jstr(doc, "vigil.alert.item")) {
		fputs(": ", stdout);
		put_clean(stdout, jstr(doc, "vigil.alert.item"));
	}
	putchar('\n');
	json_decref(doc);
	return 0;
}

int incident_list(const char *dir, const struct hist_sel *sel, uint64_t since,
		  uint64_t until, int json)
{
	struct evstore *s = hist_open(hist_data_dir(dir));
	struct evstore_resource *res = malloc(sizeof(*res));
	const char *key = NULL;
	int rc = 1, n;

	if (!s || !res)
		goto out;
	if (sel->container || sel->service) {
		if (hist_resolve(s, sel, res) < 0)
			goto out;
		key = res->key;
	}
	n = evstore_each_alert(s, key, since, until, list_one, &json);
	if (n < 0) {
		fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
		goto out;
	}
	if (n == 0 && !json)
		fprintf(stderr, "vigil: no stored alerts%s\n",
			key ? " for that resource" : "");
	rc = 0;
out:
	free(res);
	evstore_close(s);
	return rc;
}

/* ---- show ------------------------------------------------------------- */
/* The JSON text of a bundle file (plain, or tar.gz with a .json member):
 * malloc'd, or NULL with a message (exit code in *rc). */
static char *read_bundle(const char *path, size_t *len, int *rc)
{
	gzFile g;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int got;

	*rc = 1;
	g = gzopen(path, "rb"); /* reads plain files transparently */
	if (!g) {
		fprintf(stderr, "vigil: cannot read '%s': %s\n", path,
			strerror(errno ? errno : ENOMEM));
		return NULL;
	}
	do {
		if (cap - n < 65536) {
			char *nb = cap + 65536 < MAX_BUNDLE ? realloc(buf, cap + (1 << 20))
							    : NULL;

			if (!nb) {
				fprintf(stderr, "vigil: '%s' is too large\n", path);
				*rc = EXIT_BADINPUT;
				goto fail;
			}
			buf = nb;
			cap += 1 << 20;
		}
		got = gzread(g, buf + n, (unsigned)(cap - n - 1));
		if (got < 0) {
			fprintf(stderr, "vigil: '%s' is not an incident bundle "
				"(bad gzip data)\n", path);
			*rc = EXIT_BADINPUT;
			goto fail;
		}
		n += (size_t)got;
	} while (got > 0);
	gzclose(g);
	buf[n] = 0;
	/* a tar: the first member named *.json */
	if (n >= 512 && !memcmp(buf + 257, "ustar", 5)) {
		size_t off = 0;

		while (off + 512 <= n && buf[off]) {
			char name[101], szs[13], *end;
			unsigned long long sz;

			memcpy(name, buf + off, 100);
			name[100] = 0;
			memcpy(szs, buf + off + 124, 12);
			szs[12] = 0;
			sz = strtoull(szs, &end, 8);
			if (sz > n - off - 512)
				break;
			if (ends_with(name, ".json")) {
				memmove(buf, buf + off + 512, sz);
				buf[sz] = 0;
				*len = sz;
				return buf;
			}
			off += 512 + (sz + 511) / 512 * 512;
		}
		fprintf(stderr, "vigil: '%s' is a tar without a .json bundle\n",
			path);
		*rc = EXIT_BADINPUT;
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
fail:
	gzclose(g);
	free(buf);
	return NULL;
}

static void show_event(json_t *e)
{
	const char *act = jstr(e, "event.action"), *p;
	json_t *pid = jget(e, "process.pid"), *args = jget(e, "process.args");

	put_clean(stdout, jstr(e, "@timestamp"));
	printf(" %-12s %-7s pid=%lld ", act ? act : "?",
	       jstr(e, "event.outcome") ? jstr(e, "event.outcome") : "",
	       json_is_integer(pid) ? (long long)json_integer_value(pid) : -1);
	put_clean(stdout, jstr(e, "process.name"));
	if (act && !strcmp(act, "exec")) {
		size_t i;
		json_t *v;

		putchar(' ');
		put_clean(stdout, jstr(e, "process.executable"));
		fputs(" [", stdout);
		json_array_foreach(args, i, v) {
			if (i)
				putchar(' ');
			put_arg(stdout, json_string_value(v));
		}
		putchar(']');
	} else if ((p = jstr(e, "file.path"))) {
		putchar(' ');
		put_clean(stdout, p);
		if ((p = jstr(e, "file.target_path"))) {
			fputs(" -> ", stdout);
			put_clean(stdout, p);
		}
	} else if ((p = jstr(e, "dns.question.name"))) {
		putchar(' ');
		put_clean(stdout, p);
	} else if ((p = jstr(e, "destination.ip"))) {
		json_t *port = jget(e, "destination.port");

		printf(" -> ");
		put_clean(stdout, p);
		printf(":%lld", json_is_integer(port)
					? (long long)json_integer_value(port) : 0);
	} else if (json_is_integer(jget(e, "process.exit_code"))) {
		printf(" exit %lld",
		       (long long)json_integer_value(jget(e, "process.exit_code")));
	} else if (json_is_integer(jget(e, "process.exit_signal"))) {
		printf(" signal %lld",
		       (long long)json_integer_value(jget(e, "process.exit_signal")));
	}
	if (json_is_integer(jget(e, "event.count")) &&
	    json_integer_value(jget(e, "event.count")) > 1)
		printf(" x%lld", (long long)json_integer_value(jget(e, "event.count")));
	putchar('\n');
}

static void show_proc(json_t *p)
{
	json_t *depth = json_object_get(p, "depth"), *execs, *x, *v;
	size_t i, k;

	printf("  %*s%lld ", 2 * (int)(json_is_integer(depth) &&
				       json_integer_value(depth) < 64
					       ? json_integer_value(depth) : 0),
	       "", (long long)json_integer_value(json_object_get(p, "pid")));
	execs = json_object_get(p, "execs");
	if (!json_array_size(execs)) {
		put_clean(stdout, jstr(p, "executable"));
		fputs(" (as ", stdout);
		put_clean(stdout, jstr(p, "name"));
		fputs(", no exec seen)", stdout);
	}
	json_array_foreach(execs, i, x) {
		if (i)
			fputs(" => ", stdout);
		put_clean(stdout, jstr(x, "executable"));
		fputs(" [", stdout);
		json_array_foreach(json_object_get(x, "args"), k, v) {
			if (k)
				putchar(' ');
			put_arg(stdout, json_string_value(v));
		}
		putchar(']');
	}
	if (jstr(p, "start")) {
		fputs(" started ", stdout);
		put_clean(stdout, jstr(p, "start"));
	} else if (jstr(p, "first_seen")) {
		fputs(" seen ", stdout);
		put_clean(stdout, jstr(p, "first_seen"));
	}
	if (json_is_integer(json_object_get(p, "exit_code")))
		printf(" exit %lld", (long long)json_integer_value(
					     json_object_get(p, "exit_code")));
	else if (json_is_integer(json_object_get(p, "exit_signal")))
		printf(" killed by signal %lld", (long long)json_integer_value(
			json_object_get(p, "exit_signal")));
	if (jstr(p, "end")) {
		fputs(" at ", stdout);
		put_clean(stdout, jstr(p, "end"));
	} else {
		fputs(" (no exit recorded)", stdout);
	}
	putchar('\n');
}

static void field(const char *label, const char *v)
{
	if (!v || !*v)
		return;
	printf("  %-10s ", label);
	put_clean(stdout, v);
	putchar('\n');
}

int incident_show(const char *path)
{
	size_t len = 0, i;
	int rc;
	char *text = read_bundle(path, &len, &rc);
	json_error_t jerr;
	json_t *b, *al, *res, *model, *v;
	char num[64];

	if (!text)
		return rc;
	b = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!b || !json_is_integer(json_object_get(b, "vigil_incident_version")) ||
	    !json_is_object(json_object_get(b, "alert"))) {
		fprintf(stderr, "vigil: '%s' is not an incident bundle%s%s\n",
			path, b ? "" : ": ", b ? "" : jerr.text);
		json_decref(b);
		return EXIT_BADINPUT;
	}
	al = json_object_get(b, "alert");
	res = json_object_get(b, "resource");
	model = json_object_get(b, "model");
	printf("Incident bundle v%lld, exported ",
	       (long long)json_integer_value(json_object_get(b, "vigil_incident_version")));
	put_clean(stdout, jstr(b, "generated_at"));
	printf("\n\nAlert ");
	put_clean(stdout, jstr(al, "vigil.alert.id"));
	putchar('\n');
	field("time", jstr(al, "@timestamp"));
	snprintf(num, sizeof(num), "%lld (%s)",
		 (long long)json_integer_value(jget(al, "vigil.alert.score")),
		 jstr(al, "vigil.alert.level") ? jstr(al, "vigil.alert.level") : "?");
	field("score", num);
	field("source", jstr(al, "vigil.alert.source"));
	field("kind", jstr(al, "vigil.alert.kind"));
	field("rule", jstr(al, "rule.name"));
	field("rule id", jstr(al, "rule.id"));
	field("message", jstr(al, "message"));
	field("dimension", jstr(al, "vigil.alert.dimension"));
	field("item", jstr(al, "vigil.alert.item"));
	printf("\nResource ");
	if (json_is_object(res)) {
		put_clean(stdout, jstr(res, "key"));
		putchar('\n');
		field("name", jstr(res, "container.name"));
		field("image", jstr(res, "container.image.name"));
		field("runtime", jstr(res, "container.runtime"));
		field("pod", jstr(res, "orchestrator.pod"));
		field("namespace", jstr(res, "orchestrator.namespace"));
		field("service", jstr(res, "service.name"));
		field("cgroup", jstr(res, "cgroup_path"));
		field("first seen", jstr(res, "first_seen"));
		field("last seen", jstr(res, "last_seen"));
	} else {
		printf("(not recorded)\n");
	}
	printf("\nModel ");
	put_clean(stdout, jstr(model, "key"));
	if (jstr(model, "yaml")) {
		const char *y = jstr(model, "yaml");
		size_t lines = 0;

		for (; *y; y++)
			lines += *y == '\n';
		printf(": %zu lines of YAML in the bundle (.model.yaml)\n", lines);
	} else {
		fputs(": not included: ", stdout);
		put_clean(stdout, jstr(model, "unavailable"));
		putchar('\n');
	}
	v = json_object_get(b, "process_tree");
	printf("\nProcess tree (%zu processes)\n", json_array_size(v));
	json_array_foreach(v, i, res)
		show_proc(res);
	v = json_object_get(b, "events");
	printf("\nEvents (%zu, ", json_array_size(v));
	put_clean(stdout, jstr(b, "window.since"));
	fputs(" .. ", stdout);
	put_clean(stdout, jstr(b, "window.until"));
	puts(")");
	json_array_foreach(v, i, res) {
		fputs("  ", stdout);
		show_event(res);
	}
	json_decref(b);
	fflush(stdout);
	return 0;
}
