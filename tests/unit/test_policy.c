/* test_policy.c - the policy language: the parsed form and its defaults,
 * every kind of rule matching and not matching, selection of hosts and
 * containers, the decision over several policies, the dump, loading files
 * and directories, and the reference count. (Every parse error:
 * test_policy_errors.c; canonical dumps of whole files:
 * test_policy_golden.c; garbage input: test_policy_fuzz.c.) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "policy/policy.h"

static char err[512];

static struct policyset *parse(const char *y)
{
	struct policyset *s = policy_parse(y, strlen(y), "t.yaml", err, sizeof(err));

	if (!s)
		fprintf(stderr, "unexpected parse error: %s\n", err);
	return s;
}

/* Rule i of policy 0 of s; a rule of no kind (matching nothing) when s
 * failed to parse, so the CHECK that s parsed is the one that fails. */
static const struct pol_rule *rule(const struct policyset *s, size_t i)
{
	static struct pol_rule none = {.kind = (enum pol_kind)99};

	return s && s->n && i < s->pol[0].n_rules ? &s->pol[0].rules[i] : &none;
}

/* One policy selecting all, with the rules text (indented 2, from line 4). */
#define HEAD "name: p\nselector: {all: true}\nrules:\n"

static struct pol_query qproc(const char *exe, const char *pexe, const char *pname)
{
	struct pol_query q = {.kind = POL_PROCESS, .exe = exe, .parent_exe = pexe,
			      .parent_name = pname};
	return q;
}

static struct pol_query qfile(const char *path, unsigned acc)
{
	struct pol_query q = {.kind = POL_FILE, .exe = "/bin/cat", .path = path,
			      .access = acc};
	return q;
}

static struct pol_query qnet(const char *addr, uint16_t port, uint8_t proto)
{
	struct pol_query q = {.kind = POL_NETWORK, .proto = proto, .port = port};

	if (inet_pton(AF_INET, addr, q.addr) == 1)
		q.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, q.addr) == 1)
		q.family = AF_INET6;
	return q;
}

static struct pol_query qdns(const char *name)
{
	struct pol_query q = {.kind = POL_NETWORK, .proto = 17, .dns = name};
	return q;
}

static struct pol_query qlisten(uint16_t port, uint8_t proto)
{
	struct pol_query q = {.kind = POL_NETWORK, .is_listen = 1, .proto = proto,
			      .port = port, .family = AF_INET};
	return q;
}

static struct pol_query qpriv(unsigned bit)
{
	struct pol_query q = {.kind = POL_PRIV, .priv = bit};
	return q;
}

static int matches(const struct policyset *s, size_t i, struct pol_query q)
{
	return pol_rule_matches(rule(s, i), &q);
}

