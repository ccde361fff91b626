/* event_json.c - one kernel record plus its attribution -> one ECS document.
 *
 * ECS names where ECS has them (event.*, process.*, file.*, source.*,
 * destination.*, dns.*, container.*, orchestrator.*, service.*, user.*);
 * everything else under "vigil.". Invariant: output depends only on the
 * record, the view and the format context (replay gives identical bytes). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "output/event_format.h"
#include "vigil_event.h"

static const char *category_of(uint16_t t)
{
	if (t < VG_OPEN)
		return "process";
	if (t < VG_CONNECT)
		return "file";
	if (t < VG_SETUID)
		return t == VG_DNS ? "network" : "network";
	return "process";
}

static const char *type_of(uint16_t t, const void *rec)
{
	switch (t) {
	case VG_EXEC:
	case VG_FORK:
		return "start";
	case VG_EXIT:
		return "end";
	case VG_OPEN: {
		const struct vg_file *f = rec;

		if (f->access & VG_ACC_CREATE)
			return "creation";
		return (f->access & (VG_ACC_WRITE | VG_ACC_TRUNC)) ? "change"
								 : "access";
	}
	case VG_UNLINK:
		return "deletion";
	case VG_MKDIR:
	case VG_LINK:
	case VG_SYMLINK:
		return "creation";
	case VG_RENAME:
	case VG_CHMOD:
	case VG_CHOWN:
		return "change";
	case VG_CONNECT:
	case VG_ACCEPT:
		return "connection";
	case VG_BIND:
	case VG_LISTEN:
		return "start";
	case VG_DNS:
		return "protocol";
	}
	return "change";
}

/* IPv4-mapped IPv6 addresses (dual-stack sockets) print as IPv4, so one
 * peer has one spelling whichever socket saw it. */
static void ip_str(uint16_t family, const uint8_t *a, char *buf, size_t cap)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == 10 && !memcmp(a, mapped, 12)) {
		family = 2;
		a += 12;
	}
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, a, buf, cap))
		snprintf(buf, cap, "?");
}

static void outcome(struct jsonw *w, const struct vg_hdr *h)
{
	const char *o = "success";

	if (h->type == VG_EXIT) {
		const struct vg_proc *p = (const void *)h;

		o = p->exit_code == 0 ? "success" : "failure";
	} else if (h->ret == -115 /* EINPROGRESS */) {
		o = "unknown";
	} else if (h->ret < 0) {
		o = "failure";
	}
	jsonw_str(w, "outcome", o);
}

static void event_obj(struct jsonw *w, const void *rec)
{
	const struct vg_hdr *h = rec;

	jsonw_obj_open(w, "event");
	jsonw_str(w, "kind", "event");
	jsonw_arr_open(w, "category");
	jsonw_str(w, NULL, category_of(h->type));
	if (h->type >= VG_SETUID)
		jsonw_str(w, NULL, "privilege");
	jsonw_arr_close(w);
	jsonw_arr_open(w, "type");
	jsonw_str(w, NULL, type_of(h->type, rec));
	jsonw_arr_close(w);
	jsonw_str(w, "action", event_action(h->type));
	outcome(w, h);
	jsonw_uint(w, "count", (unsigned long long)h->repeat + 1);
	jsonw_obj_close(w);
	if (h->ret < 0 && h->type != VG_EXIT) {
		const char *n = errno_name(-h->ret);

		jsonw_obj_open(w, "error");
		if (n)
			jsonw_str(w, "code", n);
		else
			jsonw_int(w, "code", -h->ret);
		jsonw_obj_close(w);
	}
}

static void args_arr(struct jsonw *w, const struct vg_exec *x)
{
	uint32_t i = 0, n = x->args_len;

	jsonw_arr_open(w, "args");
	while (i < n) {
		uint32_t j = i;

		while (j < n && x->args[j])
			j++;
		jsonw_strn(w, NULL, x->args + i, j - i);
		i = j + 1;
	}
	jsonw_arr_close(w);
	jsonw_uint(w, "args_count", x->argc);
}

