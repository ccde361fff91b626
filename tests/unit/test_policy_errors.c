/* test_policy_errors.c - every error policy_parse reports, each with the
 * line it names, and the limits (a value budget against alias bombs). The
 * valid neighbour of a refused combination is checked to parse, so a
 * check cannot pass by refusing everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "policy/policy.h"

static char err[512];

/* The error of parsing y as "t.yaml", or "(parsed)". */
static const char *perr(const char *y)
{
	struct policyset *s = policy_parse(y, strlen(y), "t.yaml", err, sizeof(err));

	if (s) {
		policyset_unref(s);
		return "(parsed)";
	}
	return err;
}

#define BAD(y, want) CHECK_STR(perr(y), want)

/* One policy selecting all, with the rules text (indented 2, from line 4). */
#define HEAD "name: p\nselector: {all: true}\nrules:\n"

static void test_errors_structure(void)
{
	BAD("", "t.yaml:1: no policy: expected a policy (a map) or a list of policies");
	BAD("# only a comment\n", "t.yaml:1: no policy: expected a policy (a map) or a list of policies");
	BAD("just text\n", "t.yaml:1: expected a policy (a map) or a list of policies, not text");
	BAD("name: [\n", "t.yaml:2: YAML syntax error: did not find expected node content while parsing a flow node");
	BAD(HEAD "  []\n---\n" HEAD "  []\n",
	    "t.yaml:6: a second YAML document: put all policies of a file in one list");
	BAD("- name: a\n  selector: {all: true}\n  rules: []\n- [x]\n",
	    "t.yaml:4: a policy must be a map (name:, selector:, rules:), not a list");
	BAD("selector: {all: true}\nrules: []\n", "t.yaml:1: a policy needs a 'name'");
	BAD("name: p\nrules: []\n",
	    "t.yaml:1: policy 'p' needs a 'selector' (write 'all: true' in it to select everything)");
	BAD("name: p\nselector: {all: true}\n",
	    "t.yaml:1: policy 'p' needs 'rules' (a list; it may be empty)");
	BAD("name: p\nselector: {all: true}\nrules: {id: x}\n",
	    "t.yaml:3: 'rules' must be a list of rules, not a map");
	BAD("name: p\nselector: {all: true}\nrules:\n", "t.yaml:3: 'rules' must be a list of rules, not text");
	BAD("name: p\nselector: {all: true}\nrules: []\nfoo: 1\n",
	    "t.yaml:4: unknown key 'foo' in policy");
	BAD("name: p\nselector: {all: true}\nrules: []\nname: q\n",
	    "t.yaml:4: duplicate key 'name' in policy (first at line 1)");
	BAD("name: p\nselector: {all: true}\nrules: []\n? [a]\n: b\n",
	    "t.yaml:4: a key in policy must be text, not a list");
	BAD("name: \"a\\0b\"\nselector: {all: true}\nrules: []\n", "t.yaml:1: 'name' contains a NUL byte");
	BAD("name: p\n\"name\\0x\": q\nselector: {all: true}\nrules: []\n",
	    "t.yaml:2: a key in policy contains a NUL byte");
	BAD("name:\nselector: {all: true}\nrules: []\n", "t.yaml:1: 'name' has no value");
	BAD("name: [p]\nselector: {all: true}\nrules: []\n", "t.yaml:1: 'name' must be text, not a list");
	BAD("name: a b\nselector: {all: true}\nrules: []\n",
	    "t.yaml:1: policy name 'a b' is not valid: use 1 to 63 letters, digits, '.', '_' or '-'");
	BAD("name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	    "selector: {all: true}\nrules: []\n",
	    "t.yaml:1: policy name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not valid: use 1 to 63 letters, digits, '.', '_' or '-'");
	CHECK_STR(perr("name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		       "selector: {all: true}\nrules: []\n"), "(parsed)"); /* 63 bytes */
	BAD("- {name: a, selector: {all: true}, rules: []}\n"
	    "- {name: b, selector: {all: true}, rules: []}\n"
	    "- {name: a, selector: {host: true}, rules: []}\n",
	    "t.yaml:3: duplicate policy name 'a' (first at line 1)");
	BAD("name: p\ndescription: [x]\nselector: {all: true}\nrules: []\n",
	    "t.yaml:2: 'description' must be text, not a list");
	BAD("name: p\nseverity: severe\nselector: {all: true}\nrules: []\n",
	    "t.yaml:2: unknown severity 'severe': expected low, medium, high or critical");
	BAD("name: \"p\\tq\"\nselector: {all: true}\nrules: []\n", /* stays one line */
	    "t.yaml:1: policy name 'p?q' is not valid: use 1 to 63 letters, digits, '.', '_' or '-'");
	CHECK_STR(perr("[]"), "(parsed)");
}

static void test_errors_selector(void)
{
	BAD("name: p\nselector: all\nrules: []\n",
	    "t.yaml:2: 'selector' must be a map (container:, image:, service:, host:, all: ...), not text");
	BAD("name: p\nselector: {}\nrules: []\n",
	    "t.yaml:2: empty selector: write 'all: true' to select everything");
	BAD("name: p\nselector:\n  all: false\nrules: []\n",
	    "t.yaml:3: empty selector: write 'all: true' to select everything");
	BAD("name: p\nselector:\n  all: maybe\nrules: []\n",
	    "t.yaml:3: 'all' must be true or false, not 'maybe'");
	BAD("name: p\nselector:\n  host: yes\n  pod: x\nrules: []\n",
	    "t.yaml:4: unknown key 'pod' in selector");
	BAD("name: p\nselector:\n  all: true\n  image: nginx\nrules: []\n",
	    "t.yaml:4: 'all: true' selects everything: 'image' cannot be combined with it");
	BAD("name: p\nselector:\n  all: true\n  host: true\nrules: []\n",
	    "t.yaml:4: 'all: true' selects everything: 'host' cannot be combined with it");
	BAD("name: p\nselector:\n  host: true\n  labels: [app=web]\nrules: []\n",
	    "t.yaml:4: 'labels' never matches a host process: it cannot be combined with 'host: true'");
	BAD("name: p\nselector:\n  service: sshd.service\n  container: web\nrules: []\n",
	    "t.yaml:3: 'service' selects host services: it cannot be combined with 'container' (containers)");
	BAD("name: p\nselector:\n  labels: [app]\nrules: []\n",
	    "t.yaml:3: 'app' in 'labels' is not key=glob (a label name, '=', a value glob)");
	BAD("name: p\nselector:\n  labels: [\"=web\"]\nrules: []\n",
	    "t.yaml:3: '=web' in 'labels' is not key=glob (a label name, '=', a value glob)");
	BAD("name: p\nselector:\n  labels: [\"a*=web\"]\nrules: []\n",
	    "t.yaml:3: 'a*=web' in 'labels' is not key=glob (a label name, '=', a value glob)");
	BAD("name: p\nselector:\n  labels: [\"app=a,b\"]\nrules: []\n",
	    "t.yaml:3: 'app=a,b' in 'labels' is not key=glob (a label name, '=', a value glob)");
	BAD("name: p\nselector:\n  image: {a: b}\nrules: []\n",
	    "t.yaml:3: 'image' must be text or a list of text, not a map");
	BAD("name: p\nselector:\n  image: []\nrules: []\n", "t.yaml:3: 'image' is an empty list");
	BAD("name: p\nselector:\n  image:\n    - [a]\nrules: []\n",
	    "t.yaml:4: items of 'image' must be text, not a list");
	/* allowed: false flags next to real keys, host with service */
	CHECK_STR(perr("name: p\nselector: {all: false, host: no, image: x}\nrules: []\n"), "(parsed)");
	CHECK_STR(perr("name: p\nselector: {host: true, service: [a.service]}\nrules: []\n"), "(parsed)");
}

static void test_errors_rule(void)
{
	BAD(HEAD "  - just text\n",
	    "t.yaml:4: a rule must be a map (id:, action:, and one of process, file, network, privileged), not text");
	BAD(HEAD "  - action: alert\n    privileged: [bpf]\n", "t.yaml:4: a rule needs an 'id'");
	BAD(HEAD "  - id: a/b\n    action: alert\n    privileged: [bpf]\n",
	    "t.yaml:4: rule id 'a/b' is not valid: use 1 to 63 letters, digits, '.', '_' or '-'");
	BAD(HEAD "  - {id: x, action: alert, privileged: bpf}\n  - {id: x, action: alert, privileged: bpf}\n",
	    "t.yaml:5: duplicate rule id 'x' in policy 'p' (first at line 4)");
	BAD(HEAD "  - id: x\n    privileged: [bpf]\n",
	    "t.yaml:4: rule 'x' needs an 'action' (allow, alert, block or kill)");
	BAD(HEAD "  - id: x\n    action: deny\n    privileged: [bpf]\n",
	    "t.yaml:5: unknown action 'deny' in rule 'x': expected allow, alert, block or kill");
	BAD(HEAD "  - id: x\n    action: alert\n",
	    "t.yaml:4: rule 'x' needs one of process, file, network or privileged");
	BAD(HEAD "  - id: x\n    action: alert\n    process: {exe: /bin/sh}\n    file: {paths: /etc}\n",
	    "t.yaml:7: rule 'x' has both 'process' and 'file': a rule is about one kind of action; write two rules");
	BAD(HEAD "  - id: x\n    action: alert\n    privileged: [bpf]\n    foo: 1\n",
	    "t.yaml:7: unknown key 'foo' in rule");
	BAD(HEAD "  - id: x\n    action: alert\n    action: kill\n    privileged: [bpf]\n",
	    "t.yaml:6: duplicate key 'action' in rule (first at line 5)");
	BAD(HEAD "  - id: x\n    action: alert\n    severity: 3\n    privileged: [bpf]\n",
	    "t.yaml:6: unknown severity '3': expected low, medium, high or critical");
	BAD(HEAD "  - id: x\n    action: alert\n    mitre: [T1059, t1059]\n    privileged: [bpf]\n",
	    "t.yaml:6: 't1059' is not an ATT&CK technique id (T1234 or T1234.567)");
	BAD(HEAD "  - id: x\n    action: alert\n    mitre: T1059.04\n    privileged: [bpf]\n",
	    "t.yaml:6: 'T1059.04' is not an ATT&CK technique id (T1234 or T1234.567)");
	BAD(HEAD "  - id: x\n    action: alert\n    mitre: T10591\n    privileged: [bpf]\n",
	    "t.yaml:6: 'T10591' is not an ATT&CK technique id (T1234 or T1234.567)");
	BAD(HEAD "  - id: x\n    action: allow\n    scope: container\n    privileged: [bpf]\n",
	    "t.yaml:6: 'scope' does not apply to an allow rule (it says what kill kills)");
	BAD(HEAD "  - id: x\n    action: kill\n    scope: pod\n    privileged: [bpf]\n",
	    "t.yaml:6: unknown scope 'pod': expected process or container");
	BAD(HEAD "  - id: x\n    action: allow\n    freeze: false\n    privileged: [bpf]\n",
	    "t.yaml:6: 'freeze' does not apply to an allow rule");
	BAD(HEAD "  - id: x\n    action: kill\n    freeze: 1\n    privileged: [bpf]\n",
	    "t.yaml:6: 'freeze' must be true or false, not '1'");
	BAD(HEAD "  - id: x\n    description: {a: b}\n    action: kill\n    privileged: [bpf]\n",
	    "t.yaml:5: 'description' must be text, not a map");
}

static void test_errors_kinds(void)
{
	/* process */
	BAD(HEAD "  - id: x\n    action: alert\n    process: /bin/sh\n",
	    "t.yaml:6: 'process' must be a map with 'exe' and/or 'parent', not text");
	BAD(HEAD "  - id: x\n    action: alert\n    process: {}\n", "t.yaml:6: 'process' needs 'exe' or 'parent'");
	BAD(HEAD "  - id: x\n    action: alert\n    process: {exe: [/bin/sh, sh]}\n",
	    "t.yaml:6: 'sh' in 'exe' is not an absolute path pattern (it must start with '/')");
	BAD(HEAD "  - id: x\n    action: alert\n    process: {parent: [bin/sh]}\n",
	    "t.yaml:6: 'bin/sh' in 'parent' is neither an absolute path pattern nor a process name (no '/')");
	BAD(HEAD "  - id: x\n    action: alert\n    process:\n      exe: []\n",
	    "t.yaml:7: 'exe' is an empty list");
	BAD(HEAD "  - id: x\n    action: alert\n    process:\n      args: [x]\n",
	    "t.yaml:7: unknown key 'args' in process");
	/* file */
	BAD(HEAD "  - id: x\n    action: alert\n    file: [/etc]\n",
	    "t.yaml:6: 'file' must be a map with 'paths' and 'access', not a list");
	BAD(HEAD "  - id: x\n    action: alert\n    file: {access: read}\n", "t.yaml:6: 'file' needs 'paths'");
	BAD(HEAD "  - id: x\n    action: alert\n    file:\n      paths: [etc/shadow]\n",
	    "t.yaml:7: 'etc/shadow' in 'paths' is not an absolute path pattern (it must start with '/')");
	BAD(HEAD "  - id: x\n    action: alert\n    file:\n      paths: [/etc]\n      access: [read, append]\n",
	    "t.yaml:8: unknown file access 'append': expected read, write, exec, create or delete");
	/* network */
	BAD(HEAD "  - id: x\n    action: alert\n    network: 10.0.0.0/8\n",
	    "t.yaml:6: 'network' must be a map (to:, ports:, dns:, protocol:, listen:), not text");
	BAD(HEAD "  - id: x\n    action: alert\n    network: {}\n",
	    "t.yaml:6: 'network' needs 'to', 'ports', 'dns' or 'listen'");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [80]\n      listen: [80]\n",
	    "t.yaml:8: 'listen' cannot be combined with 'ports': a listen rule is about binding a port, not connecting; write two rules");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      dns: [a.com]\n      to: [10.0.0.1]\n",
	    "t.yaml:7: 'dns' cannot be combined with 'to': a dns rule matches DNS queries, not connections; write two rules");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      dns: [a.com]\n      protocol: udp\n",
	    "t.yaml:8: 'protocol' does not apply to a dns rule");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [80]\n      protocol: sctp\n",
	    "t.yaml:8: unknown protocol 'sctp': expected tcp, udp or any");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [80, 0]\n",
	    "t.yaml:7: '0' in 'ports' is not a port number from 1 to 65535");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [65536]\n",
	    "t.yaml:7: '65536' in 'ports' is not a port number from 1 to 65535");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [-1]\n",
	    "t.yaml:7: '-1' in 'ports' is not a port number from 1 to 65535");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      ports: [8000-8080]\n",
	    "t.yaml:7: '8000-8080' in 'ports' is not a port number from 1 to 65535");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      listen: [all]\n",
	    "t.yaml:7: 'all' in 'listen' is not a port number from 0 to 65535 or 'any'");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [10.0.0.0/33]\n",
	    "t.yaml:7: '10.0.0.0/33' in 'to' has a bad prefix length (0 to 32)");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [\"fd00::/129\"]\n",
	    "t.yaml:7: 'fd00::/129' in 'to' has a bad prefix length (0 to 128)");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [10.0.0.0/]\n",
	    "t.yaml:7: '10.0.0.0/' in 'to' has a bad prefix length (0 to 32)");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [10.0.0.0/0008]\n",
	    "t.yaml:7: '10.0.0.0/0008' in 'to' has a bad prefix length (0 to 32)");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [10.0.0/8]\n",
	    "t.yaml:7: '10.0.0/8' in 'to' is not an IPv4 or IPv6 address or CIDR");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      to: [db.internal]\n",
	    "t.yaml:7: 'db.internal' in 'to' is not an IPv4 or IPv6 address or CIDR");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      dns: [\"a b.com\"]\n",
	    "t.yaml:7: 'a b.com' in 'dns' is not a DNS name glob");
	BAD(HEAD "  - id: x\n    action: alert\n    network:\n      dns: [.]\n",
	    "t.yaml:7: '.' in 'dns' is not a DNS name glob");
	/* privileged */
	BAD(HEAD "  - id: x\n    action: alert\n    privileged: {op: mount}\n",
	    "t.yaml:6: 'privileged' must be text or a list of text, not a map");
	BAD(HEAD "  - id: x\n    action: alert\n    privileged: [mount, chroot]\n",
	    "t.yaml:6: unknown privileged operation 'chroot': expected setuid, capset, ptrace, mount, unshare, setns, module, bpf or memfd_exec");
	BAD(HEAD "  - id: x\n    action: alert\n    privileged: [setgid]\n",
	    "t.yaml:6: 'setgid' is part of 'setuid' (the setuid family covers setgid too)");
	/* what no hook can refuse */
	BAD(HEAD "  - id: x\n    action: block\n    privileged: [ptrace]\n",
	    "t.yaml:5: rule 'x': block cannot be kept on a privileged rule (no hook refuses these operations here); use kill or alert");
	BAD(HEAD "  - id: x\n    action: block\n    network: {dns: [\"*.evil\"]}\n",
	    "t.yaml:5: rule 'x': block cannot be kept on a dns rule (no hook refuses DNS queries here); use kill or alert");
	BAD(HEAD "  - id: x\n    action: block\n    file: {paths: [/var/log/**], access: [delete]}\n",
	    "t.yaml:5: rule 'x': block cannot be kept on a file rule about delete only (fanotify sees opens, not unlinks); use kill or alert");
	CHECK_STR(perr(HEAD "  - id: x\n    action: block\n    file: {paths: [/var/log/**], access: [delete, write]}\n"),
		  "(parsed)");
	CHECK_STR(perr(HEAD "  - id: x\n    action: kill\n    file: {paths: [/var/log/**], access: delete}\n"),
		  "(parsed)");
	CHECK_STR(perr(HEAD "  - id: x\n    action: kill\n    privileged: [ptrace]\n"), "(parsed)");
	CHECK_STR(perr(HEAD "  - id: x\n    action: kill\n    network: {dns: [\"*.evil\"]}\n"), "(parsed)");
}

