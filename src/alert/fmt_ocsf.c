/* fmt_ocsf.c - the alert as an OCSF 1.1.0 Detection Finding (class_uid
 * 2004, category_uid 2 Findings, activity_id 1 Create, type_uid 200401).
 *
 * time and finding_info.created_time are epoch milliseconds; severity_id
 * comes from the score (1 Informational .. 5 Critical); finding_info
 * carries the alert id, title, explanation and types [kind, dimension]
 * with the analytic: the detection rule (type 1 Rule) or the behaviour
 * model (type 2 Behavioral); device is the host; resources the
 * container or systemd service; evidences the triggering process (with
 * its container), file and destination. Vigil-only fields go to
 * "unmapped". Invariant: a pure function of the document. */
#include <stdio.h>
#include <string.h>
#include "alert/alert_doc.h"

static const char *severity_name(int id)
{
	static const char *n[] = {"Unknown", "Informational", "Low", "Medium",
				  "High", "Critical"};

	return id >= 0 && id <= 5 ? n[id] : "Other";
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static void file_obj(struct jsonw *w, const char *key, const char *path)
{
	jsonw_obj_open(w, key);
	jsonw_str(w, "name", base_name(path));
	jsonw_str(w, "path", path);
	jsonw_int(w, "type_id", 1);
	jsonw_str(w, "type", "Regular File");
	jsonw_obj_close(w);
}

static void container_obj(struct jsonw *w, const struct alert_doc *d)
{
	char repo[256], tag[128];

	jsonw_obj_open(w, "container");
	jsonw_str(w, "uid", d->container_id);
	jsonw_str(w, "name", d->container_name);
	if (*d->image) {
		alert_image_split(d->image, repo, sizeof(repo), tag, sizeof(tag));
		jsonw_obj_open(w, "image");
		jsonw_str(w, "name", repo);
		if (*tag)
			jsonw_str(w, "tag", tag);
		jsonw_obj_close(w);
	}
	jsonw_obj_close(w);
}

static void process_obj(struct jsonw *w, const struct alert_doc *d)
{
	char uid[16];

	jsonw_obj_open(w, "process");
	jsonw_uint(w, "pid", d->pid);
	jsonw_str(w, "name", d->proc_name);
	if (*d->cmdline)
		jsonw_str(w, "cmd_line", d->cmdline);
	if (*d->exe)
		file_obj(w, "file", d->exe);
	jsonw_obj_open(w, "parent_process");
	jsonw_uint(w, "pid", d->ppid);
	if (*d->parent_exe)
		file_obj(w, "file", d->parent_exe);
	jsonw_obj_close(w);
	snprintf(uid, sizeof(uid), "%u", d->uid);
	jsonw_obj_open(w, "user");
	jsonw_str(w, "uid", uid);
	jsonw_obj_close(w);
	if (d->in_container)
		container_obj(w, d);
	jsonw_obj_close(w);
}

void alert_ocsf(struct jsonw *w, const struct alert_doc *d)
{
	int sev = alert_ocsf_severity(d->score);
	unsigned long long ms = d->time_ns / 1000000ULL;

	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_int(w, "activity_id", 1);
	jsonw_str(w, "activity_name", "Create");
	jsonw_int(w, "category_uid", 2);
	jsonw_str(w, "category_name", "Findings");
	jsonw_int(w, "class_uid", 2004);
	jsonw_str(w, "class_name", "Detection Finding");
	jsonw_int(w, "type_uid", 200401);
	jsonw_str(w, "type_name", "Detection Finding: Create");
	jsonw_int(w, "severity_id", sev);
	jsonw_str(w, "severity", severity_name(sev));
	jsonw_int(w, "status_id", 1);
	jsonw_str(w, "status", "New");
	jsonw_uint(w, "time", ms);
	jsonw_str(w, "message", d->explanation);
	jsonw_int(w, "risk_score", d->score);

	jsonw_obj_open(w, "metadata");
	jsonw_str(w, "uid", d->id);
	jsonw_str(w, "version", "1.1.0");
	jsonw_obj_open(w, "product");
	jsonw_str(w, "name", "Vigil");
	jsonw_str(w, "vendor_name", "Vigil");
	jsonw_str(w, "version", "0.1.0");
	jsonw_obj_close(w);
	jsonw_obj_close(w);

	jsonw_obj_open(w, "finding_info");
	jsonw_str(w, "uid", d->id);
	jsonw_str(w, "title", d->rule);
	jsonw_str(w, "desc", d->explanation);
	jsonw_arr_open(w, "types");
	jsonw_str(w, NULL, d->kind);
	jsonw_str(w, NULL, d->dimension);
	jsonw_arr_close(w);
	jsonw_uint(w, "created_time", ms);
	jsonw_obj_open(w, "analytic");
	if (*d->rule_id) {
		jsonw_str(w, "name", d->rule_id);
		jsonw_int(w, "type_id", 1);
		jsonw_str(w, "type", "Rule");
		jsonw_str(w, "uid", d->rule_id);
	} else {
		jsonw_str(w, "name", "vigil-model");
		jsonw_int(w, "type_id", 2);
		jsonw_str(w, "type", "Behavioral");
		jsonw_str(w, "uid", d->model_key);
	}
	jsonw_obj_close(w);
	jsonw_obj_close(w);

	jsonw_obj_open(w, "device");
	jsonw_str(w, "hostname", d->host);
	jsonw_int(w, "type_id", 0);
	jsonw_str(w, "type", "Unknown");
	jsonw_obj_close(w);

	jsonw_arr_open(w, "resources");
	jsonw_obj_open(w, NULL);
	if (d->in_container) {
		jsonw_str(w, "uid", d->container_id);
		jsonw_str(w, "name", d->container_name);
		jsonw_str(w, "type", "container");
	} else if (*d->service) {
		jsonw_str(w, "uid", d->service);
		jsonw_str(w, "name", d->service);
		jsonw_str(w, "type", "service");
	} else {
		jsonw_str(w, "uid", d->host);
		jsonw_str(w, "name", d->host);
		jsonw_str(w, "type", "host");
	}
	jsonw_obj_close(w);
	jsonw_arr_close(w);

	if (d->has_event) {
		jsonw_arr_open(w, "evidences");
		jsonw_obj_open(w, NULL);
		process_obj(w, d);
		if (*d->file_path)
			file_obj(w, "file", d->file_path);
		if (*d->dst_ip) {
			jsonw_obj_open(w, "dst_endpoint");
			jsonw_str(w, "ip", d->dst_ip);
			jsonw_uint(w, "port", d->dst_port);
			jsonw_obj_close(w);
		}
		jsonw_obj_close(w);
		jsonw_arr_close(w);
	}

	jsonw_obj_open(w, "unmapped");
	jsonw_obj_open(w, "vigil");
	jsonw_str(w, "kind", d->kind);
	jsonw_str(w, "dimension", d->dimension);
	jsonw_str(w, "item", d->item);
	jsonw_str(w, "level", d->level);
	jsonw_str(w, "source", d->source);
	if (*d->model_key)
		jsonw_str(w, "model", d->model_key);
	if (*d->rule_id)
		jsonw_str(w, "rule_id", d->rule_id);
	jsonw_arr_open(w, "tags");
	for (size_t i = 0; i < d->n_tags; i++)
		jsonw_str(w, NULL, d->tags[i]);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}
