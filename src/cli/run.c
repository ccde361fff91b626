/* run.c - `vigil run`: the agent. Events (live from the sensor, or from a
 * recording with --replay) go through enrichment to the model engine;
 * anomalies become alerts on stdout and in --alerts FILE; models live in
 * the SQLite store under --data-dir and survive restarts.
 *
 * Once a second (live) the engine ticks (learning ends by itself), commands
 * queued by `vigil model` are applied, and every 5 s changed models are
 * saved. A kill -9 loses at most the last 5 s of learning. Every event
 * and alert is also kept in the flight recorder (run_record.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "alert/alert.h"
#include "cli/cli.h"
#include "cli/run_enforce.h"
#include "api/metrics.h"
#include "alert/suppress.h"
#include "lib/hashmap.h"
#include "detect/detect.h"
#include "pipeline/pipeline.h"
#include "model/engine.h"
#include "model/model_yaml.h"
#include "sensor/sensor.h"
#include "store/store.h"

static volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
	(void)sig;
	run_stop = 1;
}

struct run_ctx {
	struct pipeline p;
	struct engine *eng;
	struct detect *det;
	struct store *st;
	struct alert_out *alerts;
	uint64_t last_wall;
	uint64_t store_errors;
	struct run_rec *rec; /* flight recorder (run_record.c), NULL: off */
	struct run_enforce *enf; /* modes and kernel enforcement */
	struct metrics_srv *ms;  /* --metrics, NULL: off */
	struct sensor *sensor;   /* live only, for /metrics */
	uint64_t by_level[4];    /* alerts emitted: low, medium, high, critical */
	struct suppressions *sup; /* reloaded every second */
	uint64_t suppressed;
	struct hashmap *storms;   /* resource -> struct storm */
	int storm_limit;          /* alerts per resource per minute, 0: off */
	uint64_t storm_dropped;
};

struct run_conf {
	char data_dir[PATH_MAX];
	char alerts[PATH_MAX];
	uint64_t learn_min, learn_settle, duration;
	int quiet, model_host, min_score;
	const char *replay;
	const char *metrics; /* --metrics HOST:PORT */
	int storm_limit;
	const char *rules; /* --rules FILE: more detection rules */
	int no_builtin_rules;
	struct run_rec_conf rec; /* flight recorder options */
	struct alert_conf ac; /* --syslog, --webhook, formats */
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The resource an alert is about, named as models are. */
static void alert_resource(const struct anomaly *a, char *res, size_t cap)
{
	const struct resource *rs = a->view ? a->view->res : NULL;

	if (a->model)
		snprintf(res, cap, "%s", model_key(a->model));
	else if (rs && rs->cg.runtime != CG_HOST)
		snprintf(res, cap, "container:%s", rs->cg.container_id);
	else if (rs && rs->cg.unit[0])
		snprintf(res, cap, "service:%s", rs->cg.unit);
	else
		snprintf(res, cap, "host");
}

/* Storm limit: at most storm_limit alerts per resource per minute; the
 * rest are counted and summarised by one alert when the minute is over. */
struct storm {
	uint64_t minute;
	uint32_t n, dropped;
	char res[MODEL_KEY_MAX];
};

static void storm_summary(struct run_ctx *r, struct storm *st, uint64_t wall)
{
	struct anomaly a;

	memset(&a, 0, sizeof(a));
	a.kind = ANOM_RULE;
	a.rule_id = "alert-storm";
	a.title = "Alert storm: alerts of one resource were summarised";
	a.rule_description = "More alerts in one minute than --storm-limit";
	a.item = st->res;
	a.score = 50;
	a.wall_ns = wall;
	a.repeats = st->dropped - 1;
	snprintf(a.explanation, sizeof(a.explanation),
		 "%u more alerts of '%s' in the minute after the first %d were "
		 "not shown one by one (see 'vigil alerts --resource')",
		 st->dropped, st->res, r->storm_limit);
	r->storm_dropped += st->dropped;
	st->dropped = 0;
	alert_anomaly(r->alerts, &a, &r->p.fc);
	run_rec_alert(r->rec, &a, &r->p.fc);
}

/* 1 when the alert may be shown; 0 when the storm limit holds it back. */
static int storm_gate(struct run_ctx *r, const struct anomaly *a)
{
	char res[MODEL_KEY_MAX];
	uint64_t key = 14695981039346656037ULL, minute = a->wall_ns / 60000000000ULL;
	struct storm *st;

	if (!r->storm_limit || !r->storms)
		return 1;
	alert_resource(a, res, sizeof(res));
	for (const char *p = res; *p; p++)
		key = (key ^ (uint8_t)*p) * 1099511628211ULL;
	st = hashmap_get(r->storms, key);
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st || hashmap_put(r->storms, key, st) < 0) {
			free(st);
			return 1;
		}
		snprintf(st->res, sizeof(st->res), "%s", res);
		st->minute = minute;
	}
	if (st->minute != minute) {
		if (st->dropped)
			storm_summary(r, st, a->wall_ns);
		st->minute = minute;
		st->n = 0;
	}
	if (st->n >= (uint32_t)r->storm_limit) {
		st->dropped++;
		return 0;
	}
	st->n++;
	return 1;
}