static void test_parsed_form(void)
{
	struct policyset *s = parse(
		"name: web\n"
		"selector: {container: web-*}\n"
		"severity: high\n"
		"default: block\n"
		"rules:\n"
		"  - id: a\n"
		"    action: alert\n"
		"    process: {exe: /bin/sh}\n"
		"  - id: b\n"
		"    action: kill\n"
		"    severity: low\n"
		"    scope: container\n"
		"    freeze: yes\n"
		"    mitre: [T1059.004, T1611]\n"
		"    description: shells\n"
		"    privileged: [setuid, memfd_exec]\n"
		"  - id: c\n"
		"    action: alert\n"
		"    file: {paths: /etc/**}\n"
		"  - id: d\n"
		"    action: allow\n"
		"    network: {to: [\"10.1.2.3/8\", \"fd00:1::5/16\", 192.168.1.7, \"::1\"]}\n");
	const struct pol_rule *r;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(s->n, 1);
	CHECK_INT(s->refs, 1);
	CHECK_STR(s->pol[0].file, "t.yaml");
	CHECK_INT(s->pol[0].line, 1);
	CHECK_INT(s->pol[0].n_rules, 4);
	/* scalar default: the kinds with allow rules among process and
	 * network (process has an alert rule only) */
	CHECK_INT(s->pol[0].dflt[POL_PROCESS], POL_ALLOW);
	CHECK_INT(s->pol[0].dflt[POL_NETWORK], POL_BLOCK);
	CHECK_INT(s->pol[0].dflt[POL_FILE], POL_ALLOW);
	CHECK_INT(s->pol[0].dflt[POL_PRIV], POL_ALLOW);
	r = rule(s, 0);
	CHECK_INT(r->line, 6);
	CHECK_INT(r->severity, 3); /* the policy's */
	CHECK_INT(r->scope, POL_SCOPE_PROCESS);
	CHECK_INT(r->freeze, 0);
	CHECK(r->description == NULL);
	r = rule(s, 1);
	CHECK_INT(r->severity, 1);
	CHECK_INT(r->scope, POL_SCOPE_CONTAINER);
	CHECK_INT(r->freeze, 1);
	CHECK_INT(r->mitre.n, 2);
	CHECK_STR(r->mitre.n == 2 ? r->mitre.v[1] : NULL, "T1611");
	CHECK_STR(r->description, "shells");
	CHECK_INT(r->priv, POL_PRIV_SETUID | POL_PRIV_MEMFD_EXEC);
	r = rule(s, 2);
	CHECK_INT(r->access, POL_ACC_ALL);
	r = rule(s, 3);
	CHECK_INT(r->n_to, 4);
	if (r->n_to == 4) { /* host bits cleared; a bare address is /32, /128 */
		static const uint8_t v6[16] = {0xfd, 0};

		CHECK_INT(r->to[0].family, AF_INET);
		CHECK_INT(r->to[0].plen, 8);
		CHECK(!memcmp(r->to[0].addr, "\x0a\0\0\0", 4));
		CHECK_INT(r->to[1].family, AF_INET6);
		CHECK_INT(r->to[1].plen, 16);
		CHECK(!memcmp(r->to[1].addr, v6, 16));
		CHECK_INT(r->to[2].plen, 32);
		CHECK(!memcmp(r->to[2].addr, "\xc0\xa8\x01\x07", 4));
		CHECK_INT(r->to[3].plen, 128);
		CHECK_INT(r->to[3].addr[15], 1);
	}
	{ /* a prefix ending inside a byte: the rest of that byte cleared too */
		struct policyset *c = parse(HEAD "  - {id: a, action: alert, network: {to: [10.255.2.3/9, \"fd00:ffff::/17\", 10.255.2.3/15]}}\n");
		const struct pol_rule *cr = rule(c, 0);

		CHECK_INT(cr->n_to, 3);
		CHECK(cr->n_to == 3 && !memcmp(cr->to[0].addr, "\x0a\x80\0\0", 4));
		CHECK(cr->n_to == 3 && !memcmp(cr->to[1].addr, "\xfd\x00\x80\x00", 4));
		CHECK(cr->n_to == 3 && !memcmp(cr->to[2].addr, "\x0a\xfe\0\0", 4));
		policyset_unref(c);
	}
	CHECK_INT(r->proto, POL_PROTO_ANY);
	CHECK(!r->is_listen);
	policyset_unref(s);

	/* no default: allow everywhere; the policy severity defaults to medium */
	s = parse(HEAD "  - {id: a, action: alert, network: {ports: 22}}\n");
	CHECK(s != NULL);
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_NETWORK] : -1, POL_ALLOW);
	CHECK_INT(rule(s, 0)->severity, 2);
	policyset_unref(s);
	/* a scalar default leaves a kind without allow rules alone */
	s = parse("name: p\nselector: {all: true}\ndefault: alert\nrules:\n"
		  "  - {id: a, action: allow, network: {ports: 443}}\n");
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_NETWORK] : -1, POL_ALERT);
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_PROCESS] : -1, POL_ALLOW);
	policyset_unref(s);
	/* a map sets kinds one by one, with or without rules */
	s = parse("name: p\nselector: {all: true}\nrules: []\n"
		  "default: {process: block, network: alert, file: alert, privileged: alert}\n");
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_PROCESS] : -1, POL_BLOCK);
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_NETWORK] : -1, POL_ALERT);
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_FILE] : -1, POL_ALERT);
	CHECK_INT(s ? (int)s->pol[0].dflt[POL_PRIV] : -1, POL_ALERT);
	policyset_unref(s);
	/* listen any, and the dns trailing dot */
	s = parse(HEAD "  - {id: a, action: alert, network: {listen: any, protocol: udp}}\n"
		  "  - {id: b, action: alert, network: {dns: Example.COM.}}\n");
	CHECK_INT(rule(s, 0)->is_listen, 1);
	CHECK_INT(rule(s, 0)->n_listen, 1);
	CHECK_INT(rule(s, 0)->n_listen ? rule(s, 0)->listen[0] : 99, 0);
	CHECK_INT(rule(s, 0)->proto, POL_PROTO_UDP);
	CHECK_STR(rule(s, 1)->dns.n ? rule(s, 1)->dns.v[0] : NULL, "example.com");
	policyset_unref(s);
}

