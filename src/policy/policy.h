/* policy.h - the policy language: what a selected set of workloads may do
 * (schema and examples: docs/policies.md, policies/).
 *
 * A policy file holds one policy (a mapping) or a list of them. A policy
 * has a name, a selector (which resources it applies to), a default
 * posture for what its rules do not list, and rules. A rule is about one
 * kind of action (process, file, network, privileged) and has an action:
 * allow, alert, block or kill.
 *
 * Decision for one action of a resource (policy_eval): over every policy
 * selecting the resource, the strongest deny rule that matches wins
 * (kill > block > alert: deny overrides allow); else a matching allow
 * rule allows; else the strictest default posture (for that kind) of
 * those policies applies (the verdict then has rule == NULL).
 *
 * Parsed policies are immutable: readers on other threads (the exec and
 * open guards) hold a reference (policyset_ref) while they use them.
 * Functions returning int give 0 or -errno unless stated otherwise. */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H
#include <stddef.h>
#include <stdint.h>

enum pol_action {
	POL_ALLOW = 0,
	POL_ALERT = 1,
	POL_BLOCK = 2,
	POL_KILL = 3,
};

enum pol_kind {
	POL_PROCESS = 0, /* exec */
	POL_FILE = 1,	 /* open (read, write, exec, create), delete */
	POL_NETWORK = 2, /* connect, DNS query, bind/listen */
	POL_PRIV = 3,	 /* privileged operations */
};

/* rule.scope of kill (and freeze) */
enum pol_scope {
	POL_SCOPE_PROCESS = 0,
	POL_SCOPE_CONTAINER = 1,
};

/* file access bits (rule.access, query.access) */
#define POL_ACC_READ 0x01
#define POL_ACC_WRITE 0x02
#define POL_ACC_EXEC 0x04
#define POL_ACC_CREATE 0x08
#define POL_ACC_DELETE 0x10
#define POL_ACC_ALL 0x1f

/* privileged operations (rule.priv, query.priv) */
#define POL_PRIV_SETUID 0x001	/* setuid/setresuid..., setgid family too */
#define POL_PRIV_CAPSET 0x002
#define POL_PRIV_PTRACE 0x004
#define POL_PRIV_MOUNT 0x008
#define POL_PRIV_UNSHARE 0x010
#define POL_PRIV_SETNS 0x020
#define POL_PRIV_MODULE 0x040	/* init_module, finit_module */
#define POL_PRIV_BPF 0x080	/* bpf() program loads */
#define POL_PRIV_MEMFD_EXEC 0x100 /* exec of a memfd or deleted file */
#define POL_PRIV_ALL 0x1ff

/* network protocol of a rule (0 = any) */
#define POL_PROTO_ANY 0
#define POL_PROTO_TCP 6
#define POL_PROTO_UDP 17

#define POL_NAME_MAX 64

struct pol_cidr {
	uint8_t family; /* 2 = IPv4, 10 = IPv6 */
	uint8_t plen;	/* prefix length in bits */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes; bits past plen zero */
};

/* A list of patterns (strings owned by the policy). */
struct pol_strs {
	char **v;
	size_t n;
};

struct pol_rule {
	char id[POL_NAME_MAX];
	unsigned line;		 /* in the policy file, for messages */
	enum pol_kind kind;
	enum pol_action action;
	enum pol_scope scope;	 /* what kill kills; what freeze freezes is
				  * always the container */
	int freeze;		 /* also freeze the container's cgroup */
	int severity;		 /* 1 low .. 4 critical */
	struct pol_strs mitre;	 /* "T1059", "T1059.004" */
	char *description;	 /* may be NULL */
	/* process: exe and parent, each empty = any */
	struct pol_strs exe;	 /* path patterns (gen_match syntax) */
	struct pol_strs parent;	 /* parent executable pattern or name glob */
	/* file */
	struct pol_strs paths;	 /* path patterns (gen_match syntax) */
	unsigned access;	 /* POL_ACC_*; 0 in a parsed rule never */
	/* network: outbound (to, ports, dns) or listening (listen) */
	struct pol_cidr *to;	 /* empty = any address */
	size_t n_to;
	uint16_t *ports;	 /* empty = any port */
	size_t n_ports;
	struct pol_strs dns;	 /* DNS name globs (fnmatch, case-insensitive) */
	uint16_t *listen;	 /* listening ports; 0 = any */
	size_t n_listen;
	int is_listen;		 /* a listen rule (else outbound) */
	uint8_t proto;		 /* POL_PROTO_* */
	/* privileged */
	unsigned priv;		 /* POL_PRIV_* */
};

