/* run_enforce.c - see run_enforce.h. A protected container gets: its
 * learned outbound and listening ports allowed in the cgroup sock_addr
 * programs (everything else EPERM), and exec allowed only for executables
 * its models learned (and never for files written in it since it started).
 * The allow lists are snapshots of the models at the time the mode is set;
 * setting the mode again refreshes them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/run_enforce.h"
#include "enforce/cgroot.h"
#include "enforce/execguard.h"
#include "enforce/netguard.h"
#include "enforce/policy_allow.h"
#include "lib/hashmap.h"
#include "vigil_event.h"

#define PROTECTED_CAP 4096

struct prot {
	uint64_t cg;
	int mode;
	char path[CGROOT_PATH_MAX];
	char key[MODEL_KEY_MAX];
	struct policy_execset *set; /* owned by execguard once protected */
};

struct run_enforce {
	struct engine *eng;
	renf_alert_fn cb;
	void *ctx;
	struct netguard *ng;
	struct execguard *eg;
	char mount[CGROOT_PATH_MAX];
	struct hashmap *by_res; /* resource key -> struct prot */
	uint64_t blocked, would_block;
};

struct run_enforce *renf_new(struct engine *eng, renf_alert_fn cb, void *ctx)
{
	struct run_enforce *re = calloc(1, sizeof(*re));

	if (!re)
		return NULL;
	re->eng = eng;
	re->cb = cb;
	re->ctx = ctx;
	re->by_res = hashmap_new(PROTECTED_CAP);
	if (!re->by_res) {
		free(re);
		return NULL;
	}
	return re;
}

static void free_prot(void *ctx, uint64_t k, void *v)
{
	(void)ctx;
	(void)k;
	free(v);
}

void renf_free(struct run_enforce *re)
{
	if (!re)
		return;
	execguard_stop(re->eg); /* nothing is left blocking */
	netguard_close(re->ng);
	hashmap_free(re->by_res, free_prot, NULL);
	free(re);
}

/* Runs on execguard's decider thread: only the thread-safe execset. */
static int decide(void *ctx, const struct execguard_req *r, char *reason,
		  size_t cap)
{
	struct policy_file f = {r->exe_path, r->ctime_ns, r->is_script};

	(void)ctx;
	return policy_execset_check(r->cg_ctx, &f, reason, cap) == POLICY_ALLOW
		       ? EXECGUARD_ALLOW : EXECGUARD_DENY;
}

static void execset_free(void *p)
{
	policy_execset_free(p);
}

struct scan {
	uint64_t cg;
	struct prot *found;
};

static int scan_cg(void *ctx, uint64_t k, void *v)
{
	struct scan *s = ctx;
	struct prot *p = v;

	(void)k;
	if (p->cg == s->cg) {
		s->found = p;
		return 1;
	}
	return 0;
}

static void alert(struct run_enforce *re, uint64_t cg, int blocked,
		  const char *what, const char *detail)
{
	struct scan s = {cg, NULL};
	struct anomaly a;
	struct model *m;

	hashmap_each(re->by_res, scan_cg, &s);
	memset(&a, 0, sizeof(a));
	m = s.found ? engine_find(re->eng, s.found->key) : NULL;
	a.kind = ANOM_RULE;
	a.source = "enforcement";
	a.action_taken = blocked ? "blocked" : "would_block";
	a.dim = !strcmp(what, "exec") ? DIM_FILE_EXEC : DIM_NET_OUT;
	a.item = detail;
	a.model = m;
	a.score = blocked ? 75 : 60;
	a.rule_id = !strcmp(what, "exec") ? "protect-exec" : "protect-network";
	a.title = blocked ? "Blocked: outside what this container may do"
			  : "Would block (shadow mode)";
	a.wall_ns = 0;
	snprintf(a.explanation, sizeof(a.explanation),
		 "%s %s in %s: %s not in the learned model", blocked ? "blocked" :
		 "would block", what, s.found ? s.found->key : "a protected cgroup",
		 detail);
	if (blocked)
		re->blocked++;
	else
		re->would_block++;
	re->cb(re->ctx, &a);
}

static void on_net(void *ctx, const struct netguard_decision *d)
{
	struct run_enforce *re = ctx;
	char ip[INET6_ADDRSTRLEN] = "?", detail[160];

	inet_ntop(d->family == 10 ? AF_INET6 : AF_INET, d->addr, ip, sizeof(ip));
	snprintf(detail, sizeof(detail), "%s %s %s port %u by %s (pid %u)",
		 d->op == VGE_OP_BIND ? "bind" : "connect",
		 d->proto == VGE_PROTO_UDP ? "udp" : "tcp", ip, d->port, d->comm,
		 d->pid);
	alert(re, d->cgroup_id, d->verdict == VGE_BLOCKED, "network", detail);
}

static void on_exec(void *ctx, const struct execguard_report *r)
{
	struct run_enforce *re = ctx;
	char detail[700];

	if (r->outcome != EXECGUARD_DENIED &&
	    r->outcome != EXECGUARD_WOULD_DENY_SHADOW)
		return;
	snprintf(detail, sizeof(detail), "%.500s (pid %d: %.150s)", r->exe_path,
		 (int)r->pid, r->reason);
	alert(re, r->cgroup_id, r->outcome == EXECGUARD_DENIED, "exec", detail);
}