static int storm_flush(void *ctx, uint64_t k, void *v)
{
	struct run_ctx *r = ctx;
	struct storm *st = v;

	(void)k;
	if (st->dropped)
		storm_summary(r, st, r->last_wall);
	return 0;
}

static void free_storm(void *ctx, uint64_t k, void *v)
{
	(void)ctx;
	(void)k;
	free(v);
}

/* 1 when a person suppressed this alert (vigil alerts suppress|ack). */
static int suppressed(struct run_ctx *r, const struct anomaly *a)
{
	char rule[64], res[MODEL_KEY_MAX];

	if (!r->sup)
		return 0;
	if (a->rule_id)
		snprintf(rule, sizeof(rule), "%s", a->rule_id);
	else
		snprintf(rule, sizeof(rule), "model:%s", model_dim_name(a->dim));
	alert_resource(a, res, sizeof(res));
	if (!suppress_match(r->sup, rule, res, a->item ? a->item : "",
			    a->wall_ns))
		return 0;
	r->suppressed++;
	return 1;
}

/* Parent chain from the process table: stops after the container's first
 * process (its parent is the runtime) or at PID 1. */
static void add_ancestry(struct run_ctx *r, struct anomaly *a)
{
	const struct vg_hdr *h = a->rec;
	uint32_t pid = h ? h->ppid : 0;

	a->n_ancestry = 0;
	while (pid > 1 && a->n_ancestry < sizeof(a->ancestry) / sizeof(a->ancestry[0])) {
		const struct proc_info *p = enrich_proc(r->p.en, pid);
		const char *b;

		if (!p || p->pid == p->ppid)
			break;
		b = strrchr(p->exe, '/');
		b = b ? b + 1 : p->exe;
		if (a->n_ancestry && (!strcmp(b, "runc") || !strcmp(b, "crun") ||
				      !strncmp(b, "containerd-shim", 15) ||
				      !strcmp(b, "conmon")))
			break; /* the runtime: the container's root is reached */
		a->ancestry[a->n_ancestry++] = p;
		pid = p->ppid;
	}
}

static void count_level(struct run_ctx *r, int score)
{
	r->by_level[score >= 80 ? 3 : score >= 60 ? 2 : score >= 30 ? 1 : 0]++;
}

static void on_anomaly(void *ctx, const struct anomaly *orig)
{
	struct run_ctx *r = ctx;
	struct anomaly copy = *orig;
	const struct anomaly *a = &copy;

	if (suppressed(r, a) || !storm_gate(r, a))
		return;
	add_ancestry(r, &copy);
	count_level(r, a->score);

	alert_anomaly(r->alerts, a, &r->p.fc);
	run_rec_alert(r->rec, a, &r->p.fc);
}

static void on_pending(void *ctx, const struct model *m, enum model_dim d,
		       const char *item, const char *reason)
{
	struct run_ctx *r = ctx;

	if (store_pending_add(r->st, model_key(m), model_dim_name(d), item,
			      r->last_wall, reason) < 0)
		r->store_errors++;
}

static void on_event(void *ctx, const void *rec, const struct enrich_view *v)
{
	struct run_ctx *r = ctx;
	const struct vg_hdr *h = rec;
	uint64_t wall = h->ts_ns + (uint64_t)r->p.fc.boot_to_real_ns;

	r->last_wall = wall;
	run_rec_event(r->rec, rec, v, &r->p.fc, wall);
	renf_event(r->enf, rec, v);
	/* one event, one alert: a rule that fired silences the models */
	if (r->det && detect_event(r->det, rec, v, wall) > 0)
		engine_event_muted(r->eng, rec, v, wall);
	else
		engine_event(r->eng, rec, v, wall);
}

