/* run_record.c - the flight recorder inside `vigil run`: options, opening
 * DIR/events.db next to the model store, every enriched event and every
 * alert into it, the periodic flush, and the exit summary.
 *
 * Invariants: every function accepts a NULL recorder (--no-record-events)
 * and then does nothing; recording never stops the agent: a full queue or
 * a failing write is counted, reported once on stderr as an ALERT line and
 * once as an alert document through the normal alert outputs, and summed
 * up at exit ("vigil: recorder: ..."). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alert/alert.h"
#include "cli/cli.h"
#include "lib/jsonw.h"
#include "store/evstore.h"
#include "vigil_event.h"

struct run_rec {
	struct evstore *ev;
	struct jsonw *w;
	int reported; /* the recorder alert was raised */
};

/* "1073741824", "500M", "1G", "64MiB", "10k" -> bytes; -EINVAL if bad. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		break;
	case 't': case 'T':
		mult = 1ULL << 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (!v || v > UINT64_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

int run_rec_option(struct run_rec_conf *c, int opt, const char *arg)
{
	switch (opt) {
	case RUNREC_OPT_NO_RECORD:
		c->disabled = 1;
		return 0;
	case RUNREC_OPT_AGE:
		if (parse_duration(arg, &c->max_age_ns) < 0 || !c->max_age_ns) {
			fprintf(stderr, "vigil: bad --retention-age '%s' "
				"(e.g. 7d, 12h)\n", arg);
			return -EINVAL;
		}
		return 0;
	case RUNREC_OPT_SIZE:
	case RUNREC_OPT_RES_SIZE:
		if (parse_size(arg, opt == RUNREC_OPT_SIZE ? &c->max_bytes
							   : &c->max_res_bytes) < 0) {
			fprintf(stderr, "vigil: bad %s '%s' (bytes, or with "
				"K, M, G: 500M, 1GiB)\n",
				opt == RUNREC_OPT_SIZE ? "--retention-size"
						       : "--retention-resource-size",
				arg);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

int run_rec_open(struct run_rec **out, const char *data_dir,
		 const struct run_rec_conf *c)
{
	struct evstore_opts o = {0};
	struct run_rec *r;
	char err[1024];

	*out = NULL;
	if (c->disabled)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->w = jsonw_new())) {
		free(r);
		fprintf(stderr, "vigil: out of memory\n");
		return -ENOMEM;
	}
	o.max_age_ns = c->max_age_ns;
	o.max_bytes = c->max_bytes;
	o.max_resource_bytes = c->max_res_bytes;
	o.create = 1;
	o.check = 1;
	r->ev = evstore_open(data_dir, &o, err, sizeof(err));
	if (!r->ev) {
		int e = errno;

		fprintf(stderr, "vigil: %s\n", err);
		jsonw_free(r->w);
		free(r);
		return -e;
	}
	*out = r;
	return 0;
}

void run_rec_event(struct run_rec *r, const void *rec,
		   const struct enrich_view *v, const struct format_ctx *fc,
		   uint64_t wall_ns)
{
	const struct vg_hdr *h = rec;

	if (r)
		evstore_add(r->ev, rec, h->size, v, fc, wall_ns);
}

/* The resource an alert is about: its event's, else its model's. */
static void alert_resource(const struct anomaly *a, char *key, size_t cap)
{
	key[0] = 0;
	if (a->view && a->view->res) {
		evstore_resource_key(a->view->res, key, cap);
	} else if (a->model) {
		const char *m = model_key(a->model);

		if (!strncmp(m, "container:", 10) || !strncmp(m, "service:", 8))
			snprintf(key, cap, "%s", m);
	}
}

