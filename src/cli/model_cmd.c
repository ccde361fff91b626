/* model_cmd.c - `vigil model SUBCOMMAND`: list, show, export, import, diff,
 * delete, prune, relearn, extend and approve the learned models in the
 * store (docs/model-cli.md).
 *
 * Invariants:
 *  - while an agent holds the store's lock, changes the agent must know
 *    about (relearn, extend, approve, delete, import) are queued through
 *    the store's control table and applied by the agent; otherwise they are
 *    applied to the store directly. Nothing else writes a model the agent
 *    may hold (prune refuses to run beside an agent);
 *  - exit codes: 0 ok, 1 failure (also: no such model; diff: different),
 *    2 usage, 3 bad input file;
 *  - user-supplied strings are quoted in messages; learned strings are
 *    printed with control characters escaped (text) or JSON-escaped. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli/cli.h"
#include "lib/jsonw.h"
#include "model/model.h"
#include "model/model_yaml.h"
#include "policy/policy_export.h"
#include "store/store.h"

enum {
	O_JSON = 1 << 0,
	O_OUT = 1 << 1,
	O_DIM = 1 << 2,
	O_ITEM = 1 << 3,
	O_ALL = 1 << 4,
	O_UNUSED = 1 << 5,
	O_POLICY = 1 << 6,
};

struct mctx {
	const char *dir;
	int json, all, have_unused, as_policy;
	const char *out, *dim, *item;
	uint64_t unused_ns, now;
};

struct sub {
	const char *name, *synopsis, *help;
	unsigned opts;
	int min_args, max_args;
	int (*run)(struct mctx *c, char **args);
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Learned text on a terminal: control characters and '\' escaped. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\')
			fputs("\\\\", f);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			putc(ch, f);
	}
}

/* "45s", "12m", "5h", "3d" */
static char *fmt_age(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	return buf;
}

/* How long ago t was, short ("5h"; "-" for never, "0s" for the future) */
static char *ago(const struct mctx *c, uint64_t t, char *buf, size_t len)
{
	if (!t) {
		snprintf(buf, len, "-");
		return buf;
	}
	return fmt_age(t < c->now ? c->now - t : 0, buf, len);
}

/* "2026-12-02T13:00:00Z (3d ago)", or "never" */
static char *when(const struct mctx *c, uint64_t t, char *buf, size_t len)
{
	char ts[MYAML_TIME_MAX], a[32];

	if (!t)
		snprintf(buf, len, "never");
	else
		snprintf(buf, len, "%s (%s ago)",
			 myaml_format_time(t, ts, sizeof(ts)),
			 ago(c, t, a, sizeof(a)));
	return buf;
}

static void no_model(const char *key)
{
	fprintf(stderr, "vigil: no model '%s' (see 'vigil model list')\n", key);
}

/* Opens the store; on failure prints why (ENOENT with key: "no model")
 * and returns NULL with errno kept. */
static struct store *open_store(const struct mctx *c, int create,
				const char *key)
{
	char err[PATH_MAX + 512];
	struct store *s = store_open(c->dir, create, err, sizeof(err));
	int e = errno;

	if (!s) {
		if (e == ENOENT && key)
			no_model(key);
		else
			fprintf(stderr, "vigil: %s\n", err);
		errno = e;
	}
	return s;
}

static struct model *load_model(struct store *s, const char *key)
{
	struct model *m = store_load_model(s, key);

	if (!m) {
		if (errno == ENOENT)
			no_model(key);
		else
			fprintf(stderr, "vigil: cannot load model '%s': %s\n",
				key, store_errmsg(s));
	}
	return m;
}

/* 1 if an agent runs on the data dir, 0 if not, -1 (reported) if unknown */
static int agent_running(const struct mctx *c)
{
	int r = store_agent_running(c->dir);

	if (r < 0) {
		fprintf(stderr, "vigil: cannot tell whether an agent runs on "
			"'%s': %s\n", c->dir, strerror(-r));
		return -1;
	}
	return r;
}

static int queue(struct mctx *c, struct store *s, const char *key,
		 const char *cmd, const char *arg)
{
	if (store_ctl_push(s, key, cmd, arg, c->now) < 0) {
		fprintf(stderr, "vigil: cannot queue '%s' for model '%s': %s\n",
			cmd, key, store_errmsg(s));
		return 1;
	}
	printf("%s of '%s' queued for the running agent\n", cmd, key);
	return 0;
}

static int save_one(struct store *s, struct model *m)
{
	if (store_save_models(s, &m, 1) < 0) {
		fprintf(stderr, "vigil: cannot save model '%s': %s\n",
			model_key(m), store_errmsg(s));
		return 1;
	}
	return 0;
}

static int print_json(struct jsonw *w)
{
	size_t len;
	const char *d = jsonw_data(w, &len);

	if (jsonw_error(w)) {
		fprintf(stderr, "vigil: cannot format JSON: %s\n",
			strerror(-jsonw_error(w)));
		return 1;
	}
	fwrite(d, 1, len, stdout);
	putchar('\n');
	return 0;
}

/* Every entry of one dimension, in the model's (first-seen) order. */
struct ents {
	const struct model_entry **v;
	size_t n;
};

static int ents_add(void *ctx, const struct model_entry *e)
{
	struct ents *x = ctx;

	x->v[x->n++] = e;
	return 0;
}

static int ents_get(const struct model *m, enum model_dim d, struct ents *x)
{
	x->n = 0;
	x->v = malloc((model_count(m, d) + 1) * sizeof(*x->v));
	if (!x->v) {
		fprintf(stderr, "vigil: out of memory\n");
		return -ENOMEM;
	}
	model_each(m, d, ents_add, x);
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp((*(const struct model_entry *const *)a)->item,
		      (*(const struct model_entry *const *)b)->item);
}

