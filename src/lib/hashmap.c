/* hashmap.c - linear probing with backward-shift deletion (no tombstones).
 * The table starts small and doubles whenever it would pass half full, so
 * probes stay short and an empty map costs little; the entry count never
 * exceeds the cap given at creation. Tested against a naive array in
 * tests/unit/test_hashmap.c. */
#include <errno.h>
#include <stdlib.h>
#include "lib/hashmap.h"

struct slot {
	uint64_t key;
	void *v; /* NULL = empty */
};

struct hashmap {
	struct slot *slots;
	size_t mask, count, cap;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

struct hashmap *hashmap_new(size_t cap)
{
	struct hashmap *m = calloc(1, sizeof(*m));
	size_t n = 8;

	if (!m)
		return NULL;
	m->slots = calloc(n, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	m->mask = n - 1;
	m->cap = cap;
	return m;
}

void hashmap_free(struct hashmap *m,
		  void (*free_fn)(void *ctx, uint64_t key, void *v), void *ctx)
{
	if (!m)
		return;
	if (free_fn)
		for (size_t i = 0; i <= m->mask; i++)
			if (m->slots[i].v)
				free_fn(ctx, m->slots[i].key, m->slots[i].v);
	free(m->slots);
	free(m);
}

static size_t find(const struct hashmap *m, uint64_t key)
{
	size_t i = mix(key) & m->mask;

	while (m->slots[i].v && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

void *hashmap_get(const struct hashmap *m, uint64_t key)
{
	return m->slots[find(m, key)].v;
}

static int grow(struct hashmap *m)
{
	size_t n = (m->mask + 1) * 2;
	struct slot *old = m->slots, *s = calloc(n, sizeof(*s));
	size_t oldn = m->mask + 1;

	if (!s)
		return -ENOMEM;
	m->slots = s;
	m->mask = n - 1;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].v)
			m->slots[find(m, old[i].key)] = old[i];
	free(old);
	return 0;
}

int hashmap_put(struct hashmap *m, uint64_t key, void *v)
{
	size_t i = find(m, key);

	if (!v)
		return -EINVAL;
	if (!m->slots[i].v) {
		if (m->count >= m->cap)
			return -ENOSPC;
		if ((m->count + 1) * 2 > m->mask + 1) {
			if (grow(m) < 0)
				return -ENOMEM;
			i = find(m, key);
		}
		m->count++;
	}
	m->slots[i].key = key;
	m->slots[i].v = v;
	return 0;
}

void *hashmap_del(struct hashmap *m, uint64_t key)
{
	size_t i = find(m, key), j;
	void *old = m->slots[i].v;

	if (!old)
		return NULL;
	m->count--;
	/* backward shift: move later members of the cluster into the hole */
	j = i;
	for (;;) {
		size_t home;

		m->slots[i].v = NULL;
		for (;;) {
			j = (j + 1) & m->mask;
			if (!m->slots[j].v)
				return old;
			home = mix(m->slots[j].key) & m->mask;
			/* stays if home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j)
				   : (i < home || home <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}

size_t hashmap_count(const struct hashmap *m)
{
	return m->count;
}

size_t hashmap_memory(const struct hashmap *m)
{
	return sizeof(*m) + (m->mask + 1) * sizeof(struct slot);
}

void *hashmap_any(const struct hashmap *m, uint64_t *key)
{
	for (size_t i = 0; i <= m->mask; i++)
		if (m->slots[i].v) {
			*key = m->slots[i].key;
			return m->slots[i].v;
		}
	return NULL;
}

void hashmap_each(const struct hashmap *m,
		  int (*fn)(void *ctx, uint64_t key, void *v), void *ctx)
{
	for (size_t i = 0; i <= m->mask; i++)
		if (m->slots[i].v && fn(ctx, m->slots[i].key, m->slots[i].v))
			return;
}
