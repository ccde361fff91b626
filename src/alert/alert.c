/* alert.c - anomaly -> ECS alert JSON line. The alert id is a hash of the
 * model, dimension, item and time, so replaying a recording gives the same
 * ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "alert/alert.h"
#include "lib/jsonw.h"
#include "vigil_event.h"

struct alert_out {
	FILE *file;
	int to_stdout;
	struct jsonw *w;
	uint64_t count, write_errors;
};

static const char *kind_name(enum anomaly_kind k)
{
	static const char *n[] = {"new_item", "known_bad", "drift",
				  "time_of_week", "silent", "rate", "rule"};

	return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "unknown";
}

static const char *category_of(enum model_dim d)
{
	switch (d) {
	case DIM_PROCESS:
	case DIM_ARGS:
		return "process";
	case DIM_NET_OUT:
	case DIM_NET_LISTEN:
	case DIM_NET_IN:
	case DIM_DNS:
		return "network";
	case DIM_PRIV:
		return "process";
	default:
		return "file";
	}
}

static uint64_t alert_id(const struct anomaly *a)
{
	uint64_t h = 14695981039346656037ULL ^ a->wall_ns;
	const char *parts[] = {a->model ? model_key(a->model)
					: (a->rule_id ? a->rule_id : ""),
			       model_dim_name(a->dim), a->item ? a->item : ""};

	for (int i = 0; i < 3; i++) {
		for (const char *s = parts[i]; *s; s++)
			h = (h ^ (uint8_t)*s) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

void alert_json(struct jsonw *w, const struct anomaly *a,
		const struct format_ctx *fc)
{
	const struct model *m = a->model;
	char ts[48], id[20];
	uint64_t age = m && a->wall_ns > model_created_ns(m)
			       ? a->wall_ns - model_created_ns(m) : 0;
	const char *source = a->kind == ANOM_RULE ? "detection" : "model";

	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	format_time(ts, sizeof(ts), (int64_t)a->wall_ns);
	jsonw_str(w, "@timestamp", ts);
	jsonw_obj_open(w, "event");
	jsonw_str(w, "kind", "alert");
	jsonw_arr_open(w, "category");
	jsonw_str(w, NULL, category_of(a->dim));
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
	jsonw_str(w, "ruleset", a->kind == ANOM_RULE ? "vigil-detections"
						     : "vigil-model");
	jsonw_obj_close(w);
	if (a->n_mitre) {
		jsonw_obj_open(w, "threat");
		jsonw_str(w, "framework", "MITRE ATT&CK");
		jsonw_obj_open(w, "technique");
		jsonw_arr_open(w, "id");
		for (size_t i = 0; i < a->n_mitre; i++)
			jsonw_str(w, NULL, a->mitre[i]);
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
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)alert_id(a));
	jsonw_str(w, "id", id);
	jsonw_str(w, "source", source);
	jsonw_str(w, "kind", kind_name(a->kind));
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
	jsonw_str(w, "action_taken", "alerted");
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

struct alert_out *alert_out_open(const char *path, int to_stdout)
{
	struct alert_out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->to_stdout = to_stdout;
	o->w = jsonw_new();
	if (!o->w)
		goto fail;
	if (path) {
		o->file = fopen(path, "a");
		if (!o->file)
			goto fail;
	}
	return o;
fail:
	{
		int err = errno;

		alert_out_close(o);
		errno = err;
	}
	return NULL;
}

int alert_anomaly(struct alert_out *o, const struct anomaly *a,
		  const struct format_ctx *fc)
{
	const char *s;
	size_t n;
	int rc = 0;

	alert_json(o->w, a, fc);
	if (jsonw_error(o->w))
		return jsonw_error(o->w);
	s = jsonw_data(o->w, &n);
	o->count++;
	if (o->to_stdout) {
		fwrite(s, 1, n, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (o->file) {
		if (fwrite(s, 1, n, o->file) != n || fputc('\n', o->file) == EOF ||
		    fflush(o->file) != 0) {
			o->write_errors++;
			rc = -(errno ? errno : EIO);
			clearerr(o->file);
		}
	}
	return rc;
}

uint64_t alert_count(const struct alert_out *o) { return o->count; }
uint64_t alert_write_errors(const struct alert_out *o) { return o->write_errors; }

void alert_out_close(struct alert_out *o)
{
	if (!o)
		return;
	if (o->file)
		fclose(o->file);
	jsonw_free(o->w);
	free(o);
}
