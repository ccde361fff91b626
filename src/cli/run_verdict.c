/* run_verdict.c - policy verdicts become alerts and actions.
 *
 * Two ways in:
 *  - the guards' decisions (an exec or open refused or that would be, a
 *    connect or bind refused or that would be): the guard already did the
 *    refusing; here the policy is asked again which rule it was, so that a
 *    `kill` rule also kills (or freezes) and the alert names the rule;
 *  - every sensor event (renf_judge_event): `alert` rules, and what no
 *    kernel hook refuses (privileged operations, DNS, deletes, something
 *    that got through), which protect mode answers by killing when the
 *    rule says kill.
 * One alert per decision: an event the guards decide about (an exec or
 * open judged by decide(), a connect or bind judged in the kernel) is left
 * to the guard's report in shadow mode, and in protect mode when it was
 * refused; one that got through anyway (a late decision, a file nobody
 * watched) is alerted here, and killed if the rule says kill. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/run_enforce_int.h"
#include "enforce/cgaction.h"
#include "enforce/execguard.h"
#include "enforce/netguard.h"
#include "lib/hashmap.h"
#include "policy/policy_event.h"
#include "vigil_event.h"

struct scan {
	uint64_t cg;
	struct res_state *found;
};

static int scan_cg(void *ctx, uint64_t k, void *v)
{
	struct scan *s = ctx;
	struct res_state *rs = v;

	(void)k;
	if (rs->guarded && rs->cg == s->cg) {
		s->found = rs;
		return 1;
	}
	return 0;
}

struct res_state *renf_by_cgroup(struct run_enforce *re, uint64_t cg)
{
	struct scan s = {cg, NULL};

	hashmap_each(re->by_res, scan_cg, &s);
	return s.found;
}

static enum model_dim dim_of(const struct pol_query *q)
{
	switch (q->kind) {
	case POL_PROCESS:
		return DIM_FILE_EXEC;
	case POL_FILE:
		return q->access & POL_ACC_DELETE ? DIM_FILE_DELETE :
		       q->access & POL_ACC_WRITE ? DIM_FILE_WRITE :
		       q->access & POL_ACC_CREATE ? DIM_FILE_CREATE :
						    DIM_FILE_READ;
	case POL_NETWORK:
		return q->dns ? DIM_DNS : q->is_listen ? DIM_NET_LISTEN
						       : DIM_NET_OUT;
	default:
		return DIM_PRIV;
	}
}

static int severity_score(int sev)
{
	static const int score[] = {50, 30, 50, 75, 95};

	return sev >= 1 && sev <= 4 ? score[sev] : 50;
}

const char *renf_kill(const struct pol_rule *r, const char *cgroup, pid_t pid,
		      int *rc)
{
	/* never wait here: the decider thread and the main loop call this */
	if (r->freeze)
		*rc = cgaction_freeze_timeout(cgroup, 1, 0);
	else if (r->scope == POL_SCOPE_CONTAINER)
		*rc = cgaction_kill_cgroup_timeout(cgroup, 0);
	else
		*rc = cgaction_kill_pid(pid);
	if (*rc < 0)
		return "kill_failed";
	return r->freeze ? "container_frozen" :
	       r->scope == POL_SCOPE_CONTAINER ? "container_killed" : "killed";
}

/* Kill or freeze for a kill rule, from the main loop. */
static const char *act(struct run_enforce *re, struct res_state *rs,
		       const struct pol_rule *r, pid_t pid)
{
	const char *taken;
	int rc;

	if (!rs->guarded) {
		re->action_errors++;
		return "kill_failed";
	}
	taken = renf_kill(r, rs->path, pid, &rc);
	if (rc < 0) {
		re->action_errors++;
		fprintf(stderr, "vigil: %s of '%s' failed: %s\n",
			r->freeze ? "freeze" : "kill", rs->id, strerror(-rc));
	} else {
		re->killed++;
	}
	return taken;
}

