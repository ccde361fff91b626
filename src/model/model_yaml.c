/* model_yaml.c - see model_yaml.h. Export writes the text by hand (fixed
 * layout, so it is byte-for-byte deterministic); import loads the whole
 * document with libyaml's parser into a node tree and walks it, checking
 * every key and value and naming the line of the first problem.
 *
 * Invariants:
 *  - every free-form string goes through myaml_put_quoted(), whose output
 *    libyaml decodes back to the same bytes (for valid UTF-8 input without
 *    NUL), so export(import(export(m))) == export(m);
 *  - import builds the model only from checked values: nothing is
 *    truncated (over-long strings are errors), and the model is freed on
 *    every error path. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>
#include "model/model_yaml.h"

#define WRAP_COL 78

static const char *const rate_names[RATE_MAX] = {"exec", "connect", "write"};

const char *myaml_rate_name(enum model_rate r)
{
	return (unsigned)r < RATE_MAX ? rate_names[r] : "unknown";
}

int myaml_rate_parse(const char *name)
{
	for (int i = 0; i < RATE_MAX; i++)
		if (!strcmp(name, rate_names[i]))
			return i;
	return -1;
}

/* ---- times and durations --------------------------------------------- */

char *myaml_format_time(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ULL);
	unsigned frac = (unsigned)(ns % 1000000000ULL);
	struct tm tm;
	char f[16] = "";

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "%s", "?");
		return buf;
	}
	if (frac == 0)
		f[0] = 0;
	else if (frac % 1000000 == 0)
		snprintf(f, sizeof(f), ".%03u", frac / 1000000);
	else if (frac % 1000 == 0)
		snprintf(f, sizeof(f), ".%06u", frac / 1000);
	else
		snprintf(f, sizeof(f), ".%09u", frac);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, f);
	return buf;
}

/* n decimal digits at s -> *v; 0 or -1 when one is not a digit. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int myaml_parse_time(const char *s, uint64_t *ns)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, leap, dim;
	uint64_t frac = 0, secs;
	struct tm tm;
	const char *p;
	time_t t;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		int n = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n == 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	if ((*p != 'Z' && *p != 'z') || p[1])
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	dim = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > dim)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	secs = (uint64_t)t;
	if (secs > (UINT64_MAX - frac) / 1000000000ULL)
		return -EINVAL;
	*ns = secs * 1000000000ULL + frac;
	return 0;
}

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"d", 86400000000000ULL}, {"h", 3600000000000ULL},
	{"m", 60000000000ULL},	  {"s", 1000000000ULL},
	{"ms", 1000000ULL},	  {"us", 1000ULL},
	{"ns", 1ULL},
};

char *myaml_format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].name);
			break;
		}
	}
	return buf;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

int myaml_parse_duration(const char *s, uint64_t *ns)
{
	char num[24];
	size_t n = 0;
	uint64_t v;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = 0;
	if (parse_u64(num, UINT64_MAX, &v) < 0)
		return -EINVAL;
	if (!s[n]) {
		if (v != 0)
			return -EINVAL; /* a unit is required */
		*ns = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].name))
			continue;
		if (v > UINT64_MAX / units[i].ns)
			return -EINVAL;
		*ns = v * units[i].ns;
		return 0;
	}
	return -EINVAL;
}

/* ---- export ---------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void myaml_put_quoted(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putc('"', out);
	while (*s) {
		uint32_t cp;
		size_t n = utf8_seq(s, &cp);

		if (n == 0) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD */
			s++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			putc('\\', out);
			putc((int)cp, out);
		} else if (cp == '\n') {
			fputs("\\n", out);
		} else if (cp == '\t') {
			fputs("\\t", out);
		} else if (cp == '\r') {
			fputs("\\r", out);
		} else if (cp < 0x20 || cp == 0x7f) {
			fprintf(out, "\\x%02x", (unsigned)cp);
		} else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
			   cp == 0x2029 || cp == 0xfeff || cp == 0xfffe ||
			   cp == 0xffff) {
			/* not printable for YAML, or a line break to it */
			fprintf(out, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(s, 1, n, out);
		}
		s += n;
	}
	putc('"', out);
}

/* Writes "[a, b]" / "{a, b}" starting at column col, wrapping lines past
 * WRAP_COL with continuation lines indented by indent. */
