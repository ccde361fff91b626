/* alert_doc.c - anomaly -> struct alert_doc (the fields every output
 * format needs), severity scales, MITRE-like tags, the format dispatcher
 * and the RFC 5424 syslog header.
 *
 * Invariants: everything here is a pure function of its arguments (no
 * clock, no host state), so replays give identical bytes; every string
 * field of a filled document is non-NULL ("" when unknown). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alert/alert_doc.h"
#include "vigil_event.h"

int alert_fmt_parse(const char *s)
{
	static const char *n[] = {"ecs", "falco", "ocsf", "cef"};

	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, n[i]))
			return i;
	return -EINVAL;
}

const char *alert_fmt_name(enum alert_fmt f)
{
	static const char *n[] = {"ecs", "falco", "ocsf", "cef"};

	return (unsigned)f < 4 ? n[f] : "unknown";
}

const char *alert_kind_name(enum anomaly_kind k)
{
	static const char *n[] = {"new_item", "known_bad", "drift",
				  "time_of_week", "silent", "rate", "rule"};

	return (unsigned)k < sizeof(n) / sizeof(n[0]) ? n[k] : "unknown";
}

const char *alert_category(enum model_dim d)
{
	switch (d) {
	case DIM_PROCESS:
	case DIM_ARGS:
	case DIM_PRIV:
		return "process";
	case DIM_NET_OUT:
	case DIM_NET_LISTEN:
	case DIM_NET_IN:
	case DIM_DNS:
		return "network";
	default:
		return "file";
	}
}

uint64_t alert_doc_id(const struct anomaly *a)
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

int alert_syslog_severity(int score)
{
	return score >= 80 ? 2 : score >= 60 ? 3 : score >= 30 ? 4
	       : score >= 10 ? 5 : 6;
}

const char *alert_falco_priority(int score)
{
	static const char *n[] = {"Emergency", "Alert",	 "Critical",
				  "Error",     "Warning", "Notice",
				  "Informational", "Debug"};

	return n[alert_syslog_severity(score)];
}

int alert_ocsf_severity(int score)
{
	return score >= 80 ? 5 : score >= 60 ? 4 : score >= 30 ? 3
	       : score >= 10 ? 2 : 1;
}

int alert_cef_severity(int score)
{
	if (score >= 80)
		return score >= 95 ? 10 : 9;
	if (score >= 60)
		return score >= 70 ? 8 : 7;
	if (score >= 30)
		return 4 + (score - 30) / 10;
	return score < 0 ? 0 : score / 10;
}

static int has_prefix(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strncmp(s, *list, strlen(*list)))
			return 1;
	return 0;
}

static int has_part(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strstr(s, *list))
			return 1;
	return 0;
}

/* The MITRE ATT&CK tactic an anomaly most likely belongs to, as Falco's
 * rules tag it ("mitre_<tactic>" and the tactic id); NULL when none fits. */
static void mitre_tags(const struct anomaly *a, const char **tactic,
		       const char **ta)
{
	static const char *const cred_prefix[] = {
		"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh/ssh_host_",
		"/root/.ssh/", "/var/run/secrets/", "/run/secrets/", NULL};
	static const char *const cred_part[] = {
		"/.ssh/id_", "/.aws/credentials", "/.kube/config",
		"/.docker/config.json", "/.git-credentials", NULL};
	static const char *const persist_prefix[] = {
		"/etc/cron", "/var/spool/cron", "/etc/systemd/", "/lib/systemd/",
		"/usr/lib/systemd/", "/etc/init.d/", "/etc/rc.local",
		"/etc/ld.so.preload", "/etc/profile", "/etc/bash.bashrc",
		"/etc/passwd", "/etc/shadow", "/etc/sudoers", NULL};
	static const char *const persist_part[] = {"/.ssh/authorized_keys",
						    "/.bashrc", NULL};
	static const char *const evasion_prefix[] = {"/var/log/", NULL};
	static const char *const evasion_part[] = {"_history", NULL};
	const char *item = a->item ? a->item : "";

	*tactic = *ta = NULL;
	if (a->kind == ANOM_RULE)
		return; /* rules name their techniques */
	if (a->kind == ANOM_DRIFT) {
		*tactic = "mitre_persistence", *ta = "TA0003";
		return;
	}
	if (a->kind == ANOM_TIME || a->kind == ANOM_SILENT ||
	    a->kind == ANOM_RATE)
		return;
	switch (a->dim) {
	case DIM_PROCESS:
	case DIM_ARGS:
	case DIM_FILE_EXEC:
		*tactic = "mitre_execution", *ta = "TA0002";
		break;
	case DIM_FILE_READ:
		if (has_prefix(item, cred_prefix) || has_part(item, cred_part))
			*tactic = "mitre_credential_access", *ta = "TA0006";
		else
			*tactic = "mitre_discovery", *ta = "TA0007";
		break;
	case DIM_FILE_WRITE:
	case DIM_FILE_CREATE:
		if (has_prefix(item, persist_prefix) ||
		    has_part(item, persist_part))
			*tactic = "mitre_persistence", *ta = "TA0003";
		break;
	case DIM_FILE_DELETE:
		if (has_prefix(item, evasion_prefix) ||
		    has_part(item, evasion_part))
			*tactic = "mitre_defense_evasion", *ta = "TA0005";
		break;
	case DIM_NET_OUT:
	case DIM_NET_IN:
	case DIM_NET_LISTEN:
	case DIM_DNS:
		*tactic = "mitre_command_and_control", *ta = "TA0011";
		break;
	case DIM_PRIV:
		*tactic = "mitre_privilege_escalation", *ta = "TA0004";
		break;
	default:
		break;
	}
}