/* ---- list ------------------------------------------------------------- */

struct row {
	char key[MODEL_KEY_MAX], parent[MODEL_KEY_MAX];
	enum model_kind kind;
	enum model_state state;
	uint64_t created, last_new;
	size_t entries;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static int add_row(void *ctx, struct model *m)
{
	struct rows *r = ctx;
	struct row *x;

	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct row *nv = realloc(r->v, nc * sizeof(*nv));

		if (!nv) {
			model_free(m);
			return -ENOMEM;
		}
		r->v = nv;
		r->cap = nc;
	}
	x = &r->v[r->n++];
	snprintf(x->key, sizeof(x->key), "%s", model_key(m));
	snprintf(x->parent, sizeof(x->parent), "%s", model_parent(m));
	x->kind = model_kind_of(m);
	x->state = model_state_of(m);
	x->created = model_created_ns(m);
	x->last_new = model_last_new_ns(m);
	x->entries = model_size(m);
	model_free(m);
	return 0;
}

static int do_list(struct mctx *c, char **args)
{
	struct rows r = {0};
	struct store *s;
	int rc = 0, w = 3;
	char b1[32], b2[32], t[MYAML_TIME_MAX], err[PATH_MAX + 512];

	(void)args;
	s = store_open(c->dir, 0, err, sizeof(err));
	if (!s && errno != ENOENT) { /* no store yet: no models */
		fprintf(stderr, "vigil: %s\n", err);
		return 1;
	}
	if (s && (rc = store_load_models(s, add_row, &r)) < 0) {
		fprintf(stderr, "vigil: cannot list models: %s\n",
			rc == -ENOMEM ? "out of memory" : store_errmsg(s));
		rc = 1;
		goto out;
	}
	rc = 0;
	if (c->json) {
		struct jsonw *j = jsonw_new();

		if (!j) {
			rc = 1;
			goto out;
		}
		jsonw_arr_open(j, NULL);
		for (size_t i = 0; i < r.n; i++) {
			struct row *x = &r.v[i];

			jsonw_obj_open(j, NULL);
			jsonw_str(j, "key", x->key);
			jsonw_str(j, "kind", model_kind_name(x->kind));
			jsonw_str(j, "state", model_state_name(x->state));
			jsonw_str(j, "created",
				  myaml_format_time(x->created, t, sizeof(t)));
			jsonw_uint(j, "age_s", x->created < c->now ?
				   (c->now - x->created) / 1000000000ULL : 0);
			jsonw_uint(j, "entries", x->entries);
			jsonw_str(j, "last_new",
				  myaml_format_time(x->last_new, t, sizeof(t)));
			jsonw_str(j, "parent", x->parent[0] ? x->parent : NULL);
			jsonw_obj_close(j);
		}
		jsonw_arr_close(j);
		rc = print_json(j);
		jsonw_free(j);
		goto out;
	}
	if (!r.n) {
		fprintf(stderr, "vigil: no models in '%s'\n", c->dir);
		goto out;
	}
	for (size_t i = 0; i < r.n; i++)
		if ((int)strlen(r.v[i].key) > w)
			w = (int)strlen(r.v[i].key);
	printf("%-*s  %-9s  %-8s  %5s  %7s  %8s  %s\n", w, "KEY", "KIND",
	       "STATE", "AGE", "ENTRIES", "LAST NEW", "PARENT");
	for (size_t i = 0; i < r.n; i++) {
		struct row *x = &r.v[i];

		put_text(stdout, x->key);
		printf("%*s  %-9s  %-8s  %5s  %7zu  %8s  ",
		       w - (int)strlen(x->key), "", model_kind_name(x->kind),
		       model_state_name(x->state),
		       ago(c, x->created, b1, sizeof(b1)), x->entries,
		       ago(c, x->last_new, b2, sizeof(b2)));
		put_text(stdout, x->parent[0] ? x->parent : "-");
		putchar('\n');
	}
out:
	free(r.v);
	store_close(s);
	return rc;
}

/* ---- show ------------------------------------------------------------- */

struct pend_list {
	struct jsonw *j;
	const struct mctx *c;
	size_t n;
	int text;
};

static int show_pending(void *ctx, const char *model, const char *dim,
			const char *item, uint64_t first_ns, uint64_t hits,
			const char *reason)
{
	struct pend_list *p = ctx;
	char t[MYAML_TIME_MAX], w[80];

	(void)model;
	p->n++;
	if (p->j) {
		jsonw_obj_open(p->j, NULL);
		jsonw_str(p->j, "dim", dim);
		jsonw_str(p->j, "item", item);
		jsonw_str(p->j, "first_seen",
			  myaml_format_time(first_ns, t, sizeof(t)));
		jsonw_uint(p->j, "hits", hits);
		jsonw_str(p->j, "reason", reason);
		jsonw_obj_close(p->j);
		return 0;
	}
	if (p->text) {
		printf("  %-12s ", dim);
		put_text(stdout, item);
		printf("\n      first seen %s, %llu hit%s",
		       when(p->c, first_ns, w, sizeof(w)),
		       (unsigned long long)hits, hits == 1 ? "" : "s");
		if (*reason) {
			fputs(": ", stdout);
			put_text(stdout, reason);
		}
		putchar('\n');
	}
	return 0;
}

/* New items ever and when the last came: the model's counters, which the
 * store does not keep, or what the entries show. */