static void test_match_process(void)
{
	struct policyset *s = parse(HEAD
		"  - {id: sh, action: kill, process: {exe: [/bin/*sh, /usr/bin/*sh]}}\n"
		"  - {id: by-nginx, action: alert, process: {exe: /bin/*sh, parent: [/usr/sbin/nginx]}}\n"
		"  - {id: by-name, action: alert, process: {parent: [\"php-fpm*\", /opt/**]}}\n"
		"  - {id: digits, action: alert, process: {exe: /usr/lib/jvm/java-#/bin/java}}\n");

	CHECK(s != NULL);
	CHECK(matches(s, 0, qproc("/bin/bash", NULL, NULL)));
	CHECK(matches(s, 0, qproc("/usr/bin/dash", "/x", "x")));
	CHECK(!matches(s, 0, qproc("/usr/local/bin/bash", NULL, NULL)));
	CHECK(!matches(s, 0, qproc("/bin/bash2", NULL, NULL)));
	CHECK(!matches(s, 0, qproc(NULL, NULL, NULL)));
	/* parent by path: parent_exe; no parent known: no match */
	CHECK(matches(s, 1, qproc("/bin/sh", "/usr/sbin/nginx", "nginx")));
	CHECK(!matches(s, 1, qproc("/bin/sh", "/usr/sbin/apache2", "nginx")));
	CHECK(!matches(s, 1, qproc("/bin/sh", NULL, NULL)));
	CHECK(!matches(s, 1, qproc("/bin/cat", "/usr/sbin/nginx", "nginx")));
	/* parent by name: a glob on parent_name; by path pattern too */
	CHECK(matches(s, 2, qproc("/bin/ls", NULL, "php-fpm8.2")));
	CHECK(!matches(s, 2, qproc("/bin/ls", "/usr/sbin/php-fpm8.2", NULL)));
	CHECK(matches(s, 2, qproc("/bin/ls", "/opt/app/bin/run", "run")));
	CHECK(!matches(s, 2, qproc("/bin/ls", "/usr/bin/run", "run")));
	CHECK(!matches(s, 2, qproc("/bin/ls", NULL, NULL)));
	/* '#' is a run of digits */
	CHECK(matches(s, 3, qproc("/usr/lib/jvm/java-17/bin/java", NULL, NULL)));
	CHECK(!matches(s, 3, qproc("/usr/lib/jvm/java-x/bin/java", NULL, NULL)));
	/* kinds must agree */
	CHECK(!matches(s, 0, qfile("/bin/bash", POL_ACC_EXEC)));
	policyset_unref(s);
}

static void test_match_file(void)
{
	struct policyset *s = parse(HEAD
		"  - {id: shadow, action: alert, file: {paths: [/etc/shadow, /etc/gshadow], access: read}}\n"
		"  - {id: bin, action: block, file: {paths: /usr/bin/**, access: [write, create]}}\n"
		"  - {id: any, action: alert, file: {paths: /srv/*/key}}\n");

	CHECK(s != NULL);
	CHECK(matches(s, 0, qfile("/etc/shadow", POL_ACC_READ)));
	CHECK(matches(s, 0, qfile("/etc/gshadow", POL_ACC_READ | POL_ACC_WRITE)));
	CHECK(!matches(s, 0, qfile("/etc/shadow", POL_ACC_WRITE)));
	CHECK(!matches(s, 0, qfile("/etc/shadow-", POL_ACC_READ)));
	CHECK(!matches(s, 0, qfile(NULL, POL_ACC_READ)));
	CHECK(matches(s, 1, qfile("/usr/bin/x", POL_ACC_CREATE)));
	CHECK(matches(s, 1, qfile("/usr/bin/a/b/c", POL_ACC_WRITE)));
	CHECK(!matches(s, 1, qfile("/usr/bin/x", POL_ACC_READ | POL_ACC_EXEC)));
	CHECK(!matches(s, 1, qfile("/usr/sbin/x", POL_ACC_WRITE)));
	CHECK(matches(s, 2, qfile("/srv/a/key", POL_ACC_DELETE)));
	CHECK(!matches(s, 2, qfile("/srv/a/b/key", POL_ACC_DELETE)));
	CHECK(!matches(s, 2, qfile("/srv/a/key", 0)));
	policyset_unref(s);
}

