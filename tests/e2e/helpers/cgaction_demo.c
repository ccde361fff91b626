/* cgaction_demo.c - runs one src/enforce/cgaction action for
 * tests/e2e/test_openguard.py:
 *
 *   cgaction_demo kill-pid PID
 *   cgaction_demo kill|kill-procs|freeze|thaw CGROUP [--timeout-ms N]
 *
 * CGROUP is a cgroup v2 path ("/name" or the full path under the v2
 * mount). --timeout-ms defaults to CGACTION_WAIT_MS (0: do not wait). Prints one JSON line {"action", "target", "rc", "error", "ms"}
 * and exits 0 when rc is 0, 1 otherwise, 2 on usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "enforce/cgaction.h"

static void usage(void)
{
	fprintf(stderr, "usage: cgaction_demo kill-pid PID | "
			"kill|kill-procs|freeze|thaw CGROUP [--timeout-ms N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *act, *tgt;
	struct timespec t0, t1;
	int timeout = CGACTION_WAIT_MS, rc;
	char *end;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--timeout-ms")))
		usage();
	act = argv[1];
	tgt = argv[2];
	if (argc == 5) {
		timeout = (int)strtol(argv[4], &end, 10);
		if (*end || end == argv[4])
			usage();
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(act, "kill-pid")) {
		long pid = strtol(tgt, &end, 10);

		if (*end || end == tgt)
			usage();
		rc = cgaction_kill_pid((pid_t)pid);
	} else if (!strcmp(act, "kill")) {
		rc = cgaction_kill_cgroup_timeout(tgt, timeout);
	} else if (!strcmp(act, "kill-procs")) {
		rc = cgaction_kill_procs(tgt, timeout);
	} else if (!strcmp(act, "freeze")) {
		rc = cgaction_freeze_timeout(tgt, 1, timeout);
	} else if (!strcmp(act, "thaw")) {
		rc = cgaction_freeze_timeout(tgt, 0, timeout);
	} else {
		usage();
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* target and error contain no characters JSON would need escaped
	 * unless the caller passes them: tests pass cgroup paths */
	printf("{\"action\":\"%s\",\"target\":\"%s\",\"rc\":%d,\"error\":\"%s\","
	       "\"ms\":%lld}\n",
	       act, tgt, rc, rc ? strerror(-rc) : "",
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000);
	return rc ? 1 : 0;
}
