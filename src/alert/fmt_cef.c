/* fmt_cef.c - the alert as one ArcSight Common Event Format line:
 *   CEF:0|Vigil|Vigil|0.1.0|<signature>|<rule name>|<0-10>|<extension>
 * The signature is the detection rule's id, or <kind>:<dimension> for a
 * model anomaly ("new_item:file_read").
 * Header fields escape '\' and '|' with a backslash (newlines become
 * spaces); extension values escape '\' and '=' and write CR/LF as \r, \n.
 * Extension keys, in this order, each only when known: rt (epoch ms),
 * dvchost, externalId (alert id), cat (dimension), act, cn1 (score), suid,
 * spid, sproc, filePath and fname (the file), dst and dpt (the remote
 * end), cs1 container id, cs2 container name, cs3 image, cs4 model, cs5
 * item, cs6 systemd service (each csN with its csNLabel), msg.
 * Invariant: a pure function of the document. */
#include <stdio.h>
#include <string.h>
#include "alert/alert_doc.h"

static void hdr_field(struct strbuf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '|')
			strbuf_addc(o, '\\');
		strbuf_addc(o, *s == '\n' || *s == '\r' ? ' ' : *s);
	}
	strbuf_addc(o, '|');
}

struct ext_out {
	struct strbuf *o;
	int n; /* pairs written so far */
};

static void ext(struct ext_out *e, const char *key, const char *val)
{
	struct strbuf *o = e->o;

	if (!val || !*val)
		return;
	if (e->n++)
		strbuf_addc(o, ' ');
	strbuf_adds(o, key);
	strbuf_addc(o, '=');
	for (; *val; val++) {
		if (*val == '\n')
			strbuf_adds(o, "\\n");
		else if (*val == '\r')
			strbuf_adds(o, "\\r");
		else {
			if (*val == '\\' || *val == '=')
				strbuf_addc(o, '\\');
			strbuf_addc(o, *val);
		}
	}
}

static void ext_u(struct ext_out *o, const char *key, unsigned long long v)
{
	char b[24];

	snprintf(b, sizeof(b), "%llu", v);
	ext(o, key, b);
}

static void ext_label(struct ext_out *o, int n, const char *label,
		      const char *val)
{
	char k[16];

	if (!*val)
		return;
	snprintf(k, sizeof(k), "cs%d", n);
	ext(o, k, val);
	snprintf(k, sizeof(k), "cs%dLabel", n);
	ext(o, k, label);
}

void alert_cef(struct strbuf *out, const struct alert_doc *d)
{
	struct ext_out e = {out, 0}, *o = &e;
	char sig[128];
	const char *fname;

	strbuf_adds(out, "CEF:0|");
	hdr_field(out, "Vigil");
	hdr_field(out, "Vigil");
	hdr_field(out, "0.1.0");
	if (*d->rule_id)
		snprintf(sig, sizeof(sig), "%s", d->rule_id);
	else
		snprintf(sig, sizeof(sig), "%s:%s", d->kind, d->dimension);
	hdr_field(out, sig);
	hdr_field(out, d->rule);
	strbuf_addf(out, "%d|", alert_cef_severity(d->score));
	ext_u(o, "rt", d->time_ns / 1000000ULL);
	ext(o, "dvchost", d->host);
	ext(o, "externalId", d->id);
	ext(o, "cat", d->dimension);
	ext(o, "act", "alerted");
	ext_u(o, "cn1", (unsigned long long)(d->score < 0 ? 0 : d->score));
	ext(o, "cn1Label", "score");
	if (d->has_event) {
		ext_u(o, "suid", d->uid);
		ext_u(o, "spid", d->pid);
		ext(o, "sproc", d->proc_name);
	}
	if (*d->file_path) {
		fname = strrchr(d->file_path, '/');
		ext(o, "filePath", d->file_path);
		ext(o, "fname", fname && fname[1] ? fname + 1 : d->file_path);
	}
	if (*d->dst_ip) {
		ext(o, "dst", d->dst_ip);
		ext_u(o, "dpt", d->dst_port);
	}
	ext_label(o, 1, "containerId", d->container_id);
	ext_label(o, 2, "containerName", d->in_container ? d->container_name : "");
	ext_label(o, 3, "containerImage", d->image);
	ext_label(o, 4, "vigilModel", d->model_key);
	ext_label(o, 5, "vigilItem", d->item);
	ext_label(o, 6, "serviceName", d->service);
	ext(o, "msg", d->explanation);
}