static void test_match_network(void)
{
	struct policyset *s = parse(HEAD
		"  - {id: db, action: allow, network: {to: [10.0.0.0/8, \"fd00::/8\"], ports: [5432, 6432], protocol: tcp}}\n"
		"  - {id: all4, action: alert, network: {to: 0.0.0.0/0}}\n"
		"  - {id: one, action: alert, network: {to: [\"192.168.1.77/32\", \"::1/128\"]}}\n"
		"  - {id: dns, action: alert, network: {dns: [\"*.evil.com\", \"pool.*\"]}}\n"
		"  - {id: web, action: alert, network: {listen: [80, 443], protocol: tcp}}\n"
		"  - {id: anyport, action: alert, network: {listen: [8080, any]}}\n"
		"  - {id: udp, action: alert, network: {protocol: udp}}\n"
		"  - {id: odd, action: alert, network: {to: [\"10.1.2.3/15\", \"2001:db8:ffff::/33\"]}}\n"
		"  - {id: ports, action: alert, network: {ports: 53}}\n");
	struct pol_query q;

	CHECK(s != NULL);
	CHECK(matches(s, 0, qnet("10.2.3.4", 5432, 6)));
	CHECK(matches(s, 0, qnet("10.255.255.255", 6432, 6)));
	CHECK(matches(s, 0, qnet("fd12::1", 5432, 6)));
	CHECK(!matches(s, 0, qnet("11.0.0.1", 5432, 6)));
	CHECK(!matches(s, 0, qnet("9.255.255.255", 5432, 6)));
	CHECK(!matches(s, 0, qnet("fe00::1", 5432, 6)));
	CHECK(!matches(s, 0, qnet("10.2.3.4", 5433, 6)));
	CHECK(!matches(s, 0, qnet("10.2.3.4", 5432, 17)));
	/* an IPv4 CIDR also covers the IPv4-mapped IPv6 form */
	CHECK(matches(s, 0, qnet("::ffff:10.9.9.9", 5432, 6)));
	CHECK(!matches(s, 0, qnet("::ffff:11.9.9.9", 5432, 6)));
	CHECK(!matches(s, 0, qnet("::10.9.9.9", 5432, 6)));
	/* /0 is every IPv4 address, no IPv6 one */
	CHECK(matches(s, 1, qnet("0.0.0.0", 1, 6)));
	CHECK(matches(s, 1, qnet("255.255.255.255", 65535, 17)));
	CHECK(!matches(s, 1, qnet("2001:db8::1", 1, 6)));
	/* /32 and /128: exactly one address */
	CHECK(matches(s, 2, qnet("192.168.1.77", 9, 6)));
	CHECK(!matches(s, 2, qnet("192.168.1.76", 9, 6)));
	CHECK(!matches(s, 2, qnet("192.168.1.78", 9, 6)));
	CHECK(matches(s, 2, qnet("::1", 9, 6)));
	CHECK(!matches(s, 2, qnet("::2", 9, 6)));
	CHECK(!matches(s, 2, qnet("::", 9, 6)));
	/* host bits in the file were cleared: 10.0.0.0/15 and 2001:db8:8000::/33 */
	CHECK(matches(s, 7, qnet("10.0.0.1", 9, 6)));
	CHECK(matches(s, 7, qnet("10.1.255.255", 9, 6)));
	CHECK(!matches(s, 7, qnet("10.2.0.0", 9, 6)));
	CHECK(matches(s, 7, qnet("2001:db8:8000::1", 9, 6)));
	CHECK(matches(s, 7, qnet("2001:db8:ffff:ffff::1", 9, 6)));
	CHECK(!matches(s, 7, qnet("2001:db8:7fff::1", 9, 6)));
	/* a connect rule: not a DNS query (family 0), not a listen */
	CHECK(!matches(s, 1, qdns("a.com")));
	CHECK(!matches(s, 1, qlisten(80, 6)));
	/* dns: case-insensitive globs, the root dot ignored */
	CHECK(matches(s, 3, qdns("x.evil.com")));
	CHECK(matches(s, 3, qdns("X.EVIL.com.")));
	CHECK(matches(s, 3, qdns("pool.minexmr.org")));
	CHECK(!matches(s, 3, qdns("evil.com")));
	CHECK(!matches(s, 3, qdns("x.evil.com.au")));
	CHECK(!matches(s, 3, qnet("10.0.0.1", 53, 17)));
	q = qdns("a.evil.com");
	q.is_listen = 1;
	CHECK(!matches(s, 3, q));
	{ /* a name too long for the stack buffer */
		char big[400];

		memset(big, 'a', sizeof(big) - 11);
		memcpy(big + sizeof(big) - 11, ".evil.com.", 11);
		CHECK(matches(s, 3, qdns(big)));
		big[sizeof(big) - 5] = 'x';
		CHECK(!matches(s, 3, qdns(big)));
	}
	/* listen */
	CHECK(matches(s, 4, qlisten(443, 6)));
	CHECK(!matches(s, 4, qlisten(443, 17)));
	CHECK(!matches(s, 4, qlisten(8443, 6)));
	CHECK(!matches(s, 4, qnet("10.0.0.1", 443, 6)));
	CHECK(matches(s, 5, qlisten(31337, 17)));
	CHECK(matches(s, 5, qlisten(0, 6)));
	/* protocol only; ports only */
	CHECK(matches(s, 6, qnet("1.2.3.4", 9, 17)));
	CHECK(matches(s, 6, qnet("::1", 9, 17)));
	CHECK(!matches(s, 6, qnet("1.2.3.4", 9, 6)));
	CHECK(!matches(s, 6, qlisten(9, 17)));
	CHECK(matches(s, 8, qnet("::1", 53, 6)));
	CHECK(!matches(s, 8, qnet("::1", 54, 17)));
	policyset_unref(s);
}

static void test_match_priv(void)
{
	struct policyset *s = parse(HEAD
		"  - {id: esc, action: kill, privileged: [setuid, capset]}\n"
		"  - {id: all, action: alert, privileged: [setuid, capset, ptrace, mount, unshare, setns, module, bpf, memfd_exec]}\n");

	CHECK(s != NULL);
	CHECK(matches(s, 0, qpriv(POL_PRIV_SETUID)));
	CHECK(matches(s, 0, qpriv(POL_PRIV_CAPSET)));
	CHECK(!matches(s, 0, qpriv(POL_PRIV_PTRACE)));
	CHECK(!matches(s, 0, qpriv(0)));
	CHECK_INT(rule(s, 1)->priv, POL_PRIV_ALL);
	CHECK(matches(s, 1, qpriv(POL_PRIV_MEMFD_EXEC)));
	CHECK(matches(s, 1, qpriv(POL_PRIV_BPF)));
	CHECK(!pol_rule_matches(rule(s, 0), NULL));
	CHECK(!pol_rule_matches(NULL, &(struct pol_query){.kind = POL_PRIV, .priv = 1}));
	policyset_unref(s);
}