static void ip_str(uint16_t family, const uint8_t *a, char *buf, size_t cap)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == 10 && !memcmp(a, mapped, 12)) {
		family = 2;
		a += 12;
	}
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, a, buf, cap))
		snprintf(buf, cap, "?");
}

/* argv joined by spaces, cut at a UTF-8 character boundary. */
static void join_args(char *out, size_t cap, const struct vg_exec *x)
{
	uint32_t n = x->args_len < VG_ARGS_LEN ? x->args_len : VG_ARGS_LEN;
	size_t o = 0;

	while (n && !x->args[n - 1])
		n--;
	for (uint32_t i = 0; i < n && o + 1 < cap; i++)
		out[o++] = x->args[i] ? x->args[i] : ' ';
	if (o + 1 >= cap)
		while (o && ((uint8_t)out[o - 1] & 0xc0) == 0x80)
			o--;
	if (o && ((uint8_t)out[o - 1] & 0xc0) == 0xc0)
		o--; /* a lead byte whose continuation was cut */
	out[o] = 0;
}

static void event_fields(struct alert_doc *d, const void *rec,
			 const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;

	d->has_event = 1;
	d->action = event_action(h->type);
	d->pid = h->pid;
	d->ppid = h->ppid;
	d->uid = h->uid;
	d->proc_name = h->comm;
	if (v->proc && v->proc->exe[0])
		d->exe = v->proc->exe;
	if (v->parent && v->parent->exe[0])
		d->parent_exe = v->parent->exe;
	if (h->type == VG_FORK) {
		d->pid = ((const struct vg_proc *)rec)->child_pid;
		d->ppid = h->pid;
	} else if (h->type == VG_EXEC) {
		const struct vg_exec *x = rec;

		d->exe = x->exe;
		d->parent_exe = x->parent_exe;
		join_args(d->cmdline, sizeof(d->cmdline), x);
	} else if (h->type >= VG_OPEN && h->type < VG_CONNECT) {
		d->file_path = ((const struct vg_file *)rec)->path;
	} else if (h->type == VG_CONNECT || h->type == VG_DNS) {
		const struct vg_net *n = rec;

		ip_str(n->family, n->raddr, d->dst_ip, sizeof(d->dst_ip));
		d->dst_port = n->rport;
	} else if (h->type == VG_MOUNT || h->type == VG_UMOUNT) {
		d->file_path = ((const struct vg_priv *)rec)->str2;
	} else if (h->type == VG_MODULE_LOAD) {
		d->file_path = ((const struct vg_priv *)rec)->str1;
	}
}