static enum model_dim dim_of_event(uint16_t type)
{
	if (type < VG_OPEN)
		return DIM_PROCESS;
	if (type < VG_CONNECT)
		return DIM_FILE_WRITE;
	if (type < VG_SETUID)
		return DIM_NET_OUT;
	return DIM_PRIV;
}

static void on_detection(void *ctx, const struct detection *d)
{
	struct run_ctx *r = ctx;
	struct anomaly a;
	const struct resource *res = d->view->res;
	const struct vg_hdr *h = d->rec;

	memset(&a, 0, sizeof(a));
	a.kind = ANOM_RULE;
	a.dim = dim_of_event(h->type);
	a.item = d->object;
	a.score = d->rule->score;
	a.title = d->rule->title;
	a.wall_ns = d->wall_ns;
	a.rec = d->rec;
	a.view = d->view;
	a.rule_id = d->rule->id;
	a.rule_description = d->rule->description;
	a.mitre = d->rule->mitre;
	a.n_mitre = d->rule->n_mitre;
	a.repeats = d->repeats;
	a.first_ns = d->first_ns;
	snprintf(a.explanation, sizeof(a.explanation),
		 "%s: '%s' by %s (pid %u) in %s %s", d->rule->title, d->object,
		 h->comm, h->pid,
		 res->cg.runtime != CG_HOST ? "container" : "host",
		 res->cg.runtime != CG_HOST
			 ? (res->meta.name[0] ? res->meta.name : res->cg.container_id)
			 : (res->cg.unit[0] ? res->cg.unit : "processes"));
	if (suppressed(r, &a) || !storm_gate(r, &a))
		return;
	add_ancestry(r, &a);
	count_level(r, a.score);
	alert_anomaly(r->alerts, &a, &r->p.fc);
	run_rec_alert(r->rec, &a, &r->p.fc);
}

/* The built-in rules, plus --rules FILE. */
static struct detect *load_rules(struct run_ctx *r, const struct run_conf *c)
{
	char err[512];
	struct ruleset *rs = NULL, *more;

	if (!c->no_builtin_rules) {
		rs = rules_parse(rules_builtin_yaml, rules_builtin_yaml_len,
				 "builtin rules", err, sizeof(err));
		if (!rs) {
			fprintf(stderr, "vigil: %s\n", err);
			return NULL;
		}
	}
	if (c->rules) {
		FILE *f = fopen(c->rules, "r");
		char *text;
		size_t len;

		if (!f) {
			fprintf(stderr, "vigil: cannot read rules '%s': %s\n",
				c->rules, strerror(errno));
			rules_free(rs);
			return NULL;
		}
		text = malloc(1 << 20);
		len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
		fclose(f);
		more = text ? rules_parse(text, len, c->rules, err, sizeof(err)) : NULL;
		free(text);
		if (!more) {
			fprintf(stderr, "vigil: %s\n", err);
			rules_free(rs);
			return NULL;
		}
		if (!rs) {
			rs = more;
		} else if (rules_merge(rs, more, err, sizeof(err)) < 0) {
			fprintf(stderr, "vigil: '%s': %s\n", c->rules, err);
			rules_free(more);
			rules_free(rs);
			return NULL;
		} else {
			rules_free(more);
		}
	}
	if (!rs)
		return NULL;
	return detect_new(rs, on_detection, r);
}


static int adopt(void *ctx, struct model *m)
{
	struct run_ctx *r = ctx;

	if (engine_adopt(r->eng, m) < 0)
		model_free(m);
	return 0;
}

struct approve_ctx {
	struct run_ctx *r;
	const char *want_dim, *want_item;
};

static int approve_one(void *ctx, const char *model, const char *dim,
		       const char *item, uint64_t first_ns, uint64_t hits,
		       const char *reason)
{
	struct approve_ctx *a = ctx;
	int d = model_dim_parse(dim);

	(void)first_ns;
	(void)hits;
	(void)reason;
	if (d < 0 || (a->want_dim && strcmp(a->want_dim, dim)) ||
	    (a->want_item && strcmp(a->want_item, item)))
		return 0;
	engine_approve(a->r->eng, model, d, item, a->r->last_wall);
	store_pending_remove(a->r->st, model, dim, item);
	return 0;
}

