/* engine.c - see engine.h.
 *
 * Models by key: "container:<id>", "image:<name>", "service:<unit>". A
 * container's events are checked against its own model and its image's
 * (instances start from what the image already knows) and learned into
 * both. Invariants: every anomaly for a (model, dimension, item) is
 * reported once (later repeats are counted); known-bad behaviour is never
 * learned unless approved; the runtime's own setup of a container is not
 * the workload's behaviour and is skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hashmap.h"
#include "model/engine.h"
#include "model/engine_int.h"
#include "model/items.h"
#include "vigil_event.h"

#define MODELS_CAP 65536

static uint64_t fnv2(const char *a, const char *b)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *a; a++)
		h = (h ^ (uint8_t)*a) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; b && *b; b++)
		h = (h ^ (uint8_t)*b) * 1099511628211ULL;
	return h;
}

struct engine *engine_new(const struct engine_opts *o, anomaly_cb cb,
			  pending_cb pcb, void *ctx)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->o = *o;
	e->cb = cb;
	e->pcb = pcb;
	e->ctx = ctx;
	e->by_key = hashmap_new(MODELS_CAP);
	e->states = hashmap_new(MODELS_CAP);
	e->rescache = hashmap_new(65536);
	if (!e->by_key || !e->states || !e->rescache) {
		engine_free(e);
		return NULL;
	}
	return e;
}

/* hashmap_free callback for values that are plain heap blocks */
static void free_value(void *ctx, uint64_t k, void *v)
{
	(void)ctx;
	(void)k;
	free(v);
}

static void free_state(void *ctx, uint64_t k, void *v)
{
	struct mstate *s = v;

	(void)ctx;
	(void)k;
	hashmap_free(s->reported, NULL, NULL);
	hashmap_free(s->written, NULL, NULL);
	free(s);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		model_free(e->models[i]);
	free(e->models);
	hashmap_free(e->by_key, NULL, NULL);
	hashmap_free(e->states, free_state, NULL);
	hashmap_free(e->rescache, free_value, NULL);
	free(e);
}

struct model *engine_find(struct engine *e, const char *key)
{
	struct model *m = hashmap_get(e->by_key, fnv2(key, NULL));

	return m && !strcmp(model_key(m), key) ? m : NULL;
}

struct model **engine_models(struct engine *e, size_t *n)
{
	*n = e->n;
	return e->models;
}

/* Per-model runtime state that is not persisted. */
struct mstate *engine_state(struct engine *e, const struct model *m)
{
	uint64_t k;
	struct mstate *s;

