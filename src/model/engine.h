/* engine.h - the model stage: keeps one model per container instance,
 * image and host service, learns from enriched events while a model is
 * learning, ends learning by itself when behaviour is stable, and reports
 * what an active model has not seen as explained, scored anomalies.
 *
 * Time is the events' wall clock (never the host's), so a recording
 * replays to the same models and anomalies. */
#ifndef VIGIL_ENGINE_H
#define VIGIL_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "enrich/enrich.h"
#include "model/model.h"

enum anomaly_kind {
	ANOM_NEW_ITEM = 0, /* not in the model */
	ANOM_KNOWN_BAD,	   /* refused while learning, awaits approval */
	ANOM_DRIFT,	   /* exec of a file written after the start */
	ANOM_TIME,	   /* known item at an unusual hour of the week */
	ANOM_SILENT,	   /* expected periodic item did not happen */
	ANOM_RATE,	   /* activity far above the hour's usual rate */
	ANOM_RULE,	   /* a detection rule matched (src/detect) */
};

struct anomaly {
	enum anomaly_kind kind;
	enum model_dim dim;
	const char *item;
	const char *nearest[3];
	size_t n_nearest;
	const struct model *model; /* the instance or service model; NULL
				    * for rule alerts */
	int score;		   /* 0..100 */
	const char *title;
	char explanation[768];
	uint64_t wall_ns;
	const void *rec;		 /* triggering record, NULL for ANOM_SILENT */
	const struct enrich_view *view; /* NULL for ANOM_SILENT */
	/* rule alerts (ANOM_RULE) */
	const char *source;	  /* NULL: "detection" for rules, else "model" */
	const char *action_taken; /* NULL: "alerted" */
	uint32_t repeats;	  /* identical alerts folded into this one */
	uint64_t first_ns;	  /* first of those (0: wall_ns) */
	/* the process's ancestors, parent first, up to the container's first
	 * process or PID 1 (filled by the caller from the process table) */
	const struct proc_info *ancestry[12];
	size_t n_ancestry;
	const char *rule_id;
	const char *rule_description;
	const char *ruleset;	  /* NULL: "vigil-detections" for rules */
	char *const *mitre;
	size_t n_mitre;
};

typedef void (*anomaly_cb)(void *ctx, const struct anomaly *a);
/* Called for behaviour refused while learning (for the store's pending). */
typedef void (*pending_cb)(void *ctx, const struct model *m, enum model_dim d,
			   const char *item, const char *reason);

struct engine_opts {
	uint64_t learn_min_ns;	  /* minimum learning time */
	uint64_t learn_settle_ns; /* quiet window that ends learning */
	int model_host_unattributed; /* also model host processes with no unit */
	int min_score; /* anomalies scoring less are counted, not reported */
};

struct engine;

struct engine *engine_new(const struct engine_opts *o, anomaly_cb cb,
			  pending_cb pcb, void *ctx);
void engine_free(struct engine *e);

/* Takes ownership of a model loaded from the store. */
int engine_adopt(struct engine *e, struct model *m);
/* Feeds one enriched event; wall_ns is its wall-clock time. */
void engine_event(struct engine *e, const void *rec,
		  const struct enrich_view *v, uint64_t wall_ns);
/* Same, learning as usual but reporting nothing about this event (a
 * detection rule already alerted on it: one event, one alert). */
void engine_event_muted(struct engine *e, const void *rec,
			const struct enrich_view *v, uint64_t wall_ns);
/* Advances time without events: ends learning, checks silent jobs, closes
 * rate minutes. Call about once a second (live) or per event (replay). */
void engine_tick(struct engine *e, uint64_t wall_ns);

struct model *engine_find(struct engine *e, const char *key);
/* All models, for the store (array valid until the next engine call). */
struct model **engine_models(struct engine *e, size_t *n);
/* Control commands (from `vigil model` via the store). */
int engine_relearn(struct engine *e, const char *key, uint64_t wall_ns);
int engine_extend(struct engine *e, const char *key, uint64_t wall_ns);
int engine_approve(struct engine *e, const char *key, enum model_dim d,
		   const char *item, uint64_t wall_ns);
int engine_delete(struct engine *e, const char *key);

struct engine_stats {
	uint64_t events, checks, learned, anomalies, suppressed_repeats,
		below_min_score, muted, runtime_skipped, models, cap_hits;
};
void engine_stats(const struct engine *e, struct engine_stats *out);

/* Anomaly level name for a score: low, medium, high, critical. */
const char *engine_level(int score);
#endif