static void put_flow(FILE *out, int col, int indent, char open, char close,
		     char (*tok)[32], size_t n)
{
	putc(open, out);
	col++;
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(tok[i]) + 1; /* "," or the close */

		if (i > 0) {
			if (col + 1 + len > WRAP_COL) {
				fprintf(out, "\n%*s", indent, "");
				col = indent;
			} else {
				putc(' ', out);
				col++;
			}
		}
		fputs(tok[i], out);
		col += len - 1;
		if (i + 1 < n) {
			putc(',', out);
			col++;
		}
	}
	putc(close, out);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct model_entry *x = *(const struct model_entry *const *)a;
	const struct model_entry *y = *(const struct model_entry *const *)b;

	return strcmp(x->item, y->item);
}

struct collect {
	const struct model_entry **v;
	size_t n;
};

static int collect_entry(void *ctx, const struct model_entry *e)
{
	struct collect *c = ctx;

	c->v[c->n++] = e;
	return 0;
}

static void put_time(FILE *out, const char *key, uint64_t ns)
{
	char t[MYAML_TIME_MAX];

	fprintf(out, "%s: %s\n", key, myaml_format_time(ns, t, sizeof(t)));
}

static void put_entry(FILE *out, const struct model_entry *e)
{
	char tok[HOURS_PER_WEEK][32];
	size_t n = 0;

	fputs("    - item: ", out);
	myaml_put_quoted(out, e->item);
	putc('\n', out);
	put_time(out, "      first_seen", e->first_ns);
	put_time(out, "      last_seen", e->last_ns);
	fprintf(out, "      hits: %llu\n      by: ", (unsigned long long)e->hits);
	myaml_put_quoted(out, e->first_by);
	fputs("\n      process: ", out);
	myaml_put_quoted(out, e->first_proc);
	fputs("\n      hours: ", out);
	for (int h = 0; h < HOURS_PER_WEEK; h++)
		if (e->hours[h / 8] & (1u << (h % 8)))
			snprintf(tok[n++], sizeof(tok[0]), "%d", h);
	put_flow(out, 13, 8, '[', ']', tok, n);
	fprintf(out, "\n      weeks: %u\n      approved: %s\n",
		(unsigned)e->weeks_seen, e->approved ? "true" : "false");
}