/* Selector: every key given must match (AND); within a key, any value
 * (OR). all = 1 selects everything; host = 1 selects host processes (not
 * in a container); service globs select host services (systemd units). */
struct pol_selector {
	int all;
	int host;
	struct pol_strs container; /* name or id globs (fnmatch) */
	struct pol_strs image;	   /* image globs */
	struct pol_strs namespace; /* Kubernetes namespace globs */
	struct pol_strs labels;	   /* "key=value-glob", all must match */
	struct pol_strs service;   /* unit globs ("sshd.service") */
};

struct policy {
	char name[POL_NAME_MAX];
	char *description;
	char *file;		/* the file it came from (may be NULL) */
	unsigned line;
	struct pol_selector sel;
	/* Default posture per kind (index enum pol_kind): for what the rules
	 * do not list. "default: block" (a scalar) sets it for each of
	 * process and network that has at least one allow rule; a
	 * map sets kinds one by one. file and privileged take allow or
	 * alert only: no kernel hook sees every open or every privileged
	 * operation to refuse. */
	enum pol_action dflt[4];
	struct pol_rule *rules;
	size_t n_rules;
};

/* An immutable, reference-counted set of policies. */
struct policyset {
	struct policy *pol;
	size_t n;
	int refs; /* atomic; policyset_ref/unref */
};

/* --- parsing (policy_parse.c) --- */

/* Parses YAML text. name names the source in messages. On error returns
 * NULL and err holds "NAME:LINE: what is wrong" (the first problem). */
struct policyset *policy_parse(const char *text, size_t len, const char *name,
			       char *err, size_t errlen);
/* Reads and parses one file; err as above (or "FILE: strerror"). */
struct policyset *policy_load_file(const char *path, char *err, size_t errlen);
/* Every *.yaml / *.yml file of dir, in name order, as one set. Policy
 * names must be unique across files. An empty or missing dir gives an
 * empty set (not an error). */
struct policyset *policy_load_dir(const char *dir, char *err, size_t errlen);

struct policyset *policyset_ref(struct policyset *s);
void policyset_unref(struct policyset *s); /* frees at the last reference */

/* Canonical text of the parsed form (every default spelled out), used by
 * `vigil policy show` and the golden tests. Returns a malloc'd string. */
char *policy_dump(const struct policyset *s);

/* "allow", "alert", "block", "kill" */
const char *pol_action_name(enum pol_action a);
/* "process", "file", "network", "privileged" */
const char *pol_kind_name(enum pol_kind k);
/* "low", "medium", "high", "critical" */
const char *pol_severity_name(int sev);

/* --- selection and evaluation (policy_eval.c) --- */

/* What a selector looks at. Strings may be "" (unknown), never NULL. */
struct pol_subject {
	int is_host;
	const char *container_id, *container_name, *image;
	const char *namespace;
	const char *labels; /* "k=v,k=v" */
	const char *service;
};

/* 1 if sel selects subj */
int pol_selects(const struct pol_selector *sel, const struct pol_subject *subj);

/* One action to judge. Unused fields zero/NULL. */
struct pol_query {
	enum pol_kind kind;
	/* process: the new program and the one that called exec (its parent
	 * once running); file: path; both: exe of the acting process */
	const char *exe;
	const char *parent_exe;	 /* may be NULL */
	const char *parent_name; /* may be NULL */
	const char *path;
	unsigned access;	 /* POL_ACC_*, for file */
	/* network */
	int is_listen;
	uint8_t proto;		 /* 6, 17 */
	uint8_t family;		 /* 2, 10; 0 when only dns is known */
	uint8_t addr[16];
	uint16_t port;
	const char *dns;	 /* DNS question name, or NULL */
	/* privileged */
	unsigned priv;		 /* one POL_PRIV_* bit */
};

struct pol_verdict {
	enum pol_action action;
	const struct policy *pol;   /* NULL when no policy selects */
	const struct pol_rule *rule; /* NULL: the default posture decided */
};

/* 1 if rule r matches q (kinds must agree). */
int pol_rule_matches(const struct pol_rule *r, const struct pol_query *q);

/* Decides q over the policies sel[0..n) (those selecting the resource).
 * Returns 1 if some policy had a say (a rule matched or a default other
 * than allow applied), 0 if none did (out->action = POL_ALLOW). */
int policy_eval(const struct policy *const *sel, size_t n,
		const struct pol_query *q, struct pol_verdict *out);

/* Writes the policies of s selecting subj to out (up to cap); returns how
 * many select it in all. */
size_t policyset_select(const struct policyset *s,
			const struct pol_subject *subj,
			const struct policy **out, size_t cap);

#endif
