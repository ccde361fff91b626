/* policy_dump.c - the canonical text of a parsed set: what `vigil policy
 * show` prints and what the golden tests (tests/policy/golden) compare.
 *
 * Deterministic and complete: every default is spelled out (posture per
 * kind, severity, scope, freeze, protocol, access), lists keep the order
 * of the file, bit sets (access, privileged operations) are in a fixed
 * order, and the parsed form shows through: aliases resolved, DNS globs
 * lower-case without the root dot, CIDRs with their host bits cleared.
 * Text that could be misread (empty, blanks, control bytes, quotes,
 * commas, brackets) is quoted with C-style escapes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/strbuf.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

static int needs_quotes(const char *s)
{
	if (!*s)
		return 1;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= ' ' || *c == 0x7f || strchr("\"\\,[]", *c))
			return 1;
	return 0;
}

static void put_quoted(struct strbuf *b, const char *s)
{
	strbuf_addc(b, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			strbuf_addf(b, "\\%c", *c);
		else if (*c == '\n')
			strbuf_adds(b, "\\n");
		else if (*c == '\t')
			strbuf_adds(b, "\\t");
		else if (*c < ' ' || *c == 0x7f)
			strbuf_addf(b, "\\x%02x", *c);
		else
			strbuf_addc(b, (char)*c);
	}
	strbuf_addc(b, '"');
}

static void put_str(struct strbuf *b, const char *s)
{
	if (needs_quotes(s))
		put_quoted(b, s);
	else
		strbuf_adds(b, s);
}

/* "[a, b]", or none when the list is empty */
static void put_list(struct strbuf *b, const struct pol_strs *l, const char *none)
{
	if (!l->n) {
		strbuf_adds(b, none);
		return;
	}
	strbuf_addc(b, '[');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strbuf_adds(b, ", ");
		put_str(b, l->v[i]);
	}
	strbuf_addc(b, ']');
}

static void put_ports(struct strbuf *b, const uint16_t *v, size_t n)
{
	if (!n) {
		strbuf_adds(b, "any");
		return;
	}
	strbuf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (v[i])
			strbuf_addf(b, "%s%u", i ? ", " : "", v[i]);
		else
			strbuf_addf(b, "%sany", i ? ", " : "");
	}
	strbuf_addc(b, ']');
}

/* The names of the bits of mask, "[a, b]". */
static void put_bits(struct strbuf *b, unsigned mask, const char *const *names,
		     unsigned n)
{
	int first = 1;

	strbuf_addc(b, '[');
	for (unsigned i = 0; i < n; i++)
		if (mask & (1u << i)) {
			strbuf_addf(b, "%s%s", first ? "" : ", ", names[i]);
			first = 0;
		}
	strbuf_addc(b, ']');
}

static void put_cidrs(struct strbuf *b, const struct pol_cidr *v, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (!n) {
		strbuf_adds(b, "any");
		return;
	}
	strbuf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		int fam = v[i].family == AF_INET ? AF_INET : AF_INET6;

		if (!inet_ntop(fam, v[i].addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		strbuf_addf(b, "%s%s/%u", i ? ", " : "", a, v[i].plen);
	}
	strbuf_addc(b, ']');
}

static void put_selector(struct strbuf *b, const struct pol_selector *s)
{
	static const char *const names[] = {
		"container", "image", "namespace", "labels", "service",
	};
	const struct pol_strs *lists[] = {
		&s->container, &s->image, &s->namespace, &s->labels, &s->service,
	};

	strbuf_adds(b, "  selector:");
	if (s->all)
		strbuf_adds(b, " all");
	if (s->host)
		strbuf_adds(b, " host");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!lists[i]->n)
			continue;
		strbuf_addf(b, " %s=", names[i]);
		put_list(b, lists[i], "");
	}
	strbuf_addc(b, '\n');
}

static void put_rule(struct strbuf *b, const struct pol_rule *r)
{
	strbuf_addf(b, "  rule %s (line %u): kind=%s action=%s scope=%s freeze=%s severity=%s mitre=",
		    r->id, r->line, pol_kind_name(r->kind), pol_action_name(r->action),
		    r->scope == POL_SCOPE_CONTAINER ? "container" : "process",
		    r->freeze ? "yes" : "no", pol_severity_name(r->severity));
	put_list(b, &r->mitre, "[]");
	strbuf_addc(b, '\n');
	if (r->description) {
		strbuf_adds(b, "    description: ");
		put_quoted(b, r->description);
		strbuf_addc(b, '\n');
	}
	switch (r->kind) {
	case POL_PROCESS:
		strbuf_adds(b, "    exe: ");
		put_list(b, &r->exe, "any");
		strbuf_adds(b, "\n    parent: ");
		put_list(b, &r->parent, "any");
		break;
	case POL_FILE:
		strbuf_adds(b, "    paths: ");
		put_list(b, &r->paths, "[]");
		strbuf_adds(b, "\n    access: ");
		put_bits(b, r->access, pol_access_names, POL_N_ACC);
		break;
	case POL_NETWORK:
		if (r->is_listen) {
			strbuf_adds(b, "    listen: ");
			put_ports(b, r->listen, r->n_listen);
		} else if (r->dns.n) {
			strbuf_adds(b, "    dns: ");
			put_list(b, &r->dns, "[]");
			break; /* no protocol: a DNS query is a DNS query */
		} else {
			strbuf_adds(b, "    to: ");
			put_cidrs(b, r->to, r->n_to);
			strbuf_adds(b, "\n    ports: ");
			put_ports(b, r->ports, r->n_ports);
		}
		strbuf_addf(b, "\n    protocol: %s",
			    r->proto == POL_PROTO_TCP ? "tcp" :
			    r->proto == POL_PROTO_UDP ? "udp" : "any");
		break;
	case POL_PRIV:
		strbuf_adds(b, "    ops: ");
		put_bits(b, r->priv, pol_priv_names, POL_N_PRIV);
		break;
	}
	strbuf_addc(b, '\n');
}

static void put_policy(struct strbuf *b, const struct policy *p)
{
	strbuf_addf(b, "policy %s (", p->name);
	if (p->file)
		strbuf_addf(b, "%s:", p->file);
	else
		strbuf_adds(b, "line ");
	strbuf_addf(b, "%u)\n", p->line);
	if (p->description) {
		strbuf_adds(b, "  description: ");
		put_quoted(b, p->description);
		strbuf_addc(b, '\n');
	}
	put_selector(b, &p->sel);
	strbuf_adds(b, "  default:");
	strbuf_addf(b, " process=%s network=%s file=%s privileged=%s",
		    pol_action_name(p->dflt[POL_PROCESS]),
		    pol_action_name(p->dflt[POL_NETWORK]),
		    pol_action_name(p->dflt[POL_FILE]),
		    pol_action_name(p->dflt[POL_PRIV]));
	strbuf_addf(b, "\n  rules: %zu\n", p->n_rules);
	for (size_t i = 0; i < p->n_rules; i++)
		put_rule(b, &p->rules[i]);
}

char *policy_dump(const struct policyset *s)
{
	struct strbuf b = STRBUF_INIT;

	for (size_t i = 0; s && i < s->n; i++) {
		if (i)
			strbuf_addc(&b, '\n');
		put_policy(&b, &s->pol[i]);
	}
	if (strbuf_error(&b)) {
		strbuf_free(&b);
		errno = ENOMEM;
		return NULL;
	}
	return b.buf ? b.buf : strdup("");
}
