/* alert.h - turns anomalies into alert documents (ECS JSON, one per line)
 * and writes them to stdout and/or an alerts file. The document embeds the
 * triggering event's process, file, network and resource fields. */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include <stdio.h>
#include "model/engine.h"
#include "output/event_format.h"

struct alert_out;

/* path NULL: no file; to_stdout: also print. NULL+errno on failure. */
struct alert_out *alert_out_open(const char *path, int to_stdout);
/* Writes one alert; returns 0 or -errno (the file write failed: the alert
 * still went to stdout and the failure is counted). */
int alert_anomaly(struct alert_out *o, const struct anomaly *a,
		  const struct format_ctx *fc);
uint64_t alert_count(const struct alert_out *o);
uint64_t alert_write_errors(const struct alert_out *o);
void alert_out_close(struct alert_out *o);
/* Formats only (tests, other outputs): the alert JSON into w. */
void alert_json(struct jsonw *w, const struct anomaly *a,
		const struct format_ctx *fc);
#endif