static void dim_stats(const struct model *m, enum model_dim d,
		      const struct ents *x, uint64_t *news, uint64_t *last)
{
	*news = model_new_items(m, d);
	*last = model_dim_last_new_ns(m, d);
	if (*news < x->n)
		*news = x->n;
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i]->first_ns > *last)
			*last = x->v[i]->first_ns;
}

static void json_entry(struct jsonw *j, const struct model_entry *e)
{
	char t[MYAML_TIME_MAX];

	jsonw_obj_open(j, NULL);
	jsonw_str(j, "item", e->item);
	jsonw_str(j, "first_seen", myaml_format_time(e->first_ns, t, sizeof(t)));
	jsonw_str(j, "last_seen", myaml_format_time(e->last_ns, t, sizeof(t)));
	jsonw_uint(j, "hits", e->hits);
	jsonw_str(j, "by", e->first_by);
	jsonw_str(j, "process", e->first_proc);
	jsonw_arr_open(j, "hours");
	for (int h = 0; h < HOURS_PER_WEEK; h++)
		if (e->hours[h / 8] & (1u << (h % 8)))
			jsonw_int(j, NULL, h);
	jsonw_arr_close(j);
	jsonw_uint(j, "weeks", e->weeks_seen);
	jsonw_bool(j, "approved", e->approved);
	jsonw_obj_close(j);
}

static int show_json(struct store *s, const struct model *m)
{
	struct jsonw *j = jsonw_new();
	struct pend_list p = {0};
	char t[MYAML_TIME_MAX];
	uint64_t lmin, lsettle;
	int rc;

	if (!j)
		return 1;
	model_learning(m, &lmin, &lsettle);
	jsonw_obj_open(j, NULL);
	jsonw_str(j, "key", model_key(m));
	jsonw_str(j, "kind", model_kind_name(model_kind_of(m)));
	jsonw_str(j, "state", model_state_name(model_state_of(m)));
	jsonw_str(j, "reason", model_reason(m));
	jsonw_str(j, "parent", *model_parent(m) ? model_parent(m) : NULL);
	jsonw_str(j, "created",
		  myaml_format_time(model_created_ns(m), t, sizeof(t)));
	jsonw_str(j, "state_since",
		  myaml_format_time(model_state_since_ns(m), t, sizeof(t)));
	jsonw_str(j, "last_new",
		  myaml_format_time(model_last_new_ns(m), t, sizeof(t)));
	jsonw_str(j, "last_seen",
		  myaml_format_time(model_last_seen_ns(m), t, sizeof(t)));
	jsonw_uint(j, "learn_min_ns", lmin);
	jsonw_uint(j, "learn_settle_ns", lsettle);
	jsonw_uint(j, "entries", model_size(m));
	jsonw_obj_open(j, "dimensions");
	for (int d = 0; d < DIM_MAX; d++) {
		struct ents x;
		uint64_t news, last;

		if (ents_get(m, (enum model_dim)d, &x) < 0) {
			jsonw_free(j);
			return 1;
		}
		dim_stats(m, (enum model_dim)d, &x, &news, &last);
		jsonw_obj_open(j, model_dim_name((enum model_dim)d));
		jsonw_uint(j, "count", x.n);
		jsonw_uint(j, "new_items", news);
		if (last)
			jsonw_str(j, "last_new",
				  myaml_format_time(last, t, sizeof(t)));
		else
			jsonw_null(j, "last_new");
		jsonw_arr_open(j, "entries");
		for (size_t i = 0; i < x.n; i++)
			json_entry(j, x.v[i]);
		jsonw_arr_close(j);
		jsonw_obj_close(j);
		free(x.v);
	}
	jsonw_obj_close(j);
	jsonw_obj_open(j, "rates");
	for (int r = 0; r < RATE_MAX; r++) {
		jsonw_obj_open(j, myaml_rate_name((enum model_rate)r));
		for (int h = 0; h < HOURS_PER_WEEK; h++) {
			uint32_t v = model_rate_max(m, (enum model_rate)r, h);
			char k[8];

			if (!v)
				continue;
			snprintf(k, sizeof(k), "%d", h);
			jsonw_uint(j, k, v);
		}
		jsonw_obj_close(j);
	}
	jsonw_obj_close(j);
	jsonw_arr_open(j, "pending");
	p.j = j;
	rc = store_pending_each(s, model_key(m), show_pending, &p);
	jsonw_arr_close(j);
	jsonw_obj_close(j);
	if (rc < 0) {
		fprintf(stderr, "vigil: cannot read pending items: %s\n",
			store_errmsg(s));
		jsonw_free(j);
		return 1;
	}
	rc = print_json(j);
	jsonw_free(j);
	return rc;
}