	if (m == e->last_m && e->last_s) /* events come in runs per model */
		return e->last_s;
	k = fnv2(model_key(m), NULL);
	s = hashmap_get(e->states, k);
	if (s) {
		e->last_m = m;
		e->last_s = s;
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->reported = hashmap_new(4096);
	s->written = hashmap_new(4096);
	if (!s->reported || !s->written || hashmap_put(e->states, k, s) < 0) {
		free_state(NULL, 0, s);
		return NULL;
	}
	return s;
}

int engine_adopt(struct engine *e, struct model *m)
{
	if (engine_find(e, model_key(m)))
		return -EEXIST;
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 64;
		struct model **nv = realloc(e->models, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		e->models = nv;
		e->cap = nc;
	}
	if (hashmap_put(e->by_key, fnv2(model_key(m), NULL), m) < 0)
		return -ENOSPC;
	e->models[e->n++] = m;
	return 0;
}

static struct model *get_model(struct engine *e, enum model_kind k,
			       const char *key, uint64_t now)
{
	struct model *m = engine_find(e, key);

	if (m)
		return m;
	m = model_new(k, key, now);
	if (!m)
		return NULL;
	model_set_learning(m, e->o.learn_min_ns, e->o.learn_settle_ns);
	if (engine_adopt(e, m) < 0) {
		model_free(m);
		return NULL;
	}
	return m;
}

/* The instance (or service) model and the image model of an event. */
static void models_lookup(struct engine *e, const struct enrich_view *v,
			  uint64_t now, struct model **inst, struct model **img)
{
	const struct resource *r = v->res;
	char key[MODEL_KEY_MAX];

	*inst = *img = NULL;
	if (r->cg.runtime == CG_HOST) {
		if (!r->cg.unit[0] && !e->o.model_host_unattributed)
			return;
		snprintf(key, sizeof(key), "service:%s",
			 r->cg.unit[0] ? r->cg.unit : "host");
		*inst = get_model(e, MODEL_SERVICE, key, now);
		return;
	}
	if (r->meta.image[0]) {
		snprintf(key, sizeof(key), "image:%s", r->meta.image);
		*img = get_model(e, MODEL_IMAGE, key, now);
	}
	snprintf(key, sizeof(key), "container:%s", r->cg.container_id);
	*inst = engine_find(e, key);
	if (*inst)
		return;
	*inst = get_model(e, MODEL_CONTAINER, key, now);
	if (*inst && *img) {
		model_set_parent(*inst, model_key(*img));
		if (model_state_of(*img) == MODEL_ACTIVE) {
			char why[256];

			snprintf(why, sizeof(why),
				 "inherited: image model '%s' is active",
				 model_key(*img));
			model_set_state(*inst, MODEL_ACTIVE, now, why);
		}
	}
}

/* Per resource (cgroup), the models found last time: saves building keys
 * and two lookups per event. Dropped whenever models are replaced. */
struct rescache {
	struct model *inst, *img;
	struct mstate *st; /* the instance's runtime state */
	int had_image;
};

static void models_of(struct engine *e, const struct enrich_view *v,
		      uint64_t now, struct model **inst, struct model **img)
{
	struct rescache *c = hashmap_get(e->rescache, v->res->key);
	int has_image = v->res->meta.image[0] != 0;

	if (c && c->had_image == has_image && c->inst) {
		*inst = c->inst;
		*img = c->img;
		e->last_m = c->inst; /* engine_state() is next */
		e->last_s = c->st;
		return;
	}
	models_lookup(e, v, now, inst, img);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || hashmap_put(e->rescache, v->res->key, c) < 0) {
			free(c);
			return;
		}
	}
	c->inst = *inst;
	c->img = *img;
	c->st = *inst ? engine_state(e, *inst) : NULL;
	c->had_image = has_image;
}

/* Called whenever a model is replaced or removed. */
static void rescache_clear(struct engine *e)
{
	hashmap_free(e->rescache, free_value, NULL);
	e->rescache = hashmap_new(65536);
}

static const char *who(const struct enrich_view *v)
{
	const struct resource *r = v->res;

	if (r->cg.runtime != CG_HOST)
		return r->meta.name[0] ? r->meta.name : r->cg.container_id;
	return r->cg.unit[0] ? r->cg.unit : "host";
}

void engine_report(struct engine *e, struct anomaly *a)
{
	if (e->mute) {
		e->st.muted++;
		return;
	}
	if (a->score < e->o.min_score) {
		e->st.below_min_score++;
		return;
	}
	e->st.anomalies++;
	if (e->cb)
		e->cb(e->ctx, a);
}

/* Reports once per (model, dimension, item); repeats are counted. */
static int first_report(struct engine *e, const struct model *m,
			enum model_dim d, const char *item)
{
	struct mstate *s = engine_state(e, m);
	uint64_t k = fnv2(model_dim_name(d), item);

	if (!s)
		return 1;
	if (hashmap_get(s->reported, k)) {
		e->st.suppressed_repeats++;
		return 0;
	}
	hashmap_put(s->reported, k, (void *)1);
	return 1;
}

