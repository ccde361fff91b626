/* test_rules.c - the rule language (parse errors with lines) and every
 * built-in detection against a synthetic attack and its benign twin. */
#include <string.h>
#include "detect/detect.h"
#include "harness.h"
#include "vigil_event.h"

static const char *fired[16];
static int nfired;

static void cb(void *ctx, const struct detection *d)
{
	(void)ctx;
	if (nfired < 16)
		fired[nfired++] = d->rule->id;
}

static struct resource ctr, host;
static struct proc_info proc, parent;

static void hdr(void *rec, uint16_t type, uint16_t size)
{
	struct vg_hdr *h = rec;

	memset(rec, 0, size);
	h->type = type;
	h->size = size;
	h->abi = VG_ABI_VERSION;
	h->pid = 100;
	h->uid = 0;
	memcpy(h->comm, "proc", 5);
}

/* Runs one event through a fresh engine of the built-in rules; returns
 * whether rule `id` fired. */
static int fires(const char *id, const void *rec, int in_container,
		 const char *name, const char *pname)
{
	char err[256];
	struct ruleset *rs = rules_parse(rules_builtin_yaml, rules_builtin_yaml_len,
					 "builtin", err, sizeof(err));
	struct detect *d = detect_new(rs, cb, NULL);
	struct enrich_view v = {.res = in_container ? &ctr : &host,
				.proc = &proc, .parent = &parent};
	int hit = 0;

	snprintf(proc.name, sizeof(proc.name), "%s", name);
	snprintf(parent.name, sizeof(parent.name), "%s", pname);
	nfired = 0;
	detect_event(d, rec, &v, 1000);
	for (int i = 0; i < nfired; i++)
		hit |= !strcmp(fired[i], id);
	detect_free(d);
	return hit;
}

