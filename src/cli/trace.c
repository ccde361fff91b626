/* trace.c - `vigil trace` and `vigil record`: load the sensor, stream every
 * record through the pipeline, print drop and fold counters at the end and
 * on SIGUSR1. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "output/event_format.h"
#include "sensor/sensor.h"

static volatile sig_atomic_t stop_requested, stats_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	stats_requested = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void trace_usage(FILE *f, int record_mode)
{
	if (record_mode)
		fprintf(f, "usage: vigil record -o FILE [--json] [OPTIONS]\n");
	else
		fprintf(f, "usage: vigil trace [--json] [--record FILE] "
			   "[OPTIONS]\n");
	fprintf(f,
		"  --json               one ECS JSON object per line\n"
		"  --duration D         stop after D (e.g. 10s, 5m)\n"
		"  --container ID       only this container (id, prefix >= 12, "
		"or name)\n"
		"  --host-only          only processes outside containers\n"
		"  --type LIST          process,file,network,privilege\n"
		"  --dedup-window D     fold identical events within D in the "
		"kernel (default 30s, 0 = off)\n"
		"  -o, --output FILE    (record) recording file to write\n"
		"  --record FILE        (trace) also write a recording\n");
}

static int on_event(void *ctx, const void *rec, size_t len)
{
	struct pipeline *p = ctx;

	return pipeline_record(p, rec, len, clock_ns(CLOCK_MONOTONIC));
}

static void print_counters(struct sensor *s, struct pipeline *p)
{
	struct vg_counters c[VG_TYPE_MAX];
	uint64_t em = 0, dr = 0, fo = 0;

	sensor_counters(s, c);
	fprintf(stderr, "vigil: counters by event type (emitted/dropped/folded):");
	for (int t = 1; t < VG_TYPE_MAX; t++) {
		if (!c[t].emitted && !c[t].dropped && !c[t].folded)
			continue;
		fprintf(stderr, " %s=%llu/%llu/%llu", event_action(t),
			(unsigned long long)c[t].emitted,
			(unsigned long long)c[t].dropped,
			(unsigned long long)c[t].folded);
		em += c[t].emitted;
		dr += c[t].dropped;
		fo += c[t].folded;
	}
	fprintf(stderr,
		"\nvigil: total emitted=%llu dropped=%llu folded=%llu "
		"malformed=%llu shown=%llu filtered=%llu\n",
		(unsigned long long)em, (unsigned long long)dr,
		(unsigned long long)fo, (unsigned long long)c[0].dropped,
		(unsigned long long)p->shown, (unsigned long long)p->filtered);
}

int cmd_trace(int argc, char **argv, int record_mode)
{
	static const struct option longopts[] = {
		{"json", no_argument, 0, 'j'},
		{"duration", required_argument, 0, 'd'},
		{"container", required_argument, 0, 'c'},
		{"host-only", no_argument, 0, 'H'},
		{"type", required_argument, 0, 't'},
		{"dedup-window", required_argument, 0, 'w'},
		{"output", required_argument, 0, 'o'},
		{"record", required_argument, 0, 'r'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct sensor_opts so = {.class_mask = 0xf,
				 .dedup_window_ns = 30ULL * 1000000000ULL};
	struct pipeline p;
	struct sensor *s = NULL;
	const char *rec_path = NULL;
	uint64_t duration = 0, deadline = 0;
	char err[256];
	int opt, rc = 0, json = 0, host_only = 0;
	const char *container = NULL;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'd':
			if (parse_duration(optarg, &duration) < 0) {
				fprintf(stderr, "vigil: bad --duration '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			container = optarg;
			break;
		case 'H':
			host_only = 1;
			break;
		case 't':
			if (parse_types(optarg, &so.class_mask) < 0) {
				fprintf(stderr,
					"vigil: bad --type '%s' (want a comma "
					"list of process,file,network,"
					"privilege)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			if (parse_duration(optarg, &so.dedup_window_ns) < 0) {
				fprintf(stderr, "vigil: bad --dedup-window '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
		case 'r':
			rec_path = optarg;
			break;
		case 'h':
			trace_usage(stdout, record_mode);
			return 0;
		default:
			trace_usage(stderr, record_mode);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil: unexpected argument '%s'\n", argv[optind]);
		trace_usage(stderr, record_mode);
		return EXIT_USAGE;
	}
	if (record_mode && !rec_path) {
		fprintf(stderr, "vigil: record needs -o FILE\n");
		return EXIT_USAGE;
	}
	if (container && host_only) {
		fprintf(stderr, "vigil: --container and --host-only exclude "
				"each other\n");
		return EXIT_USAGE;
	}
	if (pipeline_init(&p, 1) < 0) {
		fprintf(stderr, "vigil: out of memory\n");
		return 1;
	}
	p.json = json;
	p.out = (record_mode && !json) ? NULL : stdout;
	p.class_mask = so.class_mask;
	p.container = container;
	p.host_only = host_only;
	if (gethostname(p.host_name, sizeof(p.host_name) - 1) < 0)
		snprintf(p.host_name, sizeof(p.host_name), "localhost");
	p.fc.boot_to_real_ns = (int64_t)clock_ns(CLOCK_REALTIME) -
			       (int64_t)clock_ns(CLOCK_BOOTTIME);
	if (rec_path) {
		p.rec = strcmp(rec_path, "-") ? rec_writer_open(rec_path)
					      : rec_writer_fdopen(1);
		if (!p.rec) {
			fprintf(stderr, "vigil: cannot write '%s': %s\n",
				rec_path, strerror(errno));
			pipeline_fini(&p);
			return 1;
		}
		pipeline_write_meta(&p);
	}

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	s = sensor_open(&so, on_event, &p, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "vigil: %s\n", err);
		rc = 1;
		goto out;
	}
	fprintf(stderr, "vigil: tracing%s\n", rec_path ? " and recording" : "");
	if (duration)
		deadline = clock_ns(CLOCK_MONOTONIC) + duration;
	while (!stop_requested) {
		int n = sensor_poll(s, 100);

		if (n < 0) {
			fprintf(stderr, "vigil: %s\n",
				n == -ENOSPC ? "recording: disk full"
					     : strerror(-n));
			rc = 1;
			break;
		}
		if (p.out)
			fflush(p.out);
		if (p.out && ferror(p.out)) {
			rc = errno == EPIPE ? 0 : 1;
			break;
		}
		if (stats_requested) {
			stats_requested = 0;
			print_counters(s, &p);
		}
		if (deadline && clock_ns(CLOCK_MONOTONIC) >= deadline)
			break;
	}
	sensor_poll(s, 0); /* what arrived before the stop */
	if (p.out)
		fflush(p.out);
	print_counters(s, &p);
out:
	sensor_close(s);
	if (p.rec) {
		int cr = rec_writer_close(p.rec);

		if (cr < 0) {
			fprintf(stderr, "vigil: writing '%s': %s\n", rec_path,
				strerror(-cr));
			rc = 1;
		}
	}
	pipeline_fini(&p);
	return rc;
}