int myaml_export(const struct model *m, FILE *out)
{
	struct collect c = {0};
	char d1[MYAML_TIME_MAX], d2[MYAML_TIME_MAX];
	uint64_t lmin, lsettle;
	size_t max = 0;
	int any = 0;

	for (int d = 0; d < DIM_MAX; d++)
		if (model_count(m, (enum model_dim)d) > max)
			max = model_count(m, (enum model_dim)d);
	c.v = malloc((max ? max : 1) * sizeof(*c.v));
	if (!c.v)
		return -ENOMEM;
	model_learning(m, &lmin, &lsettle);
	fputs("# Vigil behaviour model. Times are UTC; learn_min and "
	      "learn_settle 0 = the\n"
	      "# engine's default. hours: hour-of-week buckets an item was "
	      "seen in\n"
	      "# (0 = Monday 00:00 UTC); rates: highest per-minute count per "
	      "bucket.\n", out);
	fputs("model: ", out);
	myaml_put_quoted(out, model_key(m));
	fprintf(out, "\nkind: %s\nstate: %s\nreason: ",
		model_kind_name(model_kind_of(m)),
		model_state_name(model_state_of(m)));
	myaml_put_quoted(out, model_reason(m));
	fputs("\nparent: ", out);
	myaml_put_quoted(out, model_parent(m));
	putc('\n', out);
	put_time(out, "created", model_created_ns(m));
	put_time(out, model_state_of(m) == MODEL_ACTIVE ? "learned_until" :
							  "learning_since",
		 model_state_since_ns(m));
	put_time(out, "last_new", model_last_new_ns(m));
	put_time(out, "last_seen", model_last_seen_ns(m));
	fprintf(out, "learn_min: %s\nlearn_settle: %s\n",
		myaml_format_duration(lmin, d1, sizeof(d1)),
		myaml_format_duration(lsettle, d2, sizeof(d2)));
	fputs(model_size(m) ? "entries:\n" : "entries: {}\n", out);
	for (int d = 0; d < DIM_MAX; d++) {
		c.n = 0;
		model_each(m, (enum model_dim)d, collect_entry, &c);
		if (!c.n)
			continue;
		qsort(c.v, c.n, sizeof(*c.v), cmp_entry);
		fprintf(out, "  %s:\n", model_dim_name((enum model_dim)d));
		for (size_t i = 0; i < c.n; i++)
			put_entry(out, c.v[i]);
	}
	free(c.v);
	for (int r = 0; r < RATE_MAX && !any; r++)
		for (int h = 0; h < HOURS_PER_WEEK; h++)
			any |= model_rate_max(m, (enum model_rate)r, h) != 0;
	fputs(any ? "rates:\n" : "rates: {}\n", out);
	for (int r = 0; r < RATE_MAX && any; r++) {
		char tok[HOURS_PER_WEEK][32];
		size_t n = 0;

		for (int h = 0; h < HOURS_PER_WEEK; h++) {
			uint32_t v = model_rate_max(m, (enum model_rate)r, h);

			if (v)
				snprintf(tok[n++], sizeof(tok[0]), "%d: %u", h,
					 v);
		}
		if (!n)
			continue;
		fprintf(out, "  %s: ", rate_names[r]);
		put_flow(out, 4 + (int)strlen(rate_names[r]), 4, '{', '}', tok,
			 n);
		putc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- import ---------------------------------------------------------- */

struct imp {
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int bad(struct imp *im, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct imp *im, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!im->err || !im->errlen)
		return -EINVAL;
	k = snprintf(im->err, im->errlen, "line %zu: ",
		     n ? n->start_mark.line + 1 : (size_t)1);
	if (k >= 0 && (size_t)k < im->errlen) {
		va_start(ap, fmt);
		vsnprintf(im->err + k, im->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static yaml_node_t *node(struct imp *im, int idx)
{
	return yaml_document_get_node(im->doc, idx);
}

/* An empty plain scalar, "~" or "null" where a collection may be. */
static int is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null");
}

/* The scalar text of n, which must be a scalar without NUL bytes. */
static int scalar(struct imp *im, const yaml_node_t *n, const char *what,
		  const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return bad(im, n, "'%s' must be a single value", what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return bad(im, n, "'%s' contains a NUL character", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int get_str(struct imp *im, const yaml_node_t *n, const char *what,
		   char *dst, size_t cap)
{
	const char *v;
	int rc = scalar(im, n, what, &v);

	if (rc < 0)
		return rc;
	if (strlen(v) >= cap)
		return bad(im, n, "'%s' is longer than %zu bytes", what,
			   cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int get_u64(struct imp *im, const yaml_node_t *n, const char *what,
		   uint64_t max, uint64_t *v)
{
	const char *s = "";
	int rc = scalar(im, n, what, &s);

	if (rc < 0)
		return rc;
	if (parse_u64(s, max, v) < 0)
		return bad(im, n, "bad %s '%.40s' (want a whole number up to "
			   "%llu)", what, s, (unsigned long long)max);
	return 0;
}

static int get_time(struct imp *im, const yaml_node_t *n, const char *what,
		    uint64_t *v)
{
	const char *s = "";
	int rc = scalar(im, n, what, &s);

	if (rc < 0)
		return rc;
	if (myaml_parse_time(s, v) < 0)
		return bad(im, n, "bad time '%.40s' for '%s' (want RFC 3339 "
			   "UTC, e.g. 2026-12-02T13:00:00Z)", s, what);
	return 0;
}

static int get_dur(struct imp *im, const yaml_node_t *n, const char *what,
		   uint64_t *v)
{
	const char *s = "";
	int rc = scalar(im, n, what, &s);

	if (rc < 0)
		return rc;
	if (myaml_parse_duration(s, v) < 0)
		return bad(im, n, "bad duration '%.40s' for '%s' (want e.g. "
			   "7d, 12h, 90s or 0)", s, what);
	return 0;
}

static int get_bool(struct imp *im, const yaml_node_t *n, const char *what,
		    int *v)
{
	const char *s = "";
	int rc = scalar(im, n, what, &s);

	if (rc < 0)
		return rc;
	if (!strcmp(s, "true"))
		*v = 1;
	else if (!strcmp(s, "false"))
		*v = 0;
	else
		return bad(im, n, "bad %s '%.40s' (want true or false)", what,
			   s);
	return 0;
}

/* Finds key in a list of names; -1 if absent. */
static int lookup(const char *key, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(key, names[i]))
			return i;
	return -1;
}

/* Iterates the pairs of mapping node n: sets *k to the key text and *kn,
 * *vn to the nodes. Keys must be scalars. */
#define EACH_PAIR(im, n, p)                                                    \
	for (yaml_node_pair_t *p = (n)->data.mapping.pairs.start;             \
	     p < (n)->data.mapping.pairs.top; p++)

static int pair_key(struct imp *im, yaml_node_pair_t *p, yaml_node_t **kn,
		    yaml_node_t **vn, const char **k)
{
	*kn = node(im, p->key);
	*vn = node(im, p->value);
	if (!*kn || !*vn)
		return bad(im, NULL, "malformed document");
	return scalar(im, *kn, "key", k);
}

enum {
	EK_ITEM, EK_FIRST, EK_LAST, EK_HITS, EK_BY, EK_PROC, EK_HOURS,
	EK_WEEKS, EK_APPROVED, EK_MAX
};
static const char *const entry_keys[EK_MAX] = {
	"item", "first_seen", "last_seen", "hits", "by", "process", "hours",
	"weeks", "approved",
};

static int import_hours(struct imp *im, yaml_node_t *n, struct model_entry *e)
{
	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(im, n, "'hours' must be a list like [26, 27]");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *hn = node(im, *it);
		uint64_t h;
		int rc;

		if (!hn)
			return bad(im, n, "malformed document");
		if ((rc = get_u64(im, hn, "hour of week", HOURS_PER_WEEK - 1,
				  &h)) < 0)
			return rc;
		e->hours[h / 8] |= (uint8_t)(1u << (h % 8));
	}
	return 0;
}

static int import_entry(struct imp *im, struct model *m, enum model_dim d,
			yaml_node_t *n)
{
	char item[MODEL_ITEM_MAX];
	struct model_entry e;
	unsigned seen = 0;
	int rc = 0;

	if (n->type != YAML_MAPPING_NODE)
		return bad(im, n, "an entry must be a mapping starting with "
			   "'item:'");
	memset(&e, 0, sizeof(e));
	EACH_PAIR(im, n, p) {
		yaml_node_t *kn, *vn;
		const char *k;
		uint64_t v = 0;
		int b = 0, w;

		if ((rc = pair_key(im, p, &kn, &vn, &k)) < 0)
			return rc;
		w = lookup(k, entry_keys, EK_MAX);
		if (w < 0)
			return bad(im, kn, "unknown entry key '%.40s'", k);
		if (seen & (1u << w))
			return bad(im, kn, "duplicate key '%s'", k);
		seen |= 1u << w;
		switch (w) {
		case EK_ITEM:
			rc = get_str(im, vn, "item", item, sizeof(item));
			break;
		case EK_FIRST:
			rc = get_time(im, vn, k, &e.first_ns);
			break;
		case EK_LAST:
			rc = get_time(im, vn, k, &e.last_ns);
			break;
		case EK_HITS:
			rc = get_u64(im, vn, k, UINT64_MAX, &e.hits);
			break;
		case EK_BY:
			rc = get_str(im, vn, k, e.first_by, sizeof(e.first_by));
			break;
		case EK_PROC:
			rc = get_str(im, vn, k, e.first_proc,
				     sizeof(e.first_proc));
			break;
		case EK_HOURS:
			rc = import_hours(im, vn, &e);
			break;
		case EK_WEEKS:
			rc = get_u64(im, vn, k, UINT16_MAX, &v);
			e.weeks_seen = (uint16_t)v;
			break;
		case EK_APPROVED:
			rc = get_bool(im, vn, k, &b);
			e.approved = (uint8_t)b;
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (!(seen & (1u << EK_ITEM)))
		return bad(im, n, "entry without 'item:'");
	if (model_find(m, d, item))
		return bad(im, n, "duplicate item '%.80s' in '%s'", item,
			   model_dim_name(d));
	e.item = item;
	e.last_week = e.weeks_seen ? (uint16_t)model_week_of(e.last_ns) : 0;
	rc = model_restore(m, d, &e);
	if (rc == -ENOSPC)
		return bad(im, n, "more than %d entries in '%s'", MODEL_DIM_CAP,
			   model_dim_name(d));
	if (rc < 0) {
		snprintf(im->err, im->errlen, "out of memory");
		return rc;
	}
	return 0;
}

static int import_entries(struct imp *im, struct model *m, yaml_node_t *n)
{
	int rc;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(im, n, "'entries' must map dimensions to lists");
	EACH_PAIR(im, n, p) {
		yaml_node_t *kn, *vn;
		const char *k;
		int d;

		if ((rc = pair_key(im, p, &kn, &vn, &k)) < 0)
			return rc;
		d = model_dim_parse(k);
		if (d < 0)
			return bad(im, kn, "unknown dimension '%.40s'", k);
		if (is_null(vn))
			continue;
		if (vn->type != YAML_SEQUENCE_NODE)
			return bad(im, vn, "'%s' must be a list of entries", k);
		for (yaml_node_item_t *it = vn->data.sequence.items.start;
		     it < vn->data.sequence.items.top; it++) {
			yaml_node_t *en = node(im, *it);

			if (!en)
				return bad(im, vn, "malformed document");
			if ((rc = import_entry(im, m, (enum model_dim)d, en)) < 0)
				return rc;
		}
	}
	return 0;
}

static int import_rates(struct imp *im, struct model *m, yaml_node_t *n)
{
	int rc;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(im, n, "'rates' must map rate names to "
			   "{hour: max} mappings");
	EACH_PAIR(im, n, p) {
		yaml_node_t *kn, *vn;
		const char *k;
		int r;

		if ((rc = pair_key(im, p, &kn, &vn, &k)) < 0)
			return rc;
		r = myaml_rate_parse(k);
		if (r < 0)
			return bad(im, kn, "unknown rate '%.40s' (want exec, "
				   "connect or write)", k);
		if (is_null(vn))
			continue;
		if (vn->type != YAML_MAPPING_NODE)
			return bad(im, vn, "'%s' must be a mapping like "
				   "{26: 4, 27: 1}", k);
		EACH_PAIR(im, vn, q) {
			yaml_node_t *hn, *mn;
			const char *hk;
			uint64_t h, max;

			if ((rc = pair_key(im, q, &hn, &mn, &hk)) < 0 ||
			    (rc = get_u64(im, hn, "hour of week",
					  HOURS_PER_WEEK - 1, &h)) < 0 ||
			    (rc = get_u64(im, mn, "rate", UINT32_MAX, &max)) < 0)
				return rc;
			model_rate_restore(m, (enum model_rate)r, (int)h,
					   (uint32_t)max);
		}
	}
	return 0;
}

enum {
	TK_MODEL, TK_KIND, TK_STATE, TK_REASON, TK_PARENT, TK_CREATED,
	TK_UNTIL, TK_SINCE, TK_STATE_SINCE, TK_LAST_NEW, TK_LAST_SEEN,
	TK_LMIN, TK_LSETTLE, TK_ENTRIES, TK_RATES, TK_MAX
};
static const char *const top_keys[TK_MAX] = {
	"model", "kind", "state", "reason", "parent", "created",
	"learned_until", "learning_since", "state_since", "last_new",
	"last_seen", "learn_min", "learn_settle", "entries", "rates",
};

static struct model *import_doc(struct imp *im)
{
	yaml_node_t *root = yaml_document_get_root_node(im->doc);
	yaml_node_t *val[TK_MAX] = {0};
	char key[MODEL_KEY_MAX], parent[MODEL_KEY_MAX] = "", reason[256] = "";
	uint64_t t_created = 0, t_since = 0, t_new = 0, t_seen = 0;
	uint64_t lmin = 0, lsettle = 0;
	int kind = -1, state = MODEL_LEARNING, rc = 0;
	const char *s = "";
	struct model *m;

	if (!root || is_null(root)) {
		bad(im, NULL, "empty document: not a Vigil model");
		return NULL;
	}
	if (root->type != YAML_MAPPING_NODE) {
		bad(im, root, "not a Vigil model (want a mapping starting with "
			      "'model:')");
		return NULL;
	}
	EACH_PAIR(im, root, p) {
		yaml_node_t *kn, *vn;
		const char *k;
		int w;

		if (pair_key(im, p, &kn, &vn, &k) < 0)
			return NULL;
		w = lookup(k, top_keys, TK_MAX);
		if (w < 0) {
			bad(im, kn, "unknown key '%.40s'", k);
			return NULL;
		}
		if (val[w]) {
			bad(im, kn, "duplicate key '%s'", k);
			return NULL;
		}
		val[w] = vn;
	}
	if (!val[TK_MODEL]) {
		bad(im, root, "missing 'model:' (the model's key)");
		return NULL;
	}
	if (get_str(im, val[TK_MODEL], "model", key, sizeof(key)) < 0)
		return NULL;
	if (!*key) {
		bad(im, val[TK_MODEL], "empty 'model:'");
		return NULL;
	}
	if (val[TK_KIND]) {
		if (scalar(im, val[TK_KIND], "kind", &s) < 0)
			return NULL;
		if ((kind = model_kind_parse(s)) < 0) {
			bad(im, val[TK_KIND], "unknown kind '%.40s' (want "
				"container, image or service)", s);
			return NULL;
		}
	} else {
		for (int k = 0; k < 3 && kind < 0; k++) {
			const char *kn = model_kind_name((enum model_kind)k);
			size_t l = strlen(kn);

			if (!strncmp(key, kn, l) && key[l] == ':')
				kind = k;
		}
		if (kind < 0) {
			bad(im, root, "missing 'kind:'");
			return NULL;
		}
	}
	if (val[TK_STATE]) {
		if (scalar(im, val[TK_STATE], "state", &s) < 0)
			return NULL;
		if ((state = model_state_parse(s)) < 0) {
			bad(im, val[TK_STATE], "unknown state '%.40s' (want "
				"learning or active)", s);
			return NULL;
		}
	}
	if ((val[TK_REASON] &&
	     get_str(im, val[TK_REASON], "reason", reason, sizeof(reason)) < 0) ||
	    (val[TK_PARENT] &&
	     get_str(im, val[TK_PARENT], "parent", parent, sizeof(parent)) < 0))
		return NULL;
	for (int w = TK_CREATED; w <= TK_LAST_SEEN; w++) {
		uint64_t *dst = w == TK_CREATED ? &t_created :
				w == TK_LAST_NEW ? &t_new :
				w == TK_LAST_SEEN ? &t_seen : &t_since;

		if (val[w] && get_time(im, val[w], top_keys[w], dst) < 0)
			return NULL;
	}
	if ((val[TK_LMIN] &&
	     get_dur(im, val[TK_LMIN], "learn_min", &lmin) < 0) ||
	    (val[TK_LSETTLE] &&
	     get_dur(im, val[TK_LSETTLE], "learn_settle", &lsettle) < 0))
		return NULL;
	m = model_new((enum model_kind)kind, key, t_created);
	if (!m) {
		snprintf(im->err, im->errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	model_set_state(m, (enum model_state)state, t_since, reason);
	model_set_parent(m, parent);
	model_set_learning(m, lmin, lsettle);
	if (val[TK_ENTRIES])
		rc = import_entries(im, m, val[TK_ENTRIES]);
	if (rc == 0 && val[TK_RATES])
		rc = import_rates(im, m, val[TK_RATES]);
	if (rc < 0) {
		model_free(m);
		errno = -rc;
		return NULL;
	}
	model_restore_times(m, t_created, t_since, t_new, t_seen);
	return m;
}

struct model *myaml_import(FILE *in, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct imp im = {.doc = &doc, .err = err, .errlen = errlen};
	struct model *m;

	if (err && errlen)
		err[0] = 0;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &doc)) {
		int eio = ferror(in);

		if (eio)
			snprintf(err, errlen, "read error");
		else if (parser.error == YAML_MEMORY_ERROR)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "line %zu: %s%s%s%s",
				 (parser.error == YAML_READER_ERROR ?
					  parser.mark.line :
					  parser.problem_mark.line) + 1,
				 parser.problem ? parser.problem : "bad YAML",
				 parser.context ? " (" : "",
				 parser.context ? parser.context : "",
				 parser.context ? ")" : "");
		errno = eio ? EIO :
			parser.error == YAML_MEMORY_ERROR ? ENOMEM : EINVAL;
		yaml_parser_delete(&parser);
		return NULL;
	}
	errno = 0;
	m = import_doc(&im);
	if (!m && errno != ENOMEM)
		errno = EINVAL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return m;
}
