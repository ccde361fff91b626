/* policy_eval.c - which policies select a resource, whether a rule matches
 * an action, and the decision over the selected policies.
 *
 * Pure functions over an immutable set: no allocation except for a DNS
 * name or label value too long for a stack buffer, no state, safe on any
 * thread. They rely on the invariants policy_parse.c establishes (see
 * there): e.g. a listen rule has listen ports, a dns rule no addresses. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "model/generalize.h"
#include "policy/policy.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

static int any_glob(const struct pol_strs *l, const char *s, int flags)
{
	for (size_t i = 0; i < l->n; i++)
		if (!fnmatch(l->v[i], s, flags))
			return 1;
	return 0;
}

/* A glob of >= 12 hex digits and nothing else is also an id prefix, as
 * `--container` takes it ("3f2a9c1b7d4e" for the full 64-digit id). */
static int id_prefix(const char *g, const char *id)
{
	size_t n = strlen(g);

	return n >= 12 && strspn(g, "0123456789abcdef") == n && !strncmp(id, g, n);
}

static int container_matches(const struct pol_strs *l, const char *name,
			     const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!fnmatch(l->v[i], name, 0) || !fnmatch(l->v[i], id, 0) ||
		    (*id && id_prefix(l->v[i], id)))
			return 1;
	return 0;
}

/* fnmatch of glob against s[0..n) (not NUL-terminated). */
static int glob_n(const char *glob, const char *s, size_t n, int flags)
{
	char buf[256], *t = n < sizeof(buf) ? buf : malloc(n + 1);
	int hit;

	if (!t)
		return 0;
	memcpy(t, s, n);
	t[n] = 0;
	hit = !fnmatch(glob, t, flags);
	if (t != buf)
		free(t);
	return hit;
}

/* "k=glob" against the "k=v,k=v" labels of the subject. */
static int label_matches(const char *want, const char *labels)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : 0;

	if (!eq)
		return 0;
	for (const char *l = labels; *l;) {
		const char *end = strchrnul(l, ',');
		const char *leq = memchr(l, '=', (size_t)(end - l));

		if (leq && (size_t)(leq - l) == klen && !memcmp(l, want, klen) &&
		    glob_n(eq + 1, leq + 1, (size_t)(end - leq - 1), 0))
			return 1;
		l = *end ? end + 1 : end;
	}
	return 0;
}

int pol_selects(const struct pol_selector *sel, const struct pol_subject *subj)
{
	int ctr_keys = sel->container.n || sel->image.n || sel->namespace.n ||
		       sel->labels.n;

	if (sel->all)
		return 1;
	if (!sel->host && !ctr_keys && !sel->service.n)
		return 0; /* an empty selector selects nothing (never parsed) */
	if (sel->host && !subj->is_host)
		return 0;
	if (ctr_keys && subj->is_host)
		return 0;
	if (sel->service.n && !subj->is_host)
		return 0;
	if (sel->container.n &&
	    !container_matches(&sel->container, str(subj->container_name),
			       str(subj->container_id)))
		return 0;
	if (sel->image.n && !any_glob(&sel->image, str(subj->image), 0))
		return 0;
	if (sel->namespace.n && !any_glob(&sel->namespace, str(subj->namespace), 0))
		return 0;
	for (size_t i = 0; i < sel->labels.n; i++)
		if (!label_matches(sel->labels.v[i], str(subj->labels)))
			return 0;
	if (sel->service.n && !any_glob(&sel->service, str(subj->service), 0))
		return 0;
	return 1;
}

static int any_path(const struct pol_strs *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (gen_match(l->v[i], path))
			return 1;
	return 0;
}

static int process_matches(const struct pol_rule *r, const struct pol_query *q)
{
	size_t i;

	if (r->exe.n && !any_path(&r->exe, q->exe))
		return 0;
	for (i = 0; i < r->parent.n; i++) {
		const char *pat = r->parent.v[i];

		if (strchr(pat, '/') ? gen_match(pat, q->parent_exe) :
		    (q->parent_name && !fnmatch(pat, q->parent_name, 0)))
			break;
	}
	return !r->parent.n || i < r->parent.n;
}

static int port_listed(const uint16_t *v, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == port)
			return 1;
	return 0;
}

