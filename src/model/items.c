/* items.c - event -> model items, with base scores (docs/models.md has the
 * table). Items are printable strings built from generalised paths
 * (generalize.h), so pids, temp names and hashes don't make every event new.
 *
 * Scores say how suspicious it is for this item to be new: a new config
 * read is 20, a shell spawned by a service 75+, a reverse shell 95. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "model/generalize.h"
#include "model/items.h"
#include "output/event_format.h"
#include "vigil_event.h"

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static const char *base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

int items_writable_dir(const char *path)
{
	static const char *dirs[] = {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/",
				     "/home/", "/root/", "/var/run/",
				     "/memfd:", "/proc/"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (starts(path, dirs[i]))
			return 1;
	return 0;
}

static int is_shell(const char *exe, const char *argv0)
{
	static const char *shells[] = {"sh", "bash", "dash", "ash", "zsh",
				       "ksh", "csh", "tcsh", "fish"};
	const char *b = base(exe), *a = argv0 ? base(argv0) : "";

	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!strcmp(b, shells[i]) ||
		    ((!strcmp(b, "busybox") || !strcmp(b, "exe")) &&
		     !strcmp(a, shells[i])))
			return 1;
	return 0;
}

static int sensitive_read(const char *p)
{
	return !strcmp(p, "/etc/shadow") || !strcmp(p, "/etc/gshadow") ||
	       !strcmp(p, "/etc/sudoers") || starts(p, "/root/.ssh/") ||
	       (strstr(p, "/.ssh/id_") != NULL) ||
	       strstr(p, "/.aws/credentials") != NULL ||
	       strstr(p, "/.config/gcloud/") != NULL ||
	       starts(p, "/var/run/secrets/kubernetes.io/serviceaccount/") ||
	       starts(p, "/run/secrets/kubernetes.io/serviceaccount/");
}

static int system_dir(const char *p)
{
	return starts(p, "/bin/") || starts(p, "/sbin/") || starts(p, "/usr/") ||
	       starts(p, "/lib/") || starts(p, "/lib64/") || starts(p, "/boot/");
}

int items_is_runtime(const void *rec, const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	const char *exe = v->proc ? v->proc->exe : "";

	if (v->res->cg.runtime == CG_HOST)
		return 0;
	if (h->type == VG_EXEC)
		exe = ((const struct vg_exec *)rec)->exe;
	if (starts(h->comm, "runc:") || !strcmp(base(exe), "runc") ||
	    !strcmp(base(exe), "crun") || !strcmp(h->comm, "runc") ||
	    !strcmp(h->comm, "crun"))
		return 1;
	return 0;
}

static void net_item(char *out, size_t cap, const char *proto, uint16_t family,
		     const uint8_t *a, const char *sep, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	uint8_t b[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == 10 && !memcmp(a, mapped, 12)) {
		family = 2;
		a += 12;
	}
	if (family == 2) {
		memcpy(b, a, 4);
		b[3] = 0; /* /24: replicas behind one subnet are one peer */
		inet_ntop(AF_INET, b, ip, sizeof(ip));
		snprintf(out, cap, "%s %s/24%s%u", proto, ip, sep, port);
	} else {
		memcpy(b, a, 16);
		memset(b + 8, 0, 8);
		inet_ntop(AF_INET6, b, ip, sizeof(ip));
		snprintf(out, cap, "%s %s/64%s%u", proto, ip, sep, port);
	}
}

/* Appends "[name]" when argv[0]'s basename differs from the exe's. */
static void name_suffix(char *exe, size_t cap, const char *argv0)
{
	const char *a = base(argv0);
	size_t n = strlen(exe);

	if (!*a || !strcmp(a, base(exe)))
		return;
	snprintf(exe + n, cap - n, "[%.40s]", a);
}

static int exec_items(const struct vg_exec *x, const struct enrich_view *v,
		      struct item *out)
{
	char exe[MODEL_ITEM_MAX], parent[MODEL_ITEM_MAX], args[MODEL_ITEM_MAX];
	const char *argv0 = x->args_len ? x->args : "";
	const char *pexe = x->parent_exe;
	int score = 50;
	int sock = x->h.flags & (VG_F_STDIN_SOCK | VG_F_STDOUT_SOCK);