/* A command queued by `vigil model` while this agent runs. */
static void on_enforcement(void *ctx, struct anomaly *a)
{
	struct run_ctx *r = ctx;

	a->wall_ns = now_ns(CLOCK_REALTIME);
	on_anomaly(r, a);
}

/* `vigil mode set RESOURCE MODE`: RESOURCE is a container id or name. */
static void apply_mode(struct run_ctx *r, const char *res, const char *mode,
		       uint64_t now)
{
	const struct resource *rs = enrich_find_container(r->p.en, res);
	char err[256] = "";

	if (!rs) {
		fprintf(stderr, "vigil: mode '%s': no container '%s' seen\n",
			mode, res);
		return;
	}
	if (renf_set_mode(r->enf, rs, mode, now, err, sizeof(err)) < 0)
		fprintf(stderr, "vigil: mode '%s' for '%s': %s\n", mode, res,
			err);
	else
		fprintf(stderr, "vigil: '%s' is now in %s mode\n", res, mode);
}

static int apply_ctl(void *ctx, const char *model, const char *cmd,
		     const char *arg)
{
	struct run_ctx *r = ctx;
	uint64_t now = r->last_wall ? r->last_wall : now_ns(CLOCK_REALTIME);

	if (!strcmp(cmd, "mode")) {
		apply_mode(r, model, arg ? arg : "", now);
	} else if (!strcmp(cmd, "relearn")) {
		engine_relearn(r->eng, model, now);
	} else if (!strcmp(cmd, "extend")) {
		engine_extend(r->eng, model, now);
	} else if (!strcmp(cmd, "delete")) {
		engine_delete(r->eng, model);
		store_delete_model(r->st, model);
	} else if (!strcmp(cmd, "approve")) {
		struct approve_ctx a = {r, NULL, NULL};
		char dim[64] = "";
		const char *tab = arg ? strchr(arg, '\t') : NULL;

		if (tab && (size_t)(tab - arg) < sizeof(dim)) {
			memcpy(dim, arg, tab - arg);
			dim[tab - arg] = 0;
			a.want_dim = dim;
			a.want_item = tab + 1;
			if (model_dim_parse(dim) >= 0)
				engine_approve(r->eng, model, model_dim_parse(dim),
					       tab + 1, now);
		}
		store_pending_each(r->st, model, approve_one, &a);
	} else if (!strcmp(cmd, "import") && arg) {
		char err[256];
		FILE *f = fopen(arg, "r");
		struct model *m = f ? myaml_import(f, err, sizeof(err)) : NULL;

		if (f)
			fclose(f);
		if (m) {
			engine_delete(r->eng, model_key(m));
			if (engine_adopt(r->eng, m) < 0)
				model_free(m);
		} else {
			fprintf(stderr, "vigil: import of '%s' failed\n", arg);
		}
	}
	return 0;
}

static void save(struct run_ctx *r)
{
	size_t n;
	struct model **ms = engine_models(r->eng, &n);

	if (store_save_models(r->st, ms, n) < 0) {
		r->store_errors++;
		fprintf(stderr, "vigil: saving models failed: %s\n",
			store_errmsg(r->st));
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil run [OPTIONS]\n"
		"  --data-dir DIR       models and state (default /var/lib/vigil)\n"
		"  --alerts FILE        also append alerts (JSON lines) to FILE\n"
		"  --learn-min D        minimum learning time per model "
		"(default 15m)\n"
		"  --learn-settle D     learning ends after D with nothing new "
		"(default 10m)\n"
		"  --config FILE        key: value settings (data_dir, alerts, "
		"learn_min, learn_settle)\n"
		"  --replay FILE        take events from a recording, not the "
		"kernel (no root)\n"
		"  --duration D         stop after D\n"
		"  --quiet              no alerts on stdout\n"
		"  --model-host         also model host processes outside "
		"systemd units\n"
		"  --metrics HOST:PORT  serve Prometheus metrics at /metrics\n"
		"  --storm-limit N      alerts per resource per minute before one "
		"summary (30; 0 off)\n"
		"  --rules FILE         more detection rules (rules/builtin.yaml "
		"form)\n"
		"  --no-builtin-rules   only models and --rules\n"
		"  --min-score N        report anomalies scoring at least N "
		"(default 30;\n"
		"                       lower ones are counted, see the exit "
		"summary)\n"
		ALERT_USAGE
		RUNREC_USAGE);
}

