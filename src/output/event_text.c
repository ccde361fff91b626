/* event_text.c - one compact human-readable line per event:
 *   TIME ACTION OUTCOME pid=N comm=NAME [container=ID|service=UNIT] details */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "output/event_format.h"
#include "vigil_event.h"

static void addr(char *b, size_t cap, uint16_t fam, const uint8_t *a,
		 uint16_t port)
{
	char ip[64] = "?";

	inet_ntop(fam == 10 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	snprintf(b, cap, fam == 10 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Replaces control bytes so one event stays on one terminal line. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void event_text(char *buf, size_t cap, const void *rec,
		const struct enrich_view *v, const struct format_ctx *c)
{
	const struct vg_hdr *h = rec;
	char ts[48], where[160] = "", what[640] = "", a1[96], a2[96];

	format_time(ts, sizeof(ts), (int64_t)h->ts_ns + c->boot_to_real_ns);
	if (v->res->cg.runtime != CG_HOST)
		snprintf(where, sizeof(where), " container=%.64s",
			 v->res->meta.name[0] ? v->res->meta.name
					      : v->res->cg.container_id);
	else if (v->res->cg.unit[0])
		snprintf(where, sizeof(where), " service=%.128s",
			 v->res->cg.unit);

	switch (h->type) {
	case VG_EXEC: {
		const struct vg_exec *x = rec;
		char args[256] = "";
		size_t n = x->args_len < sizeof(args) - 1 ? x->args_len
							  : sizeof(args) - 1;

		memcpy(args, x->args, n);
		for (size_t i = 0; i + 1 < n; i++)
			if (!args[i])
				args[i] = ' ';
		snprintf(what, sizeof(what), "%s [%s] ppid=%u", x->exe, args,
			 h->ppid);
		break;
	}
	case VG_FORK:
		snprintf(what, sizeof(what), "child=%u",
			 ((const struct vg_proc *)rec)->child_pid);
		break;
	case VG_EXIT: {
		uint32_t st = ((const struct vg_proc *)rec)->exit_code;

		if (st & 0x7f)
			snprintf(what, sizeof(what), "signal=%u", st & 0x7f);
		else
			snprintf(what, sizeof(what), "code=%u", (st >> 8) & 0xff);
		break;
	}
	case VG_CONNECT: case VG_DNS: case VG_ACCEPT: case VG_BIND:
	case VG_LISTEN: {
		const struct vg_net *n = rec;

		addr(a1, sizeof(a1), n->family, n->laddr, n->lport);
		addr(a2, sizeof(a2), n->family, n->raddr, n->rport);
		if (h->type == VG_DNS) {
			char q[256] = "?";
			uint16_t qt;

			dns_query_name(n->payload, n->payload_len, q, sizeof(q),
				       &qt);
			snprintf(what, sizeof(what), "%s -> %s", q, a2);
		} else if (h->type == VG_CONNECT) {
			snprintf(what, sizeof(what), "-> %s", a2);
		} else if (h->type == VG_ACCEPT) {
			snprintf(what, sizeof(what), "%s <- %s", a1, a2);
		} else {
			snprintf(what, sizeof(what), "%s", a1);
		}
		break;
	}
	default:
		if (h->type >= VG_OPEN && h->type < VG_CONNECT) {
			const struct vg_file *f = rec;

			snprintf(what, sizeof(what), "%s%s%s", f->path,
				 f->path2[0] ? " -> " : "", f->path2);
		} else {
			const struct vg_priv *p = rec;

			snprintf(what, sizeof(what), "%s %s %s args=%llu,%llu",
				 p->str1, p->str2, p->str3,
				 (unsigned long long)p->arg[0],
				 (unsigned long long)p->arg[1]);
		}
	}
	printable(what);
	snprintf(buf, cap, "%s %-12s %-7s pid=%u comm=%s%s %s%s", ts,
		 event_action(h->type),
		 h->ret < 0 && h->type != VG_EXIT ? "failed" : "ok", h->pid,
		 h->comm, where, what, h->repeat ? " (repeated)" : "");
	if (h->repeat) {
		size_t l = strlen(buf);

		snprintf(buf + l, cap - l, " x%u", h->repeat + 1);
	}
	printable(buf);
}