static int show_text(struct mctx *c, struct store *s, const struct model *m)
{
	char w[80], a[32], d1[MYAML_TIME_MAX], d2[MYAML_TIME_MAX];
	struct pend_list p = {.c = c};
	uint64_t lmin, lsettle;
	int rc;

	model_learning(m, &lmin, &lsettle);
	fputs("model:      ", stdout);
	put_text(stdout, model_key(m));
	printf("\nkind:       %s\n", model_kind_name(model_kind_of(m)));
	printf("state:      %s since %s\nreason:     ",
	       model_state_name(model_state_of(m)),
	       when(c, model_state_since_ns(m), w, sizeof(w)));
	myaml_put_quoted(stdout, model_reason(m));
	fputs("\nparent:     ", stdout);
	put_text(stdout, *model_parent(m) ? model_parent(m) : "-");
	printf("\ncreated:    %s\n", when(c, model_created_ns(m), w, sizeof(w)));
	printf("last new:   %s\n", when(c, model_last_new_ns(m), w, sizeof(w)));
	printf("last seen:  %s\n", when(c, model_last_seen_ns(m), w, sizeof(w)));
	printf("learning:   minimum %s, settle %s%s\n",
	       lmin ? myaml_format_duration(lmin, d1, sizeof(d1)) : "default",
	       lsettle ? myaml_format_duration(lsettle, d2, sizeof(d2)) :
			 "default",
	       lmin && lsettle ? "" : " (default: the agent's --learn-min, "
				      "--learn-settle)");
	printf("entries:    %zu (at most %d per dimension)\n\n", model_size(m),
	       MODEL_DIM_CAP);
	printf("%-12s  %7s  %8s  %s\n", "DIMENSION", "ENTRIES", "NEW EVER",
	       "LAST NEW");
	for (int d = 0; d < DIM_MAX; d++) {
		struct ents x;
		uint64_t news, last;

		if (ents_get(m, (enum model_dim)d, &x) < 0)
			return 1;
		dim_stats(m, (enum model_dim)d, &x, &news, &last);
		printf("%-12s  %7zu  %8llu  %s%s\n",
		       model_dim_name((enum model_dim)d), x.n,
		       (unsigned long long)news, ago(c, last, a, sizeof(a)),
		       last ? " ago" : "");
		free(x.v);
	}
	for (int d = 0; d < DIM_MAX; d++) {
		struct ents x;

		if (ents_get(m, (enum model_dim)d, &x) < 0)
			return 1;
		if (x.n)
			printf("\n%s (%zu):\n", model_dim_name((enum model_dim)d),
			       x.n);
		for (size_t i = 0; i < x.n; i++) {
			const struct model_entry *e = x.v[i];

			fputs("  ", stdout);
			put_text(stdout, e->item);
			printf("\n      first seen %s",
			       when(c, e->first_ns, w, sizeof(w)));
			if (*e->first_by) {
				fputs(" by ", stdout);
				put_text(stdout, e->first_by);
			}
			if (*e->first_proc) {
				fputs(" (", stdout);
				put_text(stdout, e->first_proc);
				putchar(')');
			}
			printf(", %llu hit%s, last seen %s%s\n",
			       (unsigned long long)e->hits,
			       e->hits == 1 ? "" : "s",
			       when(c, e->last_ns, w, sizeof(w)),
			       e->approved ? ", approved" : "");
		}
		free(x.v);
	}
	printf("\npending approval:\n");
	p.text = 1;
	rc = store_pending_each(s, model_key(m), show_pending, &p);
	if (rc < 0) {
		fprintf(stderr, "vigil: cannot read pending items: %s\n",
			store_errmsg(s));
		return 1;
	}
	if (!p.n)
		printf("  none\n");
	else
		printf("  (vigil model approve '%s' --all, or --dim D --item "
		       "ITEM)\n", model_key(m));
	return 0;
}

static int do_show(struct mctx *c, char **args)
{
	struct store *s = open_store(c, 0, args[0]);
	struct model *m;
	int rc;

	if (!s)
		return 1;
	m = load_model(s, args[0]);
	if (!m) {
		store_close(s);
		return 1;
	}
	rc = c->json ? show_json(s, m) : show_text(c, s, m);
	model_free(m);
	store_close(s);
	return rc;
}

/* ---- export / import / diff ------------------------------------------ */

/* --as-policy: m (with its image model, when the store has it) as a policy
 * (src/policy/policy_export.c). 0 or -1 (reported). */
static int export_policy(struct mctx *c, struct store *s,
			 const struct model *m, FILE *f)
{
	struct model *img = NULL;
	char err[512], *text;
	int rc;

	if (model_kind_of(m) == MODEL_CONTAINER && *model_parent(m) &&
	    !(img = store_load_model(s, model_parent(m))))
		fprintf(stderr, "vigil: image model '%s' not found: the policy "
			"allows only what '%s' learned itself\n",
			model_parent(m), model_key(m));
	text = policy_from_model(m, img, NULL, c->now, err, sizeof(err));
	model_free(img);
	if (!text) {
		fprintf(stderr, "vigil: cannot write '%s' as a policy: %s\n",
			model_key(m), err);
		return -1;
	}
	rc = fputs(text, f) < 0 ? -1 : 0;
	free(text);
	return rc;
}

static int do_export(struct mctx *c, char **args)
{
	struct store *s = open_store(c, 0, args[0]);
	struct model *m = s ? load_model(s, args[0]) : NULL;
	FILE *f = stdout;
	int rc = 1;

	if (!m)
		goto out;
	if (c->out && !(f = fopen(c->out, "w"))) {
		fprintf(stderr, "vigil: cannot write '%s': %s\n", c->out,
			strerror(errno));
		goto out;
	}
	rc = c->as_policy ? export_policy(c, s, m, f) < 0 : myaml_export(m, f) < 0;
	if (f != stdout && fclose(f) != 0)
		rc = 1;
	else if (f == stdout && fflush(stdout) != 0)
		rc = 1;
	if (rc)
		fprintf(stderr, "vigil: cannot write '%s': %s\n",
			c->out ? c->out : "(stdout)", strerror(errno));
	else if (c->out)
		fprintf(stderr, "vigil: exported '%s'%s to '%s' (%zu entries)\n",
			args[0], c->as_policy ? " as a policy" : "", c->out,
			model_size(m));
out:
	model_free(m);
	store_close(s);
	return rc;
}

/* Reads a model file; on failure prints why and returns NULL with *code
 * the exit code (1 cannot open, 3 bad content). */
static struct model *read_yaml(const char *path, int *code)
{
	char err[512];
	FILE *f = fopen(path, "r");
	struct model *m;

