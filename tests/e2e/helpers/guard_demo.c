/* guard_demo.c - drives the enforcement modules (src/enforce) on one cgroup
 * for tests/e2e/test_enforce.py and bench/enforce_bench.sh.
 *
 *   guard_demo --cgroup PATH [--mode protect|shadow]
 *              [--allow tcp:PORT]... [--listen tcp:PORT]... [--exec PATTERN]...
 *              [--model FILE.yaml]... [--mark-pid PID] [--budget-ms N]
 *              [--slow-ms N] [--no-net] [--no-exec] [--no-drift]
 *              [--report-allowed]
 *
 * PATH is the cgroup v2 path of a running container ("/name" or the full
 * path under the v2 mount). Allowed ports and exec patterns come from the
 * flags and/or exported models (`vigil model export` YAML, through
 * policy_allow). Files changed after the guard starts are drift (denied
 * even when their pattern is allowed) unless --no-drift. --slow-ms makes
 * each decision that slow (to test the watchdog). Prints one JSON object per
 * line: "ready" once enforcing, then each decision ("net", "exec"), and
 * "counters" after SIGTERM/SIGINT. Exit 0, or 1 when a guard cannot start
 * (the message says which), 2 on usage errors. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "enforce/cgroot.h"
#include "enforce/execguard.h"
#include "enforce/netguard.h"
#include "enforce/policy_allow.h"
#include "lib/jsonw.h"
#include "model/model.h"
#include "model/model_yaml.h"

#define MAX_ITEMS 256

struct opts {
	const char *cgroup;
	int mode;
	struct policy_port allow[MAX_ITEMS], listen[MAX_ITEMS];
	int nallow, nlisten;
	const char *exec[MAX_ITEMS];
	int nexec;
	const char *models[8];
	int nmodels;
	int mark_pid, budget_ms, slow_ms;
	int no_net, no_exec, no_drift, report_allowed;
};

static struct jsonw *jw;
static int slow_ms;

static void emit(void)
{
	size_t len;
	const char *s = jsonw_data(jw, &len);

	if (!jsonw_error(jw)) {
		fwrite(s, 1, len, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	jsonw_reset(jw);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: guard_demo --cgroup PATH [--mode protect|shadow] "
		"[--allow tcp:PORT]... [--listen tcp:PORT]... "
		"[--exec PATTERN]... [--model FILE]... [--mark-pid PID] "
		"[--budget-ms N] [--slow-ms N] [--no-net] [--no-exec] "
		"[--no-drift] [--report-allowed]\n");
	exit(2);
}

static long num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "guard_demo: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static struct policy_port port_arg(const char *s)
{
	struct policy_port p;

	if (!strncmp(s, "tcp:", 4))
		p.proto = VGE_PROTO_TCP;
	else if (!strncmp(s, "udp:", 4))
		p.proto = VGE_PROTO_UDP;
	else
		usage();
	p.port = (uint16_t)num(s + 4, 0, 65535);
	return p;
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = VGE_MODE_PROTECT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-net")) {
			o->no_net = 1;
			continue;
		} else if (!strcmp(a, "--no-exec")) {
			o->no_exec = 1;
			continue;
		} else if (!strcmp(a, "--no-drift")) {
			o->no_drift = 1;
			continue;
		} else if (!strcmp(a, "--report-allowed")) {
			o->report_allowed = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--cgroup"))
			o->cgroup = v;
		else if (!strcmp(a, "--mode") && !strcmp(v, "protect"))
			o->mode = VGE_MODE_PROTECT;
		else if (!strcmp(a, "--mode") && !strcmp(v, "shadow"))
			o->mode = VGE_MODE_SHADOW;
		else if (!strcmp(a, "--allow") && o->nallow < MAX_ITEMS)
			o->allow[o->nallow++] = port_arg(v);
		else if (!strcmp(a, "--listen") && o->nlisten < MAX_ITEMS)
			o->listen[o->nlisten++] = port_arg(v);
		else if (!strcmp(a, "--exec") && o->nexec < MAX_ITEMS)
			o->exec[o->nexec++] = v;
		else if (!strcmp(a, "--model") && o->nmodels < 8)
			o->models[o->nmodels++] = v;
		else if (!strcmp(a, "--mark-pid"))
			o->mark_pid = (int)num(v, 1, 1 << 22);
		else if (!strcmp(a, "--budget-ms"))
			o->budget_ms = (int)num(v, 1, 60000);
		else if (!strcmp(a, "--slow-ms"))
			o->slow_ms = (int)num(v, 0, 60000);
		else
			usage();
	}
	if (!o->cgroup)
		usage();
}

static const char *proto_name(int p)
{
	return p == VGE_PROTO_TCP ? "tcp" : p == VGE_PROTO_UDP ? "udp" : "other";
}

static void on_net(void *ctx, const struct netguard_decision *d)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	(void)ctx;
	inet_ntop(d->family == 10 ? AF_INET6 : AF_INET, d->addr, addr,
		  sizeof(addr));
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "net");
	jsonw_str(jw, "verdict",
		  d->verdict == VGE_BLOCKED ? "blocked" : "would_block");
	jsonw_str(jw, "op", d->op == VGE_OP_BIND ? "bind" : "connect");
	jsonw_str(jw, "proto", proto_name(d->proto));
	jsonw_str(jw, "family", d->family == 10 ? "ipv6" : "ipv4");
	jsonw_str(jw, "addr", addr);
	jsonw_uint(jw, "port", d->port);
	jsonw_uint(jw, "pid", d->pid);
	jsonw_str(jw, "comm", d->comm);
	jsonw_uint(jw, "cgroup_id", d->cgroup_id);
	jsonw_obj_close(jw);
	emit();
}

static const char *outcome_name(int o)
{
	static const char *const n[] = {"allowed", "denied", "would_deny",
					"late", "failed"};

	return o >= 0 && o <= 4 ? n[o] : "?";
}

static void on_exec(void *ctx, const struct execguard_report *r)
{
	(void)ctx;
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "exec");
	jsonw_str(jw, "outcome", outcome_name(r->outcome));
	jsonw_str(jw, "path", r->exe_path);
	jsonw_int(jw, "pid", r->pid);
	jsonw_str(jw, "reason", r->reason);
	jsonw_uint(jw, "decide_us", r->decide_us);
	jsonw_str(jw, "cgroup", r->cgroup_path);
	jsonw_uint(jw, "cgroup_id", r->cgroup_id);
	jsonw_obj_close(jw);
	emit();
}

/* runs on the execguard decider thread; the execset is thread-safe */
static int decide(void *ctx, const struct execguard_req *r, char *reason,
		  size_t cap)
{
	struct policy_file f = {r->exe_path, r->ctime_ns, r->is_script};
	enum policy_verdict v;

	(void)ctx;
	if (slow_ms) {
		struct timespec ts = {slow_ms / 1000, (slow_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	v = policy_execset_check(r->cg_ctx, &f, reason, cap);
	return v == POLICY_ALLOW ? EXECGUARD_ALLOW : EXECGUARD_DENY;
}

static void execset_free(void *p)
{
	policy_execset_free(p);
}

static int load_models(const struct opts *o, struct netguard *ng, uint64_t cg,
		       struct policy_execset *set)
{
	for (int i = 0; i < o->nmodels; i++) {
		struct policy_port ports[1024];
		char err[256];
		struct model *m;
		size_t n;
		FILE *f = fopen(o->models[i], "r");

		if (!f) {
			fprintf(stderr, "guard_demo: %s: %s\n", o->models[i],
				strerror(errno));
			return -1;
		}
		m = myaml_import(f, err, sizeof(err));
		fclose(f);
		if (!m) {
			fprintf(stderr, "guard_demo: %s: %s\n", o->models[i], err);
			return -1;
		}
		if (set)
			policy_execset_add_model(set, m);
		if (ng) {
			n = policy_ports(m, NULL, DIM_NET_OUT, ports, 1024);
			for (size_t k = 0; k < n && k < 1024; k++)
				netguard_allow(ng, cg, ports[k].proto, ports[k].port);
			n = policy_ports(m, NULL, DIM_NET_LISTEN, ports, 1024);
			for (size_t k = 0; k < n && k < 1024; k++)
				netguard_allow_listen(ng, cg, ports[k].proto,
						      ports[k].port);
		}
		model_free(m);
	}
	return 0;
}

static void print_counters(struct netguard *ng, struct execguard *eg)
{
	struct netguard_counters nc;
	struct execguard_counters ec;

	netguard_counters(ng, &nc);
	execguard_counters(eg, &ec);
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "counters");
	jsonw_obj_open(jw, "net");
	jsonw_uint(jw, "checked", nc.checked);
	jsonw_uint(jw, "allowed", nc.allowed);
	jsonw_uint(jw, "would_block", nc.would_block);
	jsonw_uint(jw, "blocked", nc.blocked);
	jsonw_uint(jw, "dropped", nc.dropped);
	jsonw_uint(jw, "self", nc.self);
	jsonw_uint(jw, "bad_records", nc.bad_records);
	jsonw_uint(jw, "map_full", nc.map_full);
	jsonw_obj_close(jw);
	jsonw_obj_open(jw, "exec");
	jsonw_uint(jw, "events", ec.events);
	jsonw_uint(jw, "fast", ec.fast);
	jsonw_uint(jw, "checked", ec.checked);
	jsonw_uint(jw, "allowed", ec.allowed);
	jsonw_uint(jw, "denied", ec.denied);
	jsonw_uint(jw, "would_deny", ec.would_deny);
	jsonw_uint(jw, "late", ec.late);
	jsonw_uint(jw, "failed", ec.failed);
	jsonw_uint(jw, "overflow", ec.overflow);
	jsonw_uint(jw, "reports_dropped", ec.reports_dropped);
	jsonw_uint(jw, "marks", ec.marks);
	jsonw_uint(jw, "max_decide_us", ec.max_decide_us);
	jsonw_obj_close(jw);
	jsonw_obj_close(jw);
	emit();
}

int main(int argc, char **argv)
{
	struct netguard *ng = NULL;
	struct execguard *eg = NULL;
	struct policy_execset *set = NULL;
	char mount[CGROOT_PATH_MAX], rel[CGROOT_PATH_MAX], err[512];
	uint64_t cg;
	struct opts o;
	sigset_t ss;
	int sfd, rc, marked = 0;

	parse(argc, argv, &o);
	slow_ms = o.slow_ms;
	jw = jsonw_new();
	if (!jw)
		return 1;
	if ((rc = cgroot_mount(mount, sizeof(mount))) ||
	    (rc = cgroot_rel(mount, o.cgroup, rel, sizeof(rel))) ||
	    (rc = cgroot_id(mount, rel, &cg))) {
		fprintf(stderr, "guard_demo: cgroup %s: %s\n", o.cgroup,
			strerror(-rc));
		return 1;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL); /* before threads: they inherit it */
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	if (sfd < 0)
		return 1;

	if (!o.no_net) {
		ng = netguard_open(mount, on_net, NULL, err, sizeof(err));
		if (!ng) {
			fprintf(stderr, "guard_demo: %s\n", err);
			return 1;
		}
		for (int i = 0; i < o.nallow; i++)
			netguard_allow(ng, cg, o.allow[i].proto, o.allow[i].port);
		for (int i = 0; i < o.nlisten; i++)
			netguard_allow_listen(ng, cg, o.listen[i].proto,
					      o.listen[i].port);
	}
	if (!o.no_exec) {
		set = policy_execset_new();
		if (!set)
			return 1;
		for (int i = 0; i < o.nexec; i++)
			policy_execset_add(set, o.exec[i]);
		if (!o.no_drift) {
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			policy_execset_set_since(
				set, (uint64_t)now.tv_sec * 1000000000ULL +
					     (uint64_t)now.tv_nsec);
		}
	}
	if (load_models(&o, ng, cg, set))
		return 1;
	if (!o.no_exec) {
		struct execguard_opts eo = {(uint32_t)o.budget_ms,
					    o.report_allowed};

		eg = execguard_start(&eo, decide, NULL, err, sizeof(err));
		if (!eg) {
			fprintf(stderr, "guard_demo: %s\n", err);
			netguard_close(ng);
			return 1;
		}
		if (o.mark_pid) {
			marked = execguard_mark_mounts(eg, o.mark_pid);
			if (marked < 0)
				fprintf(stderr, "guard_demo: mark mounts: %s\n",
					strerror(-marked));
		}
		rc = execguard_protect(eg, rel, cg, o.mode, set, execset_free);
		if (rc) {
			fprintf(stderr, "guard_demo: protect exec: %s\n",
				strerror(-rc));
			return 1;
		}
	}
	/* allow entries first, then the switch: no transient blocks */
	if (ng && (rc = netguard_protect(ng, cg, o.mode))) {
		fprintf(stderr, "guard_demo: protect net: %s\n", strerror(-rc));
		return 1;
	}
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "ready");
	jsonw_str(jw, "cgroup", rel);
	jsonw_uint(jw, "cgroup_id", cg);
	jsonw_str(jw, "mode", o.mode == VGE_MODE_PROTECT ? "protect" : "shadow");
	jsonw_bool(jw, "net", ng != NULL);
	jsonw_bool(jw, "exec", eg != NULL);
	jsonw_uint(jw, "exec_patterns", policy_execset_count(set));
	jsonw_int(jw, "marked", marked);
	jsonw_int(jw, "pid", getpid());
	jsonw_obj_close(jw);
	emit();

	for (;;) {
		struct pollfd p[3] = {{sfd, POLLIN, 0},
				      {ng ? netguard_fd(ng) : -1, POLLIN, 0},
				      {eg ? execguard_fd(eg) : -1, POLLIN, 0}};

		if (poll(p, 3, 1000) < 0 && errno != EINTR)
			break;
		if (ng)
			netguard_poll(ng, 0);
		if (eg)
			execguard_poll(eg, on_exec, NULL);
		if (p[0].revents)
			break;
	}
	if (ng)
		netguard_poll(ng, 0);
	if (eg)
		execguard_poll(eg, on_exec, NULL);
	print_counters(ng, eg);
	execguard_stop(eg);
	netguard_close(ng);
	if (!eg)
		policy_execset_free(set);
	jsonw_free(jw);
	return 0;
}
