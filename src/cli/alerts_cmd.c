/* alerts_cmd.c - `vigil alerts`: the alerts kept in the flight recorder's
 * store (DATA_DIR/events.db), filtered by resource, severity and time;
 * --follow keeps printing new ones as the running agent stores them. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "model/engine.h"
#include "output/event_format.h"
#include "alert/suppress.h"
#include "model/model.h"
#include "store/evstore.h"
#include "store/store.h"
#include <time.h>

static volatile sig_atomic_t follow_stop;

static void on_int(int sig)
{
	(void)sig;
	follow_stop = 1;
}

struct list_ctx {
	int json, min_score;
	uint64_t last_ns;
	unsigned long shown;
};

static int show(void *ctx, const struct evstore_alert *a)
{
	struct list_ctx *c = ctx;
	json_t *doc;
	const char *msg = NULL;
	char ts[48];

	if (a->ns > c->last_ns)
		c->last_ns = a->ns;
	if (a->score < c->min_score)
		return 0;
	c->shown++;
	if (c->json) {
		puts(a->json);
		return 0;
	}
	doc = json_loads(a->json, 0, NULL);
	if (doc)
		msg = json_string_value(json_object_get(doc, "message"));
	format_time(ts, sizeof(ts), (int64_t)a->ns);
	printf("%s  %s  %3d %-8s  %s  ", ts, a->id, a->score,
	       engine_level(a->score), a->resource[0] ? a->resource : "-");
	for (const char *p = msg ? msg : "?"; *p; p++) /* one line per alert */
		putchar((unsigned char)*p < 0x20 ? ' ' : *p);
	putchar('\n');
	json_decref(doc);
	return 0;
}

static int severity(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "low"))
		return 0;
	if (!strcmp(s, "medium"))
		return 30;
	if (!strcmp(s, "high"))
		return 60;
	if (!strcmp(s, "critical"))
		return 80;
	v = strtol(s, &end, 10);
	return (*end || v < 0 || v > 100) ? -1 : (int)v;
}

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct store *open_models(const char *dir)
{
	char err[512];
	struct store *st = store_open(hist_data_dir(dir), 1, err, sizeof(err));

	if (!st)
		fprintf(stderr, "vigil: %s\n", err);
	return st;
}

/* vigil alerts suppress --rule R [--resource K] [--item GLOB] [--for D]
 *                       --reason TEXT */
static int do_suppress(int argc, char **argv)
{
	const char *dir = NULL, *rule = NULL, *res = "*", *item = "*", *why = NULL;
	uint64_t dur = 0, now = wall_now();
	struct store *st;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--rule"))
			rule = v;
		else if (!strcmp(argv[i], "--resource"))
			res = v;
		else if (!strcmp(argv[i], "--item"))
			item = v;
		else if (!strcmp(argv[i], "--reason"))
			why = v;
		else if (!strcmp(argv[i], "--data-dir"))
			dir = v;
		else if (!strcmp(argv[i], "--for")) {
			if (parse_duration(v, &dur) < 0)
				goto usage;
		} else
			goto usage;
		i++;
	}
	if (!rule || !why)
		goto usage;
	st = open_models(dir);
	if (!st)
		return 1;
	rc = suppress_add(store_db(st), rule, res, item, dur ? now + dur : 0, why,
			  now);
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "vigil: cannot store the suppression\n");
		return 1;
	}
	printf("suppressed rule '%s' on '%s' item '%s' %s\n", rule, res, item,
	       dur ? "until it expires" : "until removed");
	return 0;
usage:
	fprintf(stderr, "usage: vigil alerts suppress --rule RULE|model:DIM "
			"[--resource KEY] [--item GLOB] [--for D] --reason TEXT "
			"[--data-dir DIR]\n");
	return EXIT_USAGE;
}

static const char *jget(json_t *doc, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(doc, a), b));
}

/* vigil alerts ack ID [--learn]: don't report this again; --learn also
 * teaches a model alert's item to its model. */
