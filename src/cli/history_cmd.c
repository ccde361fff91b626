/* history_cmd.c - `vigil history` and `vigil tree`: what a container or
 * service did, from the flight recorder (DIR/events.db), also after the
 * container is gone.
 *
 * Invariants: the recorder is opened read-only (queries never change it
 * and work beside a running agent); events print exactly as live tracing
 * printed them (event_json / event_text from the stored record, its
 * enrichment and its chunk's format context); user input is quoted in
 * messages; exit codes: 0 ok (also when nothing matched the filters),
 * 1 failure or no such resource, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "lib/jsonw.h"
#include "output/event_format.h"
#include "store/evstore.h"
#include "store/store.h"
#include "vigil_event.h"

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Exactly n digits at *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int rfc3339(const char *s, uint64_t *ns)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	int64_t off = 0, t;
	uint64_t frac = 0, scale = 100000000ULL;

	memset(&tm, 0, sizeof(tm));
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
		    *s++ != ':' || digits(&s, 2, &sec))
			return -EINVAL;
		if (*s == '.') {
			s++;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
				frac += scale * (uint64_t)(*s - '0');
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int neg = *s++ == '-';

			if (digits(&s, 2, &oh) || *s++ != ':' ||
			    digits(&s, 2, &om) || oh > 23 || om > 59)
				return -EINVAL;
			off = (oh * 3600 + om * 60) * (neg ? -1 : 1);
		} else {
			return -EINVAL;
		}
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) - off;
	if (t < 0)
		return -EINVAL;
	*ns = (uint64_t)t * 1000000000ULL + frac;
	return 0;
}

int hist_parse_time(const char *s, uint64_t *ns)
{
	uint64_t d, now;

	if (!s || !*s)
		return -EINVAL;
	if (rfc3339(s, ns) == 0)
		return 0;
	if (parse_duration(s, &d) < 0)
		return -EINVAL;
	now = wall_now();
	*ns = d < now ? now - d : 0;
	return 0;
}

const char *hist_data_dir(const char *opt)
{
	if (opt)
		return opt;
	if (getenv("VIGIL_DATA_DIR") && *getenv("VIGIL_DATA_DIR"))
		return getenv("VIGIL_DATA_DIR");
	return STORE_DEFAULT_DIR;
}

struct evstore *hist_open(const char *dir)
{
	struct evstore_opts o = {.read_only = 1};
	char err[1024];
	struct evstore *s = evstore_open(dir, &o, err, sizeof(err));

	if (!s)
		fprintf(stderr, "vigil: %s\n", err);
	return s;
}

struct pick {
	struct evstore_resource *first;
	int n;
};

static int take_first(void *ctx, const struct evstore_resource *r)
{
	struct pick *p = ctx;

	if (p->n++ == 0)
		*p->first = *r;
	return p->n > 8;
}

int hist_resolve(struct evstore *s, const struct hist_sel *sel,
		 struct evstore_resource *out)
{
	struct pick p = {out, 0};
	int rc;

	if (sel->container)
		rc = evstore_find_resources(s, EVSTORE_FIND_CONTAINER,
					    sel->container, take_first, &p);
	else if (sel->service)
		rc = evstore_find_resources(s, EVSTORE_FIND_SERVICE,
					    sel->service, take_first, &p);
	else
		rc = evstore_find_resources(s, EVSTORE_FIND_KEY, "host",
					    take_first, &p);
	if (rc < 0) {
		fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
		return -1;
	}
	if (!p.n) {
		fprintf(stderr, "vigil: nothing recorded for %s '%s' in '%s'\n",
			sel->container ? "container" :
			sel->service ? "service" : "the host",
			sel->container ? sel->container :
			sel->service ? sel->service : "host",
			evstore_path(s));
		return -1;
	}
	if (p.n > 1 && sel->container && strcmp(out->res.cg.container_id,
						sel->container) &&
	    strcmp(out->res.meta.name, sel->container))
		fprintf(stderr, "vigil: %s%d containers match '%s'; showing "
			"the most recent, %s\n", p.n > 8 ? "over " : "",
			p.n > 8 ? 8 : p.n, sel->container,
			out->res.cg.container_id);
	return 0;
}

int hist_tree_add(void *ctx, const struct evstore_event *e)
{
	ptree_add(ctx, e->rec, e->view, e->wall_ns);
	return 0;
}

/* ---- vigil history ---------------------------------------------------- */

struct hist_ctx {
	struct jsonw *w;
	const char *grep;
	int json;
	uint64_t shown;
};

static int show_event(void *ctx, const struct evstore_event *e)
{
	struct hist_ctx *c = ctx;
	const char *s = NULL;
	size_t n = 0;

	if (c->json || c->grep) {
		event_json(c->w, e->rec, e->view, e->fc);
		if (jsonw_error(c->w))
			return 0;
		s = jsonw_data(c->w, &n);
		if (c->grep && !strstr(s, c->grep))
			return 0;
	}
	if (c->json) {
		fwrite(s, 1, n, stdout);
		putchar('\n');
	} else {
		char line[2048];

		event_text(line, sizeof(line), e->rec, e->view, e->fc);
		puts(line);
	}
	c->shown++;
	return ferror(stdout) ? -EIO : 0;
}

