/* alert.h - turns anomalies into alerts and fans each one out to the
 * configured outputs (sinks, see sink.h): stdout and --alerts FILE (JSON
 * lines, ECS by default), syslog receivers and webhooks. The ECS document
 * embeds the triggering event's process, file, network and resource
 * fields; the other formats are built from it (alert_doc.h). */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include <stdio.h>
#include "alert/alert_doc.h"
#include "model/engine.h"
#include "output/event_format.h"

#define ALERT_MAX_OUTPUTS 16
#define ALERT_MAX_HEADERS 32

/* Output settings; all-zero is valid: ECS everywhere, facility local0. */
struct alert_conf {
	const char *file;  /* --alerts FILE, or NULL */
	int to_stdout;
	enum alert_fmt file_fmt; /* stdout and the file */
	const char *syslog[ALERT_MAX_OUTPUTS];
	size_t n_syslog;
	enum alert_fmt syslog_fmt;
	int facility_set, facility;
	const char *webhook[ALERT_MAX_OUTPUTS];
	size_t n_webhook;
	const char *headers[ALERT_MAX_HEADERS];
	size_t n_headers;
	enum alert_fmt webhook_fmt;
	const char *data_dir; /* webhook queues: DATA_DIR/webhook-queue/ */
};

/* The `vigil run` options of the outputs, for getopt_long: put
 * ALERT_LONGOPTS in the option table, hand every option whose value is in
 * ALERT_OPT_FIRST..ALERT_OPT_LAST to alert_conf_option(), and append
 * ALERT_USAGE to the usage text. */
enum {
	ALERT_OPT_FIRST = 0x4100,
	ALERT_OPT_ALERTS_FORMAT = ALERT_OPT_FIRST,
	ALERT_OPT_SYSLOG,
	ALERT_OPT_SYSLOG_FORMAT,
	ALERT_OPT_SYSLOG_FACILITY,
	ALERT_OPT_WEBHOOK,
	ALERT_OPT_WEBHOOK_HEADER,
	ALERT_OPT_WEBHOOK_FORMAT,
	ALERT_OPT_LAST = ALERT_OPT_WEBHOOK_FORMAT,
};
#define ALERT_LONGOPTS                                                         \
	{"alerts-format", required_argument, 0, ALERT_OPT_ALERTS_FORMAT},      \
	{"syslog", required_argument, 0, ALERT_OPT_SYSLOG},                    \
	{"syslog-format", required_argument, 0, ALERT_OPT_SYSLOG_FORMAT},      \
	{"syslog-facility", required_argument, 0, ALERT_OPT_SYSLOG_FACILITY},  \
	{"webhook", required_argument, 0, ALERT_OPT_WEBHOOK},                  \
	{"webhook-header", required_argument, 0, ALERT_OPT_WEBHOOK_HEADER},    \
	{"webhook-format", required_argument, 0, ALERT_OPT_WEBHOOK_FORMAT}
#define ALERT_USAGE                                                            \
	"  --alerts-format F    ecs|falco|ocsf|cef for stdout and --alerts "      \
	"(default ecs)\n"                                                      \
	"  --syslog ADDR        also send alerts to syslog: udp://HOST:PORT,\n"   \
	"                       tcp://HOST:PORT or unix:///PATH (repeatable)\n"   \
	"  --syslog-format F    ecs|falco|cef|ocsf message (default ecs)\n"       \
	"  --syslog-facility N  syslog facility (default local0)\n"               \
	"  --webhook URL        also POST alerts to URL, queued on disk "         \
	"(repeatable)\n"                                                       \
	"  --webhook-header H   'Key: value' header for webhooks (repeatable)\n"  \
	"  --webhook-format F   ecs|falco|ocsf body (default ecs)\n"

/* Applies one option (arg is kept, not copied); 0, or -EINVAL after a
 * message on stderr. */
int alert_conf_option(struct alert_conf *c, int opt, const char *arg);

struct alert_out;

/* Opens every configured output; NULL and a message in err on failure. */
struct alert_out *alert_out_new(const struct alert_conf *c, char *err,
				size_t cap);
/* path NULL: no file; to_stdout: also print. NULL+errno on failure. */
struct alert_out *alert_out_open(const char *path, int to_stdout);
/* Writes one alert to every output; returns 0 or the first -errno (the
 * failure is counted; the other outputs still got the alert). */
int alert_anomaly(struct alert_out *o, const struct anomaly *a,
		  const struct format_ctx *fc);
uint64_t alert_count(const struct alert_out *o);
/* Failed writes to the --alerts file. */
uint64_t alert_write_errors(const struct alert_out *o);
/* At exit: lets each output deliver what it holds (webhooks wait up to
 * 10 s while their endpoint answers), then prints one line of counters per
 * output other than stdout ("sent= failed= queued= dropped=") to f. */
void alert_out_finish(struct alert_out *o, FILE *f);
void alert_out_close(struct alert_out *o);
/* Formats only (tests, other outputs): the alert JSON into w. */
void alert_json(struct jsonw *w, const struct anomaly *a,
		const struct format_ctx *fc);
#endif