static void process_obj(struct jsonw *w, const void *rec,
			const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	const char *exe = v->proc && v->proc->exe[0] ? v->proc->exe : NULL;
	uint32_t pid = h->pid, ppid = h->ppid;
	const char *pexe = v->parent && v->parent->exe[0] ? v->parent->exe : NULL;

	if (h->type == VG_FORK) {
		pid = ((const struct vg_proc *)rec)->child_pid;
		ppid = h->pid;
	}
	jsonw_obj_open(w, "process");
	jsonw_uint(w, "pid", pid);
	if (h->type != VG_FORK)
		jsonw_obj_open(w, "thread"), jsonw_uint(w, "id", h->tid),
			jsonw_obj_close(w);
	jsonw_str(w, "name", h->comm);
	if (h->type == VG_EXEC) {
		const struct vg_exec *x = rec;

		jsonw_str(w, "executable", x->exe);
		args_arr(w, x);
		if (h->flags & VG_F_ARGS_TRUNC)
			jsonw_bool(w, "args_truncated", 1);
		jsonw_str(w, "working_directory", x->cwd);
		pexe = x->parent_exe[0] ? x->parent_exe : NULL;
	} else if (exe) {
		jsonw_str(w, "executable", exe);
	}
	if (h->type == VG_EXIT) {
		uint32_t st = ((const struct vg_proc *)rec)->exit_code;

		if ((st & 0x7f) == 0)
			jsonw_int(w, "exit_code", (st >> 8) & 0xff);
		else
			jsonw_int(w, "exit_signal", st & 0x7f);
	}
	jsonw_obj_open(w, "parent");
	jsonw_uint(w, "pid", ppid);
	if (pexe)
		jsonw_str(w, "executable", pexe);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}

static void user_obj(struct jsonw *w, const struct vg_hdr *h)
{
	char b[16];

	jsonw_obj_open(w, "user");
	snprintf(b, sizeof(b), "%u", h->uid);
	jsonw_str(w, "id", b);
	jsonw_obj_open(w, "group");
	snprintf(b, sizeof(b), "%u", h->gid);
	jsonw_str(w, "id", b);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "effective");
	snprintf(b, sizeof(b), "%u", h->euid);
	jsonw_str(w, "id", b);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}

static void access_arr(struct jsonw *w, uint32_t acc)
{
	jsonw_arr_open(w, "access");
	if (acc & VG_ACC_READ)
		jsonw_str(w, NULL, "read");
	if (acc & VG_ACC_WRITE)
		jsonw_str(w, NULL, "write");
	if (acc & VG_ACC_CREATE)
		jsonw_str(w, NULL, "create");
	if (acc & VG_ACC_TRUNC)
		jsonw_str(w, NULL, "truncate");
	jsonw_arr_close(w);
}

static void file_obj(struct jsonw *w, const struct vg_file *f)
{
	char b[16];

	jsonw_obj_open(w, "file");
	jsonw_str(w, "path", f->path);
	if (f->h.type == VG_RENAME || f->h.type == VG_LINK ||
	    f->h.type == VG_SYMLINK)
		jsonw_str(w, "target_path", f->path2);
	if (f->h.type == VG_CHMOD || f->h.type == VG_MKDIR ||
	    (f->h.type == VG_OPEN && (f->access & VG_ACC_CREATE))) {
		snprintf(b, sizeof(b), "%04o", f->mode & 07777);
		jsonw_str(w, "mode", b);
	}
	if (f->h.type == VG_CHOWN) {
		snprintf(b, sizeof(b), "%d", (int)f->owner_uid);
		jsonw_str(w, "uid", b);
		snprintf(b, sizeof(b), "%d", (int)f->owner_gid);
		jsonw_str(w, "gid", b);
	}
	if (f->h.type == VG_MKDIR)
		jsonw_str(w, "type", "dir");
	jsonw_obj_close(w);
}

static void endpoint(struct jsonw *w, const char *key, uint16_t family,
		     const uint8_t *addr, uint16_t port)
{
	char ip[64];

	ip_str(family, addr, ip, sizeof(ip));
	jsonw_obj_open(w, key);
	jsonw_str(w, "ip", ip);
	jsonw_uint(w, "port", port);
	jsonw_obj_close(w);
}

