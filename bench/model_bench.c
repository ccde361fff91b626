/* model_bench.c - model checks and updates per second, and memory per
 * modelled container, from a recording (tests/tools/mkrec.py bench).
 *
 * The recording is decoded into memory once; then, in one run:
 *   A. the user-space pipeline alone (check + enrich) over every record;
 *   B. the same plus the model engine, learning (models start learning);
 *   C. the same again with every model active (pure checks, all known).
 * Engine cost = B - A and C - A; figures are reported per model check
 * (one item of one event against a model) and as a ratio to the pipeline
 * alone. Memory: model_memory() summed over container models, and the
 * process's RSS growth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pipeline/pipeline.h"
#include "model/engine.h"
#include "record/recording.h"
#include "sensor/sensor.h"

struct frame {
	size_t seq;
	uint32_t kind;
	size_t len;
	char *data;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Events grouped by container (stable), metadata first: the same work as
 * the interleaved stream, with the locality real bursts have. */
static int by_cgroup(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;
	uint64_t kx = x->kind == REC_KIND_EVENT ? ((struct vg_hdr *)x->data)->cgroup_id : 0;
	uint64_t ky = y->kind == REC_KIND_EVENT ? ((struct vg_hdr *)y->data)->cgroup_id : 0;

	if (x->kind == REC_KIND_EVENT && ((struct vg_hdr *)x->data)->type == VG_CGROUP)
		kx = 0;
	if (y->kind == REC_KIND_EVENT && ((struct vg_hdr *)y->data)->type == VG_CGROUP)
		ky = 0;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void hook(void *ctx, const void *rec, const struct enrich_view *v)
{
	struct engine *e = ctx;
	const struct vg_hdr *h = rec;

	engine_event(e, rec, v, h->ts_ns + 1700000000000000000ULL);
}

/* One pass over the frames; engine may be NULL (pipeline only). */
static double pass(struct frame *fr, size_t n, struct engine *e)
{
	struct pipeline p;
	double t0;

	pipeline_init(&p, 0);
	p.hook = e ? hook : NULL;
	p.hook_ctx = e;
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		if (fr[i].kind == REC_KIND_EVENT)
			pipeline_record(&p, fr[i].data, fr[i].len, 0);
		else if (fr[i].kind != REC_KIND_META)
			enrich_side(p.en, fr[i].kind, fr[i].data, fr[i].len);
	}
	t0 = now_s() - t0;
	pipeline_fini(&p);
	return t0;
}

int main(int argc, char **argv)
{
	struct rec_reader *r;
	struct frame *fr = NULL;
	size_t n = 0, cap = 0, events = 0, nmodels, containers = 0;
	/* learning never ends by itself in pass B: everything is learned */
	struct engine_opts eo = {.learn_min_ns = 1ULL << 62, .learn_settle_ns = 1ULL << 62};
	struct engine *e;
	struct engine_stats s1, s2;
	struct model **ms;
	double ta, tb, tc;
	uint64_t mem = 0;
	long rss0, rss1;

	if (argc != 2) {
		fprintf(stderr, "usage: model_bench RECORDING\n");
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
		int rc = rec_next(r, &kind, &d, &len);

		if (rc <= 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			fr = realloc(fr, cap * sizeof(*fr));
		}
		fr[n].seq = n;
		fr[n].kind = kind;
		fr[n].len = len;
		fr[n].data = malloc(len);
		memcpy(fr[n].data, d, len);
		if (kind == REC_KIND_EVENT && vg_record_check(fr[n].data, len) < 0)
			continue;
		events += kind == REC_KIND_EVENT;
		n++;
	}
	rec_reader_close(r);

	ta = pass(fr, n, NULL);
	rss0 = rss_kib();
	e = engine_new(&eo, NULL, NULL, NULL);
	tb = pass(fr, n, e);
	engine_stats(e, &s1);
	ms = engine_models(e, &nmodels);
	for (size_t i = 0; i < nmodels; i++)
		if (model_state_of(ms[i]) != MODEL_ACTIVE)
			model_set_state(ms[i], MODEL_ACTIVE, 0, "bench");
	tc = pass(fr, n, e);
	engine_stats(e, &s2);
	rss1 = rss_kib();
	ms = engine_models(e, &nmodels);
	for (size_t i = 0; i < nmodels; i++)
		if (model_kind_of(ms[i]) == MODEL_CONTAINER) {
			mem += model_memory(ms[i]);
			containers++;
		}

	printf("records=%zu events=%zu models=%zu container_models=%zu\n", n,
	       events, nmodels, containers);
	printf("pipeline alone:        %.3f s  (%.0f events/s)\n", ta, events / ta);
	printf("learning pass:         %.3f s  checks=%llu learned=%llu  "
	       "engine %.0f ns/check  ratio %.2fx\n",
	       tb, (unsigned long long)s1.checks, (unsigned long long)s1.learned,
	       (tb - ta) * 1e9 / (double)s1.checks, tb / ta);
	printf("active pass:           %.3f s  checks=%llu  engine %.0f ns/check "
	       "= %.2f M checks/s  ratio %.2fx  anomalies=%llu\n",
	       tc, (unsigned long long)(s2.checks - s1.checks),
	       (tc - ta) * 1e9 / (double)(s2.checks - s1.checks),
	       (double)(s2.checks - s1.checks) / (tc - ta) / 1e6, tc / ta,
	       (unsigned long long)(s2.anomalies - s1.anomalies));
	{
		double ta2, tc2;
		struct engine_stats s3;

		qsort(fr, n, sizeof(*fr), by_cgroup);
		ta2 = pass(fr, n, NULL);
		tc2 = pass(fr, n, e);
		engine_stats(e, &s3);
		printf("active, grouped:       %.3f s  checks=%llu  engine %.0f "
		       "ns/check = %.2f M checks/s  (events grouped by "
		       "container)\n",
		       tc2, (unsigned long long)(s3.checks - s2.checks),
		       (tc2 - ta2) * 1e9 / (double)(s3.checks - s2.checks),
		       (double)(s3.checks - s2.checks) / (tc2 - ta2) / 1e6);
	}
	printf("memory per container model: %.1f KiB (model_memory), RSS growth "
	       "%.1f KiB per container\n",
	       containers ? mem / 1024.0 / containers : 0.0,
	       containers ? (rss1 - rss0) / (double)containers : 0.0);
	engine_free(e);
	for (size_t i = 0; i < n; i++)
		free(fr[i].data);
	free(fr);
	return 0;
}
