/* guard_demo.c - drives the enforcement modules (src/enforce) on one cgroup
 * for tests/e2e/test_enforce.py and bench/enforce_bench.sh.
 *
 *   guard_demo --cgroup PATH [--mode protect|shadow]
 *              [--allow tcp:PORT]... [--listen tcp:PORT]... [--exec PATTERN]...
 *              [--model FILE.yaml]... [--mark-pid PID] [--budget-ms N]
 *              [--slow-ms N] [--no-net] [--no-exec] [--no-drift]
 *              [--report-allowed]
 *              [--watch HOSTPATH]... [--deny-open PATTERN]...
 *              [--deny-open-write PATTERN]...
 *
 * PATH is the cgroup v2 path of a running container ("/name" or the full
 * path under the v2 mount). Allowed ports and exec patterns come from the
 * flags and/or exported models (`vigil model export` YAML, through
 * policy_allow). Files changed after the guard starts are drift (denied
 * even when their pattern is allowed) unless --no-drift. --slow-ms makes
 * each decision that slow (to test the watchdog). Prints one JSON object per
 * line: "ready" once enforcing, then each decision ("net", "exec"), and
 * "counters" after SIGTERM/SIGINT. Exit 0, or 1 when a guard cannot start
 * (the message says which), 2 on usage errors.
 *
 * Network rule sets (netguard_set_rules): any of these flags makes the
 * guard install --allow/--listen and them as one rule set:
 *   --deny PROTO:PORT         connects to PORT refused (deny beats allow)
 *   --deny-listen PROTO:PORT  binds to PORT refused
 *   --net-rule VERDICT:CIDR[:PROTO[:PORT]]
 *                             a destination prefix entry (connect), e.g.
 *                             deny:127.0.0.0/8:tcp:8080, allow:::1/128,
 *                             deny:[::1]/128:any:22 (brackets optional)
 *   --net-default allow|block, --bind-default allow|block
 *                             what no entry speaks for (default: block)
 *   --prefix-match longest|all
 *                             only the longest covering prefix counts
 *                             (default), or all of them (all_prefixes)
 *   --rules FILE              more of the same, one per line: the flag
 *                             name without "--" (allow, listen, deny,
 *                             deny-listen, net-rule, net-default,
 *                             bind-default, prefix-match), blanks, the
 *                             value; "#" lines
 *                             and empty lines are skipped
 * VERDICT is allow or deny, PROTO tcp, udp or any, PORT 0 = any port; the
 * IPv6 address of a CIDR ends at the "/". SIGUSR1 re-reads FILE and
 * replaces the whole set (flags + FILE; --model ports are not kept) with
 * netguard_set_rules(), then prints a "rules" line (rc, reload count,
 * entries); SIGUSR2 calls netguard_release() on the cgroup and prints a
 * "released" line (rc). "net" lines carry "reason": "rule" (a deny matched) or
 * "default".
 *
 * Opens: --watch marks a host path for opens (a file, a directory's direct
 * children, or with a final "/" "**" a directory tree), e.g.
 * /proc/PID/root/etc/shadow; --deny-open refuses opens of paths (as the
 * container sees them, gen_match patterns), --deny-open-write only opens
 * that may write (flags unknown count as writing). Each judged open is an
 * "open" line (op, flags, access, comm, proc_exe). SIGHUP undoes every
 * --watch (execguard_unwatch_path) and prints an "unwatched" line. Exec
 * checks stay on unless --no-exec (then execs are allowed unasked). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "enforce/cgroot.h"
#include "enforce/execguard.h"
#include "enforce/netguard.h"
#include "enforce/policy_allow.h"
#include "lib/jsonw.h"
#include "model/generalize.h"
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

/* opens: --watch, --deny-open, --deny-open-write; watched files by inode
 * (a hard link is opened under another name: judged by the watched one) */
static struct {
	const char *watch[MAX_ITEMS], *deny[MAX_ITEMS], *deny_write[MAX_ITEMS];
	int nwatch, ndeny, ndeny_write;
	struct {
		dev_t dev;
		ino_t ino;
		const char *name; /* as the container sees it */
	} file[MAX_ITEMS];
	int nfile;
} oo;

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
		"[--no-drift] [--report-allowed] [--watch HOSTPATH]... "
		"[--deny-open PATTERN]... [--deny-open-write PATTERN]...\n");
	fprintf(stderr,
		"       network rules: [--deny PROTO:PORT]... "
		"[--deny-listen PROTO:PORT]... "
		"[--net-rule allow|deny:CIDR[:PROTO[:PORT]]]... "
		"[--net-default allow|block] [--bind-default allow|block] "
		"[--prefix-match longest|all] [--rules FILE]\n");
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

