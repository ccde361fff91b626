/* run_enforce.c - see run_enforce.h. A resource in shadow or protect mode
 * gets, from its learned models and the policies selecting it:
 *  - exec: the fanotify guard asks decide() (below): a policy deny rule
 *    refuses, a policy allow rule allows, then the model's executables
 *    (and never files written since the container started), then the
 *    policies' default posture;
 *  - open: the paths of block/kill file rules are marked in the
 *    container's filesystem; decide() refuses what a rule denies;
 *  - connect/bind: port and prefix entries in the cgroup programs' maps,
 *    with the model's ports allowed and a default of block when there is
 *    a model or a policy says so.
 * All of it is a snapshot taken when the mode is applied; setting the mode
 * again or a policy reload refreshes it, new entries before stale ones go
 * (no gap). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/run_enforce_int.h"
#include "enforce/execguard.h"
#include "enforce/netguard.h"
#include "enforce/policy_allow.h"
#include "lib/hashmap.h"
#include "sensor/sensor.h"
#include "store/store.h"
#include "vigil_event.h"

static const char *mode_names[] = {"learn", "monitor", "shadow", "protect"};

static uint64_t run_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

int renf_mode_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, mode_names[i]))
			return i;
	return -1;
}

const char *renf_mode_name(int mode)
{
	return mode >= 0 && mode < 4 ? mode_names[mode] : "?";
}

struct run_enforce *renf_new(struct engine *eng, const struct renf_conf *c,
			     renf_alert_fn cb, void *ctx, char *err,
			     size_t errlen)
{
	struct run_enforce *re = calloc(1, sizeof(*re));

	if (!re) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	re->eng = eng;
	re->cb = cb;
	re->ctx = ctx;
	re->st = c->st;
	re->default_mode = c->default_mode;
	re->by_res = hashmap_new(RENF_RES_CAP);
	if (!re->by_res) {
		snprintf(err, errlen, "out of memory");
		free(re);
		return NULL;
	}
	if (c->policy_dir) {
		re->pol = rpol_open(c->policy_dir, err, errlen);
		if (!re->pol) {
			hashmap_free(re->by_res, NULL, NULL);
			free(re);
			return NULL;
		}
	}
	return re;
}

static void ss_unref(struct shared_set *ss);

void renf_set_sensor(struct run_enforce *re, struct sensor *s)
{
	if (re)
		re->sensor = s;
}

/* A memfd or deleted-file exec never reaches the exec guard: a protect
 * mode kill rule on memfd_exec becomes a kill in the sensor's exec
 * tracepoint, before the new program runs an instruction. */
static uint32_t exec_kill_flags(const struct guard_ctx *g, int mode)
{
	for (size_t i = 0; mode == RENF_PROTECT && i < g->n; i++)
		for (size_t k = 0; k < g->sel[i]->n_rules; k++) {
			const struct pol_rule *r = &g->sel[i]->rules[k];

			if (r->kind == POL_PRIV && r->action == POL_KILL &&
			    (r->priv & POL_PRIV_MEMFD_EXEC) && !r->freeze &&
			    r->scope == POL_SCOPE_PROCESS)
				return VG_KILL_MEMFD | VG_KILL_DELETED;
		}
	return 0;
}

static void set_exec_kill(struct run_enforce *re, struct res_state *rs,
			  uint32_t flags)
{
	int rc;

	if (!re->sensor || flags == rs->exec_kill)
		return;
	rc = sensor_exec_kill_set(re->sensor, rs->cg, flags);
	if (rc < 0)
		fprintf(stderr, "vigil: exec-time kill for '%s' not set: %s\n",
			rs->id, strerror(-rc));
	else
		rs->exec_kill = flags;
}

static void free_state(void *ctx, uint64_t k, void *v)
{
	struct res_state *rs = v;

	(void)ctx;
	(void)k;
	ss_unref(rs->ss);
	for (size_t i = 0; i < rs->w.n; i++)
		free(rs->w.v[i]);
	free(rs->w.v);
	free(rs);
}

void renf_free(struct run_enforce *re)
{
	if (!re)
		return;
	execguard_stop(re->eg); /* nothing is left blocking */
	netguard_close(re->ng);
	hashmap_free(re->by_res, free_state, NULL);
	rpol_close(re->pol);
	free(re);
}

/* --- exec and open decisions (the guard's decider thread) --- */

