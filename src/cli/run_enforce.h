/* run_enforce.h - `vigil run`'s side of control: the mode of each
 * resource (learn, monitor, shadow, protect: set by `vigil mode set`,
 * persisted in the store, or the configured default), the policies
 * (run_policy.h) judged on every event, and kernel enforcement from the
 * policies and the learned models (src/enforce). Guards start on first
 * use; stopping the agent detaches everything (fail open). */
#ifndef VIGIL_RUN_ENFORCE_H
#define VIGIL_RUN_ENFORCE_H

#include <stdint.h>
#include "enrich/enrich.h"
#include "model/engine.h"

struct run_enforce;
struct store;

enum renf_mode {
	RENF_LEARN = 0,
	RENF_MONITOR = 1,
	RENF_SHADOW = 2,
	RENF_PROTECT = 3,
};

/* Blocked, killed or would-block decisions and policy alerts become
 * alerts through cb (a->view->res names the resource). */
typedef void (*renf_alert_fn)(void *ctx, struct anomaly *a);

struct renf_conf {
	const char *policy_dir; /* NULL: no policies */
	int default_mode;	/* enum renf_mode for resources never set */
	struct store *st;	/* persisted modes; NULL: not persisted */
};

/* NULL with err when the policies cannot be loaded. */
struct run_enforce *renf_new(struct engine *eng, const struct renf_conf *c,
			     renf_alert_fn cb, void *ctx, char *err,
			     size_t errlen);
void renf_free(struct run_enforce *re);
/* The live sensor, for kills at exec time (memfd execs, which no exec
 * guard sees); NULL in replay. */
struct sensor;
void renf_set_sensor(struct run_enforce *re, struct sensor *s);
/* "learn" | "monitor" | "shadow" | "protect" -> enum renf_mode, or -1 */
int renf_mode_parse(const char *s);
const char *renf_mode_name(int mode);
/* Sets the mode of a container resource (and persists it); err says why
 * not (no model and no policy, no cgroup v2, ...). */
int renf_set_mode(struct run_enforce *re, const struct resource *res,
		  const char *mode, uint64_t now_ns, char *err, size_t errlen);
/* Every enriched event: the resource's first event applies its persisted
 * or default mode; files written in protected containers are remembered
 * (drift); policies judge the event. Returns 1 when a policy alerted on
 * it (the caller then keeps detections and models quiet). */
int renf_event(struct run_enforce *re, const void *rec,
	       const struct enrich_view *v);
/* Reloads the policies and re-applies enforcement without a gap; 1 when
 * the new set is in force, -errno with err when the old one was kept. */
int renf_reload(struct run_enforce *re, char *err, size_t errlen);
/* Delivers pending guard decisions as alerts and acts on them; reloads
 * the policies when their directory changed. Call from the main loop. */
void renf_poll(struct run_enforce *re);
void renf_summary(struct run_enforce *re, char *buf, size_t cap);

struct renf_stats {
	uint64_t guarded;	 /* containers the kernel guards enforce on */
	uint64_t policies;	 /* in force */
	uint64_t blocked, would_block, killed, policy_alerts, action_errors;
	uint64_t reloads, reload_errors;
	uint64_t late, failed;	 /* exec/open decisions allowed: too late,
				  * decision path failed (fail open) */
};
void renf_stats(struct run_enforce *re, struct renf_stats *out);
#endif
