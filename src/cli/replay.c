/* replay.c - `vigil replay FILE`: runs a recording through the same
 * pipeline as live tracing, without root. Every complete record before a
 * truncation or corruption is replayed; then the error names the offset. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "sensor/sensor.h"

static void replay_usage(FILE *f)
{
	fprintf(f, "usage: vigil replay FILE|- [--json] [--container ID] "
		   "[--host-only] [--type LIST]\n"
		   "  re-emits a recording (from stdin with -); exit 3 when it "
		   "is corrupt or truncated,\n  after replaying every complete "
		   "record before the damage\n");
}

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, 0, 'j'},
		{"container", required_argument, 0, 'c'},
		{"host-only", no_argument, 0, 'H'},
		{"type", required_argument, 0, 't'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct pipeline p;
	struct rec_reader *r;
	const char *path;
	uint32_t mask = 0xf;
	int opt, rc = 0, json = 0, host_only = 0;
	const char *container = NULL;
	uint64_t bad = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'c':
			container = optarg;
			break;
		case 'H':
			host_only = 1;
			break;
		case 't':
			if (parse_types(optarg, &mask) < 0) {
				fprintf(stderr, "vigil: bad --type '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			replay_usage(stdout);
			return 0;
		default:
			replay_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		replay_usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];
	r = strcmp(path, "-") ? rec_reader_open(path) : rec_reader_fdopen(0);
	if (!r) {
		fprintf(stderr, "vigil: cannot replay '%s': %s\n", path,
			errno == EINVAL ? "not a Vigil recording (bad magic)" :
			errno == EPROTO ? "unsupported recording version" :
					  strerror(errno));
		return errno == ENOENT ? 1 : EXIT_BADINPUT;
	}
	if (pipeline_init(&p, 0) < 0) {
		rec_reader_close(r);
		return 1;
	}
	p.json = json;
	p.out = stdout;
	p.class_mask = mask;
	p.container = container;
	p.host_only = host_only;
	snprintf(p.host_name, sizeof(p.host_name), "unknown");
	rc = pipeline_replay(&p, r, &bad, NULL, NULL, NULL);
	if (rc == -EPROTO) {
		fprintf(stderr, "vigil: '%s' was recorded with another event ABI\n",
			path);
	} else if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "vigil: replay of '%s' stopped: %s\n", path,
			rec_reader_error(r));
	}
	rc = rc < 0 ? EXIT_BADINPUT : 0;
	fflush(stdout);
	if (bad)
		fprintf(stderr, "vigil: %llu malformed records skipped\n",
			(unsigned long long)bad);
	rec_reader_close(r);
	pipeline_fini(&p);
	return rc;
}
