/* fmt_falco.c - the alert as Falco's JSON alert (json_output: true), so
 * tools built for Falco (falcosidekick, SIEM parsers) take Vigil alerts.
 *
 * Falco's documented alert keys, in its order: hostname, output, priority,
 * rule, source, tags, time, output_fields. output starts like Falco's
 * ("HH:MM:SS.nnnnnnnnn: Priority text (k=v ...)"), time is RFC 3339 UTC
 * with nanoseconds, priority one of Falco's eight names, evt.time an
 * integer (ns). output_fields has a fixed set of Falco field names, sorted
 * as Falco prints them, with null where Falco would print <NA>; Vigil's own
 * fields follow as vigil.*; host processes get container.id "host" as in
 * Falco. Invariant: a pure function of the document. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alert/alert_doc.h"

void alert_image_split(const char *image, char *repo, size_t repo_cap,
		       char *tag, size_t tag_cap)
{
	size_t n = strcspn(image, "@"), colon = 0;

	for (size_t i = 0; i < n; i++) {
		if (image[i] == '/')
			colon = 0; /* a registry port, not a tag */
		else if (image[i] == ':')
			colon = i + 1;
	}
	if (colon) {
		snprintf(repo, repo_cap, "%.*s", (int)(colon - 1), image);
		snprintf(tag, tag_cap, "%.*s", (int)(n - colon), image + colon);
	} else {
		snprintf(repo, repo_cap, "%.*s", (int)n, image);
		snprintf(tag, tag_cap, "%s", "");
	}
}

static void str_or_null(struct jsonw *w, const char *k, const char *v)
{
	if (v && *v)
		jsonw_str(w, k, v);
	else
		jsonw_null(w, k);
}

static void output_text(struct strbuf *o, const struct alert_doc *d)
{
	time_t secs = (time_t)(d->time_ns / 1000000000ULL);
	struct tm tm;
	const char *sep = " (";

	gmtime_r(&secs, &tm);
	strbuf_addf(o, "%02d:%02d:%02d.%09llu: %s %s", tm.tm_hour, tm.tm_min,
		    tm.tm_sec,
		    (unsigned long long)(d->time_ns % 1000000000ULL),
		    alert_falco_priority(d->score), d->explanation);
#define KV(fmt, ...)                                                           \
	do {                                                                   \
		strbuf_addf(o, "%s" fmt, sep, __VA_ARGS__);                     \
		sep = " ";                                                     \
	} while (0)
	if (d->has_event) {
		KV("user_uid=%u", d->uid);
		KV("process=%s", d->proc_name);
		if (*d->exe)
			KV("proc_exepath=%s", d->exe);
		if (*d->parent_exe)
			KV("parent_exepath=%s", d->parent_exe);
		if (*d->cmdline)
			KV("command=%s", d->cmdline);
		if (*d->file_path)
			KV("file=%s", d->file_path);
		if (*d->dst_ip)
			KV("connection=%s:%u", d->dst_ip, d->dst_port);
	}
	if (d->in_container) {
		KV("container_id=%.12s", d->container_id);
		KV("container_name=%s", d->container_name);
		if (*d->image)
			KV("image=%s", d->image);
		if (*d->pod_namespace)
			KV("k8s_ns=%s", d->pod_namespace);
		if (*d->pod_name)
			KV("k8s_pod=%s", d->pod_name);
	} else if (*d->service) {
		KV("service=%s", d->service);
	}
	if (*d->rule_id)
		KV("rule_id=%s", d->rule_id);
	if (*d->model_key)
		KV("model=%s", d->model_key);
#undef KV
	strbuf_addc(o, ')');
}

void alert_falco(struct jsonw *w, const struct alert_doc *d)
{
	struct strbuf out = STRBUF_INIT;
	char ts[48], shortid[13], repo[256], tag[128];

	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_str(w, "hostname", d->host);
	output_text(&out, d);
	if (strbuf_error(&out))
		jsonw_raw(w, "output", ""); /* makes the writer fail: -EINVAL */
	else
		jsonw_str(w, "output", strbuf_data(&out, NULL));
	strbuf_free(&out);
	jsonw_str(w, "priority", alert_falco_priority(d->score));
	jsonw_str(w, "rule", d->rule);
	jsonw_str(w, "source", "vigil");
	jsonw_arr_open(w, "tags");
	for (size_t i = 0; i < d->n_tags; i++)
		jsonw_str(w, NULL, d->tags[i]);
	jsonw_arr_close(w);
	format_time(ts, sizeof(ts), (int64_t)d->time_ns);
	jsonw_str(w, "time", ts);

	jsonw_obj_open(w, "output_fields");
	alert_image_split(d->image, repo, sizeof(repo), tag, sizeof(tag));
	snprintf(shortid, sizeof(shortid), "%s", d->container_id);
	if (d->in_container) {
		jsonw_str(w, "container.full_id", d->container_id);
		jsonw_str(w, "container.id", shortid);
	} else {
		jsonw_str(w, "container.full_id", "host");
		jsonw_str(w, "container.id", "host");
	}
	str_or_null(w, "container.image.repository", repo);
	str_or_null(w, "container.image.tag", tag);
	jsonw_str(w, "container.name",
		  d->in_container ? d->container_name : "host");
	jsonw_uint(w, "evt.time", d->time_ns);
	str_or_null(w, "fd.name", d->file_path);
	str_or_null(w, "fd.sip", d->dst_ip);
	if (*d->dst_ip)
		jsonw_uint(w, "fd.sport", d->dst_port);
	else
		jsonw_null(w, "fd.sport");
	str_or_null(w, "k8s.ns.name", d->pod_namespace);
	str_or_null(w, "k8s.pod.name", d->pod_name);
	str_or_null(w, "proc.cmdline", d->cmdline);
	str_or_null(w, "proc.exepath", d->exe);
	str_or_null(w, "proc.name", d->proc_name);
	str_or_null(w, "proc.pexepath", d->parent_exe);
	if (d->has_event) {
		jsonw_uint(w, "proc.pid", d->pid);
		jsonw_uint(w, "proc.ppid", d->ppid);
		jsonw_uint(w, "user.uid", d->uid);
	} else {
		jsonw_null(w, "proc.pid");
		jsonw_null(w, "proc.ppid");
		jsonw_null(w, "user.uid");
	}
	jsonw_str(w, "vigil.alert.dimension", d->dimension);
	jsonw_str(w, "vigil.alert.id", d->id);
	jsonw_str(w, "vigil.alert.item", d->item);
	jsonw_str(w, "vigil.alert.kind", d->kind);
	jsonw_str(w, "vigil.alert.level", d->level);
	jsonw_int(w, "vigil.alert.score", d->score);
	jsonw_str(w, "vigil.alert.source", d->source);
	str_or_null(w, "vigil.model.key", d->model_key);
	str_or_null(w, "vigil.rule.id", d->rule_id);
	str_or_null(w, "vigil.service", d->service);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}