static void net_objs(struct jsonw *w, const struct vg_net *n)
{
	uint16_t t = n->h.type;

	switch (t) {
	case VG_CONNECT:
	case VG_DNS:
		endpoint(w, "destination", n->family, n->raddr, n->rport);
		break;
	case VG_ACCEPT:
		endpoint(w, "source", n->family, n->raddr, n->rport);
		endpoint(w, "destination", n->family, n->laddr, n->lport);
		break;
	default: /* bind, listen: the local end */
		endpoint(w, "source", n->family, n->laddr, n->lport);
	}
	jsonw_obj_open(w, "network");
	jsonw_str(w, "type", n->family == 10 ? "ipv6" : "ipv4");
	if (n->sock_type == 1)
		jsonw_str(w, "transport", "tcp");
	else if (n->sock_type == 2)
		jsonw_str(w, "transport", "udp");
	if (t == VG_DNS)
		jsonw_str(w, "protocol", "dns");
	jsonw_obj_close(w);
	if (t == VG_DNS) {
		char name[256];
		uint16_t qt = 0;

		jsonw_obj_open(w, "dns");
		jsonw_str(w, "type", "query");
		if (dns_query_name(n->payload, n->payload_len, name,
				   sizeof(name), &qt) == 0) {
			jsonw_obj_open(w, "question");
			jsonw_str(w, "name", name);
			jsonw_uint(w, "type_code", qt);
			jsonw_obj_close(w);
		}
		jsonw_obj_close(w);
	}
}

static const struct {
	uint64_t flag;
	const char *name;
} ns_names[] = {
	{0x00020000, "mnt"}, {0x02000000, "cgroup"}, {0x04000000, "uts"},
	{0x08000000, "ipc"}, {0x10000000, "user"},   {0x20000000, "pid"},
	{0x40000000, "net"}, {0x00000080, "time"},
};

static void ns_list(struct jsonw *w, const char *key, uint64_t flags)
{
	jsonw_arr_open(w, key);
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (flags & ns_names[i].flag)
			jsonw_str(w, NULL, ns_names[i].name);
	jsonw_arr_close(w);
}

static void priv_file(struct jsonw *w, const struct vg_priv *p)
{
	switch (p->h.type) {
	case VG_MOUNT:
	case VG_UMOUNT:
		jsonw_obj_open(w, "file");
		jsonw_str(w, "path", p->str2);
		jsonw_obj_close(w);
		break;
	case VG_MODULE_LOAD:
		if (p->str1[0]) {
			jsonw_obj_open(w, "file");
			jsonw_str(w, "path", p->str1);
			jsonw_obj_close(w);
		}
		break;
	default:
		break;
	}
}

/* Details with no ECS field, inside the "vigil" object. */
static void priv_vigil(struct jsonw *w, const struct vg_priv *p)
{
	char b[32];

	switch (p->h.type) {
	case VG_SETUID:
	case VG_SETGID:
		jsonw_str(w, "syscall", p->arg[3] == 105 ? "setuid" :
					p->arg[3] == 106 ? "setgid" :
					p->arg[3] == 113 ? "setreuid" :
					p->arg[3] == 114 ? "setregid" :
					p->arg[3] == 117 ? "setresuid" :
					p->arg[3] == 119 ? "setresgid" :
					p->arg[3] == 122 ? "setfsuid" : "setfsgid");
		jsonw_arr_open(w, "ids");
		jsonw_int(w, NULL, (int32_t)p->arg[0]);
		if (p->arg[3] == 113 || p->arg[3] == 114 || p->arg[3] == 117 ||
		    p->arg[3] == 119)
			jsonw_int(w, NULL, (int32_t)p->arg[1]);
		if (p->arg[3] == 117 || p->arg[3] == 119)
			jsonw_int(w, NULL, (int32_t)p->arg[2]);
		jsonw_arr_close(w);
		break;
	case VG_CAPSET:
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[0]);
		jsonw_str(w, "cap_effective", b);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[1]);
		jsonw_str(w, "cap_permitted", b);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[2]);
		jsonw_str(w, "cap_inheritable", b);
		break;
	case VG_PTRACE:
		jsonw_uint(w, "ptrace_request", p->arg[0]);
		jsonw_obj_open(w, "target");
		jsonw_int(w, "pid", (int32_t)p->arg[1]);
		jsonw_obj_close(w);
		break;
	case VG_MOUNT:
		jsonw_str(w, "mount_source", p->str1);
		jsonw_str(w, "fstype", p->str3);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[0]);
		jsonw_str(w, "mount_flags", b);
		break;
	case VG_UMOUNT:
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[1]);
		jsonw_str(w, "umount_flags", b);
		break;
	case VG_UNSHARE:
		ns_list(w, "namespaces", p->arg[0]);
		break;
	case VG_SETNS:
		ns_list(w, "namespaces", p->arg[1]);
		jsonw_uint(w, "ns_inode", p->arg[2]);
		break;
	case VG_MODULE_LOAD:
		jsonw_str(w, "module_params", p->str2);
		break;
	case VG_BPF_LOAD:
		jsonw_uint(w, "bpf_prog_type", p->arg[1]);
		jsonw_str(w, "bpf_prog_name", p->str1);
		break;
	case VG_MEMFD_CREATE:
		jsonw_str(w, "memfd_name", p->str1);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)p->arg[1]);
		jsonw_str(w, "memfd_flags", b);
		break;
	}
}