static const char ID[] = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

static int sel(const char *selector_yaml, const struct pol_subject *subj)
{
	char y[512];
	struct policyset *s;
	int hit;

	snprintf(y, sizeof(y), "name: p\nselector: %s\nrules: []\n", selector_yaml);
	s = parse(y);
	if (!s)
		return -1;
	hit = pol_selects(&s->pol[0].sel, subj);
	policyset_unref(s);
	return hit;
}

static void test_select(void)
{
	struct pol_subject web = {
		.container_id = ID, .container_name = "web-1", .image = "nginx:1.25",
		.namespace = "prod", .labels = "app=web,tier=front,team=a=b",
		.service = "",
	};
	struct pol_subject host = {
		.is_host = 1, .container_id = "", .container_name = "", .image = "",
		.namespace = "", .labels = "", .service = "sshd.service",
	};
	struct pol_subject bare = { /* container without metadata */
		.container_id = ID, .container_name = "", .image = "",
		.namespace = "", .labels = "", .service = "",
	};

	CHECK_INT(sel("{all: true}", &web), 1);
	CHECK_INT(sel("{all: true}", &host), 1);
	CHECK_INT(sel("{host: true}", &host), 1);
	CHECK_INT(sel("{host: true}", &web), 0);
	CHECK_INT(sel("{host: true, service: \"ssh*\"}", &host), 1);
	CHECK_INT(sel("{host: true, service: cron.service}", &host), 0);
	CHECK_INT(sel("{service: sshd.service}", &host), 1);
	CHECK_INT(sel("{service: \"*\"}", &web), 0); /* never a container */
	CHECK_INT(sel("{container: \"*\"}", &host), 0); /* never a host process */
	CHECK_INT(sel("{container: \"web-*\"}", &web), 1);
	CHECK_INT(sel("{container: [db, \"web-?\"]}", &web), 1);
	CHECK_INT(sel("{container: \"api-*\"}", &web), 0);
	/* by id: a glob on the full id, or a prefix of >= 12 hex digits */
	CHECK_INT(sel("{container: \"3f2a*\"}", &web), 1);
	CHECK_INT(sel("{container: 3f2a9c1b7d4e}", &bare), 1);
	CHECK_INT(sel("{container: 3f2a9c1b7d4f}", &bare), 0);
	CHECK_INT(sel("{container: 3f2a9c1b7d4}", &bare), 0); /* 11: too short */
	CHECK_INT(sel("{container: \"3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8\"}", &bare), 1);
	CHECK_INT(sel("{image: \"nginx:*\"}", &web), 1);
	CHECK_INT(sel("{image: \"nginx:*\"}", &bare), 0);
	CHECK_INT(sel("{image: \"redis:*\"}", &web), 0);
	CHECK_INT(sel("{namespace: [dev, prod]}", &web), 1);
	CHECK_INT(sel("{namespace: dev}", &web), 0);
	CHECK_INT(sel("{labels: [app=web]}", &web), 1);
	CHECK_INT(sel("{labels: [\"app=w*\", tier=front]}", &web), 1);
	CHECK_INT(sel("{labels: [app=web, tier=back]}", &web), 0); /* all must match */
	CHECK_INT(sel("{labels: [\"tier=fr\"]}", &web), 0);	  /* whole value */
	CHECK_INT(sel("{labels: [\"ti=*\"]}", &web), 0);	  /* whole key */
	CHECK_INT(sel("{labels: [\"team=a=b\"]}", &web), 1);	  /* first '=' splits */
	CHECK_INT(sel("{labels: [\"app=*\"]}", &bare), 0);
	/* keys AND together */
	CHECK_INT(sel("{container: \"web-*\", image: \"nginx:*\", namespace: prod}", &web), 1);
	CHECK_INT(sel("{container: \"web-*\", image: \"redis:*\"}", &web), 0);
	{ /* policyset_select: all that select, the first cap written */
		struct policyset *s = parse(
			"- {name: a, selector: {all: true}, rules: []}\n"
			"- {name: b, selector: {host: true}, rules: []}\n"
			"- {name: c, selector: {container: \"web-*\"}, rules: []}\n"
			"- {name: d, selector: {image: \"nginx:*\"}, rules: []}\n");
		const struct policy *out[2] = {NULL, NULL};

		CHECK(s != NULL);
		CHECK_INT(policyset_select(s, &web, out, 2), 3);
		CHECK_STR(out[0] ? out[0]->name : NULL, "a");
		CHECK_STR(out[1] ? out[1]->name : NULL, "c");
		CHECK_INT(policyset_select(s, &host, out, 2), 2);
		CHECK_STR(out[1] ? out[1]->name : NULL, "b");
		CHECK_INT(policyset_select(s, &bare, NULL, 0), 1);
		CHECK_INT(policyset_select(NULL, &bare, NULL, 0), 0);
		policyset_unref(s);
	}
}

