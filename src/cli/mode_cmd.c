/* mode_cmd.c - `vigil mode set RESOURCE learn|monitor|shadow|protect`:
 * queues the change for the running agent, which resolves RESOURCE,
 * applies the mode within a second and keeps it in the store, so a
 * restarted agent applies it again at the container's next event
 * (src/cli/run_enforce.c). Resources never set get --default-mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "cli/run_enforce.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil mode set RESOURCE learn|monitor|shadow|protect "
		   "[--data-dir DIR]\n"
		   "  RESOURCE: a container id (or 12+ char prefix) or name\n"
		   "  learn    learn (again), alert only on known-bad behaviour\n"
		   "  monitor  alert on what the model does not know (default "
		   "once active)\n"
		   "  shadow   also report what protect would block, block "
		   "nothing\n"
		   "  protect  block in the kernel what the policies deny and "
		   "what the model\n"
		   "           did not learn (exec, connect, bind); the "
		   "policies' protected files\n"
		   "Modes are kept across agent restarts.\n");
}

int cmd_mode(int argc, char **argv)
{
	const char *dir = getenv("VIGIL_DATA_DIR") ? getenv("VIGIL_DATA_DIR")
						   : "/var/lib/vigil";
	const char *pos[3] = {0};
	int npos = 0;
	struct store *st;
	struct timespec ts;
	char err[512];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (argv[i][0] == '-' || npos == 3) {
			usage(stderr);
			return EXIT_USAGE;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos != 3 || strcmp(pos[0], "set")) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (renf_mode_parse(pos[2]) < 0) {
		fprintf(stderr, "vigil: unknown mode '%s'\n", pos[2]);
		return EXIT_USAGE;
	}
	if (!store_agent_running(dir)) {
		fprintf(stderr, "vigil: no agent is running on '%s' (modes apply "
				"to a running 'vigil run')\n", dir);
		return 1;
	}
	st = store_open(dir, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "vigil: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	rc = store_ctl_push(st, pos[1], "mode", pos[2],
			    (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	store_close(st);
	if (rc < 0) {
		fprintf(stderr, "vigil: cannot queue the mode change\n");
		return 1;
	}
	printf("mode '%s' for '%s' queued for the running agent\n", pos[2], pos[1]);
	return 0;
}
