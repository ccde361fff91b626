/* engine_time.c - the time side of the models: learning ends by itself,
 * drift, time-of-week expectations and activity rates.
 *
 * Learning ends when the model is at least learn_min old and no dimension
 * has learned anything new for learn_settle (the rate of new items over
 * that rolling window has fallen to zero). A "periodic" item is one seen in
 * at least two different weeks and in at most PERIODIC_HOURS hour-of-week
 * buckets: it is expected at those hours (±1) and nowhere else, and its
 * absence two hours after its usual hour is reported once a week. Rates are
 * checked only once a model has watched a whole week. */
#include <stdio.h>
#include <string.h>
#include "model/engine_int.h"
#include "vigil_event.h"

#define NS_PER_MIN 60000000000ULL
#define NS_PER_HOUR 3600000000000ULL
#define NS_PER_WEEK (168ULL * NS_PER_HOUR)
#define PERIODIC_HOURS 6
#define DEFAULT_MIN_NS (15ULL * NS_PER_MIN)
#define DEFAULT_SETTLE_NS (10ULL * NS_PER_MIN)

static uint64_t fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

void engine_maybe_activate(struct engine *e, struct model *m, uint64_t now)
{
	uint64_t min, settle, age, quiet;
	char why[256];

	if (model_state_of(m) != MODEL_LEARNING)
		return;
	model_learning(m, &min, &settle);
	if (!min)
		min = e->o.learn_min_ns ? e->o.learn_min_ns : DEFAULT_MIN_NS;
	if (!settle)
		settle = e->o.learn_settle_ns ? e->o.learn_settle_ns
					      : DEFAULT_SETTLE_NS;
	age = now > model_created_ns(m) ? now - model_created_ns(m) : 0;
	quiet = now > model_last_new_ns(m) ? now - model_last_new_ns(m) : 0;
	if (age < min || quiet < settle || now - model_state_since_ns(m) < settle)
		return;
	snprintf(why, sizeof(why),
		 "stable: nothing new for %.0fs in any dimension after %.0fs "
		 "of learning (%zu entries)",
		 (double)quiet / 1e9, (double)age / 1e9, model_size(m));
	model_set_state(m, MODEL_ACTIVE, now, why);
}

static int hour_bit(const struct model_entry *ent, int h)
{
	h = (h + HOURS_PER_WEEK) % HOURS_PER_WEEK;
	return (ent->hours[h / 8] >> (h % 8)) & 1;
}

static int periodic(const struct model_entry *ent)
{
	int n = 0;

	for (int i = 0; i < HOURS_PER_WEEK / 8; i++)
		n += __builtin_popcount(ent->hours[i]);
	return ent->weeks_seen >= 2 && n > 0 && n <= PERIODIC_HOURS;
}

static void hours_text(const struct model_entry *ent, char *buf, size_t cap)
{
	static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	size_t used = 0;

	buf[0] = 0;
	for (int h = 0; h < HOURS_PER_WEEK && used + 16 < cap; h++)
		if (hour_bit(ent, h))
			used += snprintf(buf + used, cap - used, "%s%s %02d:00",
					 used ? ", " : "", days[h / 24], h % 24);
}

void engine_check_time(struct engine *e, struct model *m,
		       const struct model_entry *ent, const struct item *it,
		       const void *rec, const struct enrich_view *v,
		       uint64_t now)
{
	struct anomaly a;
	char usual[160];
	int h = model_hour_of_week(now);

	if (!ent || it->dim != DIM_PROCESS || !periodic(ent))
		return;
	if (hour_bit(ent, h) || hour_bit(ent, h - 1) || hour_bit(ent, h + 1))
		return;
	hours_text(ent, usual, sizeof(usual));
	memset(&a, 0, sizeof(a));
	a.kind = ANOM_TIME;
	a.dim = it->dim;
	a.item = it->text;
	a.model = m;
	a.score = 45;
	a.wall_ns = now;
	a.rec = rec;
	a.view = v;
	a.title = "Known behaviour at an unusual time";
	snprintf(a.explanation, sizeof(a.explanation),
		 "'%s' of model '%s' usually happens at %s (UTC, seen in %u "
		 "weeks), not at %s %02d:00",
		 it->text, model_key(m), usual, ent->weeks_seen,
		 (const char *[]){"Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
				  "Sun"}[h / 24], h % 24);
	engine_report(e, &a);
}

static void close_minute(struct engine *e, struct model *m, struct mstate *s)
{
	int how = model_hour_of_week(s->minute * NS_PER_MIN);
	static const char *names[RATE_MAX] = {"execs", "connects", "file writes"};

	for (int r = 0; r < RATE_MAX; r++) {
		uint32_t c = s->count[r], learned = 0;

		s->count[r] = 0;
		if (model_state_of(m) == MODEL_LEARNING) {
			model_rate_observe(m, r, how, c);
			continue;
		}
		if (model_last_seen_ns(m) - model_created_ns(m) < NS_PER_WEEK)
			continue; /* rates mean nothing before a whole week */
		for (int d = -1; d <= 1; d++) {
			uint32_t x = model_rate_max(m, r, (how + d + 168) % 168);

			learned = x > learned ? x : learned;
		}
		if (c > learned * 3 + 5) {
			struct anomaly a;

			memset(&a, 0, sizeof(a));
			a.kind = ANOM_RATE;
			a.dim = r == RATE_EXEC ? DIM_PROCESS :
				r == RATE_CONNECT ? DIM_NET_OUT : DIM_FILE_WRITE;
			a.item = names[r];
			a.model = m;
			a.score = 45;
			a.wall_ns = s->minute * NS_PER_MIN;
			a.title = "Activity far above its usual rate";
			snprintf(a.explanation, sizeof(a.explanation),
				 "%u %s in one minute in model '%s'; at this "
				 "hour of the week the most seen was %u",
				 c, names[r], model_key(m), learned);
			engine_report(e, &a);
		}
	}
}

