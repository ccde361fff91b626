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
#include "cli/run_int.h"
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

static volatile sig_atomic_t run_stop, run_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		run_reload = 1;
	else
		run_stop = 1;
}

/* SIGHUP: reload the policies (a broken set keeps the old one). */
static void maybe_reload(struct run_ctx *r)
{
	char err[512];

	if (!run_reload)
		return;
	run_reload = 0;
	if (renf_reload(r->enf, err, sizeof(err)) < 0)
		fprintf(stderr, "vigil: policies not reloaded, the previous ones "
			"stay in force: %s\n", err);
	else
		fprintf(stderr, "vigil: policies reloaded\n");
}

uint64_t run_now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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
	/* one event, one alert: a policy or rule that fired silences the
	 * models */
	if (renf_event(r->enf, rec, v) > 0 ||
	    (r->det && detect_event(r->det, rec, v, wall) > 0))
		engine_event_muted(r->eng, rec, v, wall);
	else
		engine_event(r->eng, rec, v, wall);
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

/* A command queued by `vigil model` while this agent runs. */
static int apply_ctl(void *ctx, const char *model, const char *cmd,
		     const char *arg)
{
	struct run_ctx *r = ctx;
	uint64_t now = r->last_wall ? r->last_wall : run_now_ns(CLOCK_REALTIME);

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

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct run_ctx *r = ctx;

	return pipeline_record(&r->p, rec, len, run_now_ns(CLOCK_MONOTONIC));
}

static int run_live(struct run_ctx *r, const struct run_conf *c)
{
	struct sensor_opts so = {.class_mask = 0xf,
				 .dedup_window_ns = 30ULL * 1000000000ULL};
	struct sensor *s;
	char err[256];
	uint64_t start = run_now_ns(CLOCK_MONOTONIC), last_tick = 0, last_save = start;

	if (gethostname(r->p.host_name, sizeof(r->p.host_name) - 1) < 0)
		snprintf(r->p.host_name, sizeof(r->p.host_name), "localhost");
	r->p.fc.boot_to_real_ns = (int64_t)run_now_ns(CLOCK_REALTIME) -
				  (int64_t)run_now_ns(CLOCK_BOOTTIME);
	s = sensor_open(&so, on_record, &r->p, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		return 1;
	}
	r->sensor = s;
	renf_set_sensor(r->enf, s);
	fprintf(stderr, "vigil: running, models in '%s'\n", c->data_dir);
	while (!run_stop) {
		uint64_t mono;

		if (sensor_poll(s, 200) < 0)
			break;
		run_rec_tick(r->rec, run_now_ns(CLOCK_REALTIME), 0, r->alerts,
			     &r->p.fc);
		mono = run_now_ns(CLOCK_MONOTONIC);
		if (mono - last_tick >= 1000000000ULL) {
			last_tick = mono;
			r->last_wall = run_now_ns(CLOCK_REALTIME);
			engine_tick(r->eng, r->last_wall);
			store_ctl_take(r->st, apply_ctl, r);
			suppress_free(r->sup);
			r->sup = suppress_load(store_db(r->st), r->last_wall);
		}
		maybe_reload(r);
		renf_poll(r->enf);
		metrics_serve(r->ms, run_fill_metrics, r);
		if (mono - last_save >= 5000000000ULL) {
			last_save = mono;
			save(r);
		}
		if (c->duration && mono - start >= c->duration)
			break;
	}
	sensor_poll(s, 0);
	r->sensor = NULL;
	renf_set_sensor(r->enf, NULL);
	sensor_close(s);
	return 0;
}

/* After each replayed event: the recording's clock drives the recorder
 * and the engine's learning windows. */
static void replay_tick(void *ctx)
{
	struct run_ctx *r = ctx;

	run_rec_tick(r->rec, r->last_wall, 0, r->alerts, &r->p.fc);
	if (r->last_wall)
		engine_tick(r->eng, r->last_wall);
}

static int run_replay(struct run_ctx *r, const char *path)
{
	struct rec_reader *rd = strcmp(path, "-") ? rec_reader_open(path)
						  : rec_reader_fdopen(0);
	uint64_t bad = 0;
	int rc;

	if (!rd) {
		fprintf(stderr, "vigil: cannot replay '%s': %s\n", path,
			strerror(errno));
		return EXIT_BADINPUT;
	}
	snprintf(r->p.host_name, sizeof(r->p.host_name), "unknown");
	rc = pipeline_replay(&r->p, rd, &bad, replay_tick, r, &run_stop);
	if (rc < 0)
		fprintf(stderr, "vigil: replay of '%s' stopped: %s\n", path,
			rc == -EPROTO ? "recorded with another event ABI"
				      : rec_reader_error(rd));
	rec_reader_close(rd);
	return rc < 0 ? EXIT_BADINPUT : 0;
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
	rc = run_parse_args(argc, argv, &c);
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
	r.eng = engine_new(&eo, run_on_anomaly, on_pending, &r);
	if (r.eng) {
		/* a replay judges, it never enforces: pids and cgroups of a
		 * recording are not this machine's */
		struct renf_conf ec = {c.policy_dir,
				       c.replay && c.default_mode > RENF_MONITOR
					       ? RENF_MONITOR : c.default_mode,
				       c.replay ? NULL : r.st};

		r.enf = renf_new(r.eng, &ec, run_on_enforcement, &r, err,
				 sizeof(err));
		if (!r.enf) {
			fprintf(stderr, "vigil: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	c.ac.file = c.alerts[0] ? c.alerts : NULL;
	c.ac.to_stdout = !c.quiet;
	c.ac.data_dir = c.data_dir;
	r.alerts = r.eng ? alert_out_new(&c.ac, err, sizeof(err)) : NULL;
	if (!r.eng || !r.alerts) {
		fprintf(stderr, "vigil: %s\n", r.eng ? err : "out of memory");
		rc = 1;
		goto out;
	}
	r.det = run_load_rules(&r, &c);
	if (!r.det && (c.rules || !c.no_builtin_rules)) {
		rc = EXIT_USAGE;
		goto out;
	}
	r.sup = suppress_load(store_db(r.st), run_now_ns(CLOCK_REALTIME));
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
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = c.replay ? run_replay(&r, c.replay) : run_live(&r, &c);
	if (r.storms)
		hashmap_each(r.storms, run_storm_flush, &r);
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
		char enf[256];

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
	hashmap_free(r.storms, run_free_storm, NULL);
	renf_free(r.enf); /* detaches every guard: fail open */
	alert_out_close(r.alerts);
	detect_free(r.det);
	engine_free(r.eng);
	store_close(r.st);
	pipeline_fini(&r.p);
	return rc;
}
