/* policy_parse.c - YAML -> struct policyset, with libyaml's document API
 * (files, directories and freeing: policy_load.c).
 *
 * Everything is checked at load and the first problem is reported with its
 * line: an unknown or repeated key, a value of the wrong type, a selector
 * that could never select anything, a rule the kernel hooks could not keep
 * (block on a privileged operation). A mistake never becomes a rule that
 * silently never fires. Keys of a map are checked first (get_keys), then
 * the values in a fixed order, so the policy severity is known before its
 * rules and the rules before a scalar default.
 *
 * Invariants of a parsed policy (policy_eval.c relies on them, and
 * tests/fuzz/fuzz_policy.c checks them): names and rule ids match
 * [A-Za-z0-9._-]{1,63} and are unique; the selector is not empty; every
 * rule has exactly one kind; a process rule has exe or parent, exe
 * patterns are absolute; a file rule has paths and access != 0; a network
 * rule is listen (n_listen > 0, nothing else but proto) or outbound, and an
 * outbound rule with dns has no to, ports or proto; CIDRs have the bits
 * past their prefix zeroed; a privileged rule has priv != 0; block is never
 * the action of a privileged rule, a dns rule or a delete-only file rule;
 * dflt[POL_FILE] and dflt[POL_PRIV] are at most POL_ALERT. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>
#include "policy/policy.h"
#include "policy/policy_int.h"

/* Values copied out of one document at most. Aliases let a short text
 * repeat a long list many times; this bounds the memory that can cost. */
#define POL_VALUES_MAX 100000

struct pctx {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
	size_t budget; /* values left to copy */
};

static size_t line_of(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 1;
}

static const char *node_kind(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	return n->type == YAML_MAPPING_NODE ? "a map" :
	       n->type == YAML_SEQUENCE_NODE ? "a list" : "text";
}

/* Writes "NAME:LINE: message" for node n (line 1 when n is NULL). Control
 * bytes of quoted user text become '?' so the message stays one line. */
static int __attribute__((format(printf, 3, 4)))
fail(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int off;

	off = snprintf(p->err, p->errlen, "%s:%zu: ", p->name, line_of(n));
	if (off >= 0 && (size_t)off < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + off, p->errlen - off, fmt, ap);
		va_end(ap);
	}
	for (char *c = p->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -EINVAL;
}

static yaml_node_t *node(struct pctx *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* Charges one value to the budget. */
static int charge(struct pctx *p, const yaml_node_t *n)
{
	if (!p->budget)
		return fail(p, n, "too many values in one file (more than %d; an alias repeating a long list?)",
			    POL_VALUES_MAX);
	p->budget--;
	return 0;
}

/* Array a (n elements of size sz) with room for element n: a itself, or
 * a larger copy (the capacity doubles at each power of two, so appends
 * are amortised O(1)); NULL when out of memory (a is then still valid).
 * GROW assigns the result, so no pointer is written through a void **. */
static void *grown(void *a, size_t n, size_t sz)
{
	if (n & (n - 1))
		return a;
	return realloc(a, (n ? 2 * n : 1) * sz);
}

#define GROW(a, n)                                                 \
	({                                                         \
		void *g_ = grown((a), (n), sizeof(*(a)));          \
		if (g_)                                            \
			(a) = g_;                                  \
		g_ ? 0 : -ENOMEM;                                  \
	})

static int strs_add(struct pol_strs *l, const char *s)
{
	char *d;

	if (GROW(l->v, l->n) < 0)
		return -ENOMEM;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	l->v[l->n++] = d;
	return 0;
}

/* Checks that map is a mapping whose keys are text, among keys[0..n) and
 * each given once, and fills k[i]/v[i] with the key and value node of
 * keys[i] (NULL when absent). what names the map in messages. */
static int get_keys(struct pctx *p, yaml_node_t *map, const char *what,
		    const char *const *keys, size_t n, yaml_node_t **k,
		    yaml_node_t **v)
{
	for (size_t i = 0; i < n; i++)
		k[i] = v[i] = NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = node(p, pr->key), *vn = node(p, pr->value);
		const char *key;
		size_t i;

		if (!kn || kn->type != YAML_SCALAR_NODE)
			return fail(p, kn ? kn : map, "a key in %s must be text, not %s",
				    what, node_kind(kn));
		key = (const char *)kn->data.scalar.value;
		if (strlen(key) != kn->data.scalar.length)
			return fail(p, kn, "a key in %s contains a NUL byte", what);
		for (i = 0; i < n && strcmp(key, keys[i]); i++)
			;
		if (i == n)
			return fail(p, kn, "unknown key '%s' in %s", key, what);
		if (k[i])
			return fail(p, kn, "duplicate key '%s' in %s (first at line %zu)",
				    key, what, line_of(k[i]));
		if (!vn) /* libyaml always gives a node, "" at least */
			return fail(p, kn, "key '%s' in %s has no value", key, what);
		k[i] = kn;
		v[i] = vn;
	}
	return 0;
}