static void new_item(struct engine *e, struct model *inst, struct model *img,
		     const struct item *it, const void *rec,
		     const struct enrich_view *v, uint64_t now, int known_bad)
{
	struct anomaly a;
	uint64_t age = now > model_created_ns(inst) ? now - model_created_ns(inst) : 0;

	if (!first_report(e, inst, it->dim, it->text))
		return;
	memset(&a, 0, sizeof(a));
	a.kind = known_bad ? ANOM_KNOWN_BAD : ANOM_NEW_ITEM;
	a.dim = it->dim;
	a.item = it->text;
	a.model = inst;
	a.score = it->score;
	a.wall_ns = now;
	a.rec = rec;
	a.view = v;
	a.n_nearest = model_nearest(inst, it->dim, it->text, a.nearest, 3);
	if (a.n_nearest < 3 && img)
		a.n_nearest += model_nearest(img, it->dim, it->text,
					     a.nearest + a.n_nearest,
					     3 - a.n_nearest);
	a.title = known_bad ? "Behaviour refused while learning"
			    : "Behaviour outside the learned model";
	snprintf(a.explanation, sizeof(a.explanation),
		 "%s%s %s '%s' not in model '%s' (%s, %.0fs old, %zu entries%s%s)"
		 "%s%s%s%s%s%s",
		 known_bad ? "not learned: " : "", known_bad ? it->bad : "new",
		 model_dim_name(it->dim), it->text, model_key(inst),
		 model_state_name(model_state_of(inst)), (double)age / 1e9,
		 model_size(inst), img ? ", image model " : "",
		 img ? model_key(img) : "",
		 a.n_nearest ? "; nearest learned: '" : "",
		 a.n_nearest ? a.nearest[0] : "", a.n_nearest ? "'" : "",
		 a.n_nearest > 1 ? ", '" : "", a.n_nearest > 1 ? a.nearest[1] : "",
		 a.n_nearest > 1 ? "'" : "");
	engine_report(e, &a);
}

/* Returns 1 when the item was new to an active model (reported). */
static int handle_item(struct engine *e, struct model *inst, struct model *img,
		       const struct item *it, const void *rec,
		       const struct enrich_view *v, uint64_t now, int quiet)
{
	const struct model_entry *ent;
	int learning = model_state_of(inst) == MODEL_LEARNING;

	const struct model_entry *eg;

	e->st.checks++;
	/* the image is only asked when the instance does not know the item */
	ent = model_find(inst, it->dim, it->text);
	eg = !ent && img ? model_find(img, it->dim, it->text) : NULL;
	if (ent || eg) {
		if (!learning)
			engine_check_time(e, inst, ent ? ent : eg, it, rec, v, now);
		if (ent)
			model_touch_entry(inst, ent, now);
		if (eg)
			model_touch_entry(img, eg, now);
		return 0;
	}
	if (it->bad) {
		/* never learned silently, in any state; kept for approval */
		if (e->pcb)
			e->pcb(e->ctx, inst, it->dim, it->text, it->bad);
		new_item(e, inst, img, it, rec, v, now, learning);
		return 1;
	}
	if (!learning) {
		if (!quiet)
			new_item(e, inst, img, it, rec, v, now, 0);
		return 1;
	}
	if (model_learn(inst, it->dim, it->text, now, who(v), ((const struct vg_hdr *)rec)->comm) > 0)
		e->st.learned++;
	else if (model_cap_hits(inst))
		e->st.cap_hits = model_cap_hits(inst);
	if (img && model_state_of(img) == MODEL_LEARNING)
		model_learn(img, it->dim, it->text, now, who(v),
			    ((const struct vg_hdr *)rec)->comm);
	return 0;
}