static int start_guards(struct run_enforce *re, char *err, size_t errlen)
{
	struct execguard_opts eo = {.budget_ms = 50};

	if (!re->mount[0] && cgroot_mount(re->mount, sizeof(re->mount)) < 0) {
		snprintf(err, errlen, "no cgroup v2 hierarchy to enforce on");
		return -ENOENT;
	}
	if (!re->ng) {
		re->ng = netguard_open(re->mount, on_net, re, err, errlen);
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

/* First pid of the cgroup, to find the container's mounts. */
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

int renf_set_mode(struct run_enforce *re, const struct resource *res,
		  const char *mode, uint64_t now_ns, char *err, size_t errlen)
{
	int m = !strcmp(mode, "protect") ? VGE_MODE_PROTECT :
		!strcmp(mode, "shadow") ? VGE_MODE_SHADOW : VGE_MODE_OFF;
	struct prot *p = hashmap_get(re->by_res, res->key);
	struct model *inst, *img;
	struct policy_port ports[1024];
	char key[MODEL_KEY_MAX];
	uint64_t cg;
	size_t n;
	pid_t pid;
	int rc;

	if (!re) {
		snprintf(err, errlen, "enforcement is not available");
		return -ENOSYS;
	}
	if (strcmp(mode, "protect") && strcmp(mode, "shadow") &&
	    strcmp(mode, "monitor") && strcmp(mode, "learn")) {
		snprintf(err, errlen, "unknown mode '%s' (learn, monitor, shadow, "
			 "protect)", mode);
		return -EINVAL;
	}
	if (res->cg.runtime == CG_HOST) {
		snprintf(err, errlen, "enforcement applies to containers only");
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "container:%s", res->cg.container_id);
	inst = engine_find(re->eng, key);
	if (p) { /* leaving the old mode first */
		if (re->eg)
			execguard_release(re->eg, p->path);
		if (re->ng)
			netguard_release(re->ng, p->cg);
		hashmap_del(re->by_res, res->key);
		free(p);
	}
	if (!strcmp(mode, "learn"))
		return inst ? engine_extend(re->eng, key, now_ns) : 0;
	if (!strcmp(mode, "monitor") || m == VGE_MODE_OFF)
		return 0;
	if (!inst) {
		snprintf(err, errlen, "no model for '%s' yet", key);
		return -ENOENT;
	}
	img = model_parent(inst)[0] ? engine_find(re->eng, model_parent(inst)) : NULL;
	rc = start_guards(re, err, errlen);
	if (rc < 0)
		return rc;
	if (strlen(res->path) >= CGROOT_PATH_MAX) {
		snprintf(err, errlen, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (cgroot_id(re->mount, res->path, &cg) < 0) {
		snprintf(err, errlen, "container cgroup '%s' not found under '%s'",
			 res->path, re->mount);
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cg = cg;
	p->mode = m;
	snprintf(p->path, sizeof(p->path), "%.*s", CGROOT_PATH_MAX - 1, res->path);
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->set = policy_execset_new();
	if (!p->set || hashmap_put(re->by_res, res->key, p) < 0) {
		policy_execset_free(p->set);
		free(p);
		return -ENOMEM;
	}
	n = policy_ports(inst, img, DIM_NET_OUT, ports, 1024);
	for (size_t i = 0; i < n && i < 1024; i++)
		netguard_allow(re->ng, cg, ports[i].proto, ports[i].port);
	n = policy_ports(inst, img, DIM_NET_LISTEN, ports, 1024);
	for (size_t i = 0; i < n && i < 1024; i++)
		netguard_allow_listen(re->ng, cg, ports[i].proto, ports[i].port);
	policy_execset_add_model(p->set, inst);
	if (img)
		policy_execset_add_model(p->set, img);
	policy_execset_set_since(p->set, model_created_ns(inst));
	pid = first_pid(re->mount, res->path);
	if (pid > 0)
		execguard_mark_mounts(re->eg, pid);
	rc = execguard_protect(re->eg, res->path, cg, m, p->set, execset_free);
	if (rc < 0) {
		snprintf(err, errlen, "exec guard: %s", strerror(-rc));
		return rc;
	}
	return netguard_protect(re->ng, cg, m);
}

void renf_event(struct run_enforce *re, const void *rec,
		const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	const struct vg_file *f = rec;
	struct prot *p;

	if (!re || h->type != VG_OPEN || h->ret < 0 ||
	    !(f->access & (VG_ACC_WRITE | VG_ACC_CREATE)))
		return;
	p = hashmap_get(re->by_res, v->res->key);
	if (p)
		policy_execset_mark_written(p->set, f->path);
}

void renf_poll(struct run_enforce *re)
{
	if (!re)
		return;
	if (re->ng)
		netguard_poll(re->ng, 0);
	if (re->eg)
		execguard_poll(re->eg, on_exec, re);
}

void renf_summary(struct run_enforce *re, char *buf, size_t cap)
{
	if (!re) {
		snprintf(buf, cap, "unavailable");
		return;
	}
	snprintf(buf, cap, "protected=%zu blocked=%llu would_block=%llu",
		 hashmap_count(re->by_res), (unsigned long long)re->blocked,
		 (unsigned long long)re->would_block);
}
