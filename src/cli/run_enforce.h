/* run_enforce.h - `vigil run`'s side of enforcement: per resource mode
 * (learn, monitor, shadow, protect) set by `vigil mode set`, turned into
 * kernel enforcement from the resource's learned models (src/enforce).
 * Guards start on first use; stopping the agent detaches everything (fail
 * open). */
#ifndef VIGIL_RUN_ENFORCE_H
#define VIGIL_RUN_ENFORCE_H

#include <stdint.h>
#include "enrich/enrich.h"
#include "model/engine.h"

struct run_enforce;

/* Blocked or would-block decisions become alerts through cb. */
typedef void (*renf_alert_fn)(void *ctx, struct anomaly *a);

struct run_enforce *renf_new(struct engine *eng, renf_alert_fn cb, void *ctx);
void renf_free(struct run_enforce *re);
/* mode: "learn" | "monitor" | "shadow" | "protect" for a container
 * resource; err says why not (no model yet, no cgroup v2, ...). */
int renf_set_mode(struct run_enforce *re, const struct resource *res,
		  const char *mode, uint64_t now_ns, char *err, size_t errlen);
/* Every enriched event: remembers files written in protected containers
 * (drift) . */
void renf_event(struct run_enforce *re, const void *rec,
		const struct enrich_view *v);
/* Delivers pending decisions as alerts; call from the main loop. */
void renf_poll(struct run_enforce *re);
void renf_summary(struct run_enforce *re, char *buf, size_t cap);
#endif
