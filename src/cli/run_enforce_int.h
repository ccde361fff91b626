/* run_enforce_int.h - shared by run_enforce.c (modes, guards, what the
 * kernel is told) and run_verdict.c (policy verdicts on events and guard
 * decisions turned into alerts, kills and freezes). */
#ifndef VIGIL_RUN_ENFORCE_INT_H
#define VIGIL_RUN_ENFORCE_INT_H
#include "cli/run_enforce.h"
#include "cli/run_policy.h"
#include "enforce/netguard.h"
#include "enforce/cgroot.h"
#include "policy/policy.h"

#define RENF_RES_CAP 16384

/* What a resource's exec/open decisions need on the guard's thread: an
 * immutable snapshot (replaced whole, never changed). */
struct shared_set {
	int refs; /* atomic: guard_ctxs holding it (old ones die late) */
	struct policy_execset *s;
};

struct guard_ctx {
	struct shared_set *ss; /* from the models; NULL: no model. Kept
				* across policy reloads: it holds the drift
				* marks */
	struct policyset *ps;	    /* referenced */
	size_t n;
	const struct policy *sel[RPOL_SEL_MAX];
};

/* Paths a resource has watched for opens (execguard registrations),
 * undone when replaced. */
struct watches {
	char **v;
	size_t n;
};

struct res_state {
	uint64_t key; /* resource key */
	int mode;     /* enum renf_mode */
	int guarded;  /* the guards enforce it (shadow or protect) */
	int gone_seen; /* its cgroup was gone at the last sweep */
	uint64_t cg;  /* cgroup v2 id when guarded */
	uint32_t exec_kill; /* VG_KILL_* flags set in the sensor */
	char path[CGROOT_PATH_MAX];
	char model_key[128];
	char id[65];  /* container id */
	struct shared_set *ss; /* drift marks; referenced by its guard_ctx */
	const struct resource *res; /* last seen (enrich keeps it) */
	struct watches w;
};

struct run_enforce {
	struct engine *eng;
	renf_alert_fn cb;
	void *ctx;
	struct store *st;
	int default_mode;
	struct rpol *pol;
	struct netguard *ng;
	struct execguard *eg;
	struct sensor *sensor; /* exec-time kills; NULL: none */
	char mount[CGROOT_PATH_MAX];
	struct hashmap *by_res; /* resource key -> struct res_state */
	uint64_t blocked, would_block, killed, policy_alerts, action_errors;
	uint64_t reloads, reload_errors;
	uint64_t last_model_check; /* monotonic s of the last sweep */
};

/* run_netrules.c: a guarded container's network rule set */
#define NET_RULES_CAP 4096

struct net_build {
	struct netguard_rules r;
	struct netguard_port_rule conn[NET_RULES_CAP], bind[NET_RULES_CAP];
	struct netguard_prefix_rule pfx[NET_RULES_CAP];
	size_t dropped;
};

struct model;
void renf_build_net(struct net_build *b, const struct guard_ctx *g,
		    const struct model *inst, const struct model *img);

/* run_enforce.c: POL_ACC_* of an open from its flags (read when they are
 * unknown: a write-only rule then fails open). The guard's decision and
 * the report's re-judging use the same. */
unsigned renf_open_access(int flags, int known);

/* run_verdict.c */
/* Kills the process, the container (cgroup "/web1") or freezes it, as
 * the kill rule r says, without waiting; thread-safe. Returns the
 * action_taken name ("killed", "container_killed", "container_frozen",
 * "kill_failed" with *rc < 0). */
const char *renf_kill(const struct pol_rule *r, const char *cgroup, pid_t pid,
		      int *rc);
/* The resource state owning cgroup cg (guarded ones), or NULL. */
struct res_state *renf_by_cgroup(struct run_enforce *re, uint64_t cg);
/* Judges an event with the policies; 1 if it raised an alert. */
int renf_judge_event(struct run_enforce *re, struct res_state *rs,
		     const void *rec, const struct enrich_view *v);
/* Guard reports (registered by run_enforce.c as the guards' callbacks). */
struct netguard_decision;
struct execguard_report;
void renf_on_net(void *ctx, const struct netguard_decision *d);
void renf_on_exec(void *ctx, const struct execguard_report *r);
#endif
