/* run_netrules.c - what the network guard is told for a guarded
 * container: the model's ports (allowed) and the policies' network rules
 * (allow and deny entries by port or destination prefix), with the
 * defaults: block when there is an active model or a policy's network
 * default is block. DNS rules have no kernel form (judged on the sensor's
 * DNS events); alert rules neither (they refuse nothing). */
#include <string.h>
#include "cli/run_enforce_int.h"
#include "enforce/policy_allow.h"

static void add_port(struct net_build *b, int listen, uint8_t proto,
		     uint16_t port, int verdict)
{
	struct netguard_port_rule *v = listen ? b->bind : b->conn;
	size_t *n = listen ? &b->r.n_bind : &b->r.n_connect;

	if (*n >= NET_RULES_CAP) {
		b->dropped++;
		return;
	}
	v[*n].proto = proto;
	v[*n].port = port;
	v[*n].verdict = verdict;
	(*n)++;
}

static void add_prefix(struct net_build *b, const struct pol_cidr *c,
		       uint8_t proto, uint16_t port, int verdict)
{
	struct netguard_prefix_rule *p;

	if (b->r.n_prefixes >= NET_RULES_CAP) {
		b->dropped++;
		return;
	}
	p = &b->pfx[b->r.n_prefixes++];
	memset(p, 0, sizeof(*p));
	p->family = c->family;
	p->plen = c->plen;
	memcpy(p->addr, c->addr, 16);
	p->proto = proto;
	p->port = port;
	p->verdict = verdict;
}

/* One network rule of a policy into kernel entries. DNS rules have no
 * kernel form (judged on the sensor's DNS events). */
static void net_rule(struct net_build *b, const struct pol_rule *r)
{
	int verdict = r->action == POL_ALLOW ? VGE_VERDICT_ALLOW : VGE_VERDICT_DENY;
	static const struct pol_cidr any4 = {2, 0, {0}}, any6 = {10, 0, {0}};
	uint8_t protos[2] = {POL_PROTO_TCP, POL_PROTO_UDP};

	if (r->action == POL_ALERT || r->dns.n)
		return;
	for (int p = 0; p < 2; p++) {
		if (r->proto && r->proto != protos[p])
			continue;
		if (r->is_listen) {
			for (size_t i = 0; i < r->n_listen; i++)
				add_port(b, 1, protos[p], r->listen[i], verdict);
			continue;
		}
		if (!r->n_to) {
			if (!r->n_ports) { /* every address, every port */
				add_prefix(b, &any4, protos[p], 0, verdict);
				add_prefix(b, &any6, protos[p], 0, verdict);
			}
			for (size_t i = 0; i < r->n_ports; i++)
				add_port(b, 0, protos[p], r->ports[i], verdict);
			continue;
		}
		for (size_t t = 0; t < r->n_to; t++) {
			if (!r->n_ports)
				add_prefix(b, &r->to[t], protos[p], 0, verdict);
			for (size_t i = 0; i < r->n_ports; i++)
				add_prefix(b, &r->to[t], protos[p], r->ports[i],
					   verdict);
		}
	}
}

void renf_build_net(struct net_build *b, const struct guard_ctx *g,
		    const struct model *inst, const struct model *img)
{
	struct policy_port ports[1024];
	size_t n;
	int net_block = inst != NULL, bind_block = inst != NULL;

	memset(&b->r, 0, sizeof(b->r));
	b->r.connect = b->conn;
	b->r.bind = b->bind;
	b->r.prefixes = b->pfx;
	b->dropped = 0;
	if (inst) {
		n = policy_ports(inst, img, DIM_NET_OUT, ports, 1024);
		for (size_t i = 0; i < n && i < 1024; i++)
			add_port(b, 0, ports[i].proto, ports[i].port,
				 VGE_VERDICT_ALLOW);
		n = policy_ports(inst, img, DIM_NET_LISTEN, ports, 1024);
		for (size_t i = 0; i < n && i < 1024; i++)
			add_port(b, 1, ports[i].proto, ports[i].port,
				 VGE_VERDICT_ALLOW);
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct policy *p = g->sel[i];

		if (p->dflt[POL_NETWORK] == POL_BLOCK) {
			/* the default covers what the policy's allow rules
			 * list: outbound, listening, or both (both when a
			 * map set it without any) */
			int out = 0, lis = 0;

			for (size_t k = 0; k < p->n_rules; k++)
				if (p->rules[k].kind == POL_NETWORK &&
				    p->rules[k].action == POL_ALLOW) {
					lis |= p->rules[k].is_listen;
					out |= !p->rules[k].is_listen;
				}
			net_block |= out || !lis;
			bind_block |= lis;
		}
		for (size_t k = 0; k < p->n_rules; k++)
			if (p->rules[k].kind == POL_NETWORK)
				net_rule(b, &p->rules[k]);
	}
	b->r.all_prefixes = 1; /* a wider deny holds inside a narrower allow */
	b->r.connect_default = net_block ? VGE_VERDICT_DENY : VGE_VERDICT_ALLOW;
	b->r.bind_default = bind_block ? VGE_VERDICT_DENY : VGE_VERDICT_ALLOW;
}
