/* alert_doc.h - an alert as the outputs see it, and the wire formats.
 *
 * alert_doc_fill() turns an anomaly into a struct alert_doc: the ECS JSON
 * text (alert.c's alert_json) plus the handful of fields the other formats
 * need. The formats are pure functions of the document, so the same alert
 * gives the same bytes on every output and in every replay:
 *   ecs    the ECS document (vigil's native alert, docs/alert-outputs.md)
 *   falco  Falco's json_output alert (output, priority, rule, source, tags,
 *          time, output_fields, hostname)
 *   ocsf   OCSF 1.1.0 Detection Finding (class_uid 2004)
 *   cef    ArcSight Common Event Format, one line
 * and syslog_frame() wraps a message in an RFC 5424 header.
 *
 * Pointers in a document point into the anomaly, its record and view, or
 * the document itself: valid until the anomaly callback returns. */
#ifndef VIGIL_ALERT_DOC_H
#define VIGIL_ALERT_DOC_H

#include <stddef.h>
#include <stdint.h>
#include "lib/jsonw.h"
#include "lib/strbuf.h"
#include "model/engine.h"
#include "output/event_format.h"

#define ALERT_MAX_TAGS 12

struct alert_doc {
	const char *ecs; /* the ECS JSON (no newline) */
	size_t ecs_len;
	char id[17];	  /* 16 hex digits, stable across replays */
	uint64_t time_ns; /* wall clock of the anomaly */
	int score;	  /* 0..100 */
	const char *level;	 /* low, medium, high, critical */
	const char *rule;	 /* rule name: the anomaly's title */
	const char *rule_id;	 /* detection rule id, "" for model alerts */
	const char *explanation;
	const char *source;	 /* "model" or "detection" */
	const char *kind;	 /* new_item, known_bad, drift, ..., rule */
	const char *dimension;	 /* process, file_read, net_out, ... */
	const char *category;	 /* process, file, network */
	const char *item;
	const char *model_key;	 /* "" for detection alerts */
	const char *host;
	/* where it happened: container fields are "" for host processes,
	 * service is "" in containers and for host processes without unit */
	int in_container;
	const char *container_id, *container_name, *image;
	const char *pod_name, *pod_namespace, *service;
	/* the triggering event; has_event 0 (silent jobs) leaves these "" / 0 */
	int has_event;
	const char *action; /* exec, open, connect, ... */
	uint32_t pid, ppid, uid;
	const char *proc_name, *exe, *parent_exe;
	char cmdline[640]; /* exec only: name and arguments, "" otherwise */
	const char *file_path; /* file events, "" otherwise */
	char dst_ip[64];       /* connect/dns: the remote end, "" otherwise */
	uint16_t dst_port;
	/* "vigil", container|host, the category, then MITRE ATT&CK: the
	 * rule's technique ids, or for model alerts a tactic guessed from the
	 * dimension ("mitre_execution", "TA0002"; docs/alert-outputs.md) */
	const char *tags[ALERT_MAX_TAGS];
	size_t n_tags;
};

enum alert_fmt { ALERT_FMT_ECS = 0, ALERT_FMT_FALCO, ALERT_FMT_OCSF,
		 ALERT_FMT_CEF };

/* "ecs", "falco", "ocsf", "cef" -> format; -EINVAL if unknown. */
int alert_fmt_parse(const char *s);
const char *alert_fmt_name(enum alert_fmt f);

/* Fills d from an anomaly; ecs/ecs_len is the already rendered ECS text. */
void alert_doc_fill(struct alert_doc *d, const struct anomaly *a,
		    const struct format_ctx *fc, const char *ecs,
		    size_t ecs_len);
/* Alert id: a hash of the model, dimension, item and time. */
uint64_t alert_doc_id(const struct anomaly *a);
/* "new_item", "drift", ... and "process", "file" or "network". */
const char *alert_kind_name(enum anomaly_kind k);
const char *alert_category(enum model_dim d);
/* Splits an image reference into repository and tag (digest dropped):
 * "reg:5000/app:1.2@sha256:.." -> "reg:5000/app", "1.2"; tag "" if none. */
void alert_image_split(const char *image, char *repo, size_t repo_cap,
		       char *tag, size_t tag_cap);

/* Renders d in format f into out (reset first; no trailing newline). w is
 * scratch for the JSON formats. 0 or -errno. */
int alert_render(enum alert_fmt f, const struct alert_doc *d,
		 struct jsonw *w, struct strbuf *out);
void alert_falco(struct jsonw *w, const struct alert_doc *d);
void alert_ocsf(struct jsonw *w, const struct alert_doc *d);
void alert_cef(struct strbuf *out, const struct alert_doc *d);

/* Severity scales from the score (docs/alert-outputs.md has the table). */
int alert_syslog_severity(int score);	    /* 2 crit .. 6 info */
const char *alert_falco_priority(int score); /* "Critical" ... */
int alert_ocsf_severity(int score);	    /* 1 info .. 5 critical */
int alert_cef_severity(int score);	    /* 0..10 */

/* syslog facility name ("local0", "user", ...) or number -> 0..23;
 * -EINVAL if unknown. */
int syslog_facility_parse(const char *s);
/* Appends an RFC 5424 message: "<PRI>1 TIMESTAMP HOST vigil PROCID alert -
 * MSG". The timestamp is the alert's (microseconds, UTC); a host name
 * that is not printable ASCII gets '_' for each bad byte, "" gives "-". */
void syslog_frame(struct strbuf *out, int facility, const struct alert_doc *d,
		  unsigned long procid, const char *msg, size_t msg_len);
#endif