/* The output and alert settings a config file may set, like their flags.
 * Values are copied: they outlive the line buffer for the whole run. */
static int config_output(struct run_conf *c, const char *k, const char *v)
{
	static const struct {
		const char *key;
		int opt;
	} outs[] = {
		{"alerts_format", ALERT_OPT_ALERTS_FORMAT},
		{"syslog", ALERT_OPT_SYSLOG},
		{"syslog_format", ALERT_OPT_SYSLOG_FORMAT},
		{"syslog_facility", ALERT_OPT_SYSLOG_FACILITY},
		{"webhook", ALERT_OPT_WEBHOOK},
		{"webhook_header", ALERT_OPT_WEBHOOK_HEADER},
		{"webhook_format", ALERT_OPT_WEBHOOK_FORMAT},
	};
	char *copy = strdup(v), *end;
	long n;

	if (!copy)
		return -1;
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (!strcmp(k, outs[i].key))
			return alert_conf_option(&c->ac, outs[i].opt, copy);
	if (!strcmp(k, "metrics")) {
		c->metrics = copy;
		return 0;
	}
	if (!strcmp(k, "rules")) {
		c->rules = copy;
		return 0;
	}
	n = strtol(v, &end, 10);
	free(copy);
	if (*end || n < 0)
		return -1;
	if (!strcmp(k, "min_score") && n <= 100)
		c->min_score = (int)n;
	else if (!strcmp(k, "storm_limit") && n <= 100000)
		c->storm_limit = (int)n;
	else
		return -1;
	return 0;
}

/* "key: value" lines; '#' comments. Unknown keys are errors. */
static int read_config(const char *path, struct run_conf *c)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "vigil: cannot read config '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *end;

		lineno++;
		line[strcspn(line, "#\n")] = 0;
		while (*k == ' ' || *k == '\t')
			k++;
		if (!*k)
			continue;
		v = strchr(k, ':');
		if (!v)
			goto bad;
		*v++ = 0;
		while (*v == ' ' || *v == '\t')
			v++;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		if (!strcmp(k, "data_dir"))
			snprintf(c->data_dir, sizeof(c->data_dir), "%s", v);
		else if (!strcmp(k, "alerts"))
			snprintf(c->alerts, sizeof(c->alerts), "%s", v);
		else if (!strcmp(k, "learn_min")) {
			if (parse_duration(v, &c->learn_min) < 0)
				goto bad;
		} else if (!strcmp(k, "learn_settle")) {
			if (parse_duration(v, &c->learn_settle) < 0)
				goto bad;
		} else if (config_output(c, k, v) < 0) {
			goto bad;
		}
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "vigil: %s:%d: bad setting (want data_dir, alerts, "
			"learn_min, learn_settle, min_score, storm_limit, metrics, "
			"rules, alerts_format, syslog, syslog_format, "
			"syslog_facility, webhook, webhook_header or "
			"webhook_format: value)\n", path, lineno);
	fclose(f);
	return -1;
}

