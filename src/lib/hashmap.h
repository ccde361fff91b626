/* hashmap.h - a capped open-addressing map from uint64_t keys to pointers.
 * The map never owns values; callers free them (hashmap_free takes a
 * callback for that). Capacity is fixed at creation: puts beyond it fail
 * with -ENOSPC, so every table built on it is bounded. */
#ifndef VIGIL_HASHMAP_H
#define VIGIL_HASHMAP_H
#include <stddef.h>
#include <stdint.h>

struct hashmap;

struct hashmap *hashmap_new(size_t cap);
/* frees the map; calls free_fn (if not NULL) on every value */
void hashmap_free(struct hashmap *m,
		  void (*free_fn)(void *ctx, uint64_t key, void *v), void *ctx);
void *hashmap_get(const struct hashmap *m, uint64_t key);
/* inserts or replaces; 0, -ENOSPC when the map holds cap entries, or
 * -ENOMEM when growing failed (the map is unchanged) */
int hashmap_put(struct hashmap *m, uint64_t key, void *v);
/* removes key if present; returns the removed value or NULL */
void *hashmap_del(struct hashmap *m, uint64_t key);
size_t hashmap_count(const struct hashmap *m);
/* heap bytes used by the map itself (not the values) */
size_t hashmap_memory(const struct hashmap *m);
/* some entry (for eviction), NULL when empty */
void *hashmap_any(const struct hashmap *m, uint64_t *key);
/* calls fn on each entry until it returns non-zero; the map must not be
 * changed meanwhile */
void hashmap_each(const struct hashmap *m,
		  int (*fn)(void *ctx, uint64_t key, void *v), void *ctx);
#endif