/* Evaluates q over every policy of s. */
static int eval(const struct policyset *s, struct pol_query q, struct pol_verdict *v)
{
	const struct policy *sel[8];
	size_t n = 0;

	for (size_t i = 0; s && i < s->n && n < 8; i++)
		sel[n++] = &s->pol[i];
	return policy_eval(sel, n, &q, v);
}

static void test_eval(void)
{
	struct policyset *s = parse(
		"- name: one\n"
		"  selector: {all: true}\n"
		"  default: {network: alert}\n"
		"  rules:\n"
		"    - {id: ok-sh, action: allow, process: {exe: /bin/sh}}\n"
		"    - {id: alert-sh, action: alert, process: {exe: /bin/*sh}}\n"
		"    - {id: block-sh, action: block, process: {exe: /bin/*}}\n"
		"    - {id: ok-curl, action: allow, process: {exe: /usr/bin/curl}}\n"
		"    - {id: db, action: allow, network: {to: 10.0.0.0/8}}\n"
		"- name: two\n"
		"  selector: {all: true}\n"
		"  default: {process: block, network: block}\n"
		"  rules:\n"
		"    - {id: kill-dash, action: kill, process: {exe: /bin/dash}}\n"
		"    - {id: block-dash, action: block, process: {exe: /bin/dash}}\n"
		"    - {id: block-sh2, action: block, process: {exe: /bin/sh}}\n"
		"    - {id: web, action: allow, network: {ports: 443}}\n"
		"- name: three\n"
		"  selector: {all: true}\n"
		"  default: {process: alert, file: alert}\n"
		"  rules:\n"
		"    - {id: etc, action: alert, file: {paths: /etc/**}}\n");
	struct pol_verdict v;

	CHECK(s != NULL);
	/* deny over allow; the strongest deny; ties: the first */
	CHECK_INT(eval(s, qproc("/bin/sh", NULL, NULL), &v), 1);
	CHECK_INT(v.action, POL_BLOCK);
	CHECK_STR(v.rule ? v.rule->id : NULL, "block-sh");
	CHECK_STR(v.pol ? v.pol->name : NULL, "one");
	CHECK_INT(eval(s, qproc("/bin/dash", NULL, NULL), &v), 1);
	CHECK_INT(v.action, POL_KILL);
	CHECK_STR(v.rule ? v.rule->id : NULL, "kill-dash");
	CHECK_STR(v.pol ? v.pol->name : NULL, "two");
	CHECK_INT(eval(s, qproc("/bin/bash", NULL, NULL), &v), 1);
	CHECK_STR(v.rule ? v.rule->id : NULL, "block-sh");
	/* several allow rules match: the first (policy one, then rule order) */
	CHECK_INT(eval(s, qnet("10.1.1.1", 443, 6), &v), 1);
	CHECK_INT(v.action, POL_ALLOW);
	CHECK_STR(v.rule ? v.rule->id : NULL, "db");
	CHECK_STR(v.pol ? v.pol->name : NULL, "one");
	/* an allow rule beats the defaults of every policy */
	CHECK_INT(eval(s, qproc("/usr/bin/curl", NULL, NULL), &v), 1);
	CHECK_INT(v.action, POL_ALLOW);
	CHECK_STR(v.rule ? v.rule->id : NULL, "ok-curl");
	CHECK_STR(v.pol ? v.pol->name : NULL, "one");
	/* nothing matches: the strictest default (two: block, three: alert) */
	CHECK_INT(eval(s, qproc("/usr/bin/vim", NULL, NULL), &v), 1);
	CHECK_INT(v.action, POL_BLOCK);
	CHECK(v.rule == NULL);
	CHECK_STR(v.pol ? v.pol->name : NULL, "two");
	CHECK_INT(eval(s, qnet("8.8.8.8", 53, 17), &v), 1);
	CHECK_INT(v.action, POL_BLOCK);
	CHECK_STR(v.pol ? v.pol->name : NULL, "two");
	CHECK_INT(eval(s, qnet("10.1.1.1", 53, 17), &v), 1);
	CHECK_INT(v.action, POL_ALLOW);
	CHECK_STR(v.rule ? v.rule->id : NULL, "db");
	/* file: only three's default (alert); its rule */
	CHECK_INT(eval(s, qfile("/var/x", POL_ACC_READ), &v), 1);
	CHECK_INT(v.action, POL_ALERT);
	CHECK(v.rule == NULL);
	CHECK_STR(v.pol ? v.pol->name : NULL, "three");
	CHECK_INT(eval(s, qfile("/etc/x", POL_ACC_READ), &v), 1);
	CHECK_STR(v.rule ? v.rule->id : NULL, "etc");
	/* privileged: no rule, every default allow: no say */
	CHECK_INT(eval(s, qpriv(POL_PRIV_BPF), &v), 0);
	CHECK_INT(v.action, POL_ALLOW);
	CHECK(v.pol == NULL && v.rule == NULL);
	/* no policy at all */
	CHECK_INT(policy_eval(NULL, 0, &(struct pol_query){.kind = POL_PROCESS}, &v), 0);
	CHECK(v.pol == NULL);
	/* policy one alone: its map default for network applies; nothing
	 * for process (no default, no matching rule) */
	{
		const struct policy *one = s ? &s->pol[0] : NULL;
		struct pol_query q = qnet("8.8.8.8", 53, 17);

		CHECK_INT(policy_eval(&one, s ? 1 : 0, &q, &v), 1);
		CHECK_INT(v.action, POL_ALERT);
		q = qproc("/usr/bin/vim", NULL, NULL);
		CHECK_INT(policy_eval(&one, s ? 1 : 0, &q, &v), 0);
		CHECK_INT(v.action, POL_ALLOW);
	}
	policyset_unref(s);
	/* a scalar default skips a kind without allow rules */
	s = parse("name: p\nselector: {all: true}\ndefault: block\nrules:\n"
		  "  - {id: a, action: allow, network: {ports: 443}}\n");
	CHECK_INT(eval(s, qproc("/bin/sh", NULL, NULL), &v), 0);
	CHECK_INT(eval(s, qnet("1.1.1.1", 80, 6), &v), 1);
	CHECK_INT(v.action, POL_BLOCK);
	CHECK_INT(eval(s, qnet("1.1.1.1", 443, 6), &v), 1);
	CHECK_INT(v.action, POL_ALLOW);
	policyset_unref(s);
}