static int parse_args(int argc, char **argv, struct run_conf *c)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, 0, 'D'},
		{"alerts", required_argument, 0, 'a'},
		{"learn-min", required_argument, 0, 'm'},
		{"learn-settle", required_argument, 0, 's'},
		{"config", required_argument, 0, 'c'},
		{"replay", required_argument, 0, 'r'},
		{"duration", required_argument, 0, 'd'},
		{"quiet", no_argument, 0, 'q'},
		{"model-host", no_argument, 0, 'H'},
		{"min-score", required_argument, 0, 'S'},
		{"rules", required_argument, 0, 'R'},
		{"no-builtin-rules", no_argument, 0, 'N'},
		{"metrics", required_argument, 0, 'M'},
		{"storm-limit", required_argument, 0, 'L'},
		RUNREC_LONGOPTS,
		{"help", no_argument, 0, 'h'},
		ALERT_LONGOPTS,
		{0, 0, 0, 0},
	};
	int opt;

	c->min_score = 30;
	c->storm_limit = 30;
	snprintf(c->data_dir, sizeof(c->data_dir), "%s",
		 getenv("VIGIL_DATA_DIR") ? getenv("VIGIL_DATA_DIR")
					  : "/var/lib/vigil");
	/* the config file first, so flags override it */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") && read_config(argv[i + 1], c) < 0)
			return EXIT_USAGE;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			snprintf(c->data_dir, sizeof(c->data_dir), "%s", optarg);
			break;
		case 'a':
			snprintf(c->alerts, sizeof(c->alerts), "%s", optarg);
			break;
		case 'm':
		case 's':
		case 'd':
			if (parse_duration(optarg, opt == 'm' ? &c->learn_min :
						   opt == 's' ? &c->learn_settle
							      : &c->duration) < 0) {
				fprintf(stderr, "vigil: bad duration '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			break;
		case 'r':
			c->replay = optarg;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'R':
			c->rules = optarg;
			break;
		case 'N':
			c->no_builtin_rules = 1;
			break;
		case 'M':
			c->metrics = optarg;
			break;
		case 'L': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 100000) {
				fprintf(stderr, "vigil: bad --storm-limit '%s'\n", optarg);
				return EXIT_USAGE;
			}
			c->storm_limit = (int)v;
			break;
		}
		case 'H':
			c->model_host = 1;
			break;
		case 'S': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 100) {
				fprintf(stderr, "vigil: bad --min-score '%s' (0-100)\n",
					optarg);
				return EXIT_USAGE;
			}
			c->min_score = (int)v;
			break;
		}
		case RUNREC_OPT_FIRST ... RUNREC_OPT_LAST:
			if (run_rec_option(&c->rec, opt, optarg) < 0)
				return EXIT_USAGE;
			break;
		case ALERT_OPT_FIRST ... ALERT_OPT_LAST:
			if (alert_conf_option(&c->ac, opt, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct run_ctx *r = ctx;

	return pipeline_record(&r->p, rec, len, now_ns(CLOCK_MONOTONIC));
}

/* GET /metrics: Prometheus text format. */
static void fill_metrics(void *ctx, FILE *f)
{
	static const char *levels[4] = {"low", "medium", "high", "critical"};
	struct run_ctx *r = ctx;
	struct engine_stats es;
	struct model **ms;
	size_t n, learning = 0, active = 0;

	if (r->sensor) {
		struct vg_counters c[VG_TYPE_MAX];

		sensor_counters(r->sensor, c);
		fputs("# HELP vigil_events_total Events sent by the kernel sensor, by type.\n"
		      "# TYPE vigil_events_total counter\n", f);
		for (int t = 1; t < VG_TYPE_MAX; t++)
			if (vg_record_size(t))
				fprintf(f, "vigil_events_total{type=\"%s\"} %llu\n",
					event_action(t),
					(unsigned long long)c[t].emitted);
		fputs("# HELP vigil_events_dropped_total Events lost (ring buffer full), by type.\n"
		      "# TYPE vigil_events_dropped_total counter\n", f);
		for (int t = 1; t < VG_TYPE_MAX; t++)
			if (vg_record_size(t))
				fprintf(f, "vigil_events_dropped_total{type=\"%s\"} %llu\n",
					event_action(t),
					(unsigned long long)c[t].dropped);
		fputs("# HELP vigil_events_folded_total Identical events folded in the kernel, by type.\n"
		      "# TYPE vigil_events_folded_total counter\n", f);
		for (int t = 1; t < VG_TYPE_MAX; t++)
			if (vg_record_size(t))
				fprintf(f, "vigil_events_folded_total{type=\"%s\"} %llu\n",
					event_action(t),
					(unsigned long long)c[t].folded);
	}
	fputs("# HELP vigil_alerts_total Alerts emitted, by severity level.\n"
	      "# TYPE vigil_alerts_total counter\n", f);
	for (int i = 0; i < 4; i++)
		fprintf(f, "vigil_alerts_total{severity=\"%s\"} %llu\n", levels[i],
			(unsigned long long)r->by_level[i]);
	engine_stats(r->eng, &es);
	ms = engine_models(r->eng, &n);
	for (size_t i = 0; i < n; i++)
		model_state_of(ms[i]) == MODEL_ACTIVE ? active++ : learning++;
	fprintf(f,
		"# HELP vigil_models Behaviour models, by state.\n"
		"# TYPE vigil_models gauge\n"
		"vigil_models{state=\"learning\"} %zu\n"
		"vigil_models{state=\"active\"} %zu\n"
		"# HELP vigil_model_checks_total Event items checked against models.\n"
		"# TYPE vigil_model_checks_total counter\n"
		"vigil_model_checks_total %llu\n"
		"# HELP vigil_anomalies_total Anomalies reported by the models.\n"
		"# TYPE vigil_anomalies_total counter\n"
		"vigil_anomalies_total %llu\n",
		learning, active, (unsigned long long)es.checks,
		(unsigned long long)es.anomalies);
}

static int run_live(struct run_ctx *r, const struct run_conf *c)
{
	struct sensor_opts so = {.class_mask = 0xf,
				 .dedup_window_ns = 30ULL * 1000000000ULL};
	struct sensor *s;
	char err[256];
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_tick = 0, last_save = start;

	if (gethostname(r->p.host_name, sizeof(r->p.host_name) - 1) < 0)
		snprintf(r->p.host_name, sizeof(r->p.host_name), "localhost");
	r->p.fc.boot_to_real_ns = (int64_t)now_ns(CLOCK_REALTIME) -
				  (int64_t)now_ns(CLOCK_BOOTTIME);
	s = sensor_open(&so, on_record, &r->p, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		return 1;
	}
	r->sensor = s;
	fprintf(stderr, "vigil: running, models in '%s'\n", c->data_dir);
	while (!run_stop) {
		uint64_t mono;

		if (sensor_poll(s, 200) < 0)
			break;
		run_rec_tick(r->rec, now_ns(CLOCK_REALTIME), 0, r->alerts,
			     &r->p.fc);
		mono = now_ns(CLOCK_MONOTONIC);
		if (mono - last_tick >= 1000000000ULL) {
			last_tick = mono;
			r->last_wall = now_ns(CLOCK_REALTIME);
			engine_tick(r->eng, r->last_wall);
			store_ctl_take(r->st, apply_ctl, r);
			suppress_free(r->sup);
			r->sup = suppress_load(store_db(r->st), r->last_wall);
		}
		renf_poll(r->enf);
		metrics_serve(r->ms, fill_metrics, r);
		if (mono - last_save >= 5000000000ULL) {
			last_save = mono;
			save(r);
		}
		if (c->duration && mono - start >= c->duration)
			break;
	}
	sensor_poll(s, 0);
	r->sensor = NULL;
	sensor_close(s);
	return 0;
}

static int run_replay(struct run_ctx *r, const char *path)
{
	struct rec_reader *rd = strcmp(path, "-") ? rec_reader_open(path)
						  : rec_reader_fdopen(0);
	union {
		struct vg_hdr h;
		char b[REC_MAX_PAYLOAD];
	} buf;
	int rc = 0;

	if (!rd) {
		fprintf(stderr, "vigil: cannot replay '%s': %s\n", path,
			strerror(errno));
		return EXIT_BADINPUT;
	}
	snprintf(r->p.host_name, sizeof(r->p.host_name), "unknown");
	while (!run_stop) {
		const void *data;
		uint32_t kind;
		size_t len;
		int n = rec_next(rd, &kind, &data, &len);

		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "vigil: replay of '%s' stopped: %s\n",
				path, rec_reader_error(rd));
			rc = EXIT_BADINPUT;
			break;
		}
		if (kind == REC_KIND_META) {
			pipeline_read_meta(&r->p, data, len);
		} else if (kind == REC_KIND_EVENT) {
			memcpy(buf.b, data, len);
			if (vg_record_check(buf.b, len) < 0)
				continue;
			pipeline_record(&r->p, buf.b, len, 0);
			run_rec_tick(r->rec, r->last_wall, 0, r->alerts,
				     &r->p.fc);
			if (r->last_wall)
				engine_tick(r->eng, r->last_wall);
		} else {
			enrich_side(r->p.en, kind, data, len);
		}
	}
	rec_reader_close(rd);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_conf c;
	struct run_ctx r;
	struct engine_opts eo;
	struct engine_stats es;
	char err[512];
	int rc;

	memset(&c, 0, sizeof(c));
	rc = parse_args(argc, argv, &c);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&r, 0, sizeof(r));
	if (pipeline_init(&r.p, c.replay == NULL) < 0)
		return 1;
	r.p.hook = on_event;
	r.p.hook_ctx = &r;
	r.st = store_open(c.data_dir, 1, err, sizeof(err));
	if (!r.st) {
		fprintf(stderr, "vigil: %s\n", err);
		pipeline_fini(&r.p);
		return 1;
	}
	if (store_lock_agent(r.st) < 0) {
		fprintf(stderr, "vigil: another agent is using '%s'\n", c.data_dir);
		rc = 1;
		goto out;
	}
	if (run_rec_open(&r.rec, c.data_dir, &c.rec) < 0) {
		rc = 1;
		goto out;
	}
	memset(&eo, 0, sizeof(eo));
	eo.learn_min_ns = c.learn_min;
	eo.learn_settle_ns = c.learn_settle;
	eo.model_host_unattributed = c.model_host;
	eo.min_score = c.min_score;
	r.eng = engine_new(&eo, on_anomaly, on_pending, &r);
	r.enf = r.eng ? renf_new(r.eng, on_enforcement, &r) : NULL;
	c.ac.file = c.alerts[0] ? c.alerts : NULL;
	c.ac.to_stdout = !c.quiet;
	c.ac.data_dir = c.data_dir;
	r.alerts = r.eng ? alert_out_new(&c.ac, err, sizeof(err)) : NULL;
	if (!r.eng || !r.alerts) {
		fprintf(stderr, "vigil: %s\n", r.eng ? err : "out of memory");
		rc = 1;
		goto out;
	}
	r.det = load_rules(&r, &c);
	if (!r.det && (c.rules || !c.no_builtin_rules)) {
		rc = EXIT_USAGE;
		goto out;
	}
	r.sup = suppress_load(store_db(r.st), now_ns(CLOCK_REALTIME));
	r.storm_limit = c.storm_limit;
	r.storms = hashmap_new(16384);
	if (store_load_models(r.st, adopt, &r) < 0)
		fprintf(stderr, "vigil: loading models: %s\n", store_errmsg(r.st));
	if (c.metrics) {
		r.ms = metrics_open(c.metrics, err, sizeof(err));
		if (!r.ms) {
			fprintf(stderr, "vigil: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = c.replay ? run_replay(&r, c.replay) : run_live(&r, &c);
	if (r.storms)
		hashmap_each(r.storms, storm_flush, &r);
	store_ctl_take(r.st, apply_ctl, &r);
	save(&r);
	run_rec_tick(r.rec, 0, 1, r.alerts, &r.p.fc);
	engine_stats(r.eng, &es);
	fprintf(stderr,
		"vigil: events=%llu checks=%llu learned=%llu anomalies=%llu "
		"repeats=%llu below_min_score=%llu muted=%llu "
		"runtime_skipped=%llu "
		"models=%llu alerts=%llu "
		"alert_write_errors=%llu store_errors=%llu\n",
		(unsigned long long)es.events, (unsigned long long)es.checks,
		(unsigned long long)es.learned, (unsigned long long)es.anomalies,
		(unsigned long long)es.suppressed_repeats,
		(unsigned long long)es.below_min_score,
		(unsigned long long)es.muted,
		(unsigned long long)es.runtime_skipped,
		(unsigned long long)es.models,
		(unsigned long long)alert_count(r.alerts),
		(unsigned long long)alert_write_errors(r.alerts),
		(unsigned long long)r.store_errors);
	{
		char enf[128];

		renf_poll(r.enf);
		renf_summary(r.enf, enf, sizeof(enf));
		fprintf(stderr, "vigil: enforcement: %s\n", enf);
		fprintf(stderr, "vigil: suppressed alerts: %llu, held back by "
			"the storm limit: %llu\n",
			(unsigned long long)r.suppressed,
			(unsigned long long)r.storm_dropped);
	}
	alert_out_finish(r.alerts, stderr);
	run_rec_close(r.rec, stderr);
	r.rec = NULL;
out:
	run_rec_close(r.rec, NULL);
	metrics_close(r.ms);
	suppress_free(r.sup);
	hashmap_free(r.storms, free_storm, NULL);
	renf_free(r.enf); /* detaches every guard: fail open */
	alert_out_close(r.alerts);
	detect_free(r.det);
	engine_free(r.eng);
	store_close(r.st);
	pipeline_fini(&r.p);
	return rc;
}
