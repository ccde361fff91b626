/* model.c - see model.h. Per dimension: entries in an array (insertion
 * order, for stable exports) and a hash map from the item's 64-bit hash to
 * the entry. Removed entries are tombstoned (item NULL) in the array.
 * Invariant: every live entry is in the map under fnv(item). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hashmap.h"
#include "model/model.h"

struct dim {
	struct model_entry **v;
	size_t n, cap_alloc, live;
	struct hashmap *idx;
	uint64_t new_items, last_new_ns;
};

struct model {
	char key[MODEL_KEY_MAX];
	char parent[MODEL_KEY_MAX];
	char reason[256];
	enum model_kind kind;
	enum model_state state;
	uint64_t created_ns, since_ns, last_new_ns, last_seen_ns;
	uint64_t learn_min_ns, learn_settle_ns;
	uint64_t cap_hits;
	size_t bytes;
	int dirty;
	struct dim d[DIM_MAX];
	uint32_t rate[RATE_MAX][HOURS_PER_WEEK];
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

struct model *model_new(enum model_kind kind, const char *key, uint64_t now_ns)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->key, sizeof(m->key), "%s", key);
	m->kind = kind;
	m->created_ns = m->since_ns = m->last_new_ns = m->last_seen_ns = now_ns;
	snprintf(m->reason, sizeof(m->reason), "new model");
	for (int i = 0; i < DIM_MAX; i++) {
		m->d[i].idx = hashmap_new(MODEL_DIM_CAP);
		if (!m->d[i].idx) {
			model_free(m);
			errno = ENOMEM;
			return NULL;
		}
	}
	m->bytes = sizeof(*m);
	m->dirty = 1;
	return m;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (int i = 0; i < DIM_MAX; i++) {
		for (size_t k = 0; k < m->d[i].n; k++)
			free(m->d[i].v[k]);
		free(m->d[i].v);
		hashmap_free(m->d[i].idx, NULL, NULL);
	}
	free(m);
}

const char *model_key(const struct model *m) { return m->key; }
enum model_kind model_kind_of(const struct model *m) { return m->kind; }
enum model_state model_state_of(const struct model *m) { return m->state; }
const char *model_reason(const struct model *m) { return m->reason; }
uint64_t model_created_ns(const struct model *m) { return m->created_ns; }
uint64_t model_state_since_ns(const struct model *m) { return m->since_ns; }
uint64_t model_last_new_ns(const struct model *m) { return m->last_new_ns; }
uint64_t model_last_seen_ns(const struct model *m) { return m->last_seen_ns; }
const char *model_parent(const struct model *m) { return m->parent; }
uint64_t model_cap_hits(const struct model *m) { return m->cap_hits; }
int model_dirty(const struct model *m) { return m->dirty; }
void model_clear_dirty(struct model *m) { m->dirty = 0; }

void model_set_state(struct model *m, enum model_state s, uint64_t now_ns,
		     const char *reason)
{
	m->state = s;
	m->since_ns = now_ns;
	snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
	if (s == MODEL_LEARNING)
		m->last_new_ns = now_ns; /* settle counts from (re)start */
	m->dirty = 1;
}

void model_set_parent(struct model *m, const char *image_key)
{
	snprintf(m->parent, sizeof(m->parent), "%s", image_key ? image_key : "");
	m->dirty = 1;
}

void model_set_learning(struct model *m, uint64_t min_ns, uint64_t settle_ns)
{
	m->learn_min_ns = min_ns;
	m->learn_settle_ns = settle_ns;
	m->dirty = 1;
}

void model_learning(const struct model *m, uint64_t *min_ns, uint64_t *settle_ns)
{
	*min_ns = m->learn_min_ns;
	*settle_ns = m->learn_settle_ns;
}

void model_restore_times(struct model *m, uint64_t created, uint64_t since,
			 uint64_t last_new, uint64_t last_seen)
{
	m->created_ns = created;
	m->since_ns = since;
	m->last_new_ns = last_new;
	m->last_seen_ns = last_seen;
}

const struct model_entry *model_find(const struct model *m, enum model_dim d,
				     const char *item)
{
	const struct model_entry *e;

	if ((unsigned)d >= DIM_MAX)
		return NULL;
	e = hashmap_get(m->d[d].idx, fnv(item));
	return e && strcmp(e->item, item) == 0 ? e : NULL;
}

static void see(struct model_entry *e, uint64_t now_ns)
{
	int h = model_hour_of_week(now_ns);
	uint16_t w = (uint16_t)model_week_of(now_ns);

	e->hits++;
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	e->hours[h / 8] |= (uint8_t)(1u << (h % 8));
	if (w != e->last_week || e->weeks_seen == 0) {
		e->weeks_seen++;
		e->last_week = w;
	}
}

