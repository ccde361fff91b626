/* fuzz_policy.c - libFuzzer target for the policy parser (`make
 * fuzz-policy`), also compiled into tests/unit/test_policy_fuzz.c, which
 * feeds it mutated inputs on every `make unit`.
 *
 * Any input: policy_parse either fails with one "fuzz:LINE: ..." line or
 * gives a set that keeps the invariants of policy_parse.c (checked here
 * one by one), dumps the same text twice, and evaluates queries built
 * from its own rules to verdicts that agree with pol_rule_matches.
 * FUZZ_ASSERT aborts (what libFuzzer reports) unless the includer
 * defines it otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "policy/policy.h"

#ifndef FUZZ_ASSERT
#define FUZZ_ASSERT(c)                 \
	do {                           \
		if (!(c))              \
			abort();       \
	} while (0)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n && !s[n] && n < POL_NAME_MAX;
}

static void fz_check_strs(const struct pol_strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		FUZZ_ASSERT(l->v[i] && l->v[i][0]);
}

static void fz_check_rule(const struct pol_rule *r)
{
	FUZZ_ASSERT(fz_valid_name(r->id));
	FUZZ_ASSERT((unsigned)r->kind <= POL_PRIV);
	FUZZ_ASSERT((unsigned)r->action <= POL_KILL);
	FUZZ_ASSERT(r->severity >= 1 && r->severity <= 4);
	FUZZ_ASSERT(r->scope == POL_SCOPE_PROCESS || r->scope == POL_SCOPE_CONTAINER);
	FUZZ_ASSERT(r->action != POL_ALLOW || (!r->freeze && r->scope == POL_SCOPE_PROCESS));
	fz_check_strs(&r->mitre);
	fz_check_strs(&r->exe);
	fz_check_strs(&r->parent);
	fz_check_strs(&r->paths);
	fz_check_strs(&r->dns);
	switch (r->kind) {
	case POL_PROCESS:
		FUZZ_ASSERT(r->exe.n || r->parent.n);
		for (size_t i = 0; i < r->exe.n; i++)
			FUZZ_ASSERT(r->exe.v[i][0] == '/');
		break;
	case POL_FILE:
		FUZZ_ASSERT(r->paths.n && r->access && !(r->access & ~POL_ACC_ALL));
		FUZZ_ASSERT(r->action != POL_BLOCK || r->access != POL_ACC_DELETE);
		break;
	case POL_NETWORK:
		if (r->is_listen)
			FUZZ_ASSERT(r->n_listen && !r->n_to && !r->n_ports && !r->dns.n);
		if (r->dns.n)
			FUZZ_ASSERT(!r->n_to && !r->n_ports && !r->proto && r->action != POL_BLOCK);
		FUZZ_ASSERT(r->proto == POL_PROTO_ANY || r->proto == POL_PROTO_TCP ||
			    r->proto == POL_PROTO_UDP);
		for (size_t i = 0; i < r->n_ports; i++)
			FUZZ_ASSERT(r->ports[i] != 0);
		for (size_t i = 0; i < r->n_to; i++) {
			const struct pol_cidr *c = &r->to[i];
			unsigned max = c->family == AF_INET ? 32 : 128;

			FUZZ_ASSERT(c->family == AF_INET || c->family == AF_INET6);
			FUZZ_ASSERT(c->plen <= max);
			for (unsigned b = c->plen; b < 128; b++) /* host bits zero */
				FUZZ_ASSERT(!(c->addr[b / 8] & (0x80 >> (b % 8))));
		}
		break;
	case POL_PRIV:
		FUZZ_ASSERT(r->priv && !(r->priv & ~POL_PRIV_ALL) && r->action != POL_BLOCK);
		break;
	}
}

static void fz_check_policy(const struct policy *p)
{
	const struct pol_selector *s = &p->sel;

	FUZZ_ASSERT(fz_valid_name(p->name));
	FUZZ_ASSERT(s->all || s->host || s->container.n || s->image.n ||
		    s->namespace.n || s->labels.n || s->service.n);
	for (int k = 0; k < 4; k++)
		FUZZ_ASSERT((unsigned)p->dflt[k] <= POL_BLOCK);
	FUZZ_ASSERT(p->dflt[POL_FILE] <= POL_ALERT && p->dflt[POL_PRIV] <= POL_ALERT);
	for (size_t i = 0; i < s->labels.n; i++)
		FUZZ_ASSERT(strchr(s->labels.v[i], '=') > s->labels.v[i]);
	for (size_t i = 0; i < p->n_rules; i++) {
		fz_check_rule(&p->rules[i]);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(p->rules[i].id, p->rules[j].id));
	}
}