void alert_doc_fill(struct alert_doc *d, const struct anomaly *a,
		    const struct format_ctx *fc, const char *ecs,
		    size_t ecs_len)
{
	const char *tactic, *ta;

	memset(d, 0, sizeof(*d));
	d->ecs = ecs;
	d->ecs_len = ecs_len;
	snprintf(d->id, sizeof(d->id), "%016llx",
		 (unsigned long long)alert_doc_id(a));
	d->time_ns = a->wall_ns;
	d->score = a->score;
	d->level = engine_level(a->score);
	d->rule = a->title ? a->title : "";
	d->rule_id = a->rule_id ? a->rule_id : "";
	d->explanation = a->explanation;
	d->source = a->source ? a->source :
		    a->kind == ANOM_RULE ? "detection" : "model";
	d->kind = alert_kind_name(a->kind);
	d->dimension = model_dim_name(a->dim);
	d->category = alert_category(a->dim);
	d->item = a->item ? a->item : "";
	d->model_key = a->model ? model_key(a->model) : "";
	d->host = fc && fc->host_name ? fc->host_name : "";
	d->container_id = d->container_name = d->image = "";
	d->pod_name = d->pod_namespace = d->service = "";
	d->action = d->proc_name = d->exe = d->parent_exe = d->file_path = "";
	if (a->view) {
		const struct resource *r = a->view->res;

		if (r->cg.runtime != CG_HOST) {
			d->in_container = 1;
			d->container_id = r->cg.container_id;
			d->container_name = r->meta.name[0] ? r->meta.name
							    : r->cg.container_id;
			d->image = r->meta.image;
			d->pod_name = r->meta.pod_name;
			d->pod_namespace = r->meta.pod_namespace;
		} else {
			d->service = r->cg.unit;
		}
		if (a->rec)
			event_fields(d, a->rec, a->view);
	}
	d->tags[d->n_tags++] = "vigil";
	d->tags[d->n_tags++] = d->in_container ? "container" : "host";
	d->tags[d->n_tags++] = !strcmp(d->category, "file") ? "filesystem"
							  : d->category;
	mitre_tags(a, &tactic, &ta);
	if (tactic) {
		d->tags[d->n_tags++] = tactic;
		d->tags[d->n_tags++] = ta;
	}
	for (size_t i = 0; i < a->n_mitre && d->n_tags < ALERT_MAX_TAGS; i++)
		d->tags[d->n_tags++] = a->mitre[i];
}

int alert_render(enum alert_fmt f, const struct alert_doc *d,
		 struct jsonw *w, struct strbuf *out)
{
	const char *s;
	size_t n;

	strbuf_reset(out);
	switch (f) {
	case ALERT_FMT_ECS:
		strbuf_add(out, d->ecs, d->ecs_len);
		break;
	case ALERT_FMT_FALCO:
	case ALERT_FMT_OCSF:
		if (f == ALERT_FMT_FALCO)
			alert_falco(w, d);
		else
			alert_ocsf(w, d);
		if (jsonw_error(w))
			return jsonw_error(w);
		s = jsonw_data(w, &n);
		strbuf_add(out, s, n);
		break;
	case ALERT_FMT_CEF:
		alert_cef(out, d);
		break;
	default:
		return -EINVAL;
	}
	return strbuf_error(out);
}

int syslog_facility_parse(const char *s)
{
	static const char *n[] = {"kern", "user", "mail", "daemon", "auth",
				  "syslog", "lpr", "news", "uucp", "cron",
				  "authpriv", "ftp", "ntp", "security",
				  "console", "solaris-cron"};
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		if (!strcmp(s, n[i]))
			return i;
	if (!strncmp(s, "local", 5) && s[5] >= '0' && s[5] <= '7' && !s[6])
		return 16 + (s[5] - '0');
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 23)
		return -EINVAL;
	return (int)v;
}

void syslog_frame(struct strbuf *out, int facility, const struct alert_doc *d,
		  unsigned long procid, const char *msg, size_t msg_len)
{
	time_t secs = (time_t)(d->time_ns / 1000000000ULL);
	struct tm tm;
	char host[256];
	size_t n = 0;

	for (const char *p = d->host; *p && n < sizeof(host) - 1; p++)
		host[n++] = (*p > 32 && *p < 127) ? *p : '_';
	host[n] = 0;
	gmtime_r(&secs, &tm);
	strbuf_addf(out, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06luZ %s vigil "
			 "%lu alert - ",
		    facility * 8 + alert_syslog_severity(d->score),
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec,
		    (unsigned long)(d->time_ns % 1000000000ULL / 1000),
		    n ? host : "-", procid);
	strbuf_add(out, msg, msg_len);
}
