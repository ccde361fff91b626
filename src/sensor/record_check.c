/* record_check.c - validation of kernel records before any stage reads them.
 * The kernel copies strings with *_str helpers that leave the rest of a
 * fixed array as whatever the ring buffer held before; canonicalising makes
 * equal events equal bytes and guarantees NUL termination. */
#include <errno.h>
#include <string.h>
#include "sensor/sensor.h"

size_t vg_record_size(uint16_t type)
{
	switch (type) {
	case VG_EXEC:
		return sizeof(struct vg_exec);
	case VG_FORK:
	case VG_EXIT:
		return sizeof(struct vg_proc);
	case VG_OPEN: case VG_UNLINK: case VG_RENAME: case VG_CHMOD:
	case VG_CHOWN: case VG_LINK: case VG_SYMLINK: case VG_MKDIR:
		return sizeof(struct vg_file);
	case VG_CONNECT: case VG_ACCEPT: case VG_BIND: case VG_LISTEN:
	case VG_DNS:
		return sizeof(struct vg_net);
	case VG_SETUID: case VG_SETGID: case VG_CAPSET: case VG_PTRACE:
	case VG_MOUNT: case VG_UMOUNT: case VG_UNSHARE: case VG_SETNS:
	case VG_MODULE_LOAD: case VG_BPF_LOAD: case VG_MEMFD_CREATE:
		return sizeof(struct vg_priv);
	case VG_CGROUP:
		return sizeof(struct vg_cgroup);
	}
	return 0;
}

static void canon(char *s, size_t n)
{
	size_t l = strnlen(s, n);

	if (l == n)
		l = n - 1; /* force termination of a full field */
	memset(s + l, 0, n - l);
}

int vg_record_check(void *rec, size_t len)
{
	struct vg_hdr *h = rec;
	size_t want;

	if (len < sizeof(*h))
		return -EBADMSG;
	want = vg_record_size(h->type);
	if (!want || h->size != want || len < want || h->abi != VG_ABI_VERSION)
		return -EBADMSG;
	canon(h->comm, sizeof(h->comm));
	switch (h->type) {
	case VG_EXEC: {
		struct vg_exec *e = rec;

		canon(e->exe, sizeof(e->exe));
		canon(e->parent_exe, sizeof(e->parent_exe));
		canon(e->cwd, sizeof(e->cwd));
		if (e->args_len > sizeof(e->args))
			return -EBADMSG;
		memset(e->args + e->args_len, 0, sizeof(e->args) - e->args_len);
		break;
	}
	case VG_FORK:
	case VG_EXIT:
		break;
	case VG_CONNECT: case VG_ACCEPT: case VG_BIND: case VG_LISTEN:
	case VG_DNS: {
		struct vg_net *e = rec;

		if (e->payload_len > sizeof(e->payload))
			return -EBADMSG;
		memset(e->payload + e->payload_len, 0,
		       sizeof(e->payload) - e->payload_len);
		break;
	}
	case VG_CGROUP: {
		struct vg_cgroup *e = rec;

		if (e->depth > VG_CG_DEPTH)
			return -EBADMSG;
		for (unsigned i = 0; i < VG_CG_DEPTH; i++) {
			if (i < e->depth)
				canon(e->name[i], VG_CG_NAME_LEN);
			else
				memset(e->name[i], 0, VG_CG_NAME_LEN);
		}
		break;
	}
	default:
		if (want == sizeof(struct vg_file)) {
			struct vg_file *e = rec;

			canon(e->path, sizeof(e->path));
			canon(e->path2, sizeof(e->path2));
		} else {
			struct vg_priv *e = rec;

			canon(e->str1, sizeof(e->str1));
			canon(e->str2, sizeof(e->str2));
			canon(e->str3, sizeof(e->str3));
		}
	}
	return 0;
}