/* One alert about a policy verdict. item: what was done, in words. */
static void policy_alert(struct run_enforce *re, struct res_state *rs,
			 const struct pol_verdict *vd,
			 const struct pol_query *q, const char *action_taken,
			 const void *rec, const struct enrich_view *v,
			 const char *item, const char *note)
{
	const struct pol_rule *r = vd->rule;
	struct enrich_view own = {rs->res, NULL, NULL};
	char ruleset[POL_NAME_MAX + 8], title[256];
	struct anomaly a;

	memset(&a, 0, sizeof(a));
	a.kind = ANOM_RULE;
	a.source = "policy";
	a.action_taken = action_taken;
	a.dim = dim_of(q);
	a.item = item;
	a.rec = rec;
	a.view = v ? v : rs->res ? &own : NULL;
	a.model = !a.view && rs->model_key[0]
			  ? engine_find(re->eng, rs->model_key) : NULL;
	snprintf(ruleset, sizeof(ruleset), "policy:%s",
		 vd->pol ? vd->pol->name : "?");
	a.ruleset = ruleset;
	a.rule_id = r ? r->id : "default";
	if (r && r->description) {
		snprintf(title, sizeof(title), "%s", r->description);
	} else if (r) {
		snprintf(title, sizeof(title), "Policy %s: rule %s",
			 vd->pol->name, r->id);
	} else {
		snprintf(title, sizeof(title), "Not allowed by policy %s",
			 vd->pol ? vd->pol->name : "?");
	}
	a.title = title;
	a.rule_description = r ? r->description : NULL;
	a.mitre = r ? r->mitre.v : NULL;
	a.n_mitre = r ? r->mitre.n : 0;
	a.score = r ? severity_score(r->severity) : 50;
	if (vd->action >= POL_BLOCK && a.score < 60)
		a.score = 60;
	snprintf(a.explanation, sizeof(a.explanation),
		 "%s: %s in %s: %s %s%s%s", action_taken, item,
		 rs->id[0] ? rs->id : "host",
		 r ? "rule" : "default of policy",
		 r ? r->id : (vd->pol ? vd->pol->name : "?"),
		 r ? " of policy " : "", r ? vd->pol->name : "");
	if (note && strlen(a.explanation) + strlen(note) + 3 < sizeof(a.explanation)) {
		strcat(a.explanation, " (");
		strcat(a.explanation, note);
		strcat(a.explanation, ")");
	}
	if (!strcmp(action_taken, "would_block") ||
	    !strcmp(action_taken, "would_kill"))
		re->would_block++;
	else if (vd->action == POL_ALERT || !r)
		re->policy_alerts++;
	re->cb(re->ctx, &a);
}

/* 1 if a guard decides this kind of event for a guarded resource (so its
 * report is the one alert). */
static int guard_decides(const struct res_state *rs, const void *rec,
			 const struct pol_query *q)
{
	const struct vg_hdr *h = rec;

	if (!rs->guarded)
		return 0;
	if (q->kind == POL_PROCESS)
		return !(h->flags & (VG_F_EXE_MEMFD | VG_F_EXE_DELETED));
	if (q->kind == POL_FILE)
		return h->type == VG_OPEN;
	if (q->kind == POL_NETWORK)
		return !q->dns && (h->type == VG_CONNECT || h->type == VG_BIND);
	return 0;
}

static void what_of(const struct pol_query *q, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	switch (q->kind) {
	case POL_PROCESS:
		snprintf(buf, cap, "exec %s", q->exe ? q->exe : "?");
		break;
	case POL_FILE:
		snprintf(buf, cap, "%s %s",
			 q->access & POL_ACC_DELETE ? "delete" :
			 q->access & POL_ACC_WRITE ? "write" : "open", q->path);
		break;
	case POL_NETWORK:
		if (q->dns) {
			snprintf(buf, cap, "dns query %s", q->dns);
			break;
		}
		inet_ntop(q->family == 10 ? AF_INET6 : AF_INET, q->addr, ip,
			  sizeof(ip));
		snprintf(buf, cap, "%s %s %s port %u",
			 q->is_listen ? "bind" : "connect",
			 q->proto == POL_PROTO_UDP ? "udp" : "tcp", ip, q->port);
		break;
	default:
		snprintf(buf, cap, "privileged operation by %s",
			 q->exe ? q->exe : "?");
	}
}

int renf_judge_event(struct run_enforce *re, struct res_state *rs,
		     const void *rec, const struct enrich_view *v)
{
	const struct policy *sel[RPOL_SEL_MAX];
	const struct vg_hdr *h = rec;
	struct pol_query q;
	struct pol_query_buf b;
	struct pol_verdict vd[2];
	enum pol_kind kinds[2];
	size_t n = rpol_select(re->pol, v->res, sel);
	int k, alerted = 0;
	char what[640];

	if (!n)
		return 0;
	k = pol_judge_event(sel, n, rec, v, &q, &b, vd, kinds);
	for (int i = 0; i < k; i++) {
		const char *taken;
		const char *note = NULL;
		struct pol_query pq = q;

		if (vd[i].action == POL_ALLOW)
			continue;
		pq.kind = kinds[i];
		what_of(&pq, what, sizeof(what));
		if (vd[i].action == POL_ALERT) {
			taken = "alerted";
		} else if (rs->mode < RENF_SHADOW) {
			taken = vd[i].action == POL_KILL ? "would_kill"
							 : "would_block";
		} else if (guard_decides(rs, rec, &pq) &&
			   (rs->mode == RENF_SHADOW || h->ret < 0)) {
			continue; /* the guard's report is the alert */
		} else if (rs->mode == RENF_SHADOW) {
			taken = vd[i].action == POL_KILL ? "would_kill"
							 : "would_block";
		} else if (vd[i].action == POL_KILL && (h->flags & VG_F_KILLED)) {
			taken = "killed"; /* at exec, by the sensor */
			re->killed++;
		} else if (vd[i].action == POL_KILL && vd[i].rule) {
			taken = act(re, rs, vd[i].rule, (pid_t)h->pid);
		} else {
			taken = "alerted";
			note = guard_decides(rs, rec, &pq)
				       ? "the guard let it through: decided late or "
					 "not watched"
				       : "no kernel hook refuses it";
		}
		policy_alert(re, rs, &vd[i], &pq, taken, rec, v, what, note);
		alerted = 1;
	}
	return alerted;
}