static void test_dump(void)
{
	struct policyset *s = parse(
		"name: p\n"
		"description: \"say \\\"hi\\\"\\n\"\n"
		"selector: {host: true, service: [\"a b.service\", \"x,y\"]}\n"
		"rules:\n"
		"  - {id: a, action: alert, network: {listen: [22, any]}}\n");
	char *d = s ? policy_dump(s) : NULL;

	CHECK_STR(d, "policy p (t.yaml:1)\n"
		     "  description: \"say \\\"hi\\\"\\n\"\n"
		     "  selector: host service=[\"a b.service\", \"x,y\"]\n"
		     "  default: process=allow network=allow file=allow privileged=allow\n"
		     "  rules: 1\n"
		     "  rule a (line 5): kind=network action=alert scope=process freeze=no severity=medium mitre=[]\n"
		     "    listen: [22, any]\n"
		     "    protocol: any\n");
	free(d);
	policyset_unref(s);
	d = policy_dump(NULL);
	CHECK_STR(d, "");
	free(d);
	/* no name: no file in the dump */
	s = policy_parse("{name: q, selector: {all: true}, rules: []}", 43, NULL, err, sizeof(err));
	d = s ? policy_dump(s) : NULL;
	CHECK(s && s->pol[0].file == NULL);
	CHECK_STR(d, "policy q (line 1)\n  selector: all\n"
		     "  default: process=allow network=allow file=allow privileged=allow\n  rules: 0\n");
	free(d);
	policyset_unref(s);
	CHECK_STR(pol_action_name(POL_KILL), "kill");
	CHECK_STR(pol_action_name((enum pol_action)7), "?");
	CHECK_STR(pol_kind_name(POL_PRIV), "privileged");
	CHECK_STR(pol_kind_name((enum pol_kind)4), "?");
	CHECK_STR(pol_severity_name(4), "critical");
	CHECK_STR(pol_severity_name(0), "?");
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void rm_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void test_load(void)
{
	char dir[] = "/tmp/vigil-policy-XXXXXX", path[600], want[800];
	struct policyset *s;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	/* an empty or missing directory: an empty set */
	s = policy_load_dir(dir, err, sizeof(err));
	CHECK(s != NULL && s->n == 0);
	policyset_unref(s);
	snprintf(path, sizeof(path), "%s/missing", dir);
	s = policy_load_dir(path, err, sizeof(err));
	CHECK(s != NULL && s->n == 0);
	policyset_unref(s);
	/* *.yaml and *.yml in name order; dotfiles, other names, directories skipped */
	CHECK_INT(write_file(dir, "b.yml", "{name: from-b, selector: {all: true}, rules: []}\n"), 0);
	CHECK_INT(write_file(dir, "a.yaml", "- {name: from-a1, selector: {all: true}, rules: []}\n"
					    "- {name: from-a2, selector: {host: true}, rules: []}\n"), 0);
	CHECK_INT(write_file(dir, ".hidden.yaml", "broken: [\n"), 0);
	CHECK_INT(write_file(dir, "notes.txt", "broken: [\n"), 0);
	CHECK_INT(write_file(dir, "c.yaml.bak", "broken: [\n"), 0);
	snprintf(path, sizeof(path), "%s/d.yaml", dir);
	CHECK_INT(mkdir(path, 0700), 0);
	s = policy_load_dir(dir, err, sizeof(err));
	CHECK(s != NULL);
	CHECK_INT(s ? s->n : 0, 3);
	if (s && s->n == 3) {
		CHECK_STR(s->pol[0].name, "from-a1");
		CHECK_STR(s->pol[1].name, "from-a2");
		CHECK_STR(s->pol[2].name, "from-b");
		snprintf(path, sizeof(path), "%s/b.yml", dir);
		CHECK_STR(s->pol[2].file, path);
		CHECK_INT(s->pol[1].line, 2);
	}
	policyset_unref(s);
	/* names are unique across files */
	CHECK_INT(write_file(dir, "c.yaml", "\n{name: from-a2, selector: {all: true}, rules: []}\n"), 0);
	s = policy_load_dir(dir, err, sizeof(err));
	CHECK(s == NULL);
	snprintf(want, sizeof(want), "%s/c.yaml:2: duplicate policy name 'from-a2' (first in %s/a.yaml:2)",
		 dir, dir);
	CHECK_STR(err, want);
	/* an error names the file */
	CHECK_INT(write_file(dir, "c.yaml", "name: x\nselector: {all: true}\nrules: 1\n"), 0);
	s = policy_load_dir(dir, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EINVAL);
	snprintf(want, sizeof(want), "%s/c.yaml:3: 'rules' must be a list of rules, not text", dir);
	CHECK_STR(err, want);
	rm_file(dir, "c.yaml");
	/* a dangling link is an error, not silently nothing */
	snprintf(path, sizeof(path), "%s/e.yaml", dir);
	CHECK_INT(symlink("/nonexistent/policy.yaml", path), 0);
	s = policy_load_dir(dir, err, sizeof(err));
	CHECK(s == NULL);
	snprintf(want, sizeof(want), "%s/e.yaml: No such file or directory", dir);
	CHECK_STR(err, want);
	rm_file(dir, "e.yaml");
	/* a file is not a directory */
	snprintf(path, sizeof(path), "%s/b.yml", dir);
	s = policy_load_dir(path, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, ENOTDIR);
	snprintf(want, sizeof(want), "%s: Not a directory", path);
	CHECK_STR(err, want);
	/* policy_load_file */
	s = policy_load_file(path, err, sizeof(err));
	CHECK(s != NULL && s->n == 1);
	CHECK_STR(s ? s->pol[0].file : NULL, path);
	policyset_unref(s);
	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	s = policy_load_file(path, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(err, want);
	snprintf(path, sizeof(path), "%s/d.yaml", dir);
	s = policy_load_file(path, err, sizeof(err));
	CHECK(s == NULL);
	snprintf(want, sizeof(want), "%s: Is a directory", path);
	CHECK_STR(err, want);
	rmdir(path);
	{ /* too large */
		char *big = malloc((1 << 20) + 2);

		if (big) {
			memset(big, '#', (1 << 20) + 1);
			big[(1 << 20) + 1] = 0;
			CHECK_INT(write_file(dir, "big.yaml", big), 0);
			free(big);
		}
		snprintf(path, sizeof(path), "%s/big.yaml", dir);
		s = policy_load_file(path, err, sizeof(err));
		CHECK(s == NULL);
		CHECK_INT(errno, EFBIG);
		snprintf(want, sizeof(want), "%s: too large (more than 1048576 bytes)", path);
		CHECK_STR(err, want);
		rm_file(dir, "big.yaml");
	}
	rm_file(dir, "a.yaml");
	rm_file(dir, "b.yml");
	rm_file(dir, ".hidden.yaml");
	rm_file(dir, "notes.txt");
	rm_file(dir, "c.yaml.bak");
	CHECK_INT(rmdir(dir), 0);
}

static void test_refs(void)
{
	struct policyset *s = parse("{name: p, selector: {all: true}, rules: []}");

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(s->refs, 1);
	CHECK(policyset_ref(s) == s);
	CHECK(policyset_ref(s) == s);
	CHECK_INT(s->refs, 3);
	policyset_unref(s);
	policyset_unref(s);
	CHECK_INT(s->refs, 1);
	CHECK_STR(s->pol[0].name, "p"); /* still alive */
	policyset_unref(s); /* freed: ASan would see a leak otherwise */
	CHECK(policyset_ref(NULL) == NULL);
	policyset_unref(NULL);
	/* no err buffer: still parses and fails cleanly */
	CHECK(policy_parse("x", 1, "t.yaml", NULL, 0) == NULL);
}

int main(void)
{
	test_parsed_form();
	test_match_process();
	test_match_file();
	test_match_network();
	test_match_priv();
	test_select();
	test_eval();
	test_dump();
	test_load();
	test_refs();
	return h_finish("policy");
}