void run_rec_alert(struct run_rec *r, const struct anomaly *a,
		   const struct format_ctx *fc)
{
	char key[EVSTORE_KEY_MAX];
	const char *text;
	json_t *doc, *id;

	if (!r)
		return;
	alert_json(r->w, a, fc);
	if (jsonw_error(r->w))
		return;
	text = jsonw_data(r->w, NULL);
	/* the id the outputs show, taken from the document itself */
	doc = json_loads(text, 0, NULL);
	id = doc ? json_object_get(json_object_get(json_object_get(doc, "vigil"),
						   "alert"), "id") : NULL;
	alert_resource(a, key, sizeof(key));
	if (json_is_string(id))
		evstore_add_alert(r->ev, json_string_value(id), a->wall_ns, key,
				  a->score, text);
	json_decref(doc);
}

/* Once: an ALERT line on stderr and an alert document on the outputs. */
static void report(struct run_rec *r, struct alert_out *alerts,
		   const struct format_ctx *fc, uint64_t wall)
{
	struct evstore_stats st;
	struct anomaly a;

	evstore_stats(r->ev, &st);
	if (r->reported || (!st.dropped && !st.write_errors))
		return;
	r->reported = 1;
	memset(&a, 0, sizeof(a));
	a.kind = ANOM_RULE;
	a.dim = DIM_FILE_WRITE;
	a.item = evstore_path(r->ev);
	a.score = 70;
	a.title = "Flight recorder is losing events";
	a.rule_id = "vigil-recorder";
	a.rule_description = "the flight recorder could not store every event "
			     "(queue full or writes failing); counts in the "
			     "agent's exit summary";
	a.wall_ns = wall;
	if (st.last_error == -EUCLEAN)
		snprintf(a.explanation, sizeof(a.explanation),
			 "flight recorder '%s' is corrupt (%s): events are "
			 "dropped; stop the agent, move the file aside (mv %s "
			 "%s.corrupt) and restart", evstore_path(r->ev),
			 evstore_errmsg(r->ev), evstore_path(r->ev),
			 evstore_path(r->ev));
	else if (st.write_errors)
		snprintf(a.explanation, sizeof(a.explanation),
			 "flight recorder '%s': writes failing (%s); %llu "
			 "events queued, dropped once the queue is full "
			 "(%llu so far); totals in the exit summary",
			 evstore_path(r->ev),
			 st.last_error ? strerror(-st.last_error) : "error",
			 (unsigned long long)st.queued,
			 (unsigned long long)st.dropped);
	else
		snprintf(a.explanation, sizeof(a.explanation),
			 "flight recorder '%s': queue full, %llu events "
			 "dropped so far; totals in the exit summary",
			 evstore_path(r->ev), (unsigned long long)st.dropped);
	fprintf(stderr, "vigil: ALERT %s\n", a.explanation);
	if (alerts)
		alert_anomaly(alerts, &a, fc);
	run_rec_alert(r, &a, fc);
}

void run_rec_tick(struct run_rec *r, uint64_t now_wall, int force,
		  struct alert_out *alerts, const struct format_ctx *fc)
{
	if (!r)
		return;
	evstore_flush(r->ev, now_wall, force);
	report(r, alerts, fc, now_wall);
}

void run_rec_close(struct run_rec *r, FILE *summary)
{
	struct evstore_stats st;

	if (!r)
		return;
	evstore_seal_all(r->ev);
	evstore_flush(r->ev, 0, 1);
	evstore_stats(r->ev, &st);
	if (summary)
		fprintf(summary,
			"vigil: recorder: stored=%llu dropped=%llu "
			"write_errors=%llu chunks=%llu bytes=%llu alerts=%llu "
			"alert_errors=%llu pruned_chunks=%llu "
			"recovered_chunks=%llu in '%s'\n",
			(unsigned long long)st.stored,
			(unsigned long long)(st.dropped + st.queued),
			(unsigned long long)st.write_errors,
			(unsigned long long)st.chunks_written,
			(unsigned long long)st.bytes_written,
			(unsigned long long)st.alerts,
			(unsigned long long)st.alert_errors,
			(unsigned long long)st.pruned_chunks,
			(unsigned long long)st.recovered_chunks,
			evstore_path(r->ev));
	evstore_close(r->ev);
	jsonw_free(r->w);
	free(r);
}