static void test_errors_default(void)
{
	BAD("name: p\nselector: {all: true}\ndefault: kill\nrules: []\n",
	    "t.yaml:3: 'kill' is not a default posture (it is a rule action): use block");
	BAD("name: p\nselector: {all: true}\ndefault: deny\nrules: []\n",
	    "t.yaml:3: unknown default 'deny': expected allow, alert or block");
	BAD("name: p\nselector: {all: true}\ndefault: [block]\nrules: []\n",
	    "t.yaml:3: 'default' must be allow, alert, block or a map of kind: posture, not a list");
	BAD("name: p\nselector: {all: true}\ndefault:\n  file: block\nrules: []\n",
	    "t.yaml:4: default for file cannot be 'block': no kernel hook here sees every open in time to refuse it; use alert");
	BAD("name: p\nselector: {all: true}\ndefault:\n  privileged: block\nrules: []\n",
	    "t.yaml:4: default for privileged cannot be 'block': no kernel hook here sees every privileged operation in time to refuse it; use alert");
	BAD("name: p\nselector: {all: true}\ndefault:\n  process: kill\nrules: []\n",
	    "t.yaml:4: 'kill' is not a default posture (it is a rule action): use block");
	BAD("name: p\nselector: {all: true}\ndefault:\n  exec: block\nrules: []\n",
	    "t.yaml:4: unknown key 'exec' in default");
	BAD("name: p\nselector: {all: true}\ndefault:\n  network: [block]\nrules: []\n",
	    "t.yaml:4: 'network' must be text, not a list");
	BAD("name: p\nselector: {all: true}\ndefault:\n  network: nope\nrules: []\n",
	    "t.yaml:4: unknown default 'nope': expected allow, alert or block");
}