void engine_event(struct engine *e, const void *rec,
		  const struct enrich_view *v, uint64_t wall_ns)
{
	struct item items[ITEMS_MAX];
	struct model *inst, *img;
	int n;

	e->st.events++;
	if (wall_ns > e->now)
		e->now = wall_ns;
	if (items_is_runtime(rec, v)) {
		e->st.runtime_skipped++;
		return;
	}
	models_of(e, v, wall_ns, &inst, &img);
	if (!inst)
		return;
	engine_track(e, inst, rec, v, wall_ns);
	if (engine_drift(e, inst, img, rec, v, wall_ns))
		return;
	n = items_of_event(rec, v, items);
	{
		int process_new = 0;

		for (int i = 0; i < n; i++) {
			/* one exec, one report: its executable is only news
			 * when its lineage was known */
			int quiet = items[i].dim == DIM_FILE_EXEC && process_new;
			int r = handle_item(e, inst, img, &items[i], rec, v,
					    wall_ns, quiet);

			if (items[i].dim == DIM_PROCESS)
				process_new = r;
		}
	}
	engine_maybe_activate(e, inst, wall_ns);
	if (img)
		engine_maybe_activate(e, img, wall_ns);
}

void engine_event_muted(struct engine *e, const void *rec,
			const struct enrich_view *v, uint64_t wall_ns)
{
	e->mute = 1;
	engine_event(e, rec, v, wall_ns);
	e->mute = 0;
}

int engine_relearn(struct engine *e, const char *key, uint64_t now)
{
	struct model *m = engine_find(e, key), *fresh;
	struct mstate *s;
	size_t i;

	if (!m)
		return -ENOENT;
	fresh = model_new(model_kind_of(m), key, now);
	if (!fresh)
		return -ENOMEM;
	{
		uint64_t min, settle;

		model_learning(m, &min, &settle); /* keep the model's own */
		model_set_parent(fresh, model_parent(m));
		model_set_learning(fresh, min, settle);
	}
	model_set_state(fresh, MODEL_LEARNING, now, "relearn requested");
	for (i = 0; i < e->n; i++)
		if (e->models[i] == m)
			e->models[i] = fresh;
	hashmap_put(e->by_key, fnv2(key, NULL), fresh);
	rescache_clear(e);
	e->last_m = NULL;
	e->last_s = NULL;
	model_free(m);
	s = hashmap_del(e->states, fnv2(key, NULL));
	if (s)
		free_state(NULL, 0, s);
	return 0;
}

int engine_extend(struct engine *e, const char *key, uint64_t now)
{
	struct model *m = engine_find(e, key);

	if (!m)
		return -ENOENT;
	model_set_state(m, MODEL_LEARNING, now, "learning extended by request");
	return 0;
}

int engine_approve(struct engine *e, const char *key, enum model_dim d,
		   const char *item, uint64_t now)
{
	struct model *m = engine_find(e, key);
	struct model_entry ent;

	if (!m)
		return -ENOENT;
	if (model_find(m, d, item)) {
		/* already there: re-add it marked as a person's decision */
		const struct model_entry *old = model_find(m, d, item);

		ent = *old;
		ent.item = strdup(item);
		if (!ent.item)
			return -ENOMEM;
		ent.approved = 1;
		model_forget(m, d, item);
		{
			int rc = model_restore(m, d, &ent);

			free((char *)ent.item);
			return rc;
		}
	}
	memset(&ent, 0, sizeof(ent));
	ent.item = item;
	ent.first_ns = ent.last_ns = now;
	ent.approved = 1;
	snprintf(ent.first_by, sizeof(ent.first_by), "approved");
	return model_restore(m, d, &ent);
}

int engine_delete(struct engine *e, const char *key)
{
	struct model *m = engine_find(e, key);
	struct mstate *s;

	if (!m)
		return -ENOENT;
	for (size_t i = 0; i < e->n; i++)
		if (e->models[i] == m) {
			e->models[i] = e->models[--e->n];
			break;
		}
	hashmap_del(e->by_key, fnv2(key, NULL));
	s = hashmap_del(e->states, fnv2(key, NULL));
	if (s)
		free_state(NULL, 0, s);
	rescache_clear(e);
	e->last_m = NULL;
	e->last_s = NULL;
	model_free(m);
	return 0;
}

void engine_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->st;
	out->models = e->n;
}

const char *engine_level(int score)
{
	if (score >= 80)
		return "critical";
	if (score >= 60)
		return "high";
	if (score >= 30)
		return "medium";
	return "low";
}