/* The text of scalar v (value of key): no NUL byte, and not empty unless
 * empty_ok. */
static int text_of(struct pctx *p, yaml_node_t *v, const char *key,
		   const char **out, int empty_ok)
{
	const char *s;

	if (!v || v->type != YAML_SCALAR_NODE)
		return fail(p, v, "'%s' must be text, not %s", key, node_kind(v));
	s = (const char *)v->data.scalar.value;
	if (strlen(s) != v->data.scalar.length)
		return fail(p, v, "'%s' contains a NUL byte", key);
	if (!*s && !empty_ok)
		return fail(p, v, "'%s' has no value", key);
	*out = s;
	return 0;
}

static int get_text(struct pctx *p, yaml_node_t *v, const char *key,
		    const char **out)
{
	return text_of(p, v, key, out, 0);
}

/* A copy of the text of v; for descriptions, which may be empty. */
static int set_text(struct pctx *p, yaml_node_t *v, const char *key, char **dst)
{
	const char *s;
	int rc = text_of(p, v, key, &s, 1);

	if (rc < 0)
		return rc;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int get_bool(struct pctx *p, yaml_node_t *v, const char *key, int *out)
{
	const char *s;
	int rc = get_text(p, v, key, &s);

	if (rc < 0)
		return rc;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*out = 1;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*out = 0;
	else
		return fail(p, v, "'%s' must be true or false, not '%s'", key, s);
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n && !s[n] && n < POL_NAME_MAX;
}

static int get_name(struct pctx *p, yaml_node_t *v, const char *key,
		    const char *what, char out[POL_NAME_MAX])
{
	const char *s;
	int rc = get_text(p, v, key, &s);

	if (rc < 0)
		return rc;
	if (!valid_name(s))
		return fail(p, v, "%s '%s' is not valid: use 1 to %d letters, digits, '.', '_' or '-'",
			    what, s, POL_NAME_MAX - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* Calls fn for each text of v: one text, or a non-empty list of them. */
typedef int (*item_fn)(struct pctx *p, yaml_node_t *n, const char *s,
		       const char *key, void *arg);

static int each_item(struct pctx *p, yaml_node_t *v, const char *key,
		     item_fn fn, void *arg)
{
	const char *s;
	int rc;

	if (v->type == YAML_SCALAR_NODE) {
		if ((rc = get_text(p, v, key, &s)) < 0 || (rc = charge(p, v)) < 0)
			return rc;
		return fn(p, v, s, key, arg);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, "'%s' must be text or a list of text, not a map", key);
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(p, v, "'%s' is an empty list", key);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = node(p, *it);

		if (!n || n->type != YAML_SCALAR_NODE)
			return fail(p, n ? n : v, "items of '%s' must be text, not %s",
				    key, node_kind(n));
		if ((rc = get_text(p, n, key, &s)) < 0 || (rc = charge(p, n)) < 0 ||
		    (rc = fn(p, n, s, key, arg)) < 0)
			return rc;
	}
	return 0;
}

/* --- item checkers (arg: the list or bit set to fill) --- */

static int item_glob(struct pctx *p, yaml_node_t *n, const char *s,
		     const char *key, void *arg)
{
	(void)p, (void)n, (void)key;
	return strs_add(arg, s);
}

static int item_abs(struct pctx *p, yaml_node_t *n, const char *s,
		    const char *key, void *arg)
{
	if (s[0] != '/')
		return fail(p, n, "'%s' in '%s' is not an absolute path pattern (it must start with '/')",
			    s, key);
	return strs_add(arg, s);
}

static int item_parent(struct pctx *p, yaml_node_t *n, const char *s,
		       const char *key, void *arg)
{
	if (s[0] != '/' && strchr(s, '/'))
		return fail(p, n, "'%s' in '%s' is neither an absolute path pattern nor a process name (no '/')",
			    s, key);
	return strs_add(arg, s);
}

static int item_label(struct pctx *p, yaml_node_t *n, const char *s,
		      const char *key, void *arg)
{
	const char *eq = strchr(s, '=');

	/* the key is matched as it is; labels come as "k=v,k=v" */
	if (!eq || eq == s || strchr(s, ',') || strcspn(s, "*?[") < (size_t)(eq - s))
		return fail(p, n, "'%s' in '%s' is not key=glob (a label name, '=', a value glob)",
			    s, key);
	return strs_add(arg, s);
}

static int item_mitre(struct pctx *p, yaml_node_t *n, const char *s,
		      const char *key, void *arg)
{
	size_t len = strlen(s);
	int ok = (len == 5 || len == 9) && s[0] == 'T' &&
		 strspn(s + 1, "0123456789") == 4 &&
		 (len == 5 || (s[5] == '.' && strspn(s + 6, "0123456789") == 3));

	(void)key;
	if (!ok)
		return fail(p, n, "'%s' is not an ATT&CK technique id (T1234 or T1234.567)", s);
	return strs_add(arg, s);
}

static int item_dns(struct pctx *p, yaml_node_t *n, const char *s,
		    const char *key, void *arg)
{
	size_t len = strlen(s);
	char buf[256];

	if (len && s[len - 1] == '.')
		len--; /* the root label: "example.com." is "example.com" */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '/' || s[i] == 0x7f)
			len = 0;
	if (!len || len > 253)
		return fail(p, n, "'%s' in '%s' is not a DNS name glob", s, key);
	for (size_t i = 0; i < len; i++) /* names match case-insensitively */
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[len] = 0;
	return strs_add(arg, buf);
}

static int item_access(struct pctx *p, yaml_node_t *n, const char *s,
		       const char *key, void *arg)
{
	(void)key;
	for (unsigned i = 0; i < POL_N_ACC; i++)
		if (!strcmp(s, pol_access_names[i])) {
			*(unsigned *)arg |= 1u << i;
			return 0;
		}
	return fail(p, n, "unknown file access '%s': expected read, write, exec, create or delete", s);
}

static int item_priv(struct pctx *p, yaml_node_t *n, const char *s,
		     const char *key, void *arg)
{
	(void)key;
	for (unsigned i = 0; i < POL_N_PRIV; i++)
		if (!strcmp(s, pol_priv_names[i])) {
			*(unsigned *)arg |= 1u << i;
			return 0;
		}
	if (!strcmp(s, "setgid"))
		return fail(p, n, "'setgid' is part of 'setuid' (the setuid family covers setgid too)");
	return fail(p, n, "unknown privileged operation '%s': expected setuid, capset, ptrace, mount, unshare, setns, module, bpf or memfd_exec",
		    s);
}

/* A decimal number 0..max (no sign, no spaces); -1 if it is not one. */
static long number(const char *s, long max)
{
	long v = 0;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
		return -1;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v <= max ? v : -1;
}

struct ports {
	uint16_t **v;
	size_t *n;
};

static int add_port(struct ports *l, long v)
{
	if (GROW(*l->v, *l->n) < 0)
		return -ENOMEM;
	(*l->v)[(*l->n)++] = (uint16_t)v;
	return 0;
}

static int item_port(struct pctx *p, yaml_node_t *n, const char *s,
		     const char *key, void *arg)
{
	long v = number(s, 65535);

	if (v < 1)
		return fail(p, n, "'%s' in '%s' is not a port number from 1 to 65535", s, key);
	return add_port(arg, v);
}

static int item_listen(struct pctx *p, yaml_node_t *n, const char *s,
		       const char *key, void *arg)
{
	long v = strcmp(s, "any") ? number(s, 65535) : 0;

	if (v < 0)
		return fail(p, n, "'%s' in '%s' is not a port number from 0 to 65535 or 'any'", s, key);
	return add_port(arg, v);
}

/* "10.0.0.0/8", "fd00::/8", a bare address (/32, /128). Bits past the
 * prefix are zeroed. 0, or -1 (not an address), -2 (bad prefix length). */
static int parse_cidr(const char *s, struct pol_cidr *c)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char buf[INET6_ADDRSTRLEN + 1];
	long plen, max;

	memset(c, 0, sizeof(*c));
	if (!alen || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = 0;
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	plen = slash ? number(slash + 1, max) : max;
	if (plen < 0 || (slash && strlen(slash + 1) > 3))
		return -2;
	c->plen = (uint8_t)plen;
	for (int i = 0; i < 16; i++) {
		long keep = plen - 8 * i;

		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
	return 0;
}

static int item_cidr(struct pctx *p, yaml_node_t *n, const char *s,
		     const char *key, void *arg)
{
	struct pol_rule *r = arg;
	struct pol_cidr c;
	int rc = parse_cidr(s, &c);

	if (rc == -1)
		return fail(p, n, "'%s' in '%s' is not an IPv4 or IPv6 address or CIDR", s, key);
	if (rc == -2)
		return fail(p, n, "'%s' in '%s' has a bad prefix length (0 to %d)", s, key,
			    c.family == AF_INET ? 32 : 128);
	if (GROW(r->to, r->n_to) < 0)
		return -ENOMEM;
	r->to[r->n_to++] = c;
	return 0;
}

/* --- enumerations --- */

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int get_severity(struct pctx *p, yaml_node_t *v, int *out)
{
	const char *s;
	int rc = get_text(p, v, "severity", &s), i;

	if (rc < 0)
		return rc;
	if ((i = lookup(s, pol_sev_names, 4)) < 0)
		return fail(p, v, "unknown severity '%s': expected low, medium, high or critical", s);
	*out = i + 1;
	return 0;
}

/* --- selector --- */

enum { SK_ALL, SK_HOST, SK_CONTAINER, SK_IMAGE, SK_NAMESPACE, SK_LABELS, SK_SERVICE, SK_N };
static const char *const sel_keys[SK_N] = {
	"all", "host", "container", "image", "namespace", "labels", "service",
};

static int parse_selector(struct pctx *p, yaml_node_t *map, struct pol_selector *sel)
{
	yaml_node_t *k[SK_N], *v[SK_N];
	struct pol_strs *lists[SK_N] = {
		[SK_CONTAINER] = &sel->container, [SK_IMAGE] = &sel->image,
		[SK_NAMESPACE] = &sel->namespace, [SK_LABELS] = &sel->labels,
		[SK_SERVICE] = &sel->service,
	};
	int rc, any = 0;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "'selector' must be a map (container:, image:, service:, host:, all: ...), not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "selector", sel_keys, SK_N, k, v)) < 0)
		return rc;
	if ((v[SK_ALL] && (rc = get_bool(p, v[SK_ALL], "all", &sel->all)) < 0) ||
	    (v[SK_HOST] && (rc = get_bool(p, v[SK_HOST], "host", &sel->host)) < 0))
		return rc;
	for (int i = SK_CONTAINER; i < SK_N; i++) {
		if (!v[i])
			continue;
		rc = each_item(p, v[i], sel_keys[i],
			       i == SK_LABELS ? item_label : item_glob, lists[i]);
		if (rc < 0)
			return rc;
		any = 1;
	}
	if (!sel->all && !sel->host && !any)
		return fail(p, map, "empty selector: write 'all: true' to select everything");
	/* Combinations that could never select anything are mistakes. */
	for (int i = SK_HOST; i < SK_N; i++) {
		if (!k[i] || (i == SK_HOST && !sel->host))
			continue;
		if (sel->all)
			return fail(p, k[i], "'all: true' selects everything: '%s' cannot be combined with it",
				    sel_keys[i]);
		if (i >= SK_CONTAINER && i <= SK_LABELS && sel->host)
			return fail(p, k[i], "'%s' never matches a host process: it cannot be combined with 'host: true'",
				    sel_keys[i]);
		if (i >= SK_CONTAINER && i <= SK_LABELS && v[SK_SERVICE])
			return fail(p, k[SK_SERVICE], "'service' selects host services: it cannot be combined with '%s' (containers)",
				    sel_keys[i]);
	}
	return 0;
}

/* --- rules --- */

enum { PR_EXE, PR_PARENT, PR_N };
static const char *const proc_keys[PR_N] = {"exe", "parent"};
enum { FI_PATHS, FI_ACCESS, FI_N };
static const char *const file_keys[FI_N] = {"paths", "access"};
enum { NK_TO, NK_PORTS, NK_DNS, NK_PROTOCOL, NK_LISTEN, NK_N };
static const char *const net_keys[NK_N] = {"to", "ports", "dns", "protocol", "listen"};

static int parse_process(struct pctx *p, yaml_node_t *map, struct pol_rule *r)
{
	yaml_node_t *k[PR_N], *v[PR_N];
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "'process' must be a map with 'exe' and/or 'parent', not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "process", proc_keys, PR_N, k, v)) < 0)
		return rc;
	if (!v[PR_EXE] && !v[PR_PARENT])
		return fail(p, map, "'process' needs 'exe' or 'parent'");
	if ((v[PR_EXE] && (rc = each_item(p, v[PR_EXE], "exe", item_abs, &r->exe)) < 0) ||
	    (v[PR_PARENT] && (rc = each_item(p, v[PR_PARENT], "parent", item_parent, &r->parent)) < 0))
		return rc;
	return 0;
}

static int parse_file(struct pctx *p, yaml_node_t *map, struct pol_rule *r)
{
	yaml_node_t *k[FI_N], *v[FI_N];
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "'file' must be a map with 'paths' and 'access', not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "file", file_keys, FI_N, k, v)) < 0)
		return rc;
	if (!v[FI_PATHS])
		return fail(p, map, "'file' needs 'paths'");
	if ((rc = each_item(p, v[FI_PATHS], "paths", item_abs, &r->paths)) < 0)
		return rc;
	if (!v[FI_ACCESS])
		r->access = POL_ACC_ALL;
	else if ((rc = each_item(p, v[FI_ACCESS], "access", item_access, &r->access)) < 0)
		return rc;
	return 0;
}

static int parse_network(struct pctx *p, yaml_node_t *map, struct pol_rule *r)
{
	yaml_node_t *k[NK_N], *v[NK_N];
	struct ports ports = {&r->ports, &r->n_ports};
	struct ports listen = {&r->listen, &r->n_listen};
	const char *s;
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "'network' must be a map (to:, ports:, dns:, protocol:, listen:), not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "network", net_keys, NK_N, k, v)) < 0)
		return rc;
	if (!v[NK_TO] && !v[NK_PORTS] && !v[NK_DNS] && !v[NK_LISTEN] && !v[NK_PROTOCOL])
		return fail(p, map, "'network' needs 'to', 'ports', 'dns' or 'listen'");
	for (int i = NK_TO; i <= NK_DNS && k[NK_LISTEN]; i++)
		if (k[i])
			return fail(p, k[NK_LISTEN], "'listen' cannot be combined with '%s': a listen rule is about binding a port, not connecting; write two rules",
				    net_keys[i]);
	for (int i = NK_TO; i <= NK_PORTS && k[NK_DNS]; i++)
		if (k[i])
			return fail(p, k[NK_DNS], "'dns' cannot be combined with '%s': a dns rule matches DNS queries, not connections; write two rules",
				    net_keys[i]);
	if (k[NK_DNS] && k[NK_PROTOCOL])
		return fail(p, k[NK_PROTOCOL], "'protocol' does not apply to a dns rule");
	if ((v[NK_TO] && (rc = each_item(p, v[NK_TO], "to", item_cidr, r)) < 0) ||
	    (v[NK_PORTS] && (rc = each_item(p, v[NK_PORTS], "ports", item_port, &ports)) < 0) ||
	    (v[NK_DNS] && (rc = each_item(p, v[NK_DNS], "dns", item_dns, &r->dns)) < 0) ||
	    (v[NK_LISTEN] && (rc = each_item(p, v[NK_LISTEN], "listen", item_listen, &listen)) < 0))
		return rc;
	r->is_listen = v[NK_LISTEN] != NULL;
	r->proto = POL_PROTO_ANY;
	if (v[NK_PROTOCOL]) {
		if ((rc = get_text(p, v[NK_PROTOCOL], "protocol", &s)) < 0)
			return rc;
		if (!strcmp(s, "tcp"))
			r->proto = POL_PROTO_TCP;
		else if (!strcmp(s, "udp"))
			r->proto = POL_PROTO_UDP;
		else if (strcmp(s, "any"))
			return fail(p, v[NK_PROTOCOL], "unknown protocol '%s': expected tcp, udp or any", s);
	}
	return 0;
}

enum {
	RK_ID, RK_DESC, RK_ACTION, RK_SEV, RK_MITRE, RK_SCOPE, RK_FREEZE,
	RK_KIND, /* RK_KIND + enum pol_kind */
	RK_N = RK_KIND + 4,
};
static const char *const rule_keys[RK_N] = {
	"id", "description", "action", "severity", "mitre", "scope", "freeze",
	"process", "file", "network", "privileged",
};

/* Refuses what the hooks of this platform cannot keep (docs/policies.md,
 * "Not every action can be refused"). */
static int check_enforceable(struct pctx *p, yaml_node_t *action,
			     const struct pol_rule *r)
{
	if (r->action != POL_BLOCK)
		return 0;
	if (r->kind == POL_PRIV)
		return fail(p, action, "rule '%s': block cannot be kept on a privileged rule (no hook refuses these operations here); use kill or alert",
			    r->id);
	if (r->kind == POL_NETWORK && r->dns.n)
		return fail(p, action, "rule '%s': block cannot be kept on a dns rule (no hook refuses DNS queries here); use kill or alert",
			    r->id);
	if (r->kind == POL_FILE && r->access == POL_ACC_DELETE)
		return fail(p, action, "rule '%s': block cannot be kept on a file rule about delete only (fanotify sees opens, not unlinks); use kill or alert",
			    r->id);
	return 0;
}

static int parse_rule(struct pctx *p, yaml_node_t *map, struct pol_rule *r,
		      const struct policy *pol, int severity)
{
	yaml_node_t *k[RK_N], *v[RK_N];
	const char *s;
	int rc, kind = -1, i;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "a rule must be a map (id:, action:, and one of process, file, network, privileged), not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "rule", rule_keys, RK_N, k, v)) < 0)
		return rc;
	r->line = line_of(map);
	if (!v[RK_ID])
		return fail(p, map, "a rule needs an 'id'");
	if ((rc = get_name(p, v[RK_ID], "id", "rule id", r->id)) < 0)
		return rc;
	for (size_t j = 0; j < pol->n_rules; j++)
		if (!strcmp(pol->rules[j].id, r->id))
			return fail(p, v[RK_ID], "duplicate rule id '%s' in policy '%s' (first at line %u)",
				    r->id, pol->name, pol->rules[j].line);
	if (v[RK_DESC] && (rc = set_text(p, v[RK_DESC], "description", &r->description)) < 0)
		return rc;
	if (!v[RK_ACTION])
		return fail(p, map, "rule '%s' needs an 'action' (allow, alert, block or kill)", r->id);
	if ((rc = get_text(p, v[RK_ACTION], "action", &s)) < 0)
		return rc;
	if ((i = lookup(s, pol_action_names, 4)) < 0)
		return fail(p, v[RK_ACTION], "unknown action '%s' in rule '%s': expected allow, alert, block or kill",
			    s, r->id);
	r->action = (enum pol_action)i;
	r->severity = severity;
	if (v[RK_SEV] && (rc = get_severity(p, v[RK_SEV], &r->severity)) < 0)
		return rc;
	if (v[RK_MITRE] && (rc = each_item(p, v[RK_MITRE], "mitre", item_mitre, &r->mitre)) < 0)
		return rc;
	for (i = 0; i < 4; i++) {
		if (!k[RK_KIND + i])
			continue;
		if (kind >= 0)
			return fail(p, k[RK_KIND + i], "rule '%s' has both '%s' and '%s': a rule is about one kind of action; write two rules",
				    r->id, pol_kind_names[kind], pol_kind_names[i]);
		kind = i;
	}
	if (kind < 0)
		return fail(p, map, "rule '%s' needs one of process, file, network or privileged", r->id);
	r->kind = (enum pol_kind)kind;
	switch (r->kind) {
	case POL_PROCESS:
		rc = parse_process(p, v[RK_KIND + kind], r);
		break;
	case POL_FILE:
		rc = parse_file(p, v[RK_KIND + kind], r);
		break;
	case POL_NETWORK:
		rc = parse_network(p, v[RK_KIND + kind], r);
		break;
	case POL_PRIV:
		rc = each_item(p, v[RK_KIND + kind], "privileged", item_priv, &r->priv);
		break;
	}
	if (rc < 0)
		return rc;
	r->scope = POL_SCOPE_PROCESS;
	if (v[RK_SCOPE]) {
		if (r->action == POL_ALLOW)
			return fail(p, k[RK_SCOPE], "'scope' does not apply to an allow rule (it says what kill kills)");
		if ((rc = get_text(p, v[RK_SCOPE], "scope", &s)) < 0)
			return rc;
		if (!strcmp(s, "container"))
			r->scope = POL_SCOPE_CONTAINER;
		else if (strcmp(s, "process"))
			return fail(p, v[RK_SCOPE], "unknown scope '%s': expected process or container", s);
	}
	if (v[RK_FREEZE]) {
		if (r->action == POL_ALLOW)
			return fail(p, k[RK_FREEZE], "'freeze' does not apply to an allow rule");
		if ((rc = get_bool(p, v[RK_FREEZE], "freeze", &r->freeze)) < 0)
			return rc;
	}
	return check_enforceable(p, v[RK_ACTION], r);
}

/* --- policies --- */

static int bad_default(struct pctx *p, yaml_node_t *v, const char *s)
{
	if (!strcmp(s, "kill"))
		return fail(p, v, "'kill' is not a default posture (it is a rule action): use block");
	return fail(p, v, "unknown default '%s': expected allow, alert or block", s);
}

static int parse_default(struct pctx *p, yaml_node_t *v, struct policy *pol)
{
	static const char *const what[4] = {
		"exec", "open", "connection", "privileged operation",
	};
	yaml_node_t *k[4], *vv[4];
	const char *s;
	int rc, i, has[4] = {0};

	if (v->type == YAML_SCALAR_NODE) {
		if ((rc = get_text(p, v, "default", &s)) < 0)
			return rc;
		if ((i = lookup(s, pol_action_names, 3)) < 0)
			return bad_default(p, v, s);
		/* a kind with allow rules is a list of what may happen: the
		 * default covers the rest; deny rules alone leave it open */
		for (size_t j = 0; j < pol->n_rules; j++)
			if (pol->rules[j].action == POL_ALLOW)
				has[pol->rules[j].kind] = 1;
		pol->dflt[POL_PROCESS] = has[POL_PROCESS] ? (enum pol_action)i : POL_ALLOW;
		pol->dflt[POL_NETWORK] = has[POL_NETWORK] ? (enum pol_action)i : POL_ALLOW;
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(p, v, "'default' must be allow, alert, block or a map of kind: posture, not a list");
	if ((rc = get_keys(p, v, "default", pol_kind_names, 4, k, vv)) < 0)
		return rc;
	for (int kd = 0; kd < 4; kd++) {
		if (!vv[kd])
			continue;
		if ((rc = get_text(p, vv[kd], pol_kind_names[kd], &s)) < 0)
			return rc;
		if ((i = lookup(s, pol_action_names, 3)) < 0)
			return bad_default(p, vv[kd], s);
		if (i == POL_BLOCK && (kd == POL_FILE || kd == POL_PRIV))
			return fail(p, vv[kd], "default for %s cannot be 'block': no kernel hook here sees every %s in time to refuse it; use alert",
				    pol_kind_names[kd], what[kd]);
		pol->dflt[kd] = (enum pol_action)i;
	}
	return 0;
}

enum { PK_NAME, PK_DESC, PK_SEL, PK_DEFAULT, PK_SEV, PK_RULES, PK_N };
static const char *const policy_keys[PK_N] = {
	"name", "description", "selector", "default", "severity", "rules",
};

/* Parses map into pol, the next policy of s (s->pol[0..s->n) come before
 * it, for the duplicate name check). */
static int parse_policy(struct pctx *p, yaml_node_t *map, struct policy *pol,
			const struct policyset *s)
{
	yaml_node_t *k[PK_N], *v[PK_N], *rules;
	int rc, severity = 2;

	if (map->type != YAML_MAPPING_NODE)
		return fail(p, map, "a policy must be a map (name:, selector:, rules:), not %s",
			    node_kind(map));
	if ((rc = get_keys(p, map, "policy", policy_keys, PK_N, k, v)) < 0)
		return rc;
	pol->line = line_of(map);
	if (!v[PK_NAME])
		return fail(p, map, "a policy needs a 'name'");
	if ((rc = get_name(p, v[PK_NAME], "name", "policy name", pol->name)) < 0)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->pol[i].name, pol->name))
			return fail(p, v[PK_NAME], "duplicate policy name '%s' (first at line %u)",
				    pol->name, s->pol[i].line);
	if (v[PK_DESC] && (rc = set_text(p, v[PK_DESC], "description", &pol->description)) < 0)
		return rc;
	if (!v[PK_SEL])
		return fail(p, map, "policy '%s' needs a 'selector' (write 'all: true' in it to select everything)",
			    pol->name);
	if ((rc = parse_selector(p, v[PK_SEL], &pol->sel)) < 0)
		return rc;
	if (v[PK_SEV] && (rc = get_severity(p, v[PK_SEV], &severity)) < 0)
		return rc;
	if (!(rules = v[PK_RULES]))
		return fail(p, map, "policy '%s' needs 'rules' (a list; it may be empty)", pol->name);
	if (rules->type != YAML_SEQUENCE_NODE)
		return fail(p, rules, "'rules' must be a list of rules, not %s", node_kind(rules));
	for (yaml_node_item_t *it = rules->data.sequence.items.start;
	     it < rules->data.sequence.items.top; it++) {
		yaml_node_t *rn = node(p, *it);
		struct pol_rule *r;

		if (!rn)
			return fail(p, rules, "a rule is missing");
		if ((rc = charge(p, rn)) < 0 ||
		    (rc = GROW(pol->rules, pol->n_rules)) < 0)
			return rc;
		r = &pol->rules[pol->n_rules];
		memset(r, 0, sizeof(*r));
		rc = parse_rule(p, rn, r, pol, severity);
		pol->n_rules++; /* counted even on error, so it is freed */
		if (rc < 0)
			return rc;
	}
	if (v[PK_DEFAULT] && (rc = parse_default(p, v[PK_DEFAULT], pol)) < 0)
		return rc;
	return 0;
}

/* Parses the root node (a policy or a list of them) into s. */
static int parse_root(struct pctx *p, yaml_node_t *root, struct policyset *s)
{
	yaml_node_item_t one = 0, *start, *top;
	int rc;

	if (root->type == YAML_MAPPING_NODE) {
		start = &one;
		top = start + 1;
	} else if (root->type == YAML_SEQUENCE_NODE) {
		start = root->data.sequence.items.start;
		top = root->data.sequence.items.top;
	} else {
		return fail(p, root, "expected a policy (a map) or a list of policies, not text");
	}
	for (yaml_node_item_t *it = start; it < top; it++) {
		yaml_node_t *pn = it == &one ? root : node(p, *it);
		struct policy *pol;

		if (!pn)
			return fail(p, root, "a policy is missing");
		if ((rc = charge(p, pn)) < 0 ||
		    (rc = GROW(s->pol, s->n)) < 0)
			return rc;
		pol = &s->pol[s->n];
		memset(pol, 0, sizeof(*pol));
		rc = parse_policy(p, pn, pol, s);
		s->n++; /* counted even on error, so it is freed */
		if (rc < 0)
			return rc;
		if (strcmp(p->name, "-") && !(pol->file = strdup(p->name)))
			return -ENOMEM;
	}
	return 0;
}

static void yaml_fail(struct pctx *p, const yaml_parser_t *ps)
{
	snprintf(p->err, p->errlen, "%s:%zu: YAML syntax error: %s%s%s", p->name,
		 ps->problem_mark.line + 1,
		 ps->problem ? ps->problem : "unreadable document",
		 ps->context ? " " : "", ps->context ? ps->context : "");
}

struct policyset *policy_parse(const char *text, size_t len, const char *name,
			       char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	char scratch[1];
	struct pctx p = {&doc, name ? name : "-", err, errlen, POL_VALUES_MAX};
	struct policyset *s;
	int rc = 0;

	if (!err || !errlen) {
		p.err = scratch;
		p.errlen = sizeof(scratch);
	}
	p.err[0] = 0;
	if (!(s = pol_set_new())) {
		snprintf(p.err, p.errlen, "%s: out of memory", p.name);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&p, &parser);
		yaml_parser_delete(&parser);
		free(s);
		errno = EINVAL;
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = fail(&p, NULL, "no policy: expected a policy (a map) or a list of policies");
	} else if (!yaml_parser_load(&parser, &next)) {
		yaml_fail(&p, &parser);
		rc = -EINVAL;
	} else {
		/* A second document would be ignored silently: refuse it. */
		yaml_node_t *r2 = yaml_document_get_root_node(&next);

		if (r2)
			rc = fail(&p, r2, "a second YAML document: put all policies of a file in one list");
		yaml_document_delete(&next);
		if (!rc)
			rc = parse_root(&p, root, s);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(p.err, p.errlen, "%s: out of memory", p.name);
		pol_set_free(s);
		errno = -rc;
		return NULL;
	}
	return s;
}