/* network rule sets: --deny, --deny-listen, --net-rule, --net-default,
 * --bind-default, --rules (see the header) */
#define NR_MAX 1024

struct nrset {
	struct netguard_port_rule conn[NR_MAX], bind[NR_MAX];
	struct netguard_prefix_rule pfx[NR_MAX];
	int nconn, nbind, npfx;
	int net_default, bind_default; /* VGE_VERDICT_*, 0 = block */
	int all_prefixes;
};

static struct {
	struct nrset flags; /* from the command line */
	const char *file;   /* --rules */
	int used;	    /* install with netguard_set_rules */
	int reloads;
} nr;

/* "tcp" / "udp" / "any" of length n -> protocol number, or -1 */
static int nr_proto(const char *s, size_t n)
{
	if (n == 3 && !strncmp(s, "tcp", 3))
		return VGE_PROTO_TCP;
	if (n == 3 && !strncmp(s, "udp", 3))
		return VGE_PROTO_UDP;
	if (n == 3 && !strncmp(s, "any", 3))
		return VGE_PROTO_ANY;
	return -1;
}

/* a whole decimal number in [0, max], or -1 */
static long nr_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v > max)
		return -1;
	return v;
}

/* PROTO:PORT */
static int nr_port(const char *v, uint8_t verdict,
		   struct netguard_port_rule *r)
{
	const char *c = strchr(v, ':');
	int proto;
	long port;

	if (!c || (proto = nr_proto(v, (size_t)(c - v))) < 0 ||
	    (port = nr_num(c + 1, 65535)) < 0)
		return -1;
	r->proto = (uint8_t)proto;
	r->port = (uint16_t)port;
	r->verdict = verdict;
	return 0;
}