static void resource_objs(struct jsonw *w, const struct resource *r)
{
	if (r->cg.runtime == CG_HOST) {
		if (r->cg.unit[0]) {
			jsonw_obj_open(w, "service");
			jsonw_str(w, "name", r->cg.unit);
			jsonw_obj_close(w);
		}
		return;
	}
	jsonw_obj_open(w, "container");
	jsonw_str(w, "id", r->cg.container_id);
	jsonw_str(w, "name", r->meta.name[0] ? r->meta.name : r->cg.container_id);
	jsonw_str(w, "runtime", cg_runtime_name(r->cg.runtime));
	if (r->meta.image[0]) {
		jsonw_obj_open(w, "image");
		jsonw_str(w, "name", r->meta.image);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
	if (r->meta.pod_name[0] || r->meta.pod_namespace[0] || r->cg.pod_uid[0]) {
		jsonw_obj_open(w, "orchestrator");
		jsonw_str(w, "type", "kubernetes");
		if (r->meta.pod_namespace[0])
			jsonw_str(w, "namespace", r->meta.pod_namespace);
		jsonw_obj_open(w, "resource");
		jsonw_str(w, "type", "pod");
		if (r->meta.pod_name[0])
			jsonw_str(w, "name", r->meta.pod_name);
		jsonw_str(w, "id", r->meta.pod_uid[0] ? r->meta.pod_uid
						       : r->cg.pod_uid);
		jsonw_obj_close(w);
		jsonw_obj_close(w);
	}
}

void event_json_context(struct jsonw *w, const void *rec,
			const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;

	process_obj(w, rec, v);
	user_obj(w, h);
	if (h->type >= VG_OPEN && h->type < VG_CONNECT)
		file_obj(w, rec);
	else if (h->type >= VG_CONNECT && h->type < VG_SETUID)
		net_objs(w, rec);
	else if (h->type >= VG_SETUID)
		priv_file(w, rec);
	resource_objs(w, v->res);
}

void event_json(struct jsonw *w, const void *rec, const struct enrich_view *v,
		const struct format_ctx *c)
{
	const struct vg_hdr *h = rec;
	char ts[48];

	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	format_time(ts, sizeof(ts), (int64_t)h->ts_ns + c->boot_to_real_ns);
	jsonw_str(w, "@timestamp", ts);
	event_obj(w, rec);
	jsonw_obj_open(w, "host");
	jsonw_str(w, "name", c->host_name);
	jsonw_obj_close(w);
	event_json_context(w, rec, v);
	if (h->type == VG_OPEN || h->type >= VG_SETUID ||
	    (h->flags & (VG_F_TRUNC1 | VG_F_TRUNC2 | VG_F_EXE_MEMFD |
			 VG_F_EXE_DELETED | VG_F_RELATIVE | VG_F_RELATIVE2 |
			 VG_F_STDIN_SOCK | VG_F_STDOUT_SOCK | VG_F_KILLED))) {
		jsonw_obj_open(w, "vigil");
		if (h->type >= VG_SETUID)
			priv_vigil(w, rec);
		if (h->type == VG_OPEN) {
			const struct vg_file *f = rec;
			char b[16];

			access_arr(w, f->access);
			snprintf(b, sizeof(b), "0%o", f->open_flags);
			jsonw_str(w, "open_flags", b);
		}
		if (h->flags & VG_F_EXE_MEMFD)
			jsonw_bool(w, "exe_memfd", 1);
		if (h->flags & VG_F_EXE_DELETED)
			jsonw_bool(w, "exe_deleted", 1);
		if (h->flags & VG_F_STDIN_SOCK)
			jsonw_bool(w, "stdin_socket", 1);
		if (h->flags & VG_F_STDOUT_SOCK)
			jsonw_bool(w, "stdout_socket", 1);
		if (h->type == VG_EXEC && (h->flags & VG_F_KILLED))
			jsonw_bool(w, "killed", 1);
		if (h->flags & (VG_F_TRUNC1 | VG_F_TRUNC2))
			jsonw_bool(w, "path_truncated", 1);
		if (h->flags & (VG_F_RELATIVE | VG_F_RELATIVE2))
			jsonw_bool(w, "path_relative", 1);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
}
