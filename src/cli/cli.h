/* cli.h - subcommands of the vigil binary and their shared helpers.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input
 * file (corrupt or truncated recording). */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2
#define EXIT_BADINPUT 3

int cmd_trace(int argc, char **argv, int record_mode);
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_mode(int argc, char **argv);     /* mode_cmd.c */
int cmd_alerts(int argc, char **argv);   /* alerts_cmd.c */
int cmd_history(int argc, char **argv);  /* history_cmd.c */
int cmd_tree(int argc, char **argv);
int cmd_incident(int argc, char **argv); /* incident_cmd.c */
int cmd_policy(int argc, char **argv);   /* policy_cmd.c */

/* "500ms", "10s", "5m", "2h", "1d" or plain seconds -> ns; -EINVAL if bad */
int parse_duration(const char *s, uint64_t *ns);
/* "process,file,network,privilege" -> class mask; -EINVAL if bad */
int parse_types(const char *s, uint32_t *mask);

/* ---- flight recorder queries (history_cmd.c, proctree.c) ------------- */
struct evstore;
struct jsonw;
struct ptree;
struct enrich_view;

/* RFC 3339 time ("2026-11-02T02:00:00Z", fraction and +hh:mm allowed) or
 * a duration meaning that long ago ("10m") -> wall ns; -EINVAL if bad. */
int hist_parse_time(const char *s, uint64_t *ns);
/* --data-dir value, else $VIGIL_DATA_DIR, else /var/lib/vigil. */
const char *hist_data_dir(const char *opt);
/* Opens DIR/events.db for reading; NULL after a message on stderr. */
struct evstore *hist_open(const char *dir);

/* Which resource: --container ID|NAME, --service UNIT or --host. */
struct hist_sel {
	const char *container, *service;
	int host;
};
struct evstore_resource;
struct evstore_event;
/* The most recently seen match (a note on stderr when the name or prefix
 * was ambiguous); 0, or -1 after a message (none recorded, or failure). */
int hist_resolve(struct evstore *s, const struct hist_sel *sel,
		 struct evstore_resource *out);
/* vigil incident list / show (incident_show.c); exit codes. */
int incident_list(const char *dir, const struct hist_sel *sel, uint64_t since,
		  uint64_t until, int json);
int incident_show(const char *path);
/* evstore_each_event callback feeding a struct ptree (ctx). */
int hist_tree_add(void *ctx, const struct evstore_event *e);

/* A process tree from stored events (any order of resource events in
 * time; exec, fork and exit shape it). */
struct ptree *ptree_new(void);
void ptree_free(struct ptree *t);
int ptree_add(struct ptree *t, const void *rec, const struct enrich_view *v,
	      uint64_t wall_ns);
size_t ptree_count(const struct ptree *t);
/* Shows the processes alive at some time in [since, until] with their
 * ancestors, children indented (text) or as a flat array in tree order
 * with a "depth" per process (JSON, member key of an open object).
 * Return the number of processes shown. */
size_t ptree_print(struct ptree *t, FILE *f, uint64_t since, uint64_t until);
size_t ptree_json(struct ptree *t, struct jsonw *w, const char *key,
		  uint64_t since, uint64_t until);

/* ---- vigil run: the flight recorder (run_record.c) ------------------- */
struct anomaly;
struct enrich_view;
struct format_ctx;
struct alert_out;
struct run_rec;

/* Recorder settings; all-zero: record, with the default retention. */
struct run_rec_conf {
	int disabled; /* --no-record-events */
	uint64_t max_age_ns, max_bytes, max_res_bytes; /* 0: defaults */
};
/* Options of `vigil run`, used like ALERT_LONGOPTS (alert.h). */
enum {
	RUNREC_OPT_FIRST = 0x4200,
	RUNREC_OPT_NO_RECORD = RUNREC_OPT_FIRST,
	RUNREC_OPT_AGE,
	RUNREC_OPT_SIZE,
	RUNREC_OPT_RES_SIZE,
	RUNREC_OPT_LAST = RUNREC_OPT_RES_SIZE,
};
#define RUNREC_LONGOPTS                                                        \
	{"no-record-events", no_argument, 0, RUNREC_OPT_NO_RECORD},            \
	{"retention-age", required_argument, 0, RUNREC_OPT_AGE},               \
	{"retention-size", required_argument, 0, RUNREC_OPT_SIZE},             \
	{"retention-resource-size", required_argument, 0, RUNREC_OPT_RES_SIZE}
#define RUNREC_USAGE                                                           \
	"  --no-record-events   do not keep events in the flight recorder\n"     \
	"  --retention-age D    keep recorded events for D (default 7d)\n"       \
	"  --retention-size N   keep at most N bytes of events (default 1G)\n"   \
	"  --retention-resource-size N  at most N bytes per container or "       \
	"service\n                       (default 256M)\n"
/* 0, or -EINVAL after a message on stderr. */
int run_rec_option(struct run_rec_conf *c, int opt, const char *arg);
/* Opens DIR/events.db (*out stays NULL when disabled); 0, or -errno after
 * a message on stderr (e.g. a corrupt file: the message says what to do). */
int run_rec_open(struct run_rec **out, const char *data_dir,
		 const struct run_rec_conf *c);
/* Each enriched event, before detection and models. */
void run_rec_event(struct run_rec *r, const void *rec,
		   const struct enrich_view *v, const struct format_ctx *fc,
		   uint64_t wall_ns);
/* Each alert, after it went to the outputs. */
void run_rec_alert(struct run_rec *r, const struct anomaly *a,
		   const struct format_ctx *fc);
/* Often (each poll, each replayed record): writes what is due; raises the
 * recorder alert once when events are being lost. now_wall: wall clock
 * (replay: the recording's). */
void run_rec_tick(struct run_rec *r, uint64_t now_wall, int force,
		  struct alert_out *alerts, const struct format_ctx *fc);
/* Writes the rest, prints "vigil: recorder: ..." to summary, closes. */
void run_rec_close(struct run_rec *r, FILE *summary);
#endif
