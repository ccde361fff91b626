/* event_format.h - renders an enriched event as one ECS JSON object or as
 * one human-readable line. Pure functions of (record, view, context), so
 * live tracing and replay give identical output. Field names are listed in
 * docs/events.md. */
#ifndef VIGIL_EVENT_FORMAT_H
#define VIGIL_EVENT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "enrich/enrich.h"
#include "lib/jsonw.h"

struct format_ctx {
	const char *host_name;
	int64_t boot_to_real_ns; /* wall clock = ts_ns + this */
};

/* Writes the event as a JSON object into w (w is reset first). */
void event_json(struct jsonw *w, const void *rec, const struct enrich_view *v,
		const struct format_ctx *c);
/* Writes only the objects describing who did what to what (process, user,
 * file/network details, container or service) into an open object: alerts
 * embed their triggering event this way. */
void event_json_context(struct jsonw *w, const void *rec,
			const struct enrich_view *v);
/* Writes a one-line summary (no newline) into buf. */
void event_text(char *buf, size_t cap, const void *rec,
		const struct enrich_view *v, const struct format_ctx *c);

/* "exec", "open", ... for a record type; "unknown" otherwise. */
const char *event_action(uint16_t type);
/* RFC 3339 UTC time with nanoseconds, e.g. 2026-12-02T13:00:00.000000001Z */
void format_time(char *buf, size_t cap, int64_t real_ns);
/* Decodes the first question name of a DNS query; 0 or -EBADMSG. */
int dns_query_name(const uint8_t *p, size_t n, char *name, size_t cap,
		   uint16_t *qtype);
/* Name of a positive errno value, e.g. "EPERM"; NULL if unknown. */
const char *errno_name(int e);
#endif