unsigned renf_open_access(int flags, int known)
{
	unsigned a;

	if (!known)
		return POL_ACC_READ; /* fail open for write-only rules */
	a = (flags & O_ACCMODE) == O_WRONLY ? 0 : POL_ACC_READ;
	if (execguard_open_writes(flags))
		a |= POL_ACC_WRITE;
	if (flags & O_CREAT)
		a |= POL_ACC_CREATE;
	return a ? a : POL_ACC_READ;
}

static void say(char *reason, size_t cap, const struct pol_verdict *v)
{
	if (v->rule)
		snprintf(reason, cap, "policy %s rule %s (%s)", v->pol->name,
			 v->rule->id, pol_action_name(v->action));
	else
		snprintf(reason, cap, "not listed by policy %s (default %s)",
			 v->pol ? v->pol->name : "?", pol_action_name(v->action));
}

/* A kill rule acts while the process still waits for our answer: it
 * never runs another instruction (answered after a freeze, it stops at
 * its return to user space). The report tells the main loop it is done. */
static void kill_now(const struct execguard_req *r,
		     const struct pol_verdict *v, char *reason, size_t cap)
{
	size_t len = strlen(reason);
	int rc;

	if (r->mode != VGE_MODE_PROTECT)
		return;
	renf_kill(v->rule, r->cgroup_path, r->pid, &rc);
	if (rc < 0 && len + 1 < cap)
		snprintf(reason + len, cap - len, ": kill_failed %s",
			 strerror(-rc));
}

static int decide(void *ctx, const struct execguard_req *r, char *reason,
		  size_t cap)
{
	const struct guard_ctx *g = r->cg_ctx;
	struct pol_query q;
	struct pol_verdict v;
	int had;

	(void)ctx;
	memset(&q, 0, sizeof(q));
	if (r->op == EXECGUARD_OP_OPEN) {
		q.kind = POL_FILE;
		q.path = r->exe_path;
		q.access = renf_open_access(r->open_flags, r->flags_known);
		if (policy_eval(g->sel, g->n, &q, &v) > 0 && v.rule &&
		    v.action >= POL_BLOCK) {
			say(reason, cap, &v);
			if (v.action == POL_KILL)
				kill_now(r, &v, reason, cap);
			return EXECGUARD_DENY;
		}
		return EXECGUARD_ALLOW;
	}
	q.kind = POL_PROCESS;
	q.exe = r->exe_path;
	q.parent_exe = r->proc_exe && r->proc_exe[0] ? r->proc_exe : NULL;
	q.parent_name = r->comm && r->comm[0] ? r->comm : NULL;
	had = policy_eval(g->sel, g->n, &q, &v) > 0;
	if (had && v.rule) {
		say(reason, cap, &v);
		if (v.action == POL_KILL)
			kill_now(r, &v, reason, cap);
		return v.action >= POL_BLOCK ? EXECGUARD_DENY : EXECGUARD_ALLOW;
	}
	if (g->ss) {
		struct policy_file f = {r->exe_path, r->ctime_ns, r->is_script};

		return policy_execset_check(g->ss->s, &f, reason, cap) ==
			       POLICY_ALLOW ? EXECGUARD_ALLOW : EXECGUARD_DENY;
	}
	if (had && v.action == POL_BLOCK && !policy_is_loader(r->exe_path)) {
		say(reason, cap, &v);
		return EXECGUARD_DENY;
	}
	return EXECGUARD_ALLOW;
}

static struct shared_set *ss_ref(struct shared_set *ss)
{
	if (ss)
		__atomic_add_fetch(&ss->refs, 1, __ATOMIC_RELAXED);
	return ss;
}