/* VERDICT:CIDR[:PROTO[:PORT]] */
static int nr_prefix(const char *v, struct netguard_prefix_rule *p)
{
	char addr[INET6_ADDRSTRLEN + 2], num_s[8];
	const char *c = strchr(v, ':'), *a, *slash, *rest;
	long plen, port = 0;
	int proto = VGE_PROTO_ANY;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (!c)
		return -1;
	if ((size_t)(c - v) == 5 && !strncmp(v, "allow", 5))
		p->verdict = VGE_VERDICT_ALLOW;
	else if ((size_t)(c - v) == 4 && !strncmp(v, "deny", 4))
		p->verdict = VGE_VERDICT_DENY;
	else
		return -1;
	a = c + 1;
	slash = strchr(a, '/');
	if (!slash || (n = (size_t)(slash - a)) == 0 || n >= sizeof(addr))
		return -1;
	if (a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
	}
	memcpy(addr, a, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = 2;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = 10;
	else
		return -1;
	rest = strchr(slash + 1, ':');
	n = rest ? (size_t)(rest - slash - 1) : strlen(slash + 1);
	if (n == 0 || n >= sizeof(num_s))
		return -1;
	memcpy(num_s, slash + 1, n);
	num_s[n] = 0;
	plen = nr_num(num_s, p->family == 2 ? 32 : 128);
	if (plen < 0)
		return -1;
	p->plen = (uint8_t)plen;
	if (rest) {
		const char *c2 = strchr(rest + 1, ':');

		n = c2 ? (size_t)(c2 - rest - 1) : strlen(rest + 1);
		proto = nr_proto(rest + 1, n);
		if (proto < 0 || (c2 && (port = nr_num(c2 + 1, 65535)) < 0))
			return -1;
	}
	p->proto = (uint8_t)proto;
	p->port = (uint16_t)port;
	return 0;
}

/* one rule (flag name without "--") into s: 1 done, 0 not a rule name,
 * -1 bad value or too many */
static int nr_opt(struct nrset *s, const char *name, const char *v)
{
	int d;

	if (!strcmp(name, "allow") || !strcmp(name, "deny")) {
		if (s->nconn == NR_MAX)
			return -1;
		d = name[0] == 'a' ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
		return nr_port(v, (uint8_t)d, &s->conn[s->nconn++]) ? -1 : 1;
	}
	if (!strcmp(name, "listen") || !strcmp(name, "deny-listen")) {
		if (s->nbind == NR_MAX)
			return -1;
		d = name[0] == 'l' ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
		return nr_port(v, (uint8_t)d, &s->bind[s->nbind++]) ? -1 : 1;
	}
	if (!strcmp(name, "net-rule"))
		return s->npfx == NR_MAX || nr_prefix(v, &s->pfx[s->npfx++])
			       ? -1 : 1;
	if (!strcmp(name, "net-default") || !strcmp(name, "bind-default")) {
		if (strcmp(v, "allow") && strcmp(v, "block"))
			return -1;
		d = !strcmp(v, "allow") ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
		if (name[0] == 'n')
			s->net_default = d;
		else
			s->bind_default = d;
		return 1;
	}
	if (!strcmp(name, "prefix-match")) {
		if (strcmp(v, "longest") && strcmp(v, "all"))
			return -1;
		s->all_prefixes = !strcmp(v, "all");
		return 1;
	}
	return 0;
}

/* parse(): a network-rule flag? (exits 2 on a bad value) */
static int nr_flag(const char *a, const char *v)
{
	int rc;

	if (!strcmp(a, "--allow") || !strcmp(a, "--listen") ||
	    strncmp(a, "--", 2))
		return 0;
	if (!strcmp(a, "--rules")) {
		nr.file = v;
		nr.used = 1;
		return 1;
	}
	rc = nr_opt(&nr.flags, a + 2, v);
	if (rc < 0) {
		fprintf(stderr, "guard_demo: bad %s '%s'\n", a, v);
		exit(2);
	}
	if (rc)
		nr.used = 1;
	return rc;
}

/* the lines of --rules FILE into s; -errno */
static int nr_file(const char *path, struct nrset *s)
{
	char line[512];
	int rc = 0, ln = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		char *name = line, *v, *end;

		ln++;
		name += strspn(name, " \t");
		end = name + strcspn(name, "\r\n");
		*end = 0;
		if (!*name || *name == '#')
			continue;
		v = name + strcspn(name, " \t");
		if (*v)
			*v++ = 0;
		v += strspn(v, " \t");
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		if (nr_opt(s, name, v) != 1) {
			fprintf(stderr, "guard_demo: %s:%d: bad rule\n", path,
				ln);
			rc = -EINVAL;
		}
	}
	fclose(f);
	return rc;
}

/* the whole set (flags, --allow, --listen, FILE) -> netguard_set_rules */
static int nr_apply(struct netguard *ng, uint64_t cg, const struct opts *o,
		    int mode, struct nrset *s)
{
	struct netguard_rules r;
	int rc;

	*s = nr.flags;
	for (int i = 0; i < o->nallow && s->nconn < NR_MAX; i++)
		s->conn[s->nconn++] = (struct netguard_port_rule){
			o->allow[i].proto, VGE_VERDICT_ALLOW, o->allow[i].port};
	for (int i = 0; i < o->nlisten && s->nbind < NR_MAX; i++)
		s->bind[s->nbind++] = (struct netguard_port_rule){
			o->listen[i].proto, VGE_VERDICT_ALLOW,
			o->listen[i].port};
	if (nr.file && (rc = nr_file(nr.file, s)))
		return rc;
	memset(&r, 0, sizeof(r));
	r.connect = s->conn;
	r.n_connect = (size_t)s->nconn;
	r.bind = s->bind;
	r.n_bind = (size_t)s->nbind;
	r.prefixes = s->pfx;
	r.n_prefixes = (size_t)s->npfx;
	r.connect_default = (uint8_t)s->net_default;
	r.bind_default = (uint8_t)s->bind_default;
	r.all_prefixes = (uint8_t)s->all_prefixes;
	return netguard_set_rules(ng, cg, mode, &r);
}