	gen_path(x->exe, exe, sizeof(exe));
	gen_path(pexe[0] ? pexe : "?", parent, sizeof(parent));
	/* multi-call binaries (busybox) are told apart by argv[0] */
	name_suffix(exe, sizeof(exe), argv0);
	if (v->parent && v->parent->name[0])
		name_suffix(parent, sizeof(parent), v->parent->name);
	if (items_writable_dir(x->exe) ||
	    (x->h.flags & (VG_F_EXE_MEMFD | VG_F_EXE_DELETED)))
		score += 25;
	if (is_shell(x->exe, argv0) &&
	    !is_shell(pexe, v->parent ? v->parent->name : NULL))
		score += 25;
	if (sock && is_shell(x->exe, argv0))
		score = 95;
	out[0].dim = DIM_PROCESS;
	out[0].score = score > 100 ? 100 : score;
	out[0].bad = sock && is_shell(x->exe, argv0)
			     ? "a shell whose input or output is a socket"
			     : NULL;
	snprintf(out[0].text, sizeof(out[0].text), "%.150s <- %.150s [uid %u]", exe,
		 parent, x->h.uid);
	out[1].dim = DIM_FILE_EXEC;
	out[1].score = score > 100 ? 100 : score;
	out[1].bad = NULL;
	gen_path(x->exe, out[1].text, sizeof(out[1].text));
	gen_args(x->args, x->args_len, args, sizeof(args), 8);
	out[2].dim = DIM_ARGS;
	out[2].score = 15;
	out[2].bad = NULL;
	snprintf(out[2].text, sizeof(out[2].text), "%.150s: %.150s", exe, args);
	return 3;
}

static int file_items(const struct vg_file *f, struct item *out)
{
	char p[MODEL_ITEM_MAX];
	size_t plen;
	int n = 0;

	if (f->path[0] != '/')
		return 0; /* unresolved relative path: nothing stable to learn */
	plen = gen_path(f->path, p, sizeof(p));
	switch (f->h.type) {
	case VG_OPEN:
		if (f->access & VG_ACC_READ) {
			out[n].dim = DIM_FILE_READ;
			out[n].score = sensitive_read(f->path) ? 80 : 20;
			out[n].bad = sensitive_read(f->path)
					     ? "read of a credential file"
					     : NULL;
			memcpy(out[n++].text, p, plen + 1);
		}
		if (f->access & (VG_ACC_WRITE | VG_ACC_TRUNC | VG_ACC_CREATE)) {
			out[n].dim = (f->access & VG_ACC_CREATE) ? DIM_FILE_CREATE
								  : DIM_FILE_WRITE;
			out[n].score = system_dir(f->path) ? 75 :
				       starts(f->path, "/etc/") ? 70 : 35;
			out[n].bad = system_dir(f->path)
					     ? "write below a system binary directory"
					     : NULL;
			memcpy(out[n++].text, p, plen + 1);
		}
		return n;
	case VG_UNLINK:
		out[0].dim = DIM_FILE_DELETE;
		out[0].score = starts(f->path, "/var/log/") ? 60 : 25;
		out[0].bad = NULL;
		memcpy(out[0].text, p, plen + 1);
		return 1;
	case VG_RENAME:
	case VG_LINK:
	case VG_SYMLINK:
	case VG_MKDIR:
	case VG_CHMOD:
	case VG_CHOWN: {
		const char *target = (f->h.type == VG_RENAME || f->h.type == VG_LINK)
					     ? f->path2 : f->path;

		if (f->h.type == VG_RENAME) {
			out[n].dim = DIM_FILE_DELETE;
			out[n].score = starts(f->path, "/var/log/") ? 60 : 25;
			out[n].bad = NULL;
			memcpy(out[n++].text, p, plen + 1);
		}
		if (target[0] != '/')
			return n;
		plen = gen_path(target, p, sizeof(p));
		out[n].dim = (f->h.type == VG_CHMOD || f->h.type == VG_CHOWN)
				     ? DIM_FILE_WRITE : DIM_FILE_CREATE;
		out[n].score = system_dir(target) ? 75 : 35;
		out[n].bad = system_dir(target)
				     ? "write below a system binary directory"
				     : NULL;
		memcpy(out[n++].text, p, plen + 1);
		return n;
	}
	}
	return 0;
}

