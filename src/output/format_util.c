/* format_util.c - small pure helpers shared by the output formats: action
 * names, RFC 3339 time, DNS question decoding, errno names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "output/event_format.h"
#include "vigil_event.h"

const char *event_action(uint16_t type)
{
	switch (type) {
	case VG_EXEC: return "exec";
	case VG_FORK: return "fork";
	case VG_EXIT: return "exit";
	case VG_OPEN: return "open";
	case VG_UNLINK: return "unlink";
	case VG_RENAME: return "rename";
	case VG_CHMOD: return "chmod";
	case VG_CHOWN: return "chown";
	case VG_LINK: return "link";
	case VG_SYMLINK: return "symlink";
	case VG_MKDIR: return "mkdir";
	case VG_CONNECT: return "connect";
	case VG_ACCEPT: return "accept";
	case VG_BIND: return "bind";
	case VG_LISTEN: return "listen";
	case VG_DNS: return "dns";
	case VG_SETUID: return "setuid";
	case VG_SETGID: return "setgid";
	case VG_CAPSET: return "capset";
	case VG_PTRACE: return "ptrace";
	case VG_MOUNT: return "mount";
	case VG_UMOUNT: return "umount";
	case VG_UNSHARE: return "unshare";
	case VG_SETNS: return "setns";
	case VG_MODULE_LOAD: return "module_load";
	case VG_BPF_LOAD: return "bpf_load";
	case VG_MEMFD_CREATE: return "memfd_create";
	case VG_CGROUP: return "cgroup";
	}
	return "unknown";
}

void format_time(char *buf, size_t cap, int64_t real_ns)
{
	time_t secs = (time_t)(real_ns / 1000000000);
	long ns = (long)(real_ns % 1000000000);
	struct tm tm;

	if (ns < 0) {
		ns += 1000000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ns);
}

/* RFC 1035 question: after a 12-byte header, labels (no compression in a
 * query's first name), then QTYPE. Non-printable label bytes are rejected
 * rather than escaped: a name that is not a hostname is not reported. */
int dns_query_name(const uint8_t *p, size_t n, char *name, size_t cap,
		   uint16_t *qtype)
{
	size_t i = 12, used = 0;

	if (n < 17 || cap < 2 || (p[2] & 0x80)) /* too short, or a response */
		return -EBADMSG;
	if (((p[4] << 8) | p[5]) == 0) /* QDCOUNT */
		return -EBADMSG;
	while (i < n && p[i]) {
		size_t len = p[i++];

		if (len > 63 || i + len > n || used + len + 2 > cap)
			return -EBADMSG;
		if (used)
			name[used++] = '.';
		for (size_t k = 0; k < len; k++) {
			uint8_t c = p[i + k];

			if (c <= 0x20 || c >= 0x7f)
				return -EBADMSG;
			name[used++] = (char)c;
		}
		i += len;
	}
	if (i + 3 > n || !used)
		return -EBADMSG;
	name[used] = 0;
	*qtype = (uint16_t)((p[i + 1] << 8) | p[i + 2]);
	return 0;
}

const char *errno_name(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = {
		{EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"},
		{EINTR, "EINTR"}, {EIO, "EIO"}, {EBADF, "EBADF"},
		{EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"},
		{EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"},
		{EXDEV, "EXDEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},
		{EINVAL, "EINVAL"}, {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"},
		{EROFS, "EROFS"}, {ENAMETOOLONG, "ENAMETOOLONG"},
		{ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"},
		{ENOTSOCK, "ENOTSOCK"}, {EAFNOSUPPORT, "EAFNOSUPPORT"},
		{EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
		{ENETUNREACH, "ENETUNREACH"}, {ECONNRESET, "ECONNRESET"},
		{EISCONN, "EISCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
		{ECONNREFUSED, "ECONNREFUSED"}, {EHOSTUNREACH, "EHOSTUNREACH"},
		{EALREADY, "EALREADY"}, {EINPROGRESS, "EINPROGRESS"},
		{ETXTBSY, "ETXTBSY"}, {ENOEXEC, "ENOEXEC"}, {ECHILD, "ECHILD"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	return NULL;
}