	if (!f) {
		fprintf(stderr, "vigil: cannot open '%s': %s\n", path,
			strerror(errno));
		*code = 1;
		return NULL;
	}
	m = myaml_import(f, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "vigil: '%s' is not a valid model: %s\n", path,
			err);
		*code = errno == EINVAL ? EXIT_BADINPUT : 1;
	}
	fclose(f);
	return m;
}

static int do_import(struct mctx *c, char **args)
{
	char abs[PATH_MAX];
	struct store *s;
	struct model *m;
	int code = 1, running;

	m = read_yaml(args[0], &code);
	if (!m)
		return code;
	if ((running = agent_running(c)) < 0) {
		model_free(m);
		return 1;
	}
	s = open_store(c, !running, NULL);
	if (!s) {
		model_free(m);
		return 1;
	}
	if (running) {
		if (!realpath(args[0], abs)) {
			fprintf(stderr, "vigil: cannot resolve '%s': %s\n",
				args[0], strerror(errno));
			code = 1;
		} else {
			code = queue(c, s, model_key(m), "import", abs);
		}
	} else {
		code = save_one(s, m);
		if (!code)
			printf("imported model '%s' (%zu entries)\n",
			       model_key(m), model_size(m));
	}
	model_free(m);
	store_close(s);
	return code;
}

/* A diff side: an existing regular file is a YAML model, anything else a
 * model key in the store. */
static struct model *diff_side(struct mctx *c, struct store **s,
			       const char *arg, int *code)
{
	struct stat st;
	struct model *m;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
		return read_yaml(arg, code);
	*code = 1;
	if (!*s && !(*s = open_store(c, 0, arg)))
		return NULL;
	m = load_model(*s, arg);
	return m;
}

/* Walks the sorted items of x and y; prints (text) or adds to the open
 * JSON array (j) those only in x (want 1) or only in y (want 2), or both
 * (want 3, text). Returns how many differ. */
static size_t diff_walk(const struct ents *x, const struct ents *y, int want,
			struct jsonw *j)
{
	size_t i = 0, k = 0, n = 0;

	while (i < x->n || k < y->n) {
		int cmp = i == x->n ? 1 : k == y->n ? -1 :
			  strcmp(x->v[i]->item, y->v[k]->item);
		const char *item = cmp < 0 ? x->v[i]->item : y->v[k]->item;
		int side = cmp < 0 ? 1 : 2;

		if (cmp == 0) {
			i++, k++;
			continue;
		}
		if (cmp < 0)
			i++;
		else
			k++;
		n++;
		if (!(want & side))
			continue;
		if (j) {
			jsonw_str(j, NULL, item);
		} else if (want) {
			fputs(side == 1 ? "- " : "+ ", stdout);
			put_text(stdout, item);
			putchar('\n');
		}
	}
	return n;
}

static int do_diff(struct mctx *c, char **args)
{
	struct store *s = NULL;
	struct model *a, *b = NULL;
	struct jsonw *j = NULL;
	int code = 1, differ = 0;

	a = diff_side(c, &s, args[0], &code);
	if (a)
		b = diff_side(c, &s, args[1], &code);
	if (!a || !b)
		goto out;
	if (c->json) {
		if (!(j = jsonw_new()))
			goto out;
		jsonw_obj_open(j, NULL);
		jsonw_str(j, "a", args[0]);
		jsonw_str(j, "b", args[1]);
		jsonw_obj_open(j, "dimensions");
	}
	for (int d = 0; d < DIM_MAX; d++) {
		const char *name = model_dim_name((enum model_dim)d);
		struct ents x, y;

		if (ents_get(a, (enum model_dim)d, &x) < 0)
			goto out;
		if (ents_get(b, (enum model_dim)d, &y) < 0) {
			free(x.v);
			goto out;
		}
		qsort(x.v, x.n, sizeof(*x.v), cmp_item);
		qsort(y.v, y.n, sizeof(*y.v), cmp_item);
		if (diff_walk(&x, &y, 0, NULL)) {
			differ = 1;
			if (j) {
				jsonw_obj_open(j, name);
				jsonw_arr_open(j, "only_a");
				diff_walk(&x, &y, 1, j);
				jsonw_arr_close(j);
				jsonw_arr_open(j, "only_b");
				diff_walk(&x, &y, 2, j);
				jsonw_arr_close(j);
				jsonw_obj_close(j);
			} else {
				printf("%s:\n", name);
				diff_walk(&x, &y, 3, NULL);
			}
		}
		free(x.v);
		free(y.v);
	}
	code = differ;
	if (j) {
		jsonw_obj_close(j);
		jsonw_bool(j, "identical", !differ);
		jsonw_obj_close(j);
		if (print_json(j))
			code = 1;
	}
out:
	jsonw_free(j);
	model_free(a);
	model_free(b);
	store_close(s);
	return code;
}

/* ---- delete / prune / relearn / extend -------------------------------- */

/* Opens the store and checks the model exists; *running says whether an
 * agent runs. Returns the loaded model (caller frees) or NULL (reported). */
static struct model *prepare(struct mctx *c, const char *key,
			     struct store **s, int *running)
{
	struct model *m;

	*s = NULL;
	if ((*running = agent_running(c)) < 0)
		return NULL;
	if (!(*s = open_store(c, 0, key)))
		return NULL;
	m = load_model(*s, key);
	if (!m) {
		store_close(*s);
		*s = NULL;
	}
	return m;
}