static int net_items(const struct vg_net *n, struct item *out)
{
	const char *proto = n->sock_type == 2 ? "udp" : "tcp";

	if (n->family != 2 && n->family != 10)
		return 0;
	out[0].bad = NULL;
	switch (n->h.type) {
	case VG_CONNECT:
		out[0].dim = DIM_NET_OUT;
		out[0].score = 55;
		net_item(out[0].text, MODEL_ITEM_MAX, proto, n->family, n->raddr,
			 ":", n->rport);
		return 1;
	case VG_ACCEPT:
		out[0].dim = DIM_NET_IN;
		out[0].score = 30;
		net_item(out[0].text, MODEL_ITEM_MAX, proto, n->family, n->raddr,
			 " -> :", n->lport);
		return 1;
	case VG_LISTEN:
	case VG_BIND:
		if (n->h.type == VG_BIND && (n->sock_type != 2 || !n->lport))
			return 0; /* tcp binds are learned at listen */
		out[0].dim = DIM_NET_LISTEN;
		out[0].score = 65;
		snprintf(out[0].text, MODEL_ITEM_MAX, "%s :%u", proto, n->lport);
		return 1;
	case VG_DNS: {
		char name[256];
		uint16_t qt;

		if (dns_query_name(n->payload, n->payload_len, name, sizeof(name),
				   &qt) < 0)
			return 0;
		out[0].dim = DIM_DNS;
		out[0].score = 35;
		snprintf(out[0].text, MODEL_ITEM_MAX, "%s", name);
		return 1;
	}
	}
	return 0;
}

static int priv_items(const struct vg_priv *p, struct item *out)
{
	const struct vg_hdr *h = &p->h;
	char *t = out[0].text;

	out[0].dim = DIM_PRIV;
	out[0].bad = "privileged operation";
	out[0].score = 60;
	switch (h->type) {
	case VG_SETUID:
		snprintf(t, MODEL_ITEM_MAX, "setuid %d", (int)(int32_t)p->arg[0]);
		out[0].score = ((int32_t)p->arg[0] == 0 && h->uid != 0) ? 85 : 55;
		break;
	case VG_SETGID:
		snprintf(t, MODEL_ITEM_MAX, "setgid %d", (int)(int32_t)p->arg[0]);
		out[0].score = 50;
		break;
	case VG_CAPSET:
		snprintf(t, MODEL_ITEM_MAX, "capset");
		out[0].score = 55;
		break;
	case VG_PTRACE:
		snprintf(t, MODEL_ITEM_MAX, "ptrace");
		out[0].score = 75;
		break;
	case VG_MOUNT:
		snprintf(t, MODEL_ITEM_MAX, "mount %.60s", p->str3[0] ? p->str3 : "?");
		out[0].score = 70;
		break;
	case VG_UMOUNT:
		snprintf(t, MODEL_ITEM_MAX, "umount");
		out[0].score = 60;
		break;
	case VG_UNSHARE:
		snprintf(t, MODEL_ITEM_MAX, "unshare 0x%llx",
			 (unsigned long long)p->arg[0]);
		out[0].score = 70;
		break;
	case VG_SETNS:
		snprintf(t, MODEL_ITEM_MAX, "setns 0x%llx",
			 (unsigned long long)p->arg[1]);
		out[0].score = 70;
		break;
	case VG_MODULE_LOAD:
		snprintf(t, MODEL_ITEM_MAX, "module_load");
		out[0].score = 90;
		break;
	case VG_BPF_LOAD:
		snprintf(t, MODEL_ITEM_MAX, "bpf_load");
		out[0].score = 80;
		break;
	case VG_MEMFD_CREATE:
		snprintf(t, MODEL_ITEM_MAX, "memfd_create");
		out[0].score = 50;
		break;
	default:
		return 0;
	}
	return 1;
}

int items_of_event(const void *rec, const struct enrich_view *v,
		   struct item out[ITEMS_MAX])
{
	const struct vg_hdr *h = rec;

	if (h->type == VG_EXEC)
		return h->ret < 0 ? 0 : exec_items(rec, v, out);
	if (h->type >= VG_OPEN && h->type < VG_CONNECT)
		return file_items(rec, out);
	if (h->type >= VG_CONNECT && h->type < VG_SETUID)
		return net_items(rec, out);
	if (h->type >= VG_SETUID && h->type < VG_CGROUP)
		return priv_items(rec, out);
	return 0;
}
