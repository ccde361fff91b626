/* alert.c - anomaly -> ECS alert document, fanned out to the outputs.
 *
 * The ECS text is rendered once per alert (alert_json), wrapped in a
 * struct alert_doc, and handed to every sink in the order they were
 * configured: stdout, the --alerts file, syslog receivers, webhooks. The
 * alert id is a hash of the model, dimension, item and time, so replaying
 * a recording gives the same ids. Invariant: with no flag other than
 * --alerts, stdout and the file get exactly the bytes they always did
 * (one ECS object per line). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "alert/alert.h"
#include "alert/sink.h"
#include "lib/jsonw.h"
#include "vigil_event.h"

struct alert_out {
	struct alert_sink *sinks[2 + 2 * ALERT_MAX_OUTPUTS];
	size_t n;
	struct alert_sink *file; /* also in sinks; for alert_write_errors */
	struct jsonw *w;
	uint64_t count;
};

/* For model anomalies (rules name their own): the ATT&CK technique the new
 * behaviour most likely belongs to, by dimension; NULL for time anomalies,
 * which say nothing about what was done. docs/models.md has the table. */
static const char *model_technique(const struct anomaly *a)
{
	if (a->kind == ANOM_RULE || a->kind == ANOM_TIME ||
	    a->kind == ANOM_SILENT || a->kind == ANOM_RATE)
		return NULL;
	if (a->kind == ANOM_DRIFT)
		return "T1105";
	switch (a->dim) {
	case DIM_PROCESS:
	case DIM_ARGS:
	case DIM_FILE_EXEC:
		return "T1059";
	case DIM_FILE_READ:
		return "T1005";
	case DIM_FILE_WRITE:
	case DIM_FILE_CREATE:
		return "T1565.001";
	case DIM_FILE_DELETE:
		return "T1070.004";
	case DIM_NET_OUT:
		return "T1071";
	case DIM_NET_LISTEN:
		return "T1571";
	case DIM_NET_IN:
		return "T1133";
	case DIM_DNS:
		return "T1071.004";
	case DIM_PRIV:
		return "T1548";
	default:
		return NULL;
	}
}

void alert_json(struct jsonw *w, const struct anomaly *a,
		const struct format_ctx *fc)
{
	const struct model *m = a->model;
	char ts[48], id[20];
	uint64_t age = m && a->wall_ns > model_created_ns(m)
			       ? a->wall_ns - model_created_ns(m) : 0;
	const char *source = a->source ? a->source :
			     a->kind == ANOM_RULE ? "detection" : "model";

	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	format_time(ts, sizeof(ts), (int64_t)a->wall_ns);
	jsonw_str(w, "@timestamp", ts);
	jsonw_obj_open(w, "event");
	jsonw_str(w, "kind", "alert");
	jsonw_arr_open(w, "category");
	jsonw_str(w, NULL, alert_category(a->dim));
	jsonw_arr_close(w);
	jsonw_arr_open(w, "type");
	jsonw_str(w, NULL, "info");
	jsonw_arr_close(w);
	jsonw_str(w, "action", "anomaly");
	jsonw_str(w, "dataset", a->kind == ANOM_RULE ? "vigil.detection"
						     : "vigil.model");
	jsonw_int(w, "severity", a->score);
	jsonw_int(w, "risk_score", a->score);
	jsonw_obj_close(w);
	jsonw_str(w, "message", a->explanation);
	jsonw_obj_open(w, "rule");
	if (a->rule_id)
		jsonw_str(w, "id", a->rule_id);
	jsonw_str(w, "name", a->title);
	if (a->rule_description)
		jsonw_str(w, "description", a->rule_description);
	jsonw_str(w, "category", model_dim_name(a->dim));
	jsonw_str(w, "ruleset", a->ruleset ? a->ruleset :
				a->kind == ANOM_RULE ? "vigil-detections"
						     : "vigil-model");
	jsonw_obj_close(w);
	if (a->n_mitre || model_technique(a)) {
		jsonw_obj_open(w, "threat");
		jsonw_str(w, "framework", "MITRE ATT&CK");
		jsonw_obj_open(w, "technique");
		jsonw_arr_open(w, "id");
		for (size_t i = 0; i < a->n_mitre; i++)
			jsonw_str(w, NULL, a->mitre[i]);
		if (!a->n_mitre)
			jsonw_str(w, NULL, model_technique(a));
		jsonw_arr_close(w);
		jsonw_obj_close(w);
		jsonw_obj_close(w);
	}
	jsonw_obj_open(w, "host");
	jsonw_str(w, "name", fc->host_name);
	jsonw_obj_close(w);
	if (a->rec && a->view)
		event_json_context(w, a->rec, a->view);
	jsonw_obj_open(w, "vigil");
	jsonw_obj_open(w, "alert");
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)alert_doc_id(a));
	jsonw_str(w, "id", id);
	jsonw_str(w, "source", source);
	jsonw_str(w, "kind", alert_kind_name(a->kind));
	jsonw_str(w, "level", engine_level(a->score));
	jsonw_int(w, "score", a->score);
	jsonw_str(w, "title", a->title);
	jsonw_str(w, "explanation", a->explanation);
	jsonw_str(w, "dimension", model_dim_name(a->dim));
	jsonw_str(w, "item", a->item ? a->item : "");
	jsonw_arr_open(w, "nearest");
	for (size_t i = 0; i < a->n_nearest; i++)
		jsonw_str(w, NULL, a->nearest[i]);
	jsonw_arr_close(w);
	jsonw_str(w, "action_taken", a->action_taken ? a->action_taken
						     : "alerted");
	jsonw_uint(w, "count", (unsigned long long)a->repeats + 1);
	format_time(ts, sizeof(ts), (int64_t)(a->first_ns ? a->first_ns : a->wall_ns));
	jsonw_str(w, "first_seen", ts);
	format_time(ts, sizeof(ts), (int64_t)a->wall_ns);
	jsonw_str(w, "last_seen", ts);
	if (a->n_ancestry) {
		jsonw_arr_open(w, "ancestry");
		for (size_t i = 0; i < a->n_ancestry; i++) {
			jsonw_obj_open(w, NULL);
			jsonw_uint(w, "pid", a->ancestry[i]->pid);
			jsonw_str(w, "name", a->ancestry[i]->name);
			jsonw_str(w, "executable", a->ancestry[i]->exe);
			jsonw_obj_close(w);
		}
		jsonw_arr_close(w);
	}
	jsonw_obj_close(w);
	if (m) {
		jsonw_obj_open(w, "model");
		jsonw_str(w, "key", model_key(m));
		jsonw_str(w, "kind", model_kind_name(model_kind_of(m)));
		jsonw_str(w, "state", model_state_name(model_state_of(m)));
		jsonw_uint(w, "age_s", age / 1000000000ULL);
		jsonw_uint(w, "entries", model_size(m));
		if (model_parent(m)[0])
			jsonw_str(w, "parent", model_parent(m));
		jsonw_obj_close(w);
	}
	if (a->rec) {
		jsonw_obj_open(w, "trigger");
		jsonw_str(w, "action",
			  event_action(((const struct vg_hdr *)a->rec)->type));
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}

