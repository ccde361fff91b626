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
#include "store/evstore.h"

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
		"--follow waits for new ones\n");
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
