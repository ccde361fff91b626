/* pipeline.h - the user-space path a record takes in trace, record and
 * replay: check -> enrich -> filter -> format -> print, and in record mode
 * also -> recording (side frames first). */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H
#include <stdint.h>
#include <stdio.h>
#include "enrich/enrich.h"
#include "lib/jsonw.h"
#include "output/event_format.h"
#include "record/recording.h"

struct pipeline {
	struct enrich *en;
	struct jsonw *w;
	struct format_ctx fc;
	char host_name[256];
	FILE *out;	       /* NULL: print nothing */
	int json;
	uint32_t class_mask;
	const char *container; /* --container filter, or NULL */
	int host_only;
	struct rec_writer *rec; /* record mode */
	int rec_err;
	uint64_t shown, filtered, write_errors;
	/* called for every enriched event (not metadata), before filters */
	void (*hook)(void *ctx, const void *rec, const struct enrich_view *v);
	void *hook_ctx;
};

int pipeline_init(struct pipeline *p, int live);
void pipeline_fini(struct pipeline *p);
/* One kernel record (already checked); now_ns is the monotonic clock for
 * enrichment retries. Returns 0 or -errno (recording write failure). */
int pipeline_record(struct pipeline *p, const void *rec, size_t len,
		    uint64_t now_ns);
/* Writes the recording's META frame from the current format context. */
int pipeline_write_meta(struct pipeline *p);
/* Applies a META frame read from a recording. */
int pipeline_read_meta(struct pipeline *p, const char *text, size_t len);

/* Replays every frame of rd through p: META frames, event records (each
 * checked first; malformed ones are skipped and counted in *bad), side
 * frames to enrichment. after_event (may be NULL) runs after each event.
 * Stops early when *stop becomes non-zero (stop may be NULL). Returns 0 at
 * the end, -EPROTO for a META frame of another event ABI, -EBADMSG when
 * the recording is damaged (rec_reader_error() says where). */
int pipeline_replay(struct pipeline *p, struct rec_reader *rd, uint64_t *bad,
		    void (*after_event)(void *ctx), void *ctx,
		    const volatile int *stop);
#endif
