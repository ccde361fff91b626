/* incident_cmd.c - `vigil incident list|export|show`: the stored alerts,
 * and one alert's evidence as a self-contained bundle.
 *
 * A bundle is one JSON object (docs/flight-recorder.md): the alert, the
 * resource's metadata, the model as it is in the store (YAML export), the
 * process tree and every recorded event of the resource within a window
 * around the alert (default +-5 min). FILE ending in .tar.gz or .tgz gets
 * a gzip'd tar holding incident.json. `list` and `show` are in
 * incident_show.c. The file is written to FILE.tmp
 * (mode 0600: it holds command lines) and renamed, so a reader never sees
 * half a bundle.
 *
 * Exit codes: 0 ok, 1 failure or no such alert, 2 usage, 3 the file given
 * to show is not a bundle. User input is quoted in messages; recorded text
 * is printed with control characters escaped. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "cli/cli.h"
#include "lib/jsonw.h"
#include "model/model_yaml.h"
#include "output/event_format.h"
#include "store/evstore.h"
#include "store/store.h"

#define BUNDLE_VERSION 1
#define DEFAULT_WINDOW_NS (5ULL * 60ULL * 1000000000ULL)

struct opts {
	const char *dir, *out, *container, *service;
	uint64_t window, since, until;
	int json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil incident list [--container ID|NAME | --service "
		"UNIT] [--since T]\n"
		"                           [--until T] [--json]\n"
		"       vigil incident export ALERT_ID -o FILE [--window D]\n"
		"       vigil incident show FILE\n"
		"  export writes the alert, its container's or service's "
		"metadata, its model,\n"
		"  process tree and events within +-D of it (default 5m) to "
		"FILE (JSON; a\n"
		"  gzip'd tar when FILE ends in .tar.gz); show prints a bundle.\n"
		"  --data-dir DIR   the store (default /var/lib/vigil, or "
		"$VIGIL_DATA_DIR)\n");
}

/* ---- export ----------------------------------------------------------- */

struct exp_ctx {
	struct jsonw *w, *ew;
	uint64_t events;
};

static int add_event(void *ctx, const struct evstore_event *e)
{
	struct exp_ctx *c = ctx;

	event_json(c->ew, e->rec, e->view, e->fc);
	if (jsonw_error(c->ew))
		return 0;
	jsonw_raw(c->w, NULL, jsonw_data(c->ew, NULL));
	c->events++;
	return 0;
}

static int copy_res(void *ctx, const struct evstore_resource *r)
{
	*(struct evstore_resource *)ctx = *r;
	return 1;
}

static void put_time(struct jsonw *w, const char *key, uint64_t ns)
{
	char ts[48];

	format_time(ts, sizeof(ts), (int64_t)ns);
	jsonw_str(w, key, ts);
}

static void resource_json(struct jsonw *w, const struct evstore_resource *r)
{
	const struct resource *x = &r->res;

	jsonw_obj_open(w, "resource");
	jsonw_str(w, "key", r->key);
	jsonw_str(w, "cgroup_path", x->path);
	if (x->cg.runtime != CG_HOST) {
		jsonw_obj_open(w, "container");
		jsonw_str(w, "id", x->cg.container_id);
		jsonw_str(w, "name", x->meta.name[0] ? x->meta.name
						     : x->cg.container_id);
		jsonw_str(w, "runtime", cg_runtime_name(x->cg.runtime));
		if (x->meta.image[0]) {
			jsonw_obj_open(w, "image");
			jsonw_str(w, "name", x->meta.image);
			jsonw_obj_close(w);
		}
		if (x->meta.bundle[0])
			jsonw_str(w, "bundle", x->meta.bundle);
		jsonw_obj_close(w);
		if (x->meta.pod_name[0] || x->meta.pod_namespace[0]) {
			jsonw_obj_open(w, "orchestrator");
			jsonw_str(w, "namespace", x->meta.pod_namespace);
			jsonw_str(w, "pod", x->meta.pod_name);
			jsonw_str(w, "pod_uid", x->meta.pod_uid[0]
						       ? x->meta.pod_uid
						       : x->cg.pod_uid);
			jsonw_obj_close(w);
		}
	} else if (x->cg.unit[0]) {
		jsonw_obj_open(w, "service");
		jsonw_str(w, "name", x->cg.unit);
		jsonw_obj_close(w);
	}
	put_time(w, "first_seen", r->first_ns);
	put_time(w, "last_seen", r->last_ns);
	jsonw_obj_close(w);
}