int main(void)
{
	char err[256];
	struct ruleset *rs;

	ctr.cg.runtime = CG_RUNC;
	ctr.key = 7;
	snprintf(ctr.cg.container_id, sizeof(ctr.cg.container_id), "web");
	host.key = 1;
	proc.exec_uid = 0;

	rs = rules_parse(rules_builtin_yaml, rules_builtin_yaml_len, "builtin", err,
			 sizeof(err));
	CHECK(rs != NULL);
	CHECK(rs && rs->n >= 15);
	rules_free(rs);

	{ /* parse errors name the line */
		static const char bad1[] = "- id: x\n  title: t\n  match:\n    proces.name: sh\n";
		static const char bad2[] = "- id: x\n  title: t\n  score: 300\n  match: {action: exec}\n";
		static const char bad3[] = "- id: x\n  match: {action: exec}\n";
		static const char bad4[] = "- id: a\n  title: t\n  match: {action: exec}\n- id: a\n  title: t\n  match: {action: exec}\n";

		CHECK(rules_parse(bad1, sizeof(bad1) - 1, "r.yaml", err, sizeof(err)) == NULL);
		CHECK_STR(err, "r.yaml:4: unknown field 'proces.name'");
		CHECK(rules_parse(bad2, sizeof(bad2) - 1, "r.yaml", err, sizeof(err)) == NULL);
		CHECK_STR(err, "r.yaml:3: score must be 0-100");
		CHECK(rules_parse(bad3, sizeof(bad3) - 1, "r.yaml", err, sizeof(err)) == NULL);
		CHECK(strstr(err, "needs an id and a title") != NULL);
		CHECK(rules_parse(bad4, sizeof(bad4) - 1, "r.yaml", err, sizeof(err)) == NULL);
		CHECK(strstr(err, "duplicate rule id 'a'") != NULL);
		CHECK(rules_parse("[", 1, "r.yaml", err, sizeof(err)) == NULL);
		CHECK(strncmp(err, "r.yaml:", 7) == 0);
	}

	{ /* shell in container: spawned by awk fires, by sh or runc does not */
		struct vg_exec x;

		hdr(&x, VG_EXEC, sizeof(x));
		snprintf(x.exe, sizeof(x.exe), "/bin/busybox");
		CHECK(fires("shell-in-container", &x, 1, "sh", "awk"));
		CHECK(!fires("shell-in-container", &x, 1, "sh", "sh"));
		CHECK(!fires("shell-in-container", &x, 1, "sh", "runc"));
		CHECK(!fires("shell-in-container", &x, 0, "sh", "awk"));
		x.h.flags = VG_F_STDIN_SOCK;
		CHECK(fires("reverse-shell", &x, 0, "bash", "nc"));
		x.h.flags = 0;
		CHECK(!fires("reverse-shell", &x, 0, "bash", "nc"));
		x.h.flags = VG_F_EXE_MEMFD;
		CHECK(fires("fileless-exec", &x, 0, "x", "sh"));
		x.h.flags = 0;
		CHECK(!fires("fileless-exec", &x, 0, "x", "sh"));
		CHECK(fires("package-manager-in-container", &x, 1, "apt-get", "sh"));
		CHECK(!fires("package-manager-in-container", &x, 0, "apt-get", "sh"));
		CHECK(fires("crypto-miner", &x, 0, "xmrig", "sh"));
		CHECK(!fires("crypto-miner", &x, 0, "nginx", "sh"));
		memcpy(x.args, "run\0-o\0stratum+tcp://pool:3333", 31);
		x.args_len = 31;
		CHECK(fires("crypto-miner", &x, 0, "run", "sh"));
	}
	{ /* files */
		struct vg_file f;

		hdr(&f, VG_OPEN, sizeof(f));
		f.access = VG_ACC_READ;
		snprintf(f.path, sizeof(f.path), "/etc/shadow");
		CHECK(fires("credential-file-read", &f, 1, "cat", "sh"));
		CHECK(!fires("credential-file-read", &f, 1, "sshd", "sh"));
		snprintf(f.path, sizeof(f.path), "/etc/passwd");
		CHECK(!fires("credential-file-read", &f, 1, "cat", "sh"));
		snprintf(f.path, sizeof(f.path), "/home/ann/.ssh/id_ed25519");
		CHECK(fires("credential-file-read", &f, 0, "cat", "sh"));
		f.access = VG_ACC_WRITE | VG_ACC_CREATE;
		snprintf(f.path, sizeof(f.path), "/usr/bin/evil");
		CHECK(fires("write-below-binary-dir", &f, 1, "sh", "sh"));
		CHECK(!fires("write-below-binary-dir", &f, 1, "dpkg", "apt"));
		snprintf(f.path, sizeof(f.path), "/tmp/fine");
		CHECK(!fires("write-below-binary-dir", &f, 1, "sh", "sh"));
		snprintf(f.path, sizeof(f.path), "/etc/cron.d/job");
		CHECK(fires("write-below-etc", &f, 1, "sh", "sh"));
		f.access = VG_ACC_READ;
		CHECK(!fires("write-below-etc", &f, 1, "sh", "sh"));
		hdr(&f, VG_UNLINK, sizeof(f));
		snprintf(f.path, sizeof(f.path), "/var/log/auth.log");
		CHECK(fires("log-tampering", &f, 0, "rm", "sh"));
		snprintf(f.path, sizeof(f.path), "/root/.bash_history");
		CHECK(fires("log-tampering", &f, 0, "rm", "sh"));
		snprintf(f.path, sizeof(f.path), "/tmp/x.log");
		CHECK(!fires("log-tampering", &f, 0, "rm", "sh"));
		hdr(&f, VG_RENAME, sizeof(f));
		snprintf(f.path, sizeof(f.path), "/tmp/x");
		snprintf(f.path2, sizeof(f.path2), "/bin/ls");
		CHECK(fires("write-below-binary-dir", &f, 0, "mv", "sh"));
	}
	{ /* network */
		struct vg_net n;

		hdr(&n, VG_CONNECT, sizeof(n));
		n.family = 2;
		n.rport = 3333;
		CHECK(fires("crypto-miner", &n, 1, "x", "sh"));
		n.rport = 8080;
		CHECK(!fires("crypto-miner", &n, 1, "x", "sh"));
	}
	{ /* privilege */
		struct vg_priv p;

		hdr(&p, VG_SETUID, sizeof(p));
		p.arg[0] = 0;
		proc.exec_uid = 1000;
		CHECK(fires("setuid-root-from-non-root", &p, 0, "exploit", "sh"));
		proc.exec_uid = 0;
		CHECK(!fires("setuid-root-from-non-root", &p, 0, "daemon", "sh"));
		proc.exec_uid = 1000;
		p.h.ret = -1;
		CHECK(!fires("setuid-root-from-non-root", &p, 0, "exploit", "sh"));
		proc.exec_uid = 0;
		hdr(&p, VG_CAPSET, sizeof(p));
		p.arg[0] = 1ULL << 21;
		CHECK(fires("capset-dangerous", &p, 1, "x", "sh"));
		p.arg[0] = 1ULL << 10;
		CHECK(!fires("capset-dangerous", &p, 1, "x", "sh"));
		hdr(&p, VG_PTRACE, sizeof(p));
		p.arg[0] = 16;
		CHECK(fires("ptrace-attach", &p, 0, "x", "sh"));
		p.arg[0] = 0; /* PTRACE_TRACEME */
		CHECK(!fires("ptrace-attach", &p, 0, "x", "sh"));
		hdr(&p, VG_MODULE_LOAD, sizeof(p));
		CHECK(fires("kernel-module-load", &p, 0, "insmod", "sh"));
		hdr(&p, VG_MOUNT, sizeof(p));
		CHECK(fires("container-escape-attempt", &p, 1, "mount", "sh"));
		CHECK(!fires("container-escape-attempt", &p, 0, "mount", "sh"));
	}
	{ /* drift: a write then an exec of the same path, in one engine */
		char err2[256];
		struct ruleset *r2 = rules_parse(rules_builtin_yaml, rules_builtin_yaml_len,
						 "builtin", err2, sizeof(err2));
		struct detect *d = detect_new(r2, cb, NULL);
		struct enrich_view v = {.res = &ctr, .proc = &proc, .parent = &parent};
		struct vg_file f;
		struct vg_exec x;
		int drift = 0;

		hdr(&f, VG_OPEN, sizeof(f));
		f.access = VG_ACC_WRITE | VG_ACC_CREATE;
		snprintf(f.path, sizeof(f.path), "/tmp/dropper");
		hdr(&x, VG_EXEC, sizeof(x));
		snprintf(x.exe, sizeof(x.exe), "/tmp/dropper");
		nfired = 0;
		detect_event(d, &x, &v, 10); /* before the write: no drift */
		for (int i = 0; i < nfired; i++)
			drift |= !strcmp(fired[i], "drift-exec");
		CHECK(!drift);
		detect_event(d, &f, &v, 20);
		nfired = 0;
		detect_event(d, &x, &v, 30);
		for (int i = 0; i < nfired; i++)
			drift |= !strcmp(fired[i], "drift-exec");
		CHECK(drift);
		nfired = 0; /* a repeat within the minute is counted, not reported */
		detect_event(d, &x, &v, 40);
		CHECK_INT(nfired, 0);
		detect_free(d);
	}
	{ /* context: time windows and the resource's age (recent deployment) */
		static const char ctx_rules[] =
			"- id: night-shell\n  title: shell at night\n"
			"  match:\n    action: exec\n    time.hour: [\">=22\", \"<6\"]\n"
			"- id: late-install\n  title: install after deployment\n"
			"  match:\n    action: exec\n    resource.age: \">=300\"\n"
			"    time.weekday: [mon, tue, wed, thu, fri]\n";
		char e2[256];
		struct ruleset *r3 = rules_parse(ctx_rules, sizeof(ctx_rules) - 1,
						 "ctx.yaml", e2, sizeof(e2));
		struct detect *d = detect_new(r3, cb, NULL);
		struct enrich_view v = {.res = &ctr, .proc = &proc, .parent = &parent};
		struct vg_exec x;
		/* 2026-11-02 (a Monday) 23:00 UTC */
		uint64_t t0 = 1793660400ULL * 1000000000ULL;
		int night = 0, late = 0;

		CHECK(r3 != NULL);
		hdr(&x, VG_EXEC, sizeof(x));
		nfired = 0;
		detect_event(d, &x, &v, t0);
		for (int i = 0; i < nfired; i++) {
			night |= !strcmp(fired[i], "night-shell");
			late |= !strcmp(fired[i], "late-install");
		}
		CHECK(night && !late); /* first event: age 0 */
		nfired = 0;
		night = late = 0;
		detect_event(d, &x, &v, t0 + 10ULL * 3600000000000ULL); /* Tue 09:00 */
		for (int i = 0; i < nfired; i++) {
			night |= !strcmp(fired[i], "night-shell");
			late |= !strcmp(fired[i], "late-install");
		}
		CHECK(!night && late);
		detect_free(d);
	}
	return h_finish("rules");
}
