/* recorder_bench.c - flight recorder throughput (stored events per second
 * of CPU time, one core) and size (bytes per stored event on disk), from a
 * recording (tests/tools/mkrec.py bench).
 *
 * The recording is decoded into memory once; then:
 *   A. the user-space pipeline alone (check + enrich) over every record;
 *   B. the same plus the recorder: evstore_add() for every event and
 *      evstore_flush() after every record, as `vigil run` does, into a new
 *      DIR/events.db. The recorder's chunk-age clock follows the events'
 *      time, so chunks are written (and open chunks rewritten) as often as
 *      they would be if the events arrived live at their recorded pace.
 * Recorder cost = B - A (CPU time of this process, which is one thread).
 * B runs RUNS times, each into a new store; the median is reported (small
 * shared VMs are noisy: see bench/README.md).
 * Size: events.db after close (the WAL is checkpointed into it and
 * truncated) divided by the events stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pipeline/pipeline.h"
#include "record/recording.h"
#include "sensor/sensor.h"
#include "store/evstore.h"

#define RUNS 3

struct frame {
	uint32_t kind;
	size_t len;
	char *data;
};

struct bctx {
	struct evstore *ev;
	struct pipeline *p;
	uint64_t clock, last_wall;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seals everything and writes it, then reads the counters (close would
 * only write again what this wrote). */
static void evs_final_stats(struct evstore *ev, struct evstore_stats *st)
{
	evstore_seal_all(ev);
	evstore_flush(ev, 0, 1);
	evstore_stats(ev, st);
}

static uint64_t event_clock(void *ctx)
{
	return ((struct bctx *)ctx)->clock;
}

static void hook(void *ctx, const void *rec, const struct enrich_view *v)
{
	struct bctx *b = ctx;
	const struct vg_hdr *h = rec;
	uint64_t wall = h->ts_ns + (uint64_t)b->p->fc.boot_to_real_ns;

	b->clock = h->ts_ns;
	b->last_wall = wall;
	evstore_add(b->ev, rec, h->size, v, &b->p->fc, wall);
}

/* One pass; ev NULL: pipeline only. With ev, the recorder is closed
 * inside the timed region (its last chunks are sealed and deflated then)
 * after its counters went to *st. */
static double pass(struct frame *fr, size_t n, struct evstore *ev,
		   struct bctx *b, double *wall, struct evstore_stats *st)
{
	struct pipeline p;
	double t0, w0;

	pipeline_init(&p, 0);
	snprintf(p.host_name, sizeof(p.host_name), "unknown");
	b->p = &p;
	b->ev = ev;
	p.hook = ev ? hook : NULL;
	p.hook_ctx = b;
	t0 = cpu_s();
	w0 = wall_s();
	for (size_t i = 0; i < n; i++) {
		if (fr[i].kind == REC_KIND_EVENT) {
			pipeline_record(&p, fr[i].data, fr[i].len, 0);
			if (ev)
				evstore_flush(ev, b->last_wall, 0);
		} else if (fr[i].kind == REC_KIND_META) {
			pipeline_read_meta(&p, fr[i].data, fr[i].len);
		} else {
			enrich_side(p.en, fr[i].kind, fr[i].data, fr[i].len);
		}
	}
	if (ev) {
		evstore_flush(ev, b->last_wall, 1);
		evs_final_stats(ev, st);
		evstore_close(ev); /* seals, deflates and writes the rest */
	}
	t0 = cpu_s() - t0;
	*wall = wall_s() - w0;
	pipeline_fini(&p);
	return t0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Removes a previous run's store. */
static void cleanup(const char *dir)
{
	static const char *const names[] = {"events.db", "events.db-wal",
					    "events.db-shm"};
	char path[4096];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static long long file_size(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

int main(int argc, char **argv)
{
	struct rec_reader *r;
	struct frame *fr = NULL;
	size_t n = 0, cap = 0, events = 0;
	struct evstore_opts o = {.create = 1, .clock = event_clock};
	struct evstore_stats st;
	struct evstore *ev;
	struct bctx b = {0};
	char err[1024], dir[] = "/tmp/vigil-recbench-XXXXXX";
	double ta, tb, wa, wb, rec_s, runs[RUNS];
	long long db = 0, wal = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: recorder_bench RECORDING\n");
		return 2;
	}
	r = rec_reader_open(argv[1]);
	if (!r) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		const void *d;
		uint32_t kind;
		size_t len;

		if (rec_next(r, &kind, &d, &len) <= 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			fr = realloc(fr, cap * sizeof(*fr));
			if (!fr)
				return 1;
		}
		fr[n].kind = kind;
		fr[n].len = len;
		fr[n].data = malloc(len + 1);
		if (!fr[n].data)
			return 1;
		memcpy(fr[n].data, d, len);
		if (kind == REC_KIND_EVENT && vg_record_check(fr[n].data, len) < 0)
			continue;
		if (kind == REC_KIND_EVENT &&
		    ((struct vg_hdr *)fr[n].data)->type != VG_CGROUP)
			events++;
		n++;
	}
	rec_reader_close(r);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	o.clock_ctx = &b;
	ta = pass(fr, n, NULL, &b, &wa, NULL);
	for (int k = 0; k < RUNS; k++) {
		cleanup(dir);
		ev = evstore_open(dir, &o, err, sizeof(err));
		if (!ev) {
			fprintf(stderr, "recorder_bench: %s\n", err);
			return 1;
		}
		runs[k] = pass(fr, n, ev, &b, &wb, &st);
		db = file_size(dir, "events.db");
		wal = file_size(dir, "events.db-wal");
	}
	qsort(runs, RUNS, sizeof(runs[0]), by_value);
	tb = runs[RUNS / 2];
	rec_s = tb - ta > 0 ? tb - ta : 1e-9;

	printf("events=%zu stored=%llu dropped=%llu write_errors=%llu "
	       "chunk_writes=%llu\n",
	       events, (unsigned long long)st.stored,
	       (unsigned long long)st.dropped,
	       (unsigned long long)st.write_errors,
	       (unsigned long long)st.chunks_written);
	printf("pipeline alone:       %.3f s CPU (%.0f events/s)\n", ta,
	       events / ta);
	printf("pipeline + recorder:  %.3f s CPU (median of %d: %.3f .. %.3f), "
	       "%.3f s wall  ratio %.2fx\n",
	       tb, RUNS, runs[0], runs[RUNS - 1], wb, tb / ta);
	printf("recorder alone:       %.3f s CPU = %.0f stored events/s on one "
	       "core (%.2f us/event)\n",
	       rec_s, st.stored / rec_s, rec_s * 1e6 / (double)st.stored);
	printf("on disk:              events.db %lld bytes + wal %lld = %.1f "
	       "bytes/event (written: %.1f bytes/event, open-chunk tails "
	       "included)\n",
	       db, wal, (double)(db + wal) / (double)st.stored,
	       (double)st.bytes_written / (double)st.stored);
	printf("targets: >= 200000 events/s: %s; <= 100 bytes/event: %s\n",
	       st.stored / rec_s >= 200000 ? "PASS" : "FAIL",
	       (double)(db + wal) / (double)st.stored <= 100 ? "PASS" : "FAIL");
	cleanup(dir);
	rmdir(dir);
	for (size_t i = 0; i < n; i++)
		free(fr[i].data);
	free(fr);
	return 0;
}