static int insert(struct model *m, enum model_dim d, struct model_entry *e)
{
	struct dim *dm = &m->d[d];
	int rc;

	if (dm->live >= MODEL_DIM_CAP) {
		m->cap_hits++;
		return -ENOSPC;
	}
	if (dm->n == dm->cap_alloc) {
		size_t nc = dm->cap_alloc ? dm->cap_alloc * 2 : 8;
		struct model_entry **nv = realloc(dm->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		m->bytes += (nc - dm->cap_alloc) * sizeof(*nv);
		dm->v = nv;
		dm->cap_alloc = nc;
	}
	rc = hashmap_put(dm->idx, fnv(e->item), e);
	if (rc < 0)
		return rc;
	dm->v[dm->n++] = e;
	dm->live++;
	m->bytes += sizeof(*e) + strlen(e->item) + 1;
	m->dirty = 1;
	return 0;
}

/* The item string lives right after the entry: one allocation, and one
 * cache miss less per lookup. */
static struct model_entry *entry_new(const char *item)
{
	size_t n = strnlen(item, MODEL_ITEM_MAX - 1);
	struct model_entry *e = calloc(1, sizeof(*e) + n + 1);

	if (!e)
		return NULL;
	memcpy((char *)(e + 1), item, n);
	e->item = (const char *)(e + 1);
	return e;
}

int model_learn(struct model *m, enum model_dim d, const char *item,
		uint64_t now_ns, const char *by, const char *proc)
{
	struct model_entry *e;
	int rc;

	if ((unsigned)d >= DIM_MAX)
		return -EINVAL;
	if (now_ns > m->last_seen_ns)
		m->last_seen_ns = now_ns;
	e = (struct model_entry *)model_find(m, d, item);
	if (e) {
		see(e, now_ns);
		m->dirty = 1;
		return 0;
	}
	e = entry_new(item);
	if (!e)
		return -ENOMEM;
	e->first_ns = e->last_ns = now_ns;
	snprintf(e->first_by, sizeof(e->first_by), "%s", by ? by : "");
	snprintf(e->first_proc, sizeof(e->first_proc), "%s", proc ? proc : "");
	see(e, now_ns);
	rc = insert(m, d, e);
	if (rc < 0) {
		free(e);
		return rc;
	}
	m->d[d].new_items++;
	m->d[d].last_new_ns = now_ns;
	m->last_new_ns = now_ns;
	return 1;
}

int model_restore(struct model *m, enum model_dim d, const struct model_entry *src)
{
	struct model_entry *e;
	int rc;

	if ((unsigned)d >= DIM_MAX || !src->item)
		return -EINVAL;
	if (model_find(m, d, src->item))
		return 0;
	e = entry_new(src->item);
	if (!e)
		return -ENOMEM;
	{
		const char *it = e->item;

		*e = *src;
		e->item = it;
	}
	e->first_by[sizeof(e->first_by) - 1] = 0;
	e->first_proc[sizeof(e->first_proc) - 1] = 0;
	rc = insert(m, d, e);
	if (rc < 0)
		free(e);
	return rc;
}

int model_forget(struct model *m, enum model_dim d, const char *item)
{
	struct dim *dm;
	struct model_entry *e;

	if ((unsigned)d >= DIM_MAX)
		return -EINVAL;
	e = (struct model_entry *)model_find(m, d, item);
	if (!e)
		return -ENOENT;
	dm = &m->d[d];
	hashmap_del(dm->idx, fnv(item));
	for (size_t k = 0; k < dm->n; k++)
		if (dm->v[k] == e)
			dm->v[k] = NULL;
	m->bytes -= sizeof(*e) + strlen(e->item) + 1;
	free(e);
	dm->live--;
	m->dirty = 1;
	return 0;
}

void model_touch(struct model *m, enum model_dim d, const char *item,
		 uint64_t now_ns)
{
	struct model_entry *e = (struct model_entry *)model_find(m, d, item);

	if (now_ns > m->last_seen_ns)
		m->last_seen_ns = now_ns;
	if (e) {
		see(e, now_ns);
		m->dirty = 1;
	}
}

void model_touch_entry(struct model *m, const struct model_entry *e,
		       uint64_t now_ns)
{
	if (now_ns > m->last_seen_ns)
		m->last_seen_ns = now_ns;
	/* only the hour bit and counters change; skip the dirty flag when
	 * nothing persisted would differ within the same hour and week */
	if (e->last_ns / 3600000000000ULL != now_ns / 3600000000000ULL)
		m->dirty = 1;
	see((struct model_entry *)e, now_ns);
}

size_t model_count(const struct model *m, enum model_dim d)
{
	return (unsigned)d < DIM_MAX ? m->d[d].live : 0;
}

size_t model_size(const struct model *m)
{
	size_t n = 0;

	for (int i = 0; i < DIM_MAX; i++)
		n += m->d[i].live;
	return n;
}

uint64_t model_new_items(const struct model *m, enum model_dim d)
{
	return m->d[d].new_items;
}

uint64_t model_dim_last_new_ns(const struct model *m, enum model_dim d)
{
	return m->d[d].last_new_ns;
}

void model_each(const struct model *m, enum model_dim d,
		int (*fn)(void *ctx, const struct model_entry *e), void *ctx)
{
	if ((unsigned)d >= DIM_MAX)
		return;
	for (size_t k = 0; k < m->d[d].n; k++)
		if (m->d[d].v[k] && fn(ctx, m->d[d].v[k]))
			return;
}

static size_t common_prefix(const char *a, const char *b)
{
	size_t n = 0;

	while (a[n] && a[n] == b[n])
		n++;
	return n;
}

size_t model_nearest(const struct model *m, enum model_dim d, const char *item,
		     const char **out, size_t n)
{
	size_t got = 0, len = strlen(item);
	long score[8];

	if ((unsigned)d >= DIM_MAX || n == 0)
		return 0;
	if (n > 8)
		n = 8;
	for (size_t k = 0; k < m->d[d].n; k++) {
		const struct model_entry *e = m->d[d].v[k];
		long s, dl;
		size_t pos;

		if (!e)
			continue;
		dl = (long)strlen(e->item) - (long)len;
		s = (long)common_prefix(e->item, item) * 1024 - (dl < 0 ? -dl : dl);
		pos = got < n ? got : n;
		while (pos > 0 && score[pos - 1] < s) {
			if (pos < n) {
				score[pos] = score[pos - 1];
				out[pos] = out[pos - 1];
			}
			pos--;
		}
		if (pos < n) {
			score[pos] = s;
			out[pos] = e->item;
			if (got < n)
				got++;
		}
	}
	return got;
}

void model_rate_observe(struct model *m, enum model_rate r, int how,
			uint32_t per_minute)
{
	if ((unsigned)r >= RATE_MAX || how < 0 || how >= HOURS_PER_WEEK)
		return;
	if (per_minute > m->rate[r][how]) {
		m->rate[r][how] = per_minute;
		m->dirty = 1;
	}
}

uint32_t model_rate_max(const struct model *m, enum model_rate r, int how)
{
	if ((unsigned)r >= RATE_MAX || how < 0 || how >= HOURS_PER_WEEK)
		return 0;
	return m->rate[r][how];
}

void model_rate_restore(struct model *m, enum model_rate r, int how, uint32_t max)
{
	if ((unsigned)r < RATE_MAX && how >= 0 && how < HOURS_PER_WEEK)
		m->rate[r][how] = max;
}

size_t model_memory(const struct model *m)
{
	size_t b = m->bytes;

	for (int i = 0; i < DIM_MAX; i++)
		b += hashmap_memory(m->d[i].idx);
	return b;
}

static const char *dim_names[DIM_MAX] = {
	"process", "args", "file_read", "file_write", "file_create", "file_exec",
	"file_delete", "net_out", "net_listen", "net_in", "dns", "privilege",
};

const char *model_dim_name(enum model_dim d)
{
	return (unsigned)d < DIM_MAX ? dim_names[d] : "unknown";
}

int model_dim_parse(const char *name)
{
	for (int i = 0; i < DIM_MAX; i++)
		if (!strcmp(name, dim_names[i]))
			return i;
	return -1;
}

static const char *kind_names[] = {"container", "image", "service"};
static const char *state_names[] = {"learning", "active"};

const char *model_kind_name(enum model_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

int model_kind_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

const char *model_state_name(enum model_state s)
{
	return (unsigned)s < 2 ? state_names[s] : "unknown";
}

int model_state_parse(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -1;
}

int model_hour_of_week(uint64_t wall_ns)
{
	uint64_t hours = wall_ns / 3600000000000ULL;

	/* 1970-01-01 was a Thursday: Monday-based day = (days + 3) % 7 */
	return (int)((((hours / 24) + 3) % 7) * 24 + hours % 24);
}

uint32_t model_week_of(uint64_t wall_ns)
{
	uint64_t days = wall_ns / 86400000000000ULL;

	return (uint32_t)((days + 3) / 7);
}
