/* test_hashmap.c - the capped hash map against a naive reference array,
 * under random puts, gets and deletes (SQLite's way: every optimised
 * structure checked against the obvious one). */
#include <stdlib.h>
#include "harness.h"
#include "lib/hashmap.h"

#define N 4000

int main(void)
{
	static void *ref[N]; /* key k in [0, N) -> value or NULL */
	struct hashmap *m = hashmap_new(3000);
	size_t count = 0;
	int mismatches = 0, capfails = 0;

	srand(7);
	CHECK(m != NULL);
	for (int step = 0; step < 400000; step++) {
		uint64_t k = (uint64_t)(rand() % N);
		int op = rand() % 3;

		if (op == 0) {
			void *v = (void *)(uintptr_t)(k * 8 + 8);
			int rc = hashmap_put(m, k * 0x9e3779b97f4a7c15ULL, v);

			if (rc == 0) {
				if (!ref[k])
					count++;
				ref[k] = v;
			} else {
				capfails += (rc == -28 && !ref[k] && count == 3000);
				mismatches += !(rc == -28 && !ref[k] && count == 3000);
			}
		} else if (op == 1) {
			void *got = hashmap_del(m, k * 0x9e3779b97f4a7c15ULL);

			mismatches += got != ref[k];
			if (ref[k])
				count--;
			ref[k] = NULL;
		} else {
			mismatches += hashmap_get(m, k * 0x9e3779b97f4a7c15ULL) != ref[k];
		}
		mismatches += hashmap_count(m) != count;
	}
	CHECK_INT(mismatches, 0);
	for (uint64_t k = 0; k < N; k++)
		CHECK(hashmap_get(m, k * 0x9e3779b97f4a7c15ULL) == ref[k]);
	CHECK(hashmap_memory(m) < 3000 * 2 * 16 * 2 + 64);
	hashmap_free(m, NULL, NULL);

	/* fill to the cap exactly, then one more fails */
	m = hashmap_new(100);
	for (uint64_t k = 1; k <= 100; k++)
		CHECK_INT(hashmap_put(m, k, (void *)k), 0);
	CHECK_INT(hashmap_put(m, 101, (void *)101), -28);
	CHECK_INT(hashmap_put(m, 50, (void *)7), 0); /* replace is fine */
	CHECK(hashmap_get(m, 50) == (void *)7);
	hashmap_free(m, NULL, NULL);
	(void)capfails;
	return h_finish("hashmap");
}