static void usage(FILE *f, const char *cmd)
{
	if (!strcmp(cmd, "tree"))
		fprintf(f,
			"usage: vigil tree (--container ID|NAME | --service UNIT "
			"| --host) [OPTIONS]\n"
			"  the process tree (pid, executable, args, start, exit "
			"code or signal, end)\n"
			"  of the processes alive in the time range, from the "
			"flight recorder\n");
	else
		fprintf(f,
			"usage: vigil history (--container ID|NAME | --service "
			"UNIT | --host) [OPTIONS]\n"
			"  recorded events of a container (also after it is "
			"gone) or a service\n"
			"  --type LIST         process,file,network,privilege\n"
			"  --grep TEXT         only events whose JSON contains "
			"TEXT\n");
	fprintf(f,
		"  --since T, --until T  RFC 3339 time (2026-11-02T02:00:00Z) "
		"or how long ago (10m)\n"
		"  --json              ECS JSON, one object per line\n"
		"  --data-dir DIR      the store (default /var/lib/vigil, or "
		"$VIGIL_DATA_DIR)\n");
}

/* Shared options of history and tree; 0, or an exit code. */
static int parse(int argc, char **argv, const char *cmd, struct hist_sel *sel,
		 struct hist_ctx *c, uint32_t *mask, uint64_t *since,
		 uint64_t *until, const char **dir)
{
	static const struct option longopts[] = {
		{"container", required_argument, 0, 'c'},
		{"service", required_argument, 0, 's'},
		{"host", no_argument, 0, 'H'},
		{"since", required_argument, 0, 'S'},
		{"until", required_argument, 0, 'U'},
		{"type", required_argument, 0, 't'},
		{"grep", required_argument, 0, 'g'},
		{"json", no_argument, 0, 'j'},
		{"data-dir", required_argument, 0, 'D'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int opt, picks = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			sel->container = optarg;
			picks++;
			break;
		case 's':
			sel->service = optarg;
			picks++;
			break;
		case 'H':
			sel->host = 1;
			picks++;
			break;
		case 'S':
		case 'U':
			if (hist_parse_time(optarg, opt == 'S' ? since : until) < 0) {
				fprintf(stderr, "vigil: bad time '%s' (RFC 3339, "
					"or a duration such as 10m)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			if (parse_types(optarg, mask) < 0) {
				fprintf(stderr, "vigil: bad --type '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'g':
			c->grep = optarg;
			break;
		case 'j':
			c->json = 1;
			break;
		case 'D':
			*dir = optarg;
			break;
		case 'h':
			usage(stdout, cmd);
			return -1;
		default:
			usage(stderr, cmd);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (picks != 1) {
		fprintf(stderr, "vigil: %s needs one of --container, --service "
			"or --host\n", cmd);
		usage(stderr, cmd);
		return EXIT_USAGE;
	}
	return 0;
}

static int run(int argc, char **argv, int tree)
{
	struct hist_sel sel = {0};
	struct hist_ctx c = {0};
	struct evstore_resource *res = NULL;
	struct evstore *s = NULL;
	struct ptree *t = NULL;
	uint64_t since = 0, until = UINT64_MAX, bad = 0;
	uint32_t mask = 0xf;
	const char *dir = NULL;
	int rc = parse(argc, argv, tree ? "tree" : "history", &sel, &c, &mask,
		       &since, &until, &dir);

	if (rc)
		return rc < 0 ? 0 : rc;
	rc = 1;
	s = hist_open(hist_data_dir(dir));
	res = malloc(sizeof(*res));
	c.w = jsonw_new();
	if (!s || !res || !c.w || hist_resolve(s, &sel, res) < 0)
		goto out;
	if (tree) {
		t = ptree_new();
		if (!t)
			goto out;
		if (evstore_each_event(s, res, 0, until, 1, hist_tree_add, t,
				       &bad) < 0) {
			fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
			goto out;
		}
		if (c.json) {
			jsonw_reset(c.w);
			jsonw_obj_open(c.w, NULL);
			jsonw_str(c.w, "resource", res->key);
			ptree_json(t, c.w, "processes", since, until);
			jsonw_obj_close(c.w);
			if (!jsonw_error(c.w))
				puts(jsonw_data(c.w, NULL));
		} else if (!ptree_print(t, stdout, since, until)) {
			fprintf(stderr, "vigil: no processes recorded for "
				"'%s' in that time\n", res->key);
		}
		rc = 0;
	} else {
		int n = evstore_each_event(s, res, since, until, mask,
					   show_event, &c, &bad);

		if (n < 0 && n != -EIO) {
			fprintf(stderr, "vigil: %s\n", evstore_errmsg(s));
			goto out;
		}
		rc = n == -EIO ? 1 : 0;
	}
	if (bad)
		fprintf(stderr, "vigil: %llu damaged chunks of '%s' skipped\n",
			(unsigned long long)bad, evstore_path(s));
out:
	fflush(stdout);
	ptree_free(t);
	jsonw_free(c.w);
	free(res);
	evstore_close(s);
	return rc;
}

int cmd_history(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int cmd_tree(int argc, char **argv)
{
	return run(argc, argv, 1);
}
