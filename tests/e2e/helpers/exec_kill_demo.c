/* exec_kill_demo.c - drives sensor_exec_kill_set() for
 * tests/e2e/test_exec_kill.py.
 *
 *   exec_kill_demo CGROUP FLAGS
 *
 * Loads the sensor (process events only, no dedup), resolves CGROUP (a
 * cgroup v2 path: "/x", "x" or "<mount>/x") to its id with cgroot_id(),
 * sets its exec_kill entry to FLAGS (VG_KILL_MEMFD 1, VG_KILL_DELETED 2; 0
 * sets nothing) and prints one JSON object per line:
 *
 *   {"event":"ready","cgroup_id":N,"flags":F,"rc":R}
 *   {"event":"exec","pid":N,"ppid":N,"flags":H,"memfd":B,"deleted":B,
 *    "killed":B,"exe":"..."}      each exec in that cgroup (H: header flags)
 *   {"event":"exit","pid":N,"exit_code":N}   each exit in that cgroup
 *   {"event":"set","cgroup_id":N,"flags":F,"rc":R}   per stdin command
 *
 * stdin takes one command per line: "FLAGS" (for CGROUP) or "ID FLAGS" (any
 * cgroup id, to check the API's refusals); rc is sensor_exec_kill_set()'s
 * result. Runs until SIGTERM or SIGINT (stdin at EOF only stops commands). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "enforce/cgroot.h"
#include "sensor/sensor.h"

static volatile sig_atomic_t stop;
static uint64_t target;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void put_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *tf(int b)
{
	return b ? "true" : "false";
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	const struct vg_hdr *h = rec;

	(void)ctx;
	(void)len;
	if (h->cgroup_id != target || (h->flags & VG_F_CG_V1))
		return 0;
	if (h->type == VG_EXEC) {
		const struct vg_exec *x = rec;

		printf("{\"event\":\"exec\",\"pid\":%u,\"ppid\":%u,\"flags\":%u,"
		       "\"memfd\":%s,\"deleted\":%s,\"killed\":%s,\"exe\":",
		       h->pid, h->ppid, h->flags, tf(h->flags & VG_F_EXE_MEMFD),
		       tf(h->flags & VG_F_EXE_DELETED), tf(h->flags & VG_F_KILLED));
		put_str(x->exe);
		printf("}\n");
	} else if (h->type == VG_EXIT) {
		const struct vg_proc *p = rec;

		printf("{\"event\":\"exit\",\"pid\":%u,\"exit_code\":%u}\n", h->pid,
		       p->exit_code);
	}
	return 0;
}

/* One stdin command line: "FLAGS" or "ID FLAGS". */
static void command(struct sensor *s, const char *line)
{
	unsigned long long a, b;
	uint64_t id = target;
	uint32_t flags;
	int n = sscanf(line, "%llu %llu", &a, &b), rc;

	if (n == 2) {
		id = a;
		flags = (uint32_t)b;
	} else if (n == 1) {
		flags = (uint32_t)a;
	} else {
		return;
	}
	rc = sensor_exec_kill_set(s, id, flags);
	printf("{\"event\":\"set\",\"cgroup_id\":%" PRIu64 ",\"flags\":%u,\"rc\":%d}\n",
	       id, flags, rc);
}

int main(int argc, char **argv)
{
	struct sensor_opts so = {.class_mask = 0x1, .dedup_window_ns = 0};
	char mnt[CGROOT_PATH_MAX], rel[CGROOT_PATH_MAX], err[256], line[256];
	size_t used = 0;
	int stdin_open = 1, rc;
	struct sensor *s;
	uint32_t flags;

	if (argc != 3) {
		fprintf(stderr, "usage: exec_kill_demo CGROUP FLAGS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	flags = (uint32_t)strtoul(argv[2], NULL, 0);
	if ((rc = cgroot_mount(mnt, sizeof(mnt))) < 0 ||
	    (rc = cgroot_rel(mnt, argv[1], rel, sizeof(rel))) < 0 ||
	    (rc = cgroot_id(mnt, rel, &target)) < 0) {
		fprintf(stderr, "exec_kill_demo: cgroup %s: %s\n", argv[1],
			strerror(-rc));
		return 1;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	s = sensor_open(&so, on_record, NULL, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "exec_kill_demo: %s\n", err);
		return 1;
	}
	rc = flags ? sensor_exec_kill_set(s, target, flags) : 0;
	printf("{\"event\":\"ready\",\"cgroup_id\":%" PRIu64 ",\"flags\":%u,\"rc\":%d}\n",
	       target, flags, rc);
	while (!stop) {
		struct pollfd p = {.fd = 0, .events = POLLIN};

		rc = sensor_poll(s, 50);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "exec_kill_demo: poll: %s\n", strerror(-rc));
			break;
		}
		if (!stdin_open || poll(&p, 1, 0) <= 0)
			continue;
		{
			ssize_t n = read(0, line + used, sizeof(line) - 1 - used);
			char *nl;

			if (n <= 0) {
				stdin_open = 0;
				continue;
			}
			used += (size_t)n;
			line[used] = 0;
			while ((nl = strchr(line, '\n'))) {
				*nl = 0;
				command(s, line);
				used -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, used + 1);
			}
			if (used == sizeof(line) - 1) /* no newline in sight */
				used = 0;
		}
	}
	sensor_close(s);
	return 0;
}