static int do_ack(int argc, char **argv)
{
	const char *dir = NULL, *id = NULL;
	int learn = 0, rc = 1;
	struct evstore_alert a = {0};
	struct evstore *es;
	struct store *st = NULL;
	json_t *doc = NULL;
	const char *src, *dim, *item, *key, *rule;
	char rulekey[80], reskey[300];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--learn"))
			learn = 1;
		else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc)
			dir = argv[++i];
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			goto usage;
	}
	if (!id)
		goto usage;
	es = hist_open(hist_data_dir(dir));
	if (!es)
		return 1;
	if (evstore_get_alert(es, id, &a) < 0) {
		fprintf(stderr, "vigil: no stored alert '%s' (see 'vigil alerts')\n",
			id);
		evstore_close(es);
		return 1;
	}
	evstore_close(es);
	doc = json_loads(a.json, 0, NULL);
	free((char *)a.json);
	if (!doc)
		return EXIT_BADINPUT;
	src = json_string_value(json_object_get(json_object_get(json_object_get(
		doc, "vigil"), "alert"), "source"));
	dim = json_string_value(json_object_get(json_object_get(json_object_get(
		doc, "vigil"), "alert"), "dimension"));
	item = json_string_value(json_object_get(json_object_get(json_object_get(
		doc, "vigil"), "alert"), "item"));
	key = json_string_value(json_object_get(json_object_get(json_object_get(
		doc, "vigil"), "model"), "key"));
	rule = jget(doc, "rule", "id");
	snprintf(rulekey, sizeof(rulekey), "%s%s", rule ? "" : "model:",
		 rule ? rule : (dim ? dim : "*"));
	snprintf(reskey, sizeof(reskey), "%s", key ? key : a.resource);
	st = open_models(dir);
	if (!st)
		goto out;
	if (suppress_add(store_db(st), rulekey, reskey, item ? item : "*", 0,
			 learn ? "acknowledged and learned" : "acknowledged",
			 wall_now()) < 0) {
		fprintf(stderr, "vigil: cannot store the acknowledgement\n");
		goto out;
	}
	if (learn && src && !strcmp(src, "model") && key && dim && item) {
		char arg[700];

		snprintf(arg, sizeof(arg), "%s\t%s", dim, item);
		if (store_agent_running(hist_data_dir(dir))) {
			store_ctl_push(st, key, "approve", arg, wall_now());
		} else {
			struct model *m = store_load_model(st, key);
			struct model_entry e;
			int d = model_dim_parse(dim);

			if (m && d >= 0) {
				memset(&e, 0, sizeof(e));
				e.item = item;
				e.first_ns = e.last_ns = wall_now();
				e.approved = 1;
				snprintf(e.first_by, sizeof(e.first_by), "acknowledged");
				model_restore(m, d, &e);
				store_save_models(st, &m, 1);
			}
			model_free(m);
		}
		printf("alert %s acknowledged; '%s' learned into %s\n", a.id, item,
		       key);
	} else {
		printf("alert %s acknowledged: not reported again\n", a.id);
	}
	rc = 0;
out:
	store_close(st);
	json_decref(doc);
	return rc;
usage:
	fprintf(stderr, "usage: vigil alerts ack ALERT_ID [--learn] "
			"[--data-dir DIR]\n");
	return EXIT_USAGE;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil alerts [--resource ID|NAME|UNIT] [--severity "
		"low|medium|high|critical|N]\n"
		"                    [--since T] [--json] [--follow] [--data-dir "
		"DIR]\n"
		"  stored alerts, oldest first; --severity keeps those at or "
		"above it;\n"
		"  --since takes an RFC 3339 time or a duration ago (10m); "
		"--follow waits for new ones\n"
		"       vigil alerts suppress --rule RULE|model:DIM [--resource "
		"KEY] [--item GLOB]\n"
		"                    [--for D] --reason TEXT\n"
		"       vigil alerts suppressions\n"
		"       vigil alerts ack ALERT_ID [--learn]\n");
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"resource", required_argument, 0, 'r'},
		{"severity", required_argument, 0, 's'},
		{"since", required_argument, 0, 'S'},
		{"json", no_argument, 0, 'j'},
		{"follow", no_argument, 0, 'f'},
		{"data-dir", required_argument, 0, 'D'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct list_ctx c = {0};
	struct hist_sel sel = {0};
	struct evstore_resource *res = NULL;
	struct evstore *s;
	const char *dir = NULL, *resource = NULL, *key = NULL;
	uint64_t since = 0;
	int opt, follow = 0, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "suppress"))
		return do_suppress(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "ack"))
		return do_ack(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "suppressions")) {
		struct store *sst;
		int n;

		for (int i = 2; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--data-dir"))
				dir = argv[i + 1];
		sst = open_models(dir);
		if (!sst)
			return 1;
		n = suppress_print(store_db(sst), stdout, wall_now());
		store_close(sst);
		return n < 0 ? 1 : 0;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			resource = optarg;
			break;
		case 's':
			c.min_score = severity(optarg);
			if (c.min_score < 0) {
				fprintf(stderr, "vigil: bad --severity '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'S':
			if (hist_parse_time(optarg, &since) < 0) {
				fprintf(stderr, "vigil: bad --since '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			c.json = 1;
			break;
		case 'f':
			follow = 1;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	s = hist_open(hist_data_dir(dir));
	if (!s)
		return 1;
	if (resource) {
		size_t n = strlen(resource);

		res = malloc(sizeof(*res));
		if (!res)
			goto out;
		/* systemd units end in a unit type; anything else is a container */
		if ((n > 8 && !strcmp(resource + n - 8, ".service")) ||
		    (n > 6 && !strcmp(resource + n - 6, ".scope")))
			sel.service = resource;
		else
			sel.container = resource;
		if (hist_resolve(s, &sel, res) < 0)
			goto out;
		key = res->key;
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	c.last_ns = since ? since - 1 : 0;
	if (evstore_each_alert(s, key, since, UINT64_MAX, show, &c) < 0) {
		fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
		goto out;
	}
	fflush(stdout);
	while (follow && !follow_stop) {
		sleep(1);
		if (evstore_each_alert(s, key, c.last_ns + 1, UINT64_MAX, show,
				       &c) < 0) {
			fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
			goto out;
		}
		fflush(stdout);
	}
	if (!c.shown && !c.json && !follow)
		fprintf(stderr, "vigil: no stored alerts match\n");
	rc = 0;
out:
	free(res);
	evstore_close(s);
	return rc;
}
