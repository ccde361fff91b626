/* run_int.h - internals shared by the files of `vigil run`: run.c (the
 * loop, sources, control commands), run_alerts.c (every alert's way out:
 * suppressions, storm limit, ancestry, detections, enforcement, metrics)
 * and run_conf.c (flags and the config file). Not for other commands. */
#ifndef VIGIL_RUN_INT_H
#define VIGIL_RUN_INT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "alert/alert.h"
#include "cli/run_enforce.h"
#include "detect/detect.h"
#include "model/engine.h"
#include "pipeline/pipeline.h"

struct hashmap;
struct metrics_srv;
struct sensor;
struct store;
struct suppressions;

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
	char policy_dir[PATH_MAX]; /* default DATA_DIR/policies */
	int default_mode;  /* enum renf_mode */
	int no_builtin_rules;
	struct run_rec_conf rec; /* flight recorder options */
	struct alert_conf ac; /* --syslog, --webhook, formats */
};

uint64_t run_now_ns(clockid_t c);
/* Every alert goes out here: suppressions, storm limit, ancestry, then
 * the outputs and the flight recorder. */
void run_on_anomaly(void *ctx, const struct anomaly *a);
void run_on_enforcement(void *ctx, struct anomaly *a);
/* The built-in rules plus --rules; NULL after a message. */
struct detect *run_load_rules(struct run_ctx *r, const struct run_conf *c);
void run_fill_metrics(void *ctx, FILE *f);
/* hashmap callbacks for the storm table: summarise, free */
int run_storm_flush(void *ctx, uint64_t k, void *v);
void run_free_storm(void *ctx, uint64_t k, void *v);
/* 0, EXIT_USAGE, or -1 after --help was printed. */
int run_parse_args(int argc, char **argv, struct run_conf *c);
#endif