int alert_conf_option(struct alert_conf *c, int opt, const char *arg)
{
	int v;

	switch (opt) {
	case ALERT_OPT_ALERTS_FORMAT:
	case ALERT_OPT_SYSLOG_FORMAT:
	case ALERT_OPT_WEBHOOK_FORMAT:
		v = alert_fmt_parse(arg);
		if (v < 0 || (opt == ALERT_OPT_WEBHOOK_FORMAT &&
			      v == ALERT_FMT_CEF)) {
			fprintf(stderr, "vigil: bad format '%s' (want %s)\n", arg,
				opt == ALERT_OPT_WEBHOOK_FORMAT
					? "ecs, falco or ocsf"
					: "ecs, falco, ocsf or cef");
			return -EINVAL;
		}
		if (opt == ALERT_OPT_ALERTS_FORMAT)
			c->file_fmt = v;
		else if (opt == ALERT_OPT_SYSLOG_FORMAT)
			c->syslog_fmt = v;
		else
			c->webhook_fmt = v;
		return 0;
	case ALERT_OPT_SYSLOG_FACILITY:
		v = syslog_facility_parse(arg);
		if (v < 0) {
			fprintf(stderr, "vigil: bad syslog facility '%s' (want "
					"local0..local7, user, daemon, ... or "
					"0-23)\n", arg);
			return -EINVAL;
		}
		c->facility_set = 1;
		c->facility = v;
		return 0;
	case ALERT_OPT_SYSLOG:
	case ALERT_OPT_WEBHOOK: {
		const char **list = opt == ALERT_OPT_SYSLOG ? c->syslog : c->webhook;
		size_t *n = opt == ALERT_OPT_SYSLOG ? &c->n_syslog : &c->n_webhook;

		if (opt == ALERT_OPT_SYSLOG ? strncmp(arg, "udp://", 6) &&
					     strncmp(arg, "tcp://", 6) &&
					     strncmp(arg, "unix:///", 8)
					   : strncmp(arg, "http://", 7) &&
					     strncmp(arg, "https://", 8)) {
			fprintf(stderr, "vigil: bad --%s '%s' (want %s)\n",
				opt == ALERT_OPT_SYSLOG ? "syslog" : "webhook", arg,
				opt == ALERT_OPT_SYSLOG
					? "udp://HOST:PORT, tcp://HOST:PORT or "
					  "unix:///PATH"
					: "http://... or https://...");
			return -EINVAL;
		}
		if (*n == ALERT_MAX_OUTPUTS) {
			fprintf(stderr, "vigil: at most %d --%s outputs\n",
				ALERT_MAX_OUTPUTS,
				opt == ALERT_OPT_SYSLOG ? "syslog" : "webhook");
			return -EINVAL;
		}
		list[(*n)++] = arg;
		return 0;
	}
	case ALERT_OPT_WEBHOOK_HEADER:
		if (!strchr(arg, ':') || *arg == ':' || strpbrk(arg, "\r\n")) {
			fprintf(stderr, "vigil: bad --webhook-header '%s' (want "
					"'Key: value')\n", arg);
			return -EINVAL;
		}
		if (c->n_headers == ALERT_MAX_HEADERS) {
			fprintf(stderr, "vigil: at most %d --webhook-header\n",
				ALERT_MAX_HEADERS);
			return -EINVAL;
		}
		c->headers[c->n_headers++] = arg;
		return 0;
	}
	return -EINVAL;
}