static int do_delete(struct mctx *c, char **args)
{
	struct store *s;
	int running, rc;
	struct model *m = prepare(c, args[0], &s, &running);

	if (!m)
		return 1;
	model_free(m);
	if (running) {
		rc = queue(c, s, args[0], "delete", "");
	} else if ((rc = store_delete_model(s, args[0])) < 0) {
		fprintf(stderr, "vigil: cannot delete model '%s': %s\n",
			args[0], store_errmsg(s));
		rc = 1;
	} else {
		printf("deleted model '%s'\n", args[0]);
	}
	store_close(s);
	return rc;
}

static int do_relearn(struct mctx *c, char **args)
{
	struct store *s;
	int running, rc;
	struct model *m = prepare(c, args[0], &s, &running), *fresh;
	uint64_t lmin, lsettle;

	if (!m)
		return 1;
	if (running) {
		rc = queue(c, s, args[0], "relearn", "");
		goto out;
	}
	/* as the agent does it: a new model with the old identity */
	fresh = model_new(model_kind_of(m), model_key(m), c->now);
	if (!fresh) {
		fprintf(stderr, "vigil: out of memory\n");
		rc = 1;
		goto out;
	}
	model_learning(m, &lmin, &lsettle);
	model_set_parent(fresh, model_parent(m));
	model_set_learning(fresh, lmin, lsettle);
	model_set_state(fresh, MODEL_LEARNING, c->now, "relearn requested");
	rc = save_one(s, fresh);
	if (!rc)
		printf("model '%s' is learning from scratch (%zu entries "
		       "dropped)\n", args[0], model_size(m));
	model_free(fresh);
out:
	model_free(m);
	store_close(s);
	return rc;
}

static int do_extend(struct mctx *c, char **args)
{
	struct store *s;
	int running, rc;
	struct model *m = prepare(c, args[0], &s, &running);

	if (!m)
		return 1;
	if (running) {
		rc = queue(c, s, args[0], "extend", "");
	} else {
		model_set_state(m, MODEL_LEARNING, c->now,
				"learning extended by request");
		rc = save_one(s, m);
		if (!rc)
			printf("model '%s' is learning again (%zu entries "
			       "kept)\n", args[0], model_size(m));
	}
	model_free(m);
	store_close(s);
	return rc;
}

struct prune {
	struct mctx *c;
	struct model **keep; /* changed models, to save */
	size_t n, cap;
	uint64_t cutoff, removed;
	int err;
};

static int prune_model(struct prune *p, struct model *m)
{
	size_t before = model_size(m), removed = 0;

	for (int d = 0; d < DIM_MAX; d++) {
		struct ents x;

		if (ents_get(m, (enum model_dim)d, &x) < 0) {
			model_free(m);
			return -ENOMEM;
		}
		/* copy the items first: forgetting frees them */
		for (size_t i = 0; i < x.n; i++) {
			char item[MODEL_ITEM_MAX];

			if (x.v[i]->last_ns >= p->cutoff)
				continue;
			snprintf(item, sizeof(item), "%s", x.v[i]->item);
			model_forget(m, (enum model_dim)d, item);
			removed++;
		}
		free(x.v);
	}
	if (!removed) {
		model_free(m);
		return 0;
	}
	printf("%s: removed %zu of %zu entries\n", model_key(m), removed,
	       before);
	p->removed += removed;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct model **nv = realloc(p->keep, nc * sizeof(*nv));

		if (!nv) {
			model_free(m);
			return -ENOMEM;
		}
		p->keep = nv;
		p->cap = nc;
	}
	p->keep[p->n++] = m;
	return 0;
}

static int prune_cb(void *ctx, struct model *m)
{
	return prune_model(ctx, m);
}

static int do_prune(struct mctx *c, char **args)
{
	struct prune p = {.c = c};
	struct store *s;
	int running, rc = 0;
	char d[MYAML_TIME_MAX];

	if (!c->have_unused) {
		fprintf(stderr, "vigil: model prune needs --unused-for "
			"DURATION (e.g. 30d)\n");
		return EXIT_USAGE;
	}
	if ((running = agent_running(c)) < 0)
		return 1;
	if (running) {
		fprintf(stderr, "vigil: an agent is running on '%s': stop it "
			"before pruning (it would write the entries back)\n",
			c->dir);
		return 1;
	}
	if (!(s = open_store(c, 0, args[0])))
		return 1;
	p.cutoff = c->unused_ns < c->now ? c->now - c->unused_ns : 0;
	if (args[0]) {
		struct model *m = load_model(s, args[0]);

		rc = m ? prune_model(&p, m) : 1;
	} else {
		rc = store_load_models(s, prune_cb, &p);
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		fprintf(stderr, "vigil: cannot prune: %s\n",
			rc == -ENOMEM ? "out of memory" : store_errmsg(s));
	if (rc == 0 && p.n && store_save_models(s, p.keep, p.n) < 0) {
		fprintf(stderr, "vigil: cannot save pruned models: %s\n",
			store_errmsg(s));
		rc = 1;
	}
	if (rc == 0)
		printf("pruned %llu entries unused for %s from %zu models\n",
		       (unsigned long long)p.removed,
		       myaml_format_duration(c->unused_ns, d, sizeof(d)), p.n);
	for (size_t i = 0; i < p.n; i++)
		model_free(p.keep[i]);
	free(p.keep);
	store_close(s);
	return rc ? 1 : 0;
}

/* ---- approve ---------------------------------------------------------- */

struct pitem {
	char dim[32], item[MODEL_ITEM_MAX];
	uint64_t first_ns, hits;
};

struct plist {
	struct pitem *v;
	size_t n, cap;
	const char *dim, *item; /* filter, NULL = all */
	int oom;
};

static int collect_pending(void *ctx, const char *model, const char *dim,
			   const char *item, uint64_t first_ns, uint64_t hits,
			   const char *reason)
{
	struct plist *l = ctx;
	struct pitem *x;

	(void)model;
	(void)reason;
	if ((l->dim && strcmp(l->dim, dim)) || (l->item && strcmp(l->item, item)))
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct pitem *nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv) {
			l->oom = 1;
			return 1;
		}
		l->v = nv;
		l->cap = nc;
	}
	x = &l->v[l->n++];
	snprintf(x->dim, sizeof(x->dim), "%s", dim);
	snprintf(x->item, sizeof(x->item), "%s", item);
	x->first_ns = first_ns;
	x->hits = hits;
	return 0;
}

