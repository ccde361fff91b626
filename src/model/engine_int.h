/* engine_int.h - internals shared by engine.c (models, items, reports)
 * and engine_time.c (lifecycle, drift, time of week, rates). Not for other
 * stages. */
#ifndef VIGIL_ENGINE_INT_H
#define VIGIL_ENGINE_INT_H

#include "lib/hashmap.h"
#include "model/engine.h"
#include "model/items.h"

/* What the engine keeps per model but does not persist. */
struct mstate {
	struct hashmap *reported; /* hash(dim, item) of reported anomalies */
	struct hashmap *written;  /* hash(path) written since first seen (drift) */
	uint64_t minute;	  /* current rate minute (wall minutes) */
	uint32_t count[RATE_MAX]; /* events of each rate kind in that minute */
	uint32_t silent_week;	  /* week of the last silent-job sweep */
};

struct engine {
	struct engine_opts o;
	anomaly_cb cb;
	pending_cb pcb;
	void *ctx;
	struct model **models;
	size_t n, cap;
	struct hashmap *by_key; /* hash(key) -> model */
	struct hashmap *states; /* hash(key) -> mstate */
	struct hashmap *rescache; /* resource key -> struct rescache */
	const struct model *last_m; /* one-entry cache of engine_state() */
	struct mstate *last_s;
	struct engine_stats st;
	uint64_t now;	     /* newest wall time seen */
	int mute;	     /* reports of the current event are dropped */
	uint64_t last_hour;  /* hour index of the last silent-job sweep */
};

struct mstate *engine_state(struct engine *e, const struct model *m);
void engine_report(struct engine *e, struct anomaly *a);
void engine_maybe_activate(struct engine *e, struct model *m, uint64_t now);
/* Rates and the written-files set of a container; before items. */
void engine_track(struct engine *e, struct model *m, const void *rec,
		  const struct enrich_view *v, uint64_t now);
/* 1 if the event was an exec of a file written in the container (drift,
 * reported whatever the state). */
int engine_drift(struct engine *e, struct model *m, struct model *img,
		 const void *rec, const struct enrich_view *v, uint64_t now);
/* A known periodic item at an hour it never ran at. */
void engine_check_time(struct engine *e, struct model *m,
		       const struct model_entry *ent, const struct item *it,
		       const void *rec, const struct enrich_view *v,
		       uint64_t now);
#endif
