/* hashmap.c - linear probing with backward-shift deletion (no tombstones),
 * table size a power of two at least twice the cap, so probes stay short.
 * Tested against a naive array in tests/unit/test_hashmap.c. */
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
	size_t n = 16;

	if (!m)
		return NULL;
	while (n < cap * 2)
		n <<= 1;
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

int hashmap_put(struct hashmap *m, uint64_t key, void *v)
{
	size_t i = find(m, key);

	if (!v)
		return -EINVAL;
	if (!m->slots[i].v) {
		if (m->count >= m->cap)
			return -ENOSPC;
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