static int in_cidr(const struct pol_cidr *c, const uint8_t *addr)
{
	unsigned full = c->plen / 8, rest = c->plen % 8;

	if (c->plen > (c->family == AF_INET ? 32 : 128))
		return 0;
	if (memcmp(c->addr, addr, full))
		return 0;
	return !rest || !((c->addr[full] ^ addr[full]) & (0xff << (8 - rest)));
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv4 CIDR also matches an IPv4-mapped IPv6 address (::ffff:a.b.c.d):
 * what a dual-stack socket connecting to an IPv4 address reports. */
static int addr_matches(const struct pol_rule *r, const struct pol_query *q)
{
	int mapped = q->family == AF_INET6 && !memcmp(q->addr, v4mapped, 12);

	for (size_t i = 0; i < r->n_to; i++) {
		const struct pol_cidr *c = &r->to[i];

		if (c->family == q->family && in_cidr(c, q->addr))
			return 1;
		if (mapped && c->family == AF_INET && in_cidr(c, q->addr + 12))
			return 1;
	}
	return !r->n_to;
}

/* Name globs are case-insensitive; the root label ("example.com.") is not
 * part of the name. */
static int dns_matches(const struct pol_strs *l, const char *name)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < l->n; i++)
		if (glob_n(l->v[i], name, n, FNM_CASEFOLD))
			return 1;
	return 0;
}

static int network_matches(const struct pol_rule *r, const struct pol_query *q)
{
	int proto_ok = r->proto == POL_PROTO_ANY || r->proto == q->proto;

	if (r->is_listen)
		return q->is_listen && proto_ok &&
		       (!r->n_listen || port_listed(r->listen, r->n_listen, 0) ||
			port_listed(r->listen, r->n_listen, q->port));
	if (q->is_listen)
		return 0;
	if (r->dns.n)
		return q->dns && dns_matches(&r->dns, q->dns);
	return q->family && proto_ok && addr_matches(r, q) &&
	       (!r->n_ports || port_listed(r->ports, r->n_ports, q->port));
}

int pol_rule_matches(const struct pol_rule *r, const struct pol_query *q)
{
	if (!r || !q || r->kind != q->kind)
		return 0;
	switch (r->kind) {
	case POL_PROCESS:
		return process_matches(r, q);
	case POL_FILE:
		return any_path(&r->paths, q->path) && (r->access & q->access) != 0;
	case POL_NETWORK:
		return network_matches(r, q);
	case POL_PRIV:
		return (r->priv & q->priv) != 0;
	}
	return 0;
}

int policy_eval(const struct policy *const *sel, size_t n,
		const struct pol_query *q, struct pol_verdict *out)
{
	const struct policy *allow_pol = NULL, *dflt_pol = NULL;
	const struct pol_rule *allow = NULL;
	enum pol_action dflt = POL_ALLOW;

	out->action = POL_ALLOW;
	out->pol = NULL;
	out->rule = NULL;
	if (!q || (unsigned)q->kind > POL_PRIV)
		return 0;
	/* The strongest deny wins; on a tie the first (policy, then rule). */
	for (size_t i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		for (size_t j = 0; j < sel[i]->n_rules; j++) {
			const struct pol_rule *r = &sel[i]->rules[j];

			if (r->kind != q->kind)
				continue;
			if (r->action == POL_ALLOW) {
				if (!allow && pol_rule_matches(r, q)) {
					allow = r;
					allow_pol = sel[i];
				}
			} else if (r->action > out->action && pol_rule_matches(r, q)) {
				out->action = r->action;
				out->pol = sel[i];
				out->rule = r;
			}
		}
		if (sel[i]->dflt[q->kind] > dflt) {
			dflt = sel[i]->dflt[q->kind];
			dflt_pol = sel[i];
		}
	}
	if (out->rule)
		return 1;
	if (allow) {
		out->pol = allow_pol;
		out->rule = allow;
		return 1;
	}
	out->action = dflt;
	out->pol = dflt_pol;
	return dflt != POL_ALLOW;
}

size_t policyset_select(const struct policyset *s,
			const struct pol_subject *subj,
			const struct policy **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->n; i++)
		if (pol_selects(&s->pol[i].sel, subj)) {
			if (n < cap)
				out[n] = &s->pol[i];
			n++;
		}
	return n;
}