/* Aliases repeat a list without repeating its text: the value budget
 * stops a short file from costing gigabytes. */
static void test_alias_budget(void)
{
	char *y = malloc(1 << 20), *p = y;
	struct policyset *s;

	if (!y)
		return;
	p += sprintf(p, HEAD "  - id: r0\n    action: alert\n    process:\n      exe: &l [");
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "%s/bin/x%d", i ? ", " : "", i);
	p += sprintf(p, "]\n");
	for (int i = 1; i < 99; i++)
		p += sprintf(p, "  - {id: r%d, action: alert, process: {exe: *l}}\n", i);
	s = policy_parse(y, strlen(y), "t.yaml", err, sizeof(err));
	CHECK(s != NULL); /* 99 000 values: fine */
	CHECK_INT(s ? s->pol[0].n_rules : 0, 99);
	CHECK_INT(s ? s->pol[0].rules[98].exe.n : 0, 1000);
	policyset_unref(s);
	for (int i = 99; i < 120; i++)
		p += sprintf(p, "  - {id: r%d, action: alert, process: {exe: *l}}\n", i);
	s = policy_parse(y, strlen(y), "t.yaml", err, sizeof(err));
	CHECK(s == NULL);
	CHECK_STR(err, "t.yaml:7: too many values in one file (more than 100000; an alias repeating a long list?)");
	free(y);
}

int main(void)
{
	test_errors_structure();
	test_errors_selector();
	test_errors_rule();
	test_errors_kinds();
	test_errors_default();
	test_alias_budget();
	return h_finish("policy_errors");
}