/* Puts item into m as an approved entry (keeping what an existing entry
 * already knows). 0 or -errno (reported). */
static int approve_item(struct mctx *c, struct model *m, enum model_dim d,
			const struct pitem *p)
{
	const struct model_entry *old = model_find(m, d, p->item);
	struct model_entry e;
	int h, rc;

	if (old) {
		e = *old;
		e.item = p->item;
		e.approved = 1;
		model_forget(m, d, p->item);
	} else {
		memset(&e, 0, sizeof(e));
		e.item = p->item;
		e.first_ns = p->first_ns ? p->first_ns : c->now;
		e.last_ns = c->now;
		e.hits = p->hits;
		h = model_hour_of_week(e.first_ns);
		e.hours[h / 8] |= (uint8_t)(1u << (h % 8));
		e.weeks_seen = 1;
		e.last_week = (uint16_t)model_week_of(e.last_ns);
		e.approved = 1;
		snprintf(e.first_by, sizeof(e.first_by), "approved");
	}
	rc = model_restore(m, d, &e);
	if (rc < 0)
		fprintf(stderr, "vigil: cannot approve '%s' in '%s' of '%s': "
			"%s\n", p->item, model_dim_name(d), model_key(m),
			rc == -ENOSPC ? "the dimension is full" : strerror(-rc));
	return rc;
}

static int do_approve(struct mctx *c, char **args)
{
	struct plist l = {0};
	struct store *s;
	int running, rc = 0, d = -1, not_pending = 0;
	struct model *m;

	if (!(c->all && !c->dim && !c->item) &&
	    !(!c->all && c->dim && c->item)) {
		fprintf(stderr, "vigil: model approve needs --all, or --dim D "
			"with --item ITEM\n");
		return EXIT_USAGE;
	}
	if (c->dim && (d = model_dim_parse(c->dim)) < 0) {
		fprintf(stderr, "vigil: unknown dimension '%s'\n", c->dim);
		return EXIT_USAGE;
	}
	if (c->item && strlen(c->item) >= MODEL_ITEM_MAX) {
		fprintf(stderr, "vigil: item longer than %d bytes\n",
			MODEL_ITEM_MAX - 1);
		return EXIT_USAGE;
	}
	m = prepare(c, args[0], &s, &running);
	if (!m)
		return 1;
	if (running) {
		char arg[MODEL_ITEM_MAX + 40];

		if (c->all)
			snprintf(arg, sizeof(arg), "*");
		else
			snprintf(arg, sizeof(arg), "%s\t%s", c->dim, c->item);
		rc = queue(c, s, args[0], "approve", arg);
		goto out;
	}
	l.dim = c->dim;
	l.item = c->item;
	if (store_pending_each(s, args[0], collect_pending, &l) < 0 || l.oom) {
		fprintf(stderr, "vigil: cannot read pending items: %s\n",
			l.oom ? "out of memory" : store_errmsg(s));
		rc = 1;
		goto out;
	}
	if (!c->all && !l.n) {
		/* not pending: approve it all the same, from now */
		struct pitem p = {0};

		snprintf(p.dim, sizeof(p.dim), "%s", c->dim);
		snprintf(p.item, sizeof(p.item), "%s", c->item);
		if (approve_item(c, m, (enum model_dim)d, &p) < 0) {
			rc = 1;
			goto out;
		}
		not_pending = 1;
	}
	if (c->all && !l.n) {
		printf("no pending items for '%s'\n", args[0]);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		int pd = model_dim_parse(l.v[i].dim);

		if (pd < 0) {
			fprintf(stderr, "vigil: skipping pending item of "
				"unknown dimension '%s'\n", l.v[i].dim);
			l.v[i].dim[0] = 0;
			continue;
		}
		if (approve_item(c, m, (enum model_dim)pd, &l.v[i]) < 0) {
			rc = 1;
			goto out;
		}
	}
	if ((rc = save_one(s, m)))
		goto out;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].dim[0])
			store_pending_remove(s, args[0], l.v[i].dim,
					     l.v[i].item);
	if (not_pending)
		printf("approved '%s' in '%s' of '%s' (it was not pending)\n",
		       c->item, c->dim, args[0]);
	else
		printf("approved %zu item%s of '%s'\n", l.n,
		       l.n == 1 ? "" : "s", args[0]);
out:
	free(l.v);
	model_free(m);
	store_close(s);
	return rc;
}

/* ---- dispatch --------------------------------------------------------- */

