/* items.h - what an event means for a model: the (dimension, item) pairs
 * it shows, each with a base anomaly score and whether it is behaviour that
 * must never be learned silently (known bad). Pure functions. */
#ifndef VIGIL_ITEMS_H
#define VIGIL_ITEMS_H

#include "enrich/enrich.h"
#include "model/model.h"

#define ITEMS_MAX 4

struct item {
	enum model_dim dim;
	int score;	   /* anomaly score if this item is new (0..100) */
	const char *bad;   /* non-NULL: known-bad reason, never learned unasked */
	char text[MODEL_ITEM_MAX];
};

/* Fills out[] for one event; returns how many (0 for events models ignore). */
int items_of_event(const void *rec, const struct enrich_view *v,
		   struct item out[ITEMS_MAX]);
/* 1 if the process is the container runtime setting the container up
 * (runc/crun init), whose actions belong to the runtime, not the workload. */
int items_is_runtime(const void *rec, const struct enrich_view *v);
/* 1 for paths a workload can write and then run from (/tmp, /dev/shm...). */
int items_writable_dir(const char *path);
#endif