void engine_track(struct engine *e, struct model *m, const void *rec,
		  const struct enrich_view *v, uint64_t now)
{
	const struct vg_hdr *h = rec;
	struct mstate *s = engine_state(e, m);
	uint64_t minute = now / NS_PER_MIN;

	(void)v;
	if (!s)
		return;
	if (s->minute && minute != s->minute)
		close_minute(e, m, s);
	s->minute = minute;
	if (h->type == VG_EXEC)
		s->count[RATE_EXEC]++;
	else if (h->type == VG_CONNECT)
		s->count[RATE_CONNECT]++;
	else if (h->type == VG_OPEN &&
		 (((const struct vg_file *)rec)->access & (VG_ACC_WRITE | VG_ACC_CREATE)))
		s->count[RATE_WRITE]++;

	/* files written in a container, for drift */
	if (model_kind_of(m) != MODEL_CONTAINER)
		return;
	if (h->type == VG_OPEN && h->ret >= 0 &&
	    (((const struct vg_file *)rec)->access & (VG_ACC_WRITE | VG_ACC_CREATE)))
		hashmap_put(s->written, fnv(((const struct vg_file *)rec)->path),
			    (void *)1);
	else if ((h->type == VG_RENAME || h->type == VG_LINK) && h->ret >= 0)
		hashmap_put(s->written, fnv(((const struct vg_file *)rec)->path2),
			    (void *)1);
}

int engine_drift(struct engine *e, struct model *m, struct model *img,
		 const void *rec, const struct enrich_view *v, uint64_t now)
{
	const struct vg_exec *x = rec;
	struct mstate *s;
	struct anomaly a;

	(void)img;
	if (x->h.type != VG_EXEC || model_kind_of(m) != MODEL_CONTAINER)
		return 0;
	s = engine_state(e, m);
	if (!s || !hashmap_get(s->written, fnv(x->exe)))
		return 0;
	memset(&a, 0, sizeof(a));
	a.kind = ANOM_DRIFT;
	a.dim = DIM_FILE_EXEC;
	a.item = x->exe;
	a.model = m;
	a.score = 90;
	a.wall_ns = now;
	a.rec = rec;
	a.view = v;
	a.title = "Drift: a file written in the container was executed";
	snprintf(a.explanation, sizeof(a.explanation),
		 "'%s' was written inside container model '%s' after it "
		 "started, then executed: not part of its image",
		 x->exe, model_key(m));
	engine_report(e, &a);
	return 1;
}

struct silent_ctx {
	struct engine *e;
	struct model *m;
	uint64_t now;
};

/* A periodic item whose usual hour passed at least two hours ago this week
 * without it, while the model was already active. Once per item and week. */
static int silent_check(void *ctx, const struct model_entry *ent)
{
	struct silent_ctx *c = ctx;
	uint64_t week_start = (c->now + 3ULL * 86400000000000ULL) / NS_PER_WEEK *
				      NS_PER_WEEK - 3ULL * 86400000000000ULL;
	int h = model_hour_of_week(c->now);
	struct mstate *s = engine_state(c->e, c->m);

	if (!periodic(ent) || !s)
		return 0;
	for (int b = 0; b + 2 <= h; b++) {
		struct anomaly a;
		char usual[160], key[MODEL_ITEM_MAX + 32];
		uint64_t due = week_start + (uint64_t)b * NS_PER_HOUR;

		if (!hour_bit(ent, b) || ent->last_ns >= due ||
		    model_state_since_ns(c->m) > due)
			continue;
		snprintf(key, sizeof(key), "silent %u %.300s",
			 model_week_of(c->now), ent->item);
		if (hashmap_get(s->reported, fnv(key)))
			continue;
		hashmap_put(s->reported, fnv(key), (void *)1);
		hours_text(ent, usual, sizeof(usual));
		memset(&a, 0, sizeof(a));
		a.kind = ANOM_SILENT;
		a.dim = DIM_PROCESS;
		a.item = ent->item;
		a.model = c->m;
		a.score = 40;
		a.wall_ns = c->now;
		a.title = "Expected periodic activity did not happen";
		snprintf(a.explanation, sizeof(a.explanation),
			 "'%s' of model '%s' runs every week at %s (UTC) but "
			 "has not run this week at that time",
			 ent->item, model_key(c->m), usual);
		engine_report(c->e, &a);
		break;
	}
	return 0;
}

void engine_tick(struct engine *e, uint64_t now)
{
	uint64_t hour = now / NS_PER_HOUR;

	if (now > e->now)
		e->now = now;
	for (size_t i = 0; i < e->n; i++) {
		struct model *m = e->models[i];

		engine_maybe_activate(e, m, now);
		if (hour != e->last_hour && model_state_of(m) == MODEL_ACTIVE) {
			struct silent_ctx c = {e, m, now};

			model_each(m, DIM_PROCESS, silent_check, &c);
		}
	}
	e->last_hour = hour;
}
