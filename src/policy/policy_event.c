/* policy_event.c - see policy_event.h. */
#include <string.h>
#include "output/event_format.h"
#include "policy/policy_event.h"
#include "vigil_event.h"

void pol_subject_of(const struct resource *res, struct pol_subject *out)
{
	memset(out, 0, sizeof(*out));
	out->is_host = res->cg.runtime == CG_HOST;
	out->container_id = res->cg.container_id;
	out->container_name = res->meta_known ? res->meta.name : "";
	out->image = res->meta_known ? res->meta.image : "";
	out->namespace = res->meta_known ? res->meta.pod_namespace : "";
	out->labels = res->meta_known ? res->meta.labels : "";
	out->service = res->cg.unit;
}

static unsigned file_access(const struct vg_file *f)
{
	unsigned a = 0;

	if (f->access & VG_ACC_READ)
		a |= POL_ACC_READ;
	if (f->access & (VG_ACC_WRITE | VG_ACC_TRUNC))
		a |= POL_ACC_WRITE;
	if (f->access & VG_ACC_CREATE)
		a |= POL_ACC_CREATE;
	return a ? a : POL_ACC_READ;
}

static unsigned priv_op(const struct vg_hdr *h)
{
	switch (h->type) {
	case VG_SETUID:
	case VG_SETGID:
		return POL_PRIV_SETUID;
	case VG_CAPSET:
		return POL_PRIV_CAPSET;
	case VG_PTRACE:
		return POL_PRIV_PTRACE;
	case VG_MOUNT:
		return POL_PRIV_MOUNT;
	case VG_UNSHARE:
		return POL_PRIV_UNSHARE;
	case VG_SETNS:
		return POL_PRIV_SETNS;
	case VG_MODULE_LOAD:
		return POL_PRIV_MODULE;
	case VG_BPF_LOAD:
		return POL_PRIV_BPF;
	}
	return 0;
}

static int net_query(const struct vg_net *n, struct pol_query *q,
		     struct pol_query_buf *b)
{
	uint16_t qtype;

	if (n->family != 2 && n->family != 10)
		return 0; /* unix sockets: not in the language */
	q->kind = POL_NETWORK;
	q->proto = n->sock_type == 2 ? POL_PROTO_UDP : POL_PROTO_TCP;
	if (n->h.type == VG_DNS) {
		if (dns_query_name(n->payload, n->payload_len, b->dns,
				   sizeof(b->dns), &qtype) < 0)
			return 0;
		q->dns = b->dns;
		return 1;
	}
	q->family = (uint8_t)n->family;
	if (n->h.type == VG_CONNECT) {
		memcpy(q->addr, n->raddr, 16);
		q->port = n->rport;
	} else {
		q->is_listen = 1;
		memcpy(q->addr, n->laddr, 16);
		q->port = n->lport;
	}
	return 1;
}

int pol_query_of(const void *rec, const struct enrich_view *v,
		 struct pol_query *q, struct pol_query_buf *b)
{
	const struct vg_hdr *h = rec;

	memset(q, 0, sizeof(*q));
	q->exe = v->proc ? v->proc->exe : "";
	switch (h->type) {
	case VG_EXEC: {
		const struct vg_exec *e = rec;

		q->kind = POL_PROCESS;
		q->exe = e->exe;
		q->parent_exe = e->parent_exe[0] ? e->parent_exe :
				v->parent ? v->parent->exe : NULL;
		q->parent_name = v->parent ? v->parent->name : NULL;
		if (h->flags & (VG_F_EXE_MEMFD | VG_F_EXE_DELETED)) {
			/* judged as a privileged operation too: the caller
			 * asks again with kind POL_PRIV */
			q->priv = POL_PRIV_MEMFD_EXEC;
		}
		return 1;
	}
	case VG_OPEN:
	case VG_UNLINK:
	case VG_RENAME:
	case VG_CHMOD: {
		const struct vg_file *f = rec;

		q->kind = POL_FILE;
		q->path = f->path;
		q->access = h->type == VG_OPEN ? file_access(f) :
			    h->type == VG_CHMOD ? POL_ACC_WRITE : POL_ACC_DELETE;
		return 1;
	}
	case VG_CONNECT:
	case VG_BIND:
	case VG_LISTEN:
	case VG_DNS:
		return net_query(rec, q, b);
	default:
		q->priv = priv_op(h);
		if (!q->priv)
			return 0;
		q->kind = POL_PRIV;
		return 1;
	}
}

int pol_judge_event(const struct policy *const *sel, size_t n,
		    const void *rec, const struct enrich_view *v,
		    struct pol_query *q, struct pol_query_buf *b,
		    struct pol_verdict out[2], enum pol_kind kind[2])
{
	int k = 0;

	if (!n || !pol_query_of(rec, v, q, b))
		return 0;
	if (policy_eval(sel, n, q, &out[k]) > 0)
		kind[k++] = q->kind;
	if (q->kind == POL_PROCESS && q->priv) {
		struct pol_query pq = *q;

		pq.kind = POL_PRIV;
		if (policy_eval(sel, n, &pq, &out[k]) > 0)
			kind[k++] = POL_PRIV;
	}
	return k;
}