/* SIGUSR1: replace the rule set, print a "rules" line */
static void nr_reload(struct netguard *ng, uint64_t cg, const struct opts *o)
{
	static struct nrset s;
	int rc = nr_apply(ng, cg, o, o->mode, &s);

	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "rules");
	jsonw_int(jw, "rc", rc);
	jsonw_int(jw, "reload", ++nr.reloads);
	jsonw_int(jw, "connect", s.nconn);
	jsonw_int(jw, "bind", s.nbind);
	jsonw_int(jw, "prefixes", s.npfx);
	jsonw_obj_close(jw);
	emit();
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
		else if (nr_flag(a, v))
			; /* network rule sets */
		else if (!strcmp(a, "--watch") && oo.nwatch < MAX_ITEMS)
			oo.watch[oo.nwatch++] = v;
		else if (!strcmp(a, "--deny-open") && oo.ndeny < MAX_ITEMS)
			oo.deny[oo.ndeny++] = v;
		else if (!strcmp(a, "--deny-open-write") &&
			 oo.ndeny_write < MAX_ITEMS)
			oo.deny_write[oo.ndeny_write++] = v;
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
	jsonw_str(jw, "reason",
		  d->reason == VGE_REASON_RULE ? "rule" : "default");
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

/* an "open" line: the same fields as "exec", plus the flags */
static void on_open(const struct execguard_report *r)
{
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "open");
	jsonw_str(jw, "op", "open");
	jsonw_str(jw, "outcome", outcome_name(r->outcome));
	jsonw_str(jw, "path", r->exe_path);
	jsonw_int(jw, "flags", r->open_flags);
	jsonw_int(jw, "flags_known", r->flags_known);
	jsonw_str(jw, "access", !r->flags_known ? "unknown"
				: execguard_open_writes(r->open_flags) ? "write"
								       : "read");
	jsonw_bool(jw, "via_exec", r->via_exec);
	jsonw_int(jw, "pid", r->pid);
	jsonw_int(jw, "tid", r->tid);
	jsonw_str(jw, "comm", r->comm);
	jsonw_str(jw, "proc_exe", r->proc_exe);
	jsonw_str(jw, "reason", r->reason);
	jsonw_uint(jw, "decide_us", r->decide_us);
	jsonw_str(jw, "cgroup", r->cgroup_path);
	jsonw_uint(jw, "cgroup_id", r->cgroup_id);
	jsonw_obj_close(jw);
	emit();
}

/* the watched name of the opened inode, NULL if it is no watched file */
static const char *watched_name(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return NULL;
	for (int i = 0; i < oo.nfile; i++)
		if (oo.file[i].dev == st.st_dev && oo.file[i].ino == st.st_ino)
			return oo.file[i].name;
	return NULL;
}

/* runs on the decider thread: the pattern lists are fixed after parse() */
static int decide_open(const struct execguard_req *r, char *reason,
		       size_t cap)
{
	const char *alias = watched_name(r->fd);

#define OPEN_HIT(pat) \
	(gen_match((pat), r->exe_path) || (alias && gen_match((pat), alias)))
	for (int i = 0; i < oo.ndeny; i++)
		if (OPEN_HIT(oo.deny[i])) {
			snprintf(reason, cap, "open denied (%s)", oo.deny[i]);
			return EXECGUARD_DENY;
		}
	for (int i = 0; i < oo.ndeny_write; i++) {
		if (!OPEN_HIT(oo.deny_write[i]))
			continue;
		if (!r->flags_known) {
			snprintf(reason, cap, "flags unknown: may write (%s)",
				 oo.deny_write[i]);
			return EXECGUARD_DENY;
		}
		if (execguard_open_writes(r->open_flags)) {
			snprintf(reason, cap, "open for writing denied (%s)",
				 oo.deny_write[i]);
			return EXECGUARD_DENY;
		}
	}
#undef OPEN_HIT
	return EXECGUARD_ALLOW;
}

