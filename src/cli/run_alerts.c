/* run_alerts.c - the way out of every alert of `vigil run`: a person's
 * suppressions first, then the per-resource storm limit, then the
 * process's ancestry is added and the alert goes to the outputs and the
 * flight recorder. Also detections and enforcement decisions turned into
 * alerts, and the /metrics text. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alert/suppress.h"
#include "api/metrics.h"
#include "cli/cli.h"
#include "cli/run_int.h"
#include "lib/hashmap.h"
#include "sensor/sensor.h"
#include "vigil_event.h"

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

int run_storm_flush(void *ctx, uint64_t k, void *v)
{
	struct run_ctx *r = ctx;
	struct storm *st = v;

	(void)k;
	if (st->dropped)
		storm_summary(r, st, r->last_wall);
	return 0;
}

void run_free_storm(void *ctx, uint64_t k, void *v)
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

void run_on_anomaly(void *ctx, const struct anomaly *orig)
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
struct detect *run_load_rules(struct run_ctx *r, const struct run_conf *c)
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


/* A blocked or would-block decision of the kernel guards. */
void run_on_enforcement(void *ctx, struct anomaly *a)
{
	struct run_ctx *r = ctx;

	a->wall_ns = run_now_ns(CLOCK_REALTIME);
	run_on_anomaly(r, a);
}

/* Policies and kernel enforcement (run_enforce.c). */
static void fill_enforcement(struct run_ctx *r, FILE *f)
{
	struct renf_stats st;
	const struct {
		const char *name, *help, *type;
	} m[] = {
		{"vigil_enforced_containers", "Containers the kernel guards enforce on (shadow or protect).", "gauge"},
		{"vigil_policies", "Policies in force.", "gauge"},
		{"vigil_enforcement_blocked_total", "Actions refused in the kernel.", "counter"},
		{"vigil_enforcement_would_block_total", "Actions that would have been refused (shadow, monitor).", "counter"},
		{"vigil_enforcement_killed_total", "Processes or containers killed or frozen by a kill rule.", "counter"},
		{"vigil_enforcement_action_errors_total", "Kills or freezes that failed.", "counter"},
		{"vigil_policy_alerts_total", "Alerts raised by policy alert rules and alert defaults.", "counter"},
		{"vigil_policy_reloads_total", "Policy reloads put in force.", "counter"},
		{"vigil_policy_reload_errors_total", "Policy reloads refused (the old set stayed).", "counter"},
		{"vigil_enforcement_late_total", "Exec/open decisions allowed for want of an answer in time (fail open).", "counter"},
		{"vigil_enforcement_failed_total", "Exec/open decisions allowed because deciding failed (fail open).", "counter"},
	};
	uint64_t v[sizeof(m) / sizeof(m[0])];

	renf_stats(r->enf, &st);
	v[0] = st.guarded;
	v[1] = st.policies;
	v[2] = st.blocked;
	v[3] = st.would_block;
	v[4] = st.killed;
	v[5] = st.action_errors;
	v[6] = st.policy_alerts;
	v[7] = st.reloads;
	v[8] = st.reload_errors;
	v[9] = st.late;
	v[10] = st.failed;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m[i].name,
			m[i].help, m[i].name, m[i].type, m[i].name,
			(unsigned long long)v[i]);
}

/* GET /metrics: Prometheus text format. */
void run_fill_metrics(void *ctx, FILE *f)
{
	static const char *levels[4] = {"low", "medium", "high", "critical"};
	struct run_ctx *r = ctx;
	struct engine_stats es;
	struct model **ms;
	size_t n, learning = 0, active = 0;

	if (r->sensor) {
		static const struct {
			const char *name, *help;
			size_t off;
		} kinds[] = {
			{"vigil_events_total", "Events sent by the kernel sensor",
			 offsetof(struct vg_counters, emitted)},
			{"vigil_events_dropped_total", "Events lost (ring buffer full)",
			 offsetof(struct vg_counters, dropped)},
			{"vigil_events_folded_total",
			 "Identical events folded in the kernel",
			 offsetof(struct vg_counters, folded)},
		};
		struct vg_counters c[VG_TYPE_MAX];

		sensor_counters(r->sensor, c);
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			fprintf(f, "# HELP %s %s, by type.\n# TYPE %s counter\n",
				kinds[k].name, kinds[k].help, kinds[k].name);
			for (int t = 1; t < VG_TYPE_MAX; t++)
				if (vg_record_size(t))
					fprintf(f, "%s{type=\"%s\"} %llu\n",
						kinds[k].name, event_action(t),
						(unsigned long long)*(const uint64_t *)
						((const char *)&c[t] + kinds[k].off));
		}
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
	fill_enforcement(r, f);
}