/* A query that rule r may well match: built from its own values. */
static struct pol_query fz_query_of(const struct pol_rule *r, unsigned salt)
{
	struct pol_query q = {.kind = r->kind};

	q.exe = r->exe.n ? r->exe.v[salt % r->exe.n] : "/bin/sh";
	if (r->parent.n) {
		const char *pa = r->parent.v[salt % r->parent.n];

		q.parent_exe = strchr(pa, '/') ? pa : NULL;
		q.parent_name = strchr(pa, '/') ? NULL : pa;
	}
	q.path = r->paths.n ? r->paths.v[salt % r->paths.n] : "/etc/shadow";
	q.access = 1u << (salt % 5);
	q.is_listen = r->is_listen;
	q.proto = salt & 1 ? 6 : 17;
	if (r->n_to) {
		q.family = r->to[salt % r->n_to].family;
		memcpy(q.addr, r->to[salt % r->n_to].addr, 16);
	} else if (!r->dns.n) {
		q.family = salt & 2 ? AF_INET6 : AF_INET;
	}
	q.port = r->n_ports ? r->ports[salt % r->n_ports] :
		 r->n_listen ? r->listen[salt % r->n_listen] : (uint16_t)salt;
	q.dns = r->dns.n ? r->dns.v[salt % r->dns.n] : NULL;
	q.priv = 1u << (salt % 9);
	return q;
}

static void fz_eval(const struct policy *const *sel, size_t n,
		    const struct pol_query *q)
{
	struct pol_verdict v;
	int said = policy_eval(sel, n, q, &v);

	FUZZ_ASSERT((unsigned)v.action <= POL_KILL);
	FUZZ_ASSERT(said || (v.action == POL_ALLOW && !v.rule));
	if (v.rule) {
		FUZZ_ASSERT(v.pol && v.rule->kind == q->kind && v.rule->action == v.action);
		FUZZ_ASSERT(pol_rule_matches(v.rule, q));
	} else if (said) {
		FUZZ_ASSERT(v.pol && v.action != POL_ALLOW &&
			    v.pol->dflt[q->kind] == v.action);
	}
	/* the naive reading of the header: no matching rule is stronger than
	 * the verdict, and a default decides only when no rule matched */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sel[i]->n_rules; j++) {
			const struct pol_rule *r = &sel[i]->rules[j];

			if (!pol_rule_matches(r, q))
				continue;
			FUZZ_ASSERT(v.rule && r->action <= v.action);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pol_subject subjects[] = {
		{1, "", "", "", "", "", "sshd.service"},
		{0, "3f2a9c1b7d4e5f60718293a4b5c6d7e8", "web-1", "nginx:1.25", "prod",
		 "app=web,tier=front", ""},
	};
	const struct policy *sel[16];
	char err[256], *d1, *d2;
	struct policyset *s;

	s = policy_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (!s) {
		FUZZ_ASSERT(!strncmp(err, "fuzz:", 5));
		for (const char *c = err; *c; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
		return 0;
	}
	FUZZ_ASSERT(s->refs == 1);
	for (size_t i = 0; i < s->n; i++) {
		fz_check_policy(&s->pol[i]);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(s->pol[i].name, s->pol[j].name));
	}
	d1 = policy_dump(s);
	d2 = policy_dump(s);
	FUZZ_ASSERT(d1 && d2 && !strcmp(d1, d2));
	free(d1);
	free(d2);
	for (size_t k = 0; k < sizeof(subjects) / sizeof(subjects[0]); k++) {
		size_t n = policyset_select(s, &subjects[k], sel, 16);

		if (n > 16)
			n = 16;
		for (size_t i = 0; i < s->n && i < 16; i++)
			for (size_t j = 0; j < s->pol[i].n_rules && j < 16; j++)
				for (unsigned salt = 0; salt < 3; salt++) {
					struct pol_query q =
						fz_query_of(&s->pol[i].rules[j], salt + (unsigned)j);

					FUZZ_ASSERT(pol_rule_matches(&s->pol[i].rules[j], &q) <= 1);
					fz_eval(sel, n, &q);
				}
		for (int kind = 0; kind < 4; kind++) {
			struct pol_query q = {.kind = (enum pol_kind)kind, .exe = "/bin/sh",
					      .path = "/etc/shadow", .access = POL_ACC_READ,
					      .proto = 6, .family = AF_INET, .port = 443,
					      .priv = POL_PRIV_PTRACE};

			fz_eval(sel, n, &q);
		}
	}
	policyset_ref(s);
	policyset_unref(s);
	policyset_unref(s);
	return 0;
}
