/* main.c - the vigil binary: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

#define VIGIL_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigil COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  run      the agent: learn a model per container, image and "
		"service,\n"
		"           report anomalies (root; --replay FILE without root)\n"
		"  alerts   stored alerts by resource, severity, time; --follow\n"
		"  mode     set RESOURCE learn|monitor|shadow|protect (kernel "
		"enforcement)\n"
		"  policy   check, apply, list, show, delete, test policies "
		"(docs/policies.md)\n"
		"  model    list, show, export, import, diff, delete, relearn, "
		"extend,\n"
		"           approve, prune learned models\n"
		"  history  recorded events of a container (also after it "
		"is gone) or service\n"
		"  tree     recorded process tree of a container or service\n"
		"  incident export an alert with its evidence to a file; "
		"show one\n"
		"  trace    stream kernel events, attributed to containers "
		"(root)\n"
		"  record   write the event stream to a recording file (root)\n"
		"  replay   re-emit a recording, without root\n"
		"  version  print the version\n"
		"\n"
		"Run 'vigil COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "trace"))
		return cmd_trace(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "record"))
		return cmd_trace(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "model"))
		return cmd_model(argc - 1, argv + 1);
	if (!strcmp(argv[1], "mode"))
		return cmd_mode(argc - 1, argv + 1);
	if (!strcmp(argv[1], "alerts"))
		return cmd_alerts(argc - 1, argv + 1);
	if (!strcmp(argv[1], "history"))
		return cmd_history(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tree"))
		return cmd_tree(argc - 1, argv + 1);
	if (!strcmp(argv[1], "incident"))
		return cmd_incident(argc - 1, argv + 1);
	if (!strcmp(argv[1], "policy"))
		return cmd_policy(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("vigil %s\n", VIGIL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vigil: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
