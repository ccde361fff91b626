/* harness.h - a minimal unit-test harness: CHECK records a failure with its
 * location and goes on; each test binary ends with "N passed, N failed" and
 * exits non-zero when anything failed. */
#ifndef VIGIL_HARNESS_H
#define VIGIL_HARNESS_H
#include <stdio.h>
#include <string.h>

static int h_passed, h_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			h_passed++;                                            \
		} else {                                               \
			h_failed++;                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *ha_ = (a), *hb_ = (b);                             \
		if (ha_ && hb_ && strcmp(ha_, hb_) == 0) {                     \
			h_passed++;                                            \
		} else {                                               \
			h_failed++;                                            \
			fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n",    \
				__FILE__, __LINE__, ha_ ? ha_ : "(null)",      \
				hb_ ? hb_ : "(null)");                         \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long ha_ = (long long)(a), hb_ = (long long)(b);          \
		if (ha_ == hb_) {                                              \
			h_passed++;                                            \
		} else {                                               \
			h_failed++;                                            \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n",       \
				__FILE__, __LINE__, #a, ha_, hb_);             \
		}                                                              \
	} while (0)

static inline int h_finish(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, h_passed, h_failed);
	return h_failed ? 1 : 0;
}
#endif
