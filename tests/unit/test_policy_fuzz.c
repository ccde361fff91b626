/* test_policy_fuzz.c - the policy fuzz target (tests/fuzz/fuzz_policy.c)
 * run deterministically on every `make unit`, under ASan/UBSan too with
 * `make SAN=1 unit`: each seed (tests/policy/golden, policies/), every
 * truncation of it, and a few thousand mutants from a fixed-seed PRNG
 * (byte flips, YAML punctuation inserted, spans deleted or duplicated,
 * two seeds spliced). The real fuzzer (`make fuzz-policy`) explores
 * further; this keeps what it found from coming back. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static long fz_failures;

#define FUZZ_ASSERT(c)                                                           \
	do {                                                                     \
		if (!(c) && fz_failures++ < 10)                                  \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s (input %zu)\n", \
				__FILE__, __LINE__, #c, fz_current);             \
	} while (0)

static size_t fz_current; /* which input, for the message */

#include "../fuzz/fuzz_policy.c"

#define MAX_SEEDS 256
#define MUTANTS 4000

static char *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS], n_seeds;

static void load_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		char path[512];
		FILE *f;

		if (n_seeds < MAX_SEEDS && name[0] != '.' && len > 5 &&
		    !strcmp(name + len - 5, ".yaml")) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			f = fopen(path, "rb");
			if (f) {
				char *buf = malloc(65536);
				size_t got = buf ? fread(buf, 1, 65536, f) : 0;

				if (buf) {
					seeds[n_seeds] = buf;
					seed_len[n_seeds++] = got;
				}
				fclose(f);
			}
		}
		free(ents[i]);
	}
	if (n > 0)
		free(ents);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull; /* fixed: the same run every time */

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Runs the target on a copy of buf[0..len) (so reads past len are seen
 * by ASan), counting the inputs. */
static void run(const char *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return;
	memcpy(copy, buf, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	fz_current++;
}

static const char *const tokens[] = {
	":", "-", " ", "\n", "[", "]", "{", "}", ",", "\"", "'", "&a ", "*a",
	"#", "/", "*", "**", "? ", "!!str ", "\t", "\\", "0", "65535", "/33",
	"::", "all: true", "action: block", "- id: x\n", "---\n", "\xc3\xa9",
};

static void mutate_and_run(void)
{
	size_t a = next() % n_seeds, alen = seed_len[a];
	size_t cap = alen * 2 + 256, len = alen;
	char *buf = malloc(cap);
	int edits = 1 + (int)(next() % 4);

	if (!buf)
		return;
	memcpy(buf, seeds[a], alen);
	for (int e = 0; e < edits; e++) {
		size_t at = len ? next() % len : 0;

		switch (next() % 5) {
		case 0: /* flip a bit */
			if (len)
				buf[at] ^= (char)(1u << (next() % 8));
			break;
		case 1: { /* insert a token */
			const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = strlen(t);

			if (len + tl <= cap) {
				memmove(buf + at + tl, buf + at, len - at);
				memcpy(buf + at, t, tl);
				len += tl;
			}
			break;
		}
		case 2: { /* delete a span */
			size_t n = len - at < 16 ? len - at : next() % 16;

			memmove(buf + at, buf + at + n, len - at - n);
			len -= n;
			break;
		}
		case 3: { /* duplicate a span */
			size_t n = len - at < 64 ? len - at : next() % 64;

			if (len + n <= cap) {
				memmove(buf + at + n, buf + at, len - at);
				len += n;
			}
			break;
		}
		default: { /* splice: the head of this one, the tail of another */
			size_t b = next() % n_seeds, from = seed_len[b] ? next() % seed_len[b] : 0;
			size_t n = seed_len[b] - from;

			if (at + n <= cap) {
				memcpy(buf + at, seeds[b] + from, n);
				len = at + n;
			}
			break;
		}
		}
	}
	run(buf, len);
	free(buf);
}

int main(void)
{
	size_t inputs;

	load_dir("tests/policy/golden");
	load_dir("policies");
	CHECK(n_seeds >= 20);
	for (size_t i = 0; i < n_seeds; i++) {
		run(seeds[i], seed_len[i]);
		for (size_t n = 0; n < seed_len[i]; n++)
			run(seeds[i], n);
	}
	for (int i = 0; n_seeds && i < MUTANTS; i++)
		mutate_and_run();
	inputs = fz_current;
	printf("policy_fuzz: %zu inputs from %zu seeds\n", inputs, n_seeds);
	CHECK(inputs > MUTANTS);
	CHECK_INT(fz_failures, 0);
	for (size_t i = 0; i < n_seeds; i++)
		free(seeds[i]);
	return h_finish("policy_fuzz");
}