static void on_exec(void *ctx, const struct execguard_report *r)
{
	(void)ctx;
	if (r->op == EXECGUARD_OP_OPEN) {
		on_open(r);
		return;
	}
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "exec");
	jsonw_str(jw, "op", "exec");
	jsonw_str(jw, "outcome", outcome_name(r->outcome));
	jsonw_str(jw, "path", r->exe_path);
	jsonw_int(jw, "pid", r->pid);
	jsonw_str(jw, "comm", r->comm);
	jsonw_str(jw, "proc_exe", r->proc_exe);
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
	if (r->op == EXECGUARD_OP_EXEC && !r->cg_ctx)
		return EXECGUARD_ALLOW; /* --no-exec: only opens are judged */
	if (slow_ms) {
		struct timespec ts = {slow_ms / 1000, (slow_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	if (r->op == EXECGUARD_OP_OPEN)
		return decide_open(r, reason, cap);
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
	jsonw_uint(jw, "opens", ec.opens);
	jsonw_uint(jw, "flags_unknown", ec.flags_unknown);
	jsonw_uint(jw, "watches", ec.watches);
	jsonw_uint(jw, "watch_truncated", ec.watch_truncated);
	jsonw_uint(jw, "watch_stale", ec.watch_stale);
	jsonw_obj_close(jw);
	jsonw_obj_close(jw);
	emit();
}

/* --watch: a final "/" "**" watches the tree; returns inodes watched or -1 */
static int watch_paths(struct execguard *eg)
{
	int total = 0;

	for (int i = 0; i < oo.nwatch; i++) {
		const char *w = oo.watch[i];
		size_t n = strlen(w);
		int rc;

		if (n >= 3 && !strcmp(w + n - 3, "/**")) {
			char dir[4096];

			snprintf(dir, sizeof(dir), "%.*s", (int)(n - 3), w);
			rc = execguard_watch_path_tree(eg, dir[0] ? dir : "/", 4096);
		} else {
			struct stat st;
			const char *name = w;

			rc = execguard_watch_path(eg, w);
			rc = rc ? rc : 1;
			/* "/proc/PID/root/x" -> "/x" */
			if (!strncmp(w, "/proc/", 6) && strstr(w, "/root/"))
				name = strstr(w, "/root/") + 5;
			if (rc > 0 && !stat(w, &st) && S_ISREG(st.st_mode) &&
			    oo.nfile < MAX_ITEMS) {
				oo.file[oo.nfile].dev = st.st_dev;
				oo.file[oo.nfile].ino = st.st_ino;
				oo.file[oo.nfile++].name = name;
			}
		}
		if (rc < 0) {
			fprintf(stderr, "guard_demo: watch %s: %s\n", w,
				strerror(-rc));
			return -1;
		}
		total += rc;
	}
	return total;
}

/* SIGHUP: undo every --watch, one registration each */
static void unwatch_paths(struct execguard *eg)
{
	struct execguard_counters c;
	int failed = 0;

	for (int i = 0; i < oo.nwatch; i++) {
		const char *w = oo.watch[i];
		size_t n = strlen(w);
		char dir[4096];

		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(n >= 3 && !strcmp(w + n - 3, "/**") ? n - 3 : n), w);
		if (execguard_unwatch_path(eg, dir[0] ? dir : "/"))
			failed++;
	}
	execguard_counters(eg, &c);
	jsonw_obj_open(jw, NULL);
	jsonw_str(jw, "event", "unwatched");
	jsonw_int(jw, "failed", failed);
	jsonw_uint(jw, "watches", c.watches);
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
	int sfd, rc, marked = 0, watched = 0;

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
	sigaddset(&ss, SIGHUP); /* unwatch the --watch paths */
	sigaddset(&ss, SIGUSR1); /* --rules: replace the network rule set */
	sigaddset(&ss, SIGUSR2); /* netguard_release() the cgroup */
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
		/* a rule set replaces the allows above (it holds them too);
		 * off for now: netguard_protect() below switches it on */
		if (nr.used) {
			static struct nrset s;

			rc = nr_apply(ng, cg, &o, VGE_MODE_OFF, &s);
			if (rc) {
				fprintf(stderr, "guard_demo: net rules: %s\n",
					strerror(-rc));
				return 1;
			}
		}
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
	if (!o.no_exec || oo.nwatch) {
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
		if ((watched = watch_paths(eg)) < 0)
			return 1;
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
	jsonw_int(jw, "watched", watched);
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
		if (p[0].revents) {
			struct signalfd_siginfo si;

			si.ssi_signo = 0; /* a failed read is no reload */
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
			    si.ssi_signo == SIGHUP) {
				if (eg)
					unwatch_paths(eg);
				continue;
			}
			if (si.ssi_signo == SIGUSR1) {
				if (ng)
					nr_reload(ng, cg, &o);
				continue;
			}
			if (si.ssi_signo == SIGUSR2) {
				jsonw_obj_open(jw, NULL);
				jsonw_str(jw, "event", "released");
				jsonw_int(jw, "rc", ng ? netguard_release(ng, cg)
						       : -ENODEV);
				jsonw_obj_close(jw);
				emit();
				continue;
			}
			break;
		}
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
