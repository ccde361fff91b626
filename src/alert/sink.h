/* sink.h - where alerts go. Every output is a sink behind one ops struct
 * (one file per backend, sink_<impl>.c); alert.c fans each alert out to
 * its list of sinks.
 *
 *   sink_file.c     JSON/CEF lines to stdout or an appended file
 *   sink_syslog.c   RFC 5424 over UDP, TCP (octet counting, RFC 6587) or
 *                   a unix socket (datagram or stream)
 *   sink_webhook.c  HTTP(S) POST through a disk-backed queue and a sender
 *                   thread, in order, surviving outages and restarts
 *
 * A sink renders the alert in its own format (alert_doc.h). write() runs
 * on the event thread and must not block for long; failures are counted
 * in the sink's stats, never fatal. */
#ifndef VIGIL_ALERT_SINK_H
#define VIGIL_ALERT_SINK_H

#include <stdint.h>
#include <stdio.h>
#include "alert/alert_doc.h"

struct alert_sink_stats {
	uint64_t sent;	  /* delivered (written, sent, 2xx) */
	uint64_t failed;  /* failed writes / sends / delivery attempts */
	uint64_t queued;  /* waiting for delivery now (webhook) */
	uint64_t dropped; /* given up: queue or buffer full, rejected */
};

struct alert_sink;

struct alert_sink_ops {
	const char *name;
	/* 0 or -errno (also counted in the stats) */
	int (*write)(struct alert_sink *s, const struct alert_doc *d);
	/* Pushes out what is buffered; the webhook waits (bounded) until its
	 * queue is delivered or the endpoint fails. 0 or -errno. */
	int (*flush)(struct alert_sink *s);
	void (*stats)(struct alert_sink *s, struct alert_sink_stats *out);
	void (*close)(struct alert_sink *s);
};

/* The common head of every sink (first member of each implementation). */
struct alert_sink {
	const struct alert_sink_ops *ops;
	enum alert_fmt fmt;
	char label[320]; /* "syslog udp://127.0.0.1:514 (ecs)" for summaries */
};

/* Lines to f (stdout; not closed) or to path (opened for append). NULL with
 * a message in err on failure. */
struct alert_sink *sink_file_stdout(enum alert_fmt fmt);
struct alert_sink *sink_file_open(const char *path, enum alert_fmt fmt,
				  char *err, size_t cap);

/* addr: udp://HOST:PORT, tcp://HOST:PORT ([v6addr]:PORT), unix:///PATH.
 * facility 0..23. Connecting is lazy: an unreachable receiver is counted
 * per alert, never an error here; only a bad address is. */
struct alert_sink *sink_syslog_open(const char *addr, enum alert_fmt fmt,
				    int facility, char *err, size_t cap);

struct sink_webhook_conf {
	const char *url;	   /* http:// or https:// */
	const char *const *headers; /* "Key: value" */
	size_t n_headers;
	enum alert_fmt fmt;	   /* ecs or falco */
	const char *queue_dir;	   /* this endpoint's queue directory */
	uint64_t timeout_ms;	   /* per request; 0 = 10 s */
	uint64_t max_files, max_bytes; /* queue cap; 0 = 100000, 256 MiB */
};
struct alert_sink *sink_webhook_open(const struct sink_webhook_conf *c,
				     char *err, size_t cap);
#endif