/* The model's YAML export from the model store, or NULL with why. */
static char *model_yaml(const char *dir, const char *key, char *why,
			size_t cap)
{
	char err[1024];
	struct store *st = store_open(dir, 0, err, sizeof(err));
	struct model *m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!st) {
		snprintf(why, cap, "%s", err);
		return NULL;
	}
	m = store_load_model(st, key);
	if (!m) {
		snprintf(why, cap, errno == ENOENT ? "no model '%s' in the store "
			 "(deleted?)" : "cannot load model '%s'", key);
		store_close(st);
		return NULL;
	}
	f = open_memstream(&text, &len);
	if (!f || myaml_export(m, f) < 0) {
		snprintf(why, cap, "cannot export model '%s'", key);
		if (f)
			fclose(f);
		free(text);
		text = NULL;
	} else if (fclose(f) != 0) {
		free(text);
		text = NULL;
		snprintf(why, cap, "out of memory");
	}
	model_free(m);
	store_close(st);
	return text;
}

/* A ustar header for one regular file. */
static void tar_header(uint8_t h[512], const char *name, size_t size,
		       time_t mtime)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", 0600);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* Writes data to path (via path.tmp); tar.gz when the name says so. */
static int write_bundle(const char *path, const char *data, size_t n)
{
	char tmp[4096];
	int tgz = ends_with(path, ".tar.gz") || ends_with(path, ".tgz"), ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (tgz) {
		static const uint8_t zero[1024];
		uint8_t h[512];
		gzFile g;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			return -errno;
		g = gzdopen(fd, "wb");
		if (!g) {
			close(fd);
			return -ENOMEM;
		}
		tar_header(h, "incident.json", n, time(NULL));
		ok = gzwrite(g, h, 512) == 512 &&
		     gzwrite(g, data, (unsigned)n) == (int)n &&
		     (n % 512 == 0 ||
		      gzwrite(g, zero, (unsigned)(512 - n % 512)) ==
			      (int)(512 - n % 512)) &&
		     gzwrite(g, zero, 1024) == 1024;
		ok = gzclose(g) == Z_OK && ok;
	} else {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		if (!f) {
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		ok = fwrite(data, 1, n, f) == n && fputc('\n', f) != EOF;
		ok = fclose(f) == 0 && ok;
	}
	if (!ok || rename(tmp, path) < 0) {
		int e = errno ? errno : EIO;

		unlink(tmp);
		return -e;
	}
	return 0;
}

static int do_export(struct opts *o, const char *id)
{
	const char *dir = hist_data_dir(o->dir);
	struct evstore *s = hist_open(dir);
	struct evstore_resource *res = malloc(sizeof(*res));
	struct exp_ctx c = {jsonw_new(), jsonw_new(), 0};
	struct evstore_alert a = {0};
	struct ptree *t = ptree_new();
	uint64_t since, until, bad = 0;
	char why[1200] = "", mkey[EVSTORE_KEY_MAX] = "", *yaml = NULL;
	json_t *doc = NULL, *mk;
	int rc = 1, r, have_res = 0;

	if (!s || !res || !c.w || !c.ew || !t)
		goto out;
	r = evstore_get_alert(s, id, &a);
	if (r < 0) {
		fprintf(stderr, r == -ENOENT ? "vigil: no stored alert '%s' "
			"(see 'vigil incident list')\n" : r == -EEXIST ?
			"vigil: alert id '%s' is ambiguous: give more digits\n" :
			"vigil: reading alert '%s' failed\n", id);
		goto out;
	}
	doc = json_loads(a.json, 0, NULL);
	since = a.ns > o->window ? a.ns - o->window : 0;
	until = a.ns + o->window;
	if (a.resource[0])
		have_res = evstore_find_resources(s, EVSTORE_FIND_KEY, a.resource,
						  copy_res, res) > 0;
	mk = json_object_get(json_object_get(json_object_get(doc, "vigil"),
					     "model"), "key");
	snprintf(mkey, sizeof(mkey), "%s",
		 json_is_string(mk) ? json_string_value(mk) : a.resource);
	if (mkey[0])
		yaml = model_yaml(dir, mkey, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "the alert names no model");
	if (have_res &&
	    (evstore_each_event(s, res, 0, until, 1, hist_tree_add, t, &bad) < 0)) {
		fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
		goto out;
	}
	jsonw_obj_open(c.w, NULL);
	jsonw_int(c.w, "vigil_incident_version", BUNDLE_VERSION);
	put_time(c.w, "generated_at", (uint64_t)time(NULL) * 1000000000ULL);
	jsonw_obj_open(c.w, "window");
	put_time(c.w, "since", since);
	put_time(c.w, "until", until);
	jsonw_uint(c.w, "seconds_each_side", o->window / 1000000000ULL);
	jsonw_obj_close(c.w);
	jsonw_raw(c.w, "alert", a.json);
	if (have_res)
		resource_json(c.w, res);
	else
		jsonw_null(c.w, "resource");
	jsonw_obj_open(c.w, "model");
	jsonw_str(c.w, "key", mkey);
	if (yaml) {
		jsonw_str(c.w, "format", "yaml");
		jsonw_str(c.w, "yaml", yaml);
	} else {
		jsonw_null(c.w, "yaml");
		jsonw_str(c.w, "unavailable", why);
	}
	jsonw_obj_close(c.w);
	ptree_json(t, c.w, "process_tree", since, until);
	jsonw_arr_open(c.w, "events");
	if (have_res &&
	    evstore_each_event(s, res, since, until, 0xf, add_event, &c, &bad) < 0) {
		fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
		goto out;
	}
	jsonw_arr_close(c.w);
	jsonw_obj_open(c.w, "counts");
	jsonw_uint(c.w, "events", c.events);
	jsonw_uint(c.w, "damaged_chunks_skipped", bad);
	jsonw_obj_close(c.w);
	jsonw_obj_close(c.w);
	if (jsonw_error(c.w)) {
		fprintf(stderr, "vigil: building the bundle failed: %s\n",
			strerror(-jsonw_error(c.w)));
		goto out;
	}
	{
		size_t n;
		const char *text = jsonw_data(c.w, &n);

		r = write_bundle(o->out, text, n);
		if (r < 0) {
			fprintf(stderr, "vigil: cannot write '%s': %s\n", o->out,
				strerror(-r));
			goto out;
		}
	}
	fprintf(stderr, "vigil: wrote '%s': alert %s, %llu events, %zu "
		"processes%s\n", o->out, a.id, (unsigned long long)c.events,
		ptree_count(t), have_res ? "" : " (resource not recorded)");
	rc = 0;
out:
	json_decref(doc);
	free(yaml);
	free((char *)a.json);
	ptree_free(t);
	jsonw_free(c.w);
	jsonw_free(c.ew);
	free(res);
	evstore_close(s);
	return rc;
}

int cmd_incident(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, 0, 'o'},
		{"window", required_argument, 0, 'w'},
		{"data-dir", required_argument, 0, 'D'},
		{"container", required_argument, 0, 'c'},
		{"service", required_argument, 0, 's'},
		{"since", required_argument, 0, 'S'},
		{"until", required_argument, 0, 'U'},
		{"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct opts o = {.window = DEFAULT_WINDOW_NS, .until = UINT64_MAX};
	const char *sub;
	int opt;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((opt = getopt_long(argc - 1, argv + 1, "ho:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o.out = optarg;
			break;
		case 'w':
			if (parse_duration(optarg, &o.window) < 0) {
				fprintf(stderr, "vigil: bad --window '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'c':
			o.container = optarg;
			break;
		case 's':
			o.service = optarg;
			break;
		case 'S':
		case 'U':
			if (hist_parse_time(optarg, opt == 'S' ? &o.since : &o.until) < 0) {
				fprintf(stderr, "vigil: bad time '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (!strcmp(sub, "list") && argc == 0) {
		struct hist_sel sel = {o.container, o.service, 0};

		return incident_list(o.dir, &sel, o.since, o.until, o.json);
	}
	if (!strcmp(sub, "export") && argc == 1 && o.out)
		return do_export(&o, argv[0]);
	if (!strcmp(sub, "show") && argc == 1)
		return incident_show(argv[0]);
	if (strcmp(sub, "list") && strcmp(sub, "export") && strcmp(sub, "show"))
		fprintf(stderr, "vigil: unknown incident command '%s'\n", sub);
	else if (!strcmp(sub, "export") && !o.out)
		fprintf(stderr, "vigil: incident export needs -o FILE\n");
	usage(stderr);
	return EXIT_USAGE;
}