static void ss_unref(struct shared_set *ss)
{
	if (ss && __atomic_sub_fetch(&ss->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		policy_execset_free(ss->s);
		free(ss);
	}
}

static void guard_ctx_free(void *p)
{
	struct guard_ctx *g = p;

	if (!g)
		return;
	ss_unref(g->ss);
	policyset_unref(g->ps);
	free(g);
}

/* --- what the kernel is told --- */

static int start_guards(struct run_enforce *re, char *err, size_t errlen)
{
	struct execguard_opts eo = {.budget_ms = 50};

	if (!re->mount[0] && cgroot_mount(re->mount, sizeof(re->mount)) < 0) {
		snprintf(err, errlen, "no cgroup v2 hierarchy to enforce on");
		return -ENOENT;
	}
	if (!re->ng) {
		re->ng = netguard_open(re->mount, renf_on_net, re, err, errlen);
		if (!re->ng)
			return -EIO;
	}
	if (!re->eg) {
		re->eg = execguard_start(&eo, decide, re, err, errlen);
		if (!re->eg)
			return -EIO;
	}
	return 0;
}

/* First pid of the cgroup, to reach the container's mounts and files. */
static pid_t first_pid(const char *mount, const char *path)
{
	char p[CGROOT_PATH_MAX * 4];
	FILE *f;
	long pid = 0;

	snprintf(p, sizeof(p), "%s%s/cgroup.procs", mount, path);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static void watches_undo(struct run_enforce *re, struct watches *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (re->eg)
			execguard_unwatch_path(re->eg, w->v[i]);
		free(w->v[i]);
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static void watched(struct watches *w, const char *path, int rc)
{
	char **nv;

	if (rc < 0 && rc != -ESTALE) {
		if (rc != -ENOENT) /* a file that is not there: nothing to open */
			fprintf(stderr, "vigil: cannot watch '%s' for opens: %s\n",
				path, strerror(-rc));
		return;
	}
	nv = realloc(w->v, (w->n + 1) * sizeof(*nv));
	if (!nv)
		return;
	w->v = nv;
	w->v[w->n] = strdup(path);
	if (w->v[w->n])
		w->n++;
}

/* The literal directory part of a pattern and how to watch it: the file
 * itself (no wildcard), its directory (wildcards in the last component
 * only) or a bounded tree (wildcards further up, or a final "**"). */
static void watch_pattern(struct run_enforce *re, pid_t pid, const char *pat,
			  struct watches *w)
{
	char host[4096], lit[1024];
	const char *wild = strpbrk(pat, "*#?[");
	size_t cut;

	if (!wild) {
		snprintf(host, sizeof(host), "/proc/%d/root%s", (int)pid, pat);
		watched(w, host, execguard_watch_path(re->eg, host));
		return;
	}
	cut = (size_t)(wild - pat);
	while (cut && pat[cut - 1] != '/')
		cut--;
	snprintf(lit, sizeof(lit), "%.*s", (int)(cut ? cut - 1 : 0), pat);
	snprintf(host, sizeof(host), "/proc/%d/root%s", (int)pid,
		 lit[0] ? lit : "/");
	if (strchr(pat + cut, '/') || strstr(pat + cut, "**"))
		watched(w, host, execguard_watch_path_tree(re->eg, host, 256));
	else
		watched(w, host, execguard_watch_path(re->eg, host));
}

static void watch_files(struct run_enforce *re, const struct guard_ctx *g,
			pid_t pid, struct watches *w)
{
	for (size_t i = 0; i < g->n; i++)
		for (size_t k = 0; k < g->sel[i]->n_rules; k++) {
			const struct pol_rule *r = &g->sel[i]->rules[k];

			if (r->kind != POL_FILE || r->action < POL_BLOCK)
				continue;
			for (size_t p = 0; p < r->paths.n; p++)
				watch_pattern(re, pid, r->paths.v[p], w);
		}
}

static void unguard(struct run_enforce *re, struct res_state *rs)
{
	if (!rs->guarded)
		return;
	if (re->eg)
		execguard_release(re->eg, rs->path);
	if (re->ng)
		netguard_release(re->ng, rs->cg);
	watches_undo(re, &rs->w);
	set_exec_kill(re, rs, 0);
	rs->guarded = 0;
	ss_unref(rs->ss);
	rs->ss = NULL;
}

/* The model's executables as the exec guard's snapshot; NULL on no
 * memory. */
static struct shared_set *model_set(struct model *inst, struct model *img)
{
	struct shared_set *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return NULL;
	ss->refs = 1;
	ss->s = policy_execset_new();
	if (!ss->s) {
		free(ss);
		return NULL;
	}
	policy_execset_add_model(ss->s, inst);
	if (img)
		policy_execset_add_model(ss->s, img);
	policy_execset_set_since(ss->s, model_created_ns(inst));
	return ss;
}

/* Shadow or protect: (re)builds everything the guards enforce for rs.
 * keep_model: a policy reload, the model snapshot (and its drift marks)
 * stays. */
static int guard(struct run_enforce *re, struct res_state *rs,
		 const struct resource *res, int mode, int keep_model,
		 char *err, size_t errlen)
{
	int m = mode == RENF_PROTECT ? VGE_MODE_PROTECT : VGE_MODE_SHADOW;
	struct model *inst = engine_find(re->eng, rs->model_key), *img;
	struct guard_ctx *g;
	struct net_build *nb;
	struct watches w = {NULL, 0};
	pid_t pid;
	int rc;

	/* a model still learning is not what the container may do yet:
	 * until it is active, only the policies are enforced */
	if (inst && model_state_of(inst) != MODEL_ACTIVE)
		inst = NULL;
	img = inst && model_parent(inst)[0]
		      ? engine_find(re->eng, model_parent(inst)) : NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->n = rpol_select(re->pol, res, g->sel);
	if (!inst && !g->n) {
		snprintf(err, errlen, "no active model for '%s' yet and no "
			 "policy selects it", rs->model_key);
		free(g);
		return -ENOENT;
	}
	rc = start_guards(re, err, errlen);
	if (rc < 0) {
		free(g);
		return rc;
	}
	if (!rs->guarded) {
		if (strlen(res->path) >= CGROOT_PATH_MAX) {
			snprintf(err, errlen, "cgroup path too long");
			free(g);
			return -ENAMETOOLONG;
		}
		if (cgroot_id(re->mount, res->path, &rs->cg) < 0) {
			snprintf(err, errlen, "container cgroup '%s' not found "
				 "under '%s'", res->path, re->mount);
			free(g);
			return -ENOENT;
		}
		snprintf(rs->path, sizeof(rs->path), "%.*s",
			 (int)sizeof(rs->path) - 1, res->path);
	}
	g->ps = policyset_ref(rpol_set(re->pol));
	if (keep_model && rs->guarded) {
		g->ss = ss_ref(rs->ss);
	} else if (inst) {
		g->ss = model_set(inst, img);
		if (!g->ss) {
			guard_ctx_free(g);
			return -ENOMEM;
		}
	}
	nb = malloc(sizeof(*nb));
	if (!nb) {
		guard_ctx_free(g);
		return -ENOMEM;
	}
	renf_build_net(nb, g, inst, img);
	pid = first_pid(re->mount, rs->path);
	if (pid > 0) {
		execguard_mark_mounts(re->eg, pid);
		watch_files(re, g, pid, &w); /* before the old ones go */
	}
	/* new rules first, then the switch: no moment without them */
	rc = netguard_set_rules(re->ng, rs->cg, m, &nb->r);
	if (nb->dropped)
		fprintf(stderr, "vigil: %zu network entries of '%s' over the "
			"cap were left out\n", nb->dropped, rs->model_key);
	free(nb);
	if (rc < 0) {
		snprintf(err, errlen, "network guard: %s", strerror(-rc));
		guard_ctx_free(g);
		watches_undo(re, &w);
		return rc;
	}
	if (rs->ss != g->ss) {
		ss_unref(rs->ss);
		rs->ss = ss_ref(g->ss);
	}
	rc = execguard_protect(re->eg, rs->path, rs->cg, m, g, guard_ctx_free);
	if (rc < 0) { /* refused: g was not taken */
		snprintf(err, errlen, "exec guard: %s", strerror(-rc));
		guard_ctx_free(g);
		watches_undo(re, &w);
		return rc;
	}
	watches_undo(re, &rs->w);
	rs->w = w;
	rs->guarded = 1;
	set_exec_kill(re, rs, exec_kill_flags(g, mode));
	return 0;
}

static int find_unguarded(void *ctx, uint64_t k, void *v)
{
	if (((struct res_state *)v)->guarded)
		return 0;
	*(uint64_t *)ctx = k;
	return 1;
}

/* The table is full: forget a resource the guards do not hold (its mode,
 * if it was set, is in the store and comes back at its next event). */
static int evict_one(struct run_enforce *re)
{
	uint64_t key = 0;
	struct res_state *rs;

	hashmap_each(re->by_res, find_unguarded, &key);
	rs = key ? hashmap_del(re->by_res, key) : NULL;
	if (!rs)
		return -ENOSPC;
	free_state(NULL, key, rs);
	return 0;
}

static struct res_state *state_of(struct run_enforce *re,
				  const struct resource *res)
{
	struct res_state *rs = hashmap_get(re->by_res, res->key);

	if (rs)
		return rs;
	if (hashmap_count(re->by_res) >= RENF_RES_CAP && evict_one(re) < 0)
		return NULL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	rs->key = res->key;
	rs->mode = re->default_mode;
	if (res->cg.runtime != CG_HOST) {
		char buf[16];

		snprintf(rs->id, sizeof(rs->id), "%s", res->cg.container_id);
		snprintf(rs->model_key, sizeof(rs->model_key), "container:%s",
			 rs->id);
		if (re->st && store_mode_get(re->st, rs->id, buf,
					     sizeof(buf)) == 0 &&
		    renf_mode_parse(buf) >= 0)
			rs->mode = renf_mode_parse(buf);
	} else {
		rs->mode = rs->mode >= RENF_SHADOW ? RENF_MONITOR : rs->mode;
	}
	if (hashmap_put(re->by_res, res->key, rs) < 0) {
		free(rs);
		return NULL;
	}
	rs->res = res;
	if (rs->mode >= RENF_SHADOW) {
		char err[256] = "";

		if (guard(re, rs, res, rs->mode, 0, err, sizeof(err)) < 0) {
			/* stays in monitor until the mode is set again */
			fprintf(stderr, "vigil: %s mode for '%s' not applied: "
				"%s\n", renf_mode_name(rs->mode), rs->id, err);
			rs->mode = RENF_MONITOR;
		}
	}
	return rs;
}

int renf_set_mode(struct run_enforce *re, const struct resource *res,
		  const char *mode, uint64_t now_ns, char *err, size_t errlen)
{
	int m = renf_mode_parse(mode), rc;
	struct res_state *rs;

	if (!re) {
		snprintf(err, errlen, "enforcement is not available");
		return -ENOSYS;
	}
	if (m < 0) {
		snprintf(err, errlen, "unknown mode '%s' (learn, monitor, shadow, "
			 "protect)", mode);
		return -EINVAL;
	}
	if (res->cg.runtime == CG_HOST) {
		snprintf(err, errlen, "modes apply to containers only");
		return -EINVAL;
	}
	rs = state_of(re, res);
	if (!rs) {
		snprintf(err, errlen, "too many resources");
		return -ENOSPC;
	}
	rs->res = res;
	if (m >= RENF_SHADOW) {
		rc = guard(re, rs, res, m, 0, err, errlen);
		if (rc < 0)
			return rc;
	} else {
		unguard(re, rs);
		if (m == RENF_LEARN && engine_find(re->eng, rs->model_key))
			engine_extend(re->eng, rs->model_key, now_ns);
	}
	rs->mode = m;
	if (re->st && store_mode_put(re->st, rs->id, mode, now_ns) < 0)
		fprintf(stderr, "vigil: mode of '%s' not persisted\n", rs->id);
	return 0;
}

int renf_event(struct run_enforce *re, const void *rec,
	       const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	struct res_state *rs;

	if (!re)
		return 0;
	rs = state_of(re, v->res);
	if (!rs)
		return 0;
	rs->res = v->res;
	if (rs->ss && h->type == VG_OPEN && h->ret >= 0 &&
	    (((const struct vg_file *)rec)->access &
	     (VG_ACC_WRITE | VG_ACC_CREATE)))
		policy_execset_mark_written(rs->ss->s,
					    ((const struct vg_file *)rec)->path);
	return renf_judge_event(re, rs, rec, v);
}

struct reguard {
	struct run_enforce *re;
	int failed;
};

/* A container guarded by its policies alone gets its model too once the
 * model is active. */
#define SWEEP_MAX 64

struct sweep {
	struct run_enforce *re;
	uint64_t gone[SWEEP_MAX];
	size_t n_gone;
};

/* Once a second over the guarded containers: one whose cgroup is gone
 * (the container exited) is released, so the kernel maps do not fill up
 * with the dead; one guarded by its policies alone gets its model once
 * the model is active. */
static int sweep_one(void *ctx, uint64_t k, void *v)
{
	struct sweep *sw = ctx;
	struct run_enforce *re = sw->re;
	struct res_state *rs = v;
	char dir[CGROOT_PATH_MAX * 2], err[256] = "";
	struct model *m;

	if (!rs->guarded)
		return 0;
	snprintf(dir, sizeof(dir), "%s%s", re->mount, rs->path);
	if (access(dir, F_OK) < 0 && errno == ENOENT) {
		/* gone at two sweeps in a row: late decisions of its last
		 * moments still find it */
		if (rs->gone_seen && sw->n_gone < SWEEP_MAX)
			sw->gone[sw->n_gone++] = k;
		rs->gone_seen = 1;
		return 0;
	}
	rs->gone_seen = 0;
	if (rs->ss || !rs->res || !rs->model_key[0])
		return 0;
	m = engine_find(re->eng, rs->model_key);
	if (m && model_state_of(m) == MODEL_ACTIVE &&
	    guard(re, rs, rs->res, rs->mode, 0, err, sizeof(err)) < 0)
		fprintf(stderr, "vigil: the model of '%s' is not enforced: %s\n",
			rs->id, err);
	return 0;
}

static void sweep(struct run_enforce *re)
{
	struct sweep sw = {.re = re};

	hashmap_each(re->by_res, sweep_one, &sw);
	for (size_t i = 0; i < sw.n_gone; i++) {
		struct res_state *rs = hashmap_del(re->by_res, sw.gone[i]);

		if (!rs)
			continue;
		unguard(re, rs);
		free_state(NULL, sw.gone[i], rs);
	}
}

static int reguard_one(void *ctx, uint64_t k, void *v)
{
	struct reguard *g = ctx;
	struct res_state *rs = v;
	char err[256] = "";

	(void)k;
	if (rs->guarded && rs->res &&
	    guard(g->re, rs, rs->res, rs->mode, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigil: after the policy reload, '%s' keeps its "
			"previous enforcement: %s\n", rs->id, err);
		g->failed++;
	}
	return 0;
}

int renf_reload(struct run_enforce *re, char *err, size_t errlen)
{
	struct reguard g = {re, 0};
	int rc;

	if (!re || !re->pol) {
		snprintf(err, errlen, "no policy directory");
		return -ENOENT;
	}
	rc = rpol_reload(re->pol, err, errlen);
	if (rc < 0) {
		re->reload_errors++;
		return rc;
	}
	re->reloads++;
	hashmap_each(re->by_res, reguard_one, &g);
	return 1;
}

void renf_poll(struct run_enforce *re)
{
	uint64_t now;

	if (!re)
		return;
	/* decisions first: their container may be the one the sweep drops */
	if (re->ng)
		netguard_poll(re->ng, 0);
	if (re->eg)
		execguard_poll(re->eg, renf_on_exec, re);
	if (rpol_changed(re->pol)) {
		char err[512];

		if (renf_reload(re, err, sizeof(err)) < 0)
			fprintf(stderr, "vigil: policies not reloaded, the "
				"previous ones stay in force: %s\n", err);
		else
			fprintf(stderr, "vigil: policies reloaded (%zu)\n",
				rpol_set(re->pol)->n);
	}
	now = run_mono_s();
	if (now != re->last_model_check) {
		re->last_model_check = now;
		sweep(re);
	}
}

static int count_guarded(void *ctx, uint64_t k, void *v)
{
	(void)k;
	*(size_t *)ctx += ((struct res_state *)v)->guarded;
	return 0;
}

void renf_summary(struct run_enforce *re, char *buf, size_t cap)
{
	size_t guarded = 0;

	if (!re) {
		snprintf(buf, cap, "unavailable");
		return;
	}
	hashmap_each(re->by_res, count_guarded, &guarded);
	snprintf(buf, cap, "protected=%zu policies=%zu blocked=%llu "
		 "would_block=%llu "
		 "killed=%llu policy_alerts=%llu reloads=%llu "
		 "reload_errors=%llu action_errors=%llu",
		 guarded, re->pol ? rpol_set(re->pol)->n : 0,
		 (unsigned long long)re->blocked,
		 (unsigned long long)re->would_block,
		 (unsigned long long)re->killed,
		 (unsigned long long)re->policy_alerts,
		 (unsigned long long)re->reloads,
		 (unsigned long long)re->reload_errors,
		 (unsigned long long)re->action_errors);
}

void renf_stats(struct run_enforce *re, struct renf_stats *out)
{
	size_t guarded = 0;

	memset(out, 0, sizeof(*out));
	if (!re)
		return;
	hashmap_each(re->by_res, count_guarded, &guarded);
	out->guarded = guarded;
	out->policies = re->pol ? rpol_set(re->pol)->n : 0;
	out->blocked = re->blocked;
	out->would_block = re->would_block;
	out->killed = re->killed;
	out->policy_alerts = re->policy_alerts;
	out->action_errors = re->action_errors;
	out->reloads = re->reloads;
	out->reload_errors = re->reload_errors;
	if (re->eg) {
		struct execguard_counters c;

		execguard_counters(re->eg, &c);
		out->late = c.late;
		out->failed = c.failed;
	}
}
