/* detect.h - built-in and user detection rules evaluated on every enriched
 * event, with no learning: the alerts a fresh install gives at once.
 * Repeats of one (rule, resource, object) within a minute are counted, not
 * re-reported. The container runtime's own setup is never matched. */
#ifndef VIGIL_DETECT_H
#define VIGIL_DETECT_H

#include <stdint.h>
#include "detect/rules.h"
#include "enrich/enrich.h"

struct detection {
	const struct rule *rule;
	const void *rec;
	const struct enrich_view *view;
	uint64_t wall_ns;
	const char *object; /* what it was about: a path, an address, an exe */
	uint32_t repeats;   /* identical matches folded since the last report */
	uint64_t first_ns;  /* the first of those, or wall_ns */
};

typedef void (*detect_cb)(void *ctx, const struct detection *d);

struct detect;

/* Takes ownership of rs. */
struct detect *detect_new(struct ruleset *rs, detect_cb cb, void *ctx);
void detect_free(struct detect *d);
/* Returns how many rules matched the event (reported or counted). */
int detect_event(struct detect *d, const void *rec, const struct enrich_view *v,
		 uint64_t wall_ns);
/* Value(s) of a rule field for an event, for tests and explanations:
 * writes up to n NUL-terminated values of at most 256 bytes into out;
 * returns the count (0 when the field does not apply). */
int detect_field(struct detect *d, const char *field, const void *rec,
		 const struct enrich_view *v, char out[][256], int n);

struct detect_stats {
	uint64_t events, matches, reported, repeats;
};
void detect_stats(const struct detect *d, struct detect_stats *out);
#endif
