/* model.h - one learned behaviour model: what a container instance, an
 * image or a host service normally does, as sets of generalised items per
 * dimension, plus when each item is usually seen (hour of week).
 *
 * A model is a passive data structure: the engine (engine.h) decides what
 * to look up and learn; the store (store/store.h) persists it. Items
 * are printable strings (see docs/models.md for each dimension's form), so
 * a model exports to readable YAML and diffs cleanly.
 *
 * Caps: each dimension holds at most MODEL_DIM_CAP entries; model_learn()
 * returns -ENOSPC past that and counts it (the engine then learns a coarser
 * item). */
#ifndef VIGIL_MODEL_H
#define VIGIL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_DIM_CAP 2048
#define MODEL_ITEM_MAX 320
#define MODEL_KEY_MAX 272
#define HOURS_PER_WEEK 168

enum model_dim {
	DIM_PROCESS = 0, /* "exe <- parent_exe [uid N]" */
	DIM_ARGS,	 /* "exe: generalised args" */
	DIM_FILE_READ,	 /* path pattern */
	DIM_FILE_WRITE,
	DIM_FILE_CREATE,
	DIM_FILE_EXEC,
	DIM_FILE_DELETE,
	DIM_NET_OUT,	/* "tcp 10.0.0.0/24:443" */
	DIM_NET_LISTEN, /* "tcp :8080" */
	DIM_NET_IN,	/* "tcp 10.0.0.0/24 -> :8080" */
	DIM_DNS,	/* "example.com" */
	DIM_PRIV,	/* "setuid 0", "mount tmpfs", "ptrace", ... */
	DIM_MAX,
};

enum model_kind { MODEL_CONTAINER = 0, MODEL_IMAGE, MODEL_SERVICE };
enum model_state { MODEL_LEARNING = 0, MODEL_ACTIVE };

/* Activity rates kept per hour of week (0 = Monday 00:00 UTC). */
enum model_rate { RATE_EXEC = 0, RATE_CONNECT, RATE_WRITE, RATE_MAX };

struct model_entry {
	const char *item;	 /* owned by the model */
	uint64_t first_ns;	 /* wall clock, ns */
	uint64_t last_ns;
	uint64_t hits;
	uint8_t hours[HOURS_PER_WEEK / 8]; /* hour-of-week buckets seen */
	uint16_t weeks_seen;	 /* distinct weeks the item was seen in */
	uint16_t last_week;	 /* week number of last_ns (for weeks_seen) */
	uint8_t approved;	 /* learned by a person's decision */
	uint8_t pad[3];
	char first_by[64];	 /* container or service that first showed it */
	char first_proc[64];	 /* process (comm) that first showed it */
};

struct model;

struct model *model_new(enum model_kind kind, const char *key, uint64_t now_ns);
void model_free(struct model *m);

const char *model_key(const struct model *m);
enum model_kind model_kind_of(const struct model *m);
enum model_state model_state_of(const struct model *m);
/* Sets state and the reason shown by `vigil model show`. */
void model_set_state(struct model *m, enum model_state s, uint64_t now_ns,
		     const char *reason);
const char *model_reason(const struct model *m);
uint64_t model_created_ns(const struct model *m);
uint64_t model_state_since_ns(const struct model *m);
uint64_t model_last_new_ns(const struct model *m);
uint64_t model_last_seen_ns(const struct model *m);
/* The image model a container model inherits from ("" if none). */
const char *model_parent(const struct model *m);
void model_set_parent(struct model *m, const char *image_key);
/* Sets the lifecycle times (store load, YAML import). */
void model_restore_times(struct model *m, uint64_t created, uint64_t since,
			 uint64_t last_new, uint64_t last_seen);
/* Learning parameters in force for this model (0 = engine default). */
void model_set_learning(struct model *m, uint64_t min_ns, uint64_t settle_ns);
void model_learning(const struct model *m, uint64_t *min_ns, uint64_t *settle_ns);

/* NULL if item is not in dim. */
const struct model_entry *model_find(const struct model *m, enum model_dim d,
				     const char *item);
/* Records one sighting: adds the item (returns 1) or updates hits, last
 * seen and hour buckets (returns 0); -ENOSPC at the cap, -ENOMEM. */
int model_learn(struct model *m, enum model_dim d, const char *item,
		uint64_t now_ns, const char *by, const char *proc);
/* Inserts a fully described entry (store load, YAML import). */
int model_restore(struct model *m, enum model_dim d,
		  const struct model_entry *e);
/* Removes an entry; 0 or -ENOENT. */
int model_forget(struct model *m, enum model_dim d, const char *item);
/* Touches last_seen/hits of a known entry without learning (active mode). */
void model_touch(struct model *m, enum model_dim d, const char *item,
		 uint64_t now_ns);
/* Same for an entry already found with model_find (saves a lookup). */
void model_touch_entry(struct model *m, const struct model_entry *e,
		       uint64_t now_ns);
size_t model_count(const struct model *m, enum model_dim d);
size_t model_size(const struct model *m); /* entries in all dimensions */
/* New items learned in dim d (lifetime) and when the last one came. */
uint64_t model_new_items(const struct model *m, enum model_dim d);
uint64_t model_dim_last_new_ns(const struct model *m, enum model_dim d);
uint64_t model_cap_hits(const struct model *m);

/* Calls fn for each entry of dim d in insertion order; stops if fn
 * returns non-zero. Entries must not be added or removed meanwhile. */
void model_each(const struct model *m, enum model_dim d,
		int (*fn)(void *ctx, const struct model_entry *e), void *ctx);
/* Up to n learned items of dim d nearest to item (longest common prefix,
 * then shortest length difference), for explanations. Returns count. */
size_t model_nearest(const struct model *m, enum model_dim d, const char *item,
		     const char **out, size_t n);

/* Rates: per hour-of-week bucket, the highest per-minute count seen. */
void model_rate_observe(struct model *m, enum model_rate r, int how,
			uint32_t per_minute);
uint32_t model_rate_max(const struct model *m, enum model_rate r, int how);
void model_rate_restore(struct model *m, enum model_rate r, int how,
			uint32_t max);

/* Dirty flag for the store: set by every change, cleared by the store. */
int model_dirty(const struct model *m);
void model_clear_dirty(struct model *m);
/* Approximate heap bytes used (for the memory benchmark and caps). */
size_t model_memory(const struct model *m);

const char *model_dim_name(enum model_dim d); /* "process", "file_read", ... */
int model_dim_parse(const char *name);	  /* -1 if unknown */
const char *model_kind_name(enum model_kind k); /* container|image|service */
int model_kind_parse(const char *name);
const char *model_state_name(enum model_state s); /* learning|active */
int model_state_parse(const char *name);

/* Hour of week (0..167, Monday 00:00 UTC = 0) and week number of a time. */
int model_hour_of_week(uint64_t wall_ns);
uint32_t model_week_of(uint64_t wall_ns);
#endif