/* DATA_DIR/webhook-queue/<fnv-1a of the URL>: one queue per endpoint, the
 * same across restarts whatever the order of the flags. */
static int queue_dir(const struct alert_conf *c, const char *url, char *buf,
		     size_t cap, char *err, size_t errcap)
{
	uint64_t h = 14695981039346656037ULL;
	int n;

	for (const char *s = url; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	n = snprintf(buf, cap, "%s/webhook-queue", c->data_dir ? c->data_dir : ".");
	if (n < 0 || (size_t)n >= cap ||
	    (mkdir(buf, 0700) < 0 && errno != EEXIST)) {
		snprintf(err, errcap, "cannot create '%s': %s", buf,
			 n < 0 || (size_t)n >= cap ? "name too long"
						   : strerror(errno));
		return -1;
	}
	n = snprintf(buf + n, cap - (size_t)n, "/%016llx", (unsigned long long)h);
	return n < 0 ? -1 : 0;
}

static int add(struct alert_out *o, struct alert_sink *s)
{
	if (!s)
		return -1;
	o->sinks[o->n++] = s;
	return 0;
}

struct alert_out *alert_out_new(const struct alert_conf *c, char *err,
				size_t cap)
{
	struct alert_out *o = calloc(1, sizeof(*o));
	int facility = c->facility_set ? c->facility : 16; /* local0 */
	char dir[4096];

	if (!o || !(o->w = jsonw_new())) {
		snprintf(err, cap, "out of memory");
		goto fail;
	}
	if (c->to_stdout && add(o, sink_file_stdout(c->file_fmt)) < 0) {
		snprintf(err, cap, "out of memory");
		goto fail;
	}
	if (c->file) {
		if (add(o, sink_file_open(c->file, c->file_fmt, err, cap)) < 0)
			goto fail;
		o->file = o->sinks[o->n - 1];
	}
	for (size_t i = 0; i < c->n_syslog; i++)
		if (add(o, sink_syslog_open(c->syslog[i], c->syslog_fmt,
					    facility, err, cap)) < 0)
			goto fail;
	for (size_t i = 0; i < c->n_webhook; i++) {
		struct sink_webhook_conf wc = {
			.url = c->webhook[i], .headers = c->headers,
			.n_headers = c->n_headers, .fmt = c->webhook_fmt,
			.queue_dir = dir};

		if (queue_dir(c, c->webhook[i], dir, sizeof(dir), err, cap) < 0 ||
		    add(o, sink_webhook_open(&wc, err, cap)) < 0)
			goto fail;
	}
	return o;
fail:
	alert_out_close(o);
	return NULL;
}

struct alert_out *alert_out_open(const char *path, int to_stdout)
{
	struct alert_conf c = {.file = path, .to_stdout = to_stdout};
	char err[512];
	struct alert_out *o = alert_out_new(&c, err, sizeof(err));

	if (!o && !errno)
		errno = ENOMEM;
	return o;
}

int alert_anomaly(struct alert_out *o, const struct anomaly *a,
		  const struct format_ctx *fc)
{
	struct alert_doc d;
	const char *s;
	size_t n;
	int rc = 0;

	alert_json(o->w, a, fc);
	if (jsonw_error(o->w))
		return jsonw_error(o->w);
	s = jsonw_data(o->w, &n);
	alert_doc_fill(&d, a, fc, s, n);
	o->count++;
	for (size_t i = 0; i < o->n; i++) {
		int r = o->sinks[i]->ops->write(o->sinks[i], &d);

		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

uint64_t alert_count(const struct alert_out *o) { return o->count; }

uint64_t alert_write_errors(const struct alert_out *o)
{
	struct alert_sink_stats st = {0};

	if (o->file)
		o->file->ops->stats(o->file, &st);
	return st.failed;
}

void alert_out_finish(struct alert_out *o, FILE *f)
{
	struct alert_sink_stats st;

	for (size_t i = 0; i < o->n; i++)
		o->sinks[i]->ops->flush(o->sinks[i]);
	for (size_t i = 0; i < o->n; i++) {
		o->sinks[i]->ops->stats(o->sinks[i], &st);
		fprintf(f, "vigil: output %s: sent=%llu failed=%llu queued=%llu "
			   "dropped=%llu\n", o->sinks[i]->label,
			(unsigned long long)st.sent, (unsigned long long)st.failed,
			(unsigned long long)st.queued,
			(unsigned long long)st.dropped);
	}
}

void alert_out_close(struct alert_out *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++)
		o->sinks[i]->ops->close(o->sinks[i]);
	jsonw_free(o->w);
	free(o);
}