/* A guard refused something (or would have): which policy rule was it? */
static int rejudge(struct run_enforce *re, struct res_state *rs,
		   const struct pol_query *q, struct pol_verdict *vd)
{
	const struct policy *sel[RPOL_SEL_MAX];
	size_t n = rs->res ? rpol_select(re->pol, rs->res, sel) : 0;

	return n && policy_eval(sel, n, q, vd) > 0 && vd->action >= POL_BLOCK;
}

static void model_alert(struct run_enforce *re, struct res_state *rs,
			int blocked, const struct pol_query *q,
			const char *item)
{
	struct enrich_view own = {rs ? rs->res : NULL, NULL, NULL};
	struct anomaly a;

	memset(&a, 0, sizeof(a));
	a.kind = ANOM_RULE;
	a.source = "enforcement";
	a.action_taken = blocked ? "blocked" : "would_block";
	a.dim = dim_of(q);
	a.item = item;
	a.view = own.res ? &own : NULL;
	a.model = rs ? engine_find(re->eng, rs->model_key) : NULL;
	a.score = blocked ? 75 : 60;
	a.rule_id = q->kind == POL_PROCESS ? "protect-exec" : "protect-network";
	a.title = blocked ? "Blocked: outside what this container may do"
			  : "Would block (shadow mode)";
	snprintf(a.explanation, sizeof(a.explanation),
		 "%s %s in %s: not in the learned model",
		 blocked ? "blocked" : "would block", item,
		 rs ? rs->model_key : "a protected cgroup");
	if (blocked)
		re->blocked++;
	else
		re->would_block++;
	re->cb(re->ctx, &a);
}

/* A guard's decision: the policy rule that made it (kill: act), else the
 * model. */
static void decided(struct run_enforce *re, uint64_t cg, int blocked,
		    pid_t pid, const struct pol_query *q, const char *item,
		    const char *acted)
{
	struct res_state *rs = renf_by_cgroup(re, cg);
	struct pol_verdict vd;
	const char *taken;

	if (!rs || !rejudge(re, rs, q, &vd)) {
		model_alert(re, rs, blocked, q, item);
		return;
	}
	if (!blocked) {
		taken = vd.action == POL_KILL ? "would_kill" : "would_block";
	} else if (vd.action == POL_KILL && vd.rule && acted) {
		/* the exec/open guard's decider already killed: a process
		 * waiting in its permission event cannot run on meanwhile */
		int failed = strstr(acted, "kill_failed") != NULL;

		taken = failed ? "kill_failed" :
			vd.rule->freeze ? "container_frozen" :
			vd.rule->scope == POL_SCOPE_CONTAINER ? "container_killed"
							      : "killed";
		if (failed)
			re->action_errors++;
		else
			re->killed++;
	} else if (vd.action == POL_KILL && vd.rule) {
		taken = act(re, rs, vd.rule, pid);
	} else {
		taken = "blocked";
	}
	if (blocked)
		re->blocked++;
	policy_alert(re, rs, &vd, q, taken, NULL, NULL, item, NULL);
}

void renf_on_net(void *ctx, const struct netguard_decision *d)
{
	struct run_enforce *re = ctx;
	struct pol_query q;
	char item[200];

	memset(&q, 0, sizeof(q));
	q.kind = POL_NETWORK;
	q.is_listen = d->op == VGE_OP_BIND;
	q.proto = d->proto;
	q.family = (uint8_t)d->family;
	memcpy(q.addr, d->addr, 16);
	q.port = d->port;
	what_of(&q, item, sizeof(item));
	snprintf(item + strlen(item), sizeof(item) - strlen(item),
		 " by %s (pid %u)", d->comm, d->pid);
	decided(re, d->cgroup_id, d->verdict == VGE_BLOCKED, (pid_t)d->pid,
		&q, item, NULL);
}

void renf_on_exec(void *ctx, const struct execguard_report *r)
{
	struct run_enforce *re = ctx;
	struct pol_query q;
	char item[700];

	if (r->outcome != EXECGUARD_DENIED &&
	    r->outcome != EXECGUARD_WOULD_DENY_SHADOW)
		return;
	memset(&q, 0, sizeof(q));
	if (r->op == EXECGUARD_OP_OPEN) {
		q.kind = POL_FILE;
		q.path = r->exe_path;
		q.access = renf_open_access(r->open_flags, r->flags_known);
	} else {
		q.kind = POL_PROCESS;
		q.exe = r->exe_path;
		q.parent_exe = r->proc_exe[0] ? r->proc_exe : NULL;
		q.parent_name = r->comm[0] ? r->comm : NULL;
	}
	what_of(&q, item, sizeof(item));
	snprintf(item + strlen(item), sizeof(item) - strlen(item),
		 " (pid %d: %.150s)", (int)r->pid, r->reason);
	decided(re, r->cgroup_id, r->outcome == EXECGUARD_DENIED, r->pid, &q,
		item, r->reason);
}