static const struct sub subs[] = {
	{"list", "[--json]",
	 "lists every model: key, kind, state, age, entries, last new item, "
	 "parent", O_JSON, 0, 0, do_list},
	{"show", "KEY [--json]",
	 "shows a model: state and why, times, learning parameters, per "
	 "dimension\n  counts and saturation, every entry with its provenance, "
	 "and pending approvals", O_JSON, 1, 1, do_show},
	{"export", "KEY [-o FILE] [--as-policy]",
	 "writes a model as YAML (to stdout by default); --as-policy writes "
	 "instead a\n  policy (docs/policies.md) allowing what it learned and "
	 "blocking other execs\n  and connections", O_OUT | O_POLICY, 1, 1,
	 do_export},
	{"import", "FILE",
	 "reads a YAML model, replacing any model with the same key (exit 3 "
	 "if the file\n  is not a valid model)", 0, 1, 1, do_import},
	{"diff", "A B [--json]",
	 "compares the learned items of A and B (model keys, or YAML files "
	 "when such a\n  file exists): '- item' only in A, '+ item' only in "
	 "B; exit 0 if identical,\n  1 if different", O_JSON, 2, 2, do_diff},
	{"delete", "KEY", "deletes a model with its pending items", 0, 1, 1,
	 do_delete},
	{"prune", "--unused-for DURATION [KEY]",
	 "removes entries not seen for DURATION (e.g. 30d) from KEY or every "
	 "model\n  (not while an agent runs)", O_UNUSED, 0, 1, do_prune},
	{"relearn", "KEY", "drops a model's entries and starts learning "
	 "again", 0, 1, 1, do_relearn},
	{"extend", "KEY", "goes back to learning, keeping the entries", 0, 1,
	 1, do_extend},
	{"approve", "KEY --dim D --item ITEM | --all",
	 "learns pending items (or the given one) as approved entries", O_DIM |
	 O_ITEM | O_ALL, 1, 1, do_approve},
};

static void sub_usage(FILE *f, const struct sub *s)
{
	fprintf(f, "usage: vigil model %s %s [--data-dir DIR]\n  %s\n", s->name,
		s->synopsis, s->help);
	fprintf(f, "  --data-dir DIR  the store (default $VIGIL_DATA_DIR or %s)\n",
		STORE_DEFAULT_DIR);
	if (s->opts & O_JSON)
		fprintf(f, "  --json          JSON output\n");
	if (!strcmp(s->name, "relearn") || !strcmp(s->name, "extend") ||
	    !strcmp(s->name, "approve") || !strcmp(s->name, "delete") ||
	    !strcmp(s->name, "import"))
		fprintf(f, "  with an agent running, the change is queued for "
			   "it to apply\n");
}

static void model_usage(FILE *f)
{
	fprintf(f, "usage: vigil model COMMAND [ARGS] [--data-dir DIR]\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		fprintf(f, "  %-8s %s\n", subs[i].name, subs[i].synopsis);
	fprintf(f, "\nRun 'vigil model COMMAND --help' for details. Exit "
		   "codes: 0 ok, 1 failure,\n2 usage, 3 bad input file.\n");
}

int cmd_model(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, 0, 'j'},
		{"data-dir", required_argument, 0, 'd'},
		{"output", required_argument, 0, 'o'},
		{"dim", required_argument, 0, 'D'},
		{"item", required_argument, 0, 'I'},
		{"all", no_argument, 0, 'a'},
		{"unused-for", required_argument, 0, 'u'},
		{"as-policy", no_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const struct sub *sub = NULL;
	struct mctx c = {0};
	const char *env = getenv("VIGIL_DATA_DIR");
	char *args[2] = {NULL, NULL};
	int opt, nargs, rc;

	if (argc < 2) {
		model_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		model_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			sub = &subs[i];
	if (!sub) {
		fprintf(stderr, "vigil: unknown model command '%s'\n", argv[1]);
		model_usage(stderr);
		return EXIT_USAGE;
	}
	c.dir = env && *env ? env : STORE_DEFAULT_DIR;
	argc--;
	argv++;
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		unsigned need = opt == 'j' ? O_JSON : opt == 'o' ? O_OUT :
				opt == 'D' ? O_DIM : opt == 'I' ? O_ITEM :
				opt == 'a' ? O_ALL : opt == 'u' ? O_UNUSED :
				opt == 'P' ? O_POLICY : 0;

		if (need && !(sub->opts & need)) {
			fprintf(stderr, "vigil: model %s does not take %s\n",
				sub->name, need == O_JSON ? "--json" :
				need == O_OUT ? "-o/--output" :
				need == O_DIM ? "--dim" : need == O_ITEM ?
				"--item" : need == O_ALL ? "--all" :
				need == O_POLICY ? "--as-policy" :
				"--unused-for");
			sub_usage(stderr, sub);
			return EXIT_USAGE;
		}
		switch (opt) {
		case 'j':
			c.json = 1;
			break;
		case 'd':
			c.dir = optarg;
			break;
		case 'o':
			c.out = optarg;
			break;
		case 'D':
			c.dim = optarg;
			break;
		case 'I':
			c.item = optarg;
			break;
		case 'a':
			c.all = 1;
			break;
		case 'P':
			c.as_policy = 1;
			break;
		case 'u':
			if (parse_duration(optarg, &c.unused_ns) < 0) {
				fprintf(stderr, "vigil: bad --unused-for '%s' "
					"(want e.g. 30d, 12h, 10s)\n", optarg);
				return EXIT_USAGE;
			}
			c.have_unused = 1;
			break;
		case 'h':
			sub_usage(stdout, sub);
			return 0;
		default:
			sub_usage(stderr, sub);
			return EXIT_USAGE;
		}
	}
	nargs = argc - optind;
	if (nargs < sub->min_args || nargs > sub->max_args) {
		sub_usage(stderr, sub);
		return EXIT_USAGE;
	}
	for (int i = 0; i < nargs; i++)
		args[i] = argv[optind + i];
	if (!*c.dir) {
		fprintf(stderr, "vigil: empty --data-dir\n");
		return EXIT_USAGE;
	}
	c.now = wall_now();
	rc = sub->run(&c, args);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
