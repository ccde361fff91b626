/* policy_export.c - see policy_export.h. Invariants:
 *  - every value written into a rule is one policy_parse() accepts (an
 *    absolute pattern, a CIDR it can read, a port 1..65535, a DNS name
 *    without glob characters); anything else goes to the comments, so the
 *    output always parses and never allows more than the model learned
 *    (an empty list, which would mean "any", is never written);
 *  - network rules are exact: a rule's addresses and ports are a product
 *    the model learned in full (ports are merged only when they go to the
 *    very same set of destinations);
 *  - every learned string is written double-quoted and escaped
 *    (myaml_put_quoted), in rules and in comments alike, so no item can end
 *    a comment or inject YAML. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "model/model_yaml.h"
#include "policy/policy.h"
#include "policy/policy_export.h"

/* ---- item lists ------------------------------------------------------ */

struct strs {
	const char **v;
	size_t n, cap;
};

static int strs_add(struct strs *l, const char *s)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		const char **nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = s;
	return 0;
}

/* qsort() that accepts an empty (NULL) array. */
static void sort_n(void *v, size_t n, size_t sz,
		   int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, sz, cmp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void strs_sort_uniq(struct strs *l)
{
	size_t k = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i], l->v[k]))
			l->v[++k] = l->v[i];
	l->n = k + 1;
}

struct collect {
	struct strs *l;
	int rc;
};

static int collect_one(void *ctx, const struct model_entry *e)
{
	struct collect *c = ctx;

	c->rc = strs_add(c->l, e->item);
	return c->rc < 0;
}

/* The items of dimension d of a and b (b may be NULL), sorted, unique.
 * The strings belong to the models. */
static int items_of(const struct model *a, const struct model *b,
		    enum model_dim d, struct strs *out)
{
	struct collect c = {out, 0};

	out->n = 0;
	model_each(a, d, collect_one, &c);
	if (b && !c.rc)
		model_each(b, d, collect_one, &c);
	if (c.rc)
		return c.rc;
	strs_sort_uniq(out);
	return 0;
}

/* ---- parsing learned network items ----------------------------------- */

/* "10.0.0.0/24", "fd00::/64": what policy_parse() reads as a CIDR. */
static int cidr_ok(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n, plen_len;
	long plen = 0;

	if (!alen || alen >= INET6_ADDRSTRLEN || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, alen);
	buf[alen] = 0;
	int v4 = inet_pton(AF_INET, buf, addr) == 1;

	if (!v4 && inet_pton(AF_INET6, buf, addr) != 1)
		return 0;
	if (!slash)
		return 1;
	plen_len = n - alen - 1;
	if (!plen_len || plen_len > 3)
		return 0;
	for (size_t i = 0; i < plen_len; i++) {
		char ch = slash[1 + i];

		if (ch < '0' || ch > '9')
			return 0;
		plen = plen * 10 + (ch - '0');
	}
	return plen <= (v4 ? 32 : 128);
}

/* 1..65535 from all-digit text s[0..n), else -1 (0 gives 0). */
static long port_of(const char *s, size_t n)
{
	long v = 0;

	if (!n || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 65535 ? v : -1;
}

/* "tcp" or "udp" at the start of s followed by ' ': its length, else 0. */
static size_t proto_len(const char *s)
{
	return (!strncmp(s, "tcp ", 4) || !strncmp(s, "udp ", 4)) ? 3 : 0;
}

struct dest {
	char proto[4];
	char *cidr;
	long port;
};

struct dests {
	struct dest *v;
	size_t n, cap;
};

/* "tcp 10.0.0.0/24:443" -> d; 0, or -EINVAL when it is not one. */
static int parse_out(const char *item, struct dest *d)
{
	size_t pl = proto_len(item), n;
	const char *addr, *colon;

	if (!pl)
		return -EINVAL;
	addr = item + pl + 1;
	colon = strrchr(addr, ':');
	if (!colon || colon == addr)
		return -EINVAL;
	n = (size_t)(colon - addr);
	d->port = port_of(colon + 1, strlen(colon + 1));
	if (d->port < 1 || !cidr_ok(addr, n))
		return -EINVAL;
	memcpy(d->proto, item, pl);
	d->proto[pl] = 0;
	if (!(d->cidr = strndup(addr, n)))
		return -ENOMEM;
	return 0;
}

/* ---- output helpers -------------------------------------------------- */

struct out {
	FILE *f;
	char *err;
	size_t errlen;
};

static int seterr(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int seterr(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}

/* A shell glob matching exactly s (fnmatch without FNM_NOESCAPE). */
static int put_exact_glob(FILE *f, const char *s)
{
	size_t n = strlen(s);
	char *g = malloc(2 * n + 1), *p = g;

	if (!g)
		return -ENOMEM;
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			*p++ = '\\';
		*p++ = *s;
	}
	*p = 0;
	myaml_put_quoted(f, g);
	free(g);
	return 0;
}

/* "    key:\n      - "a"\n      - "b"\n" */
static void put_list(FILE *f, const char *indent, const char *key,
		     const struct strs *l)
{
	fprintf(f, "%s%s:\n", indent, key);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "%s  - ", indent);
		myaml_put_quoted(f, l->v[i]);
		putc('\n', f);
	}
}

/* Comment lines listing items, each quoted (escapes keep it on one line). */
static void put_comment_items(FILE *f, const struct strs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		fputs("#   ", f);
		myaml_put_quoted(f, l->v[i]);
		putc('\n', f);
	}
}

/* ---- the pieces ------------------------------------------------------ */

struct leftover {
	const char *what; /* why these are not in the rules */
	struct strs items;
};

enum { LO_PROCESS, LO_ARGS, LO_EXEC, LO_FILES, LO_OUT, LO_LISTEN, LO_IN,
       LO_DNS, LO_PRIV, LO_N };

struct exp {
	const struct model *a, *b;
	FILE *f;
	struct strs tmp;
	struct leftover lo[LO_N];
	int rules;
};

static int leftover_add(struct exp *x, int which, const char *item)
{
	return strs_add(&x->lo[which].items, item);
}

static int rule_exec(struct exp *x)
{
	struct strs ok = {0};
	int rc = items_of(x->a, x->b, DIM_FILE_EXEC, &x->tmp);

	for (size_t i = 0; !rc && i < x->tmp.n; i++)
		rc = x->tmp.v[i][0] == '/' ? strs_add(&ok, x->tmp.v[i]) :
					     leftover_add(x, LO_EXEC, x->tmp.v[i]);
	if (!rc && ok.n) {
		fputs("  - id: exec\n"
		      "    description: \"the executables the model learned\"\n"
		      "    process:\n", x->f);
		put_list(x->f, "      ", "exe", &ok);
		fputs("    action: allow\n", x->f);
		x->rules++;
	}
	free(ok.v);
	return rc;
}

static int cmp_dest_sig(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c = strcmp(x->proto, y->proto);

	if (!c)
		c = strcmp(x->cidr, y->cidr); /* here: the signature */
	return c ? c : (x->port > y->port) - (x->port < y->port);
}

static int cmp_dest_pc(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c = strcmp(x->proto, y->proto);

	if (!c)
		c = (x->port > y->port) - (x->port < y->port);
	return c ? c : strcmp(x->cidr, y->cidr);
}

/* A rule to be: n destinations of one protocol and signature. */
struct run {
	const struct dest *first;
	size_t n;
};

static int cmp_run(const void *a, const void *b)
{
	const struct dest *x = ((const struct run *)a)->first;
	const struct dest *y = ((const struct run *)b)->first;
	int c = strcmp(x->proto, y->proto);

	return c ? c : (x->port > y->port) - (x->port < y->port);
}

static int dests_add(struct dests *l, const struct dest *d)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 32;
		struct dest *nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *d;
	return 0;
}

static void dests_free(struct dests *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].cidr);
	free(l->v);
}

/* One rule per (protocol, set of destinations) with every port that goes
 * to exactly that set. */
static int rules_out(struct exp *x)
{
	struct dests all = {0}, by_port = {0};
	struct run *runs = NULL;
	size_t nruns = 0;
	struct dest d;
	int rc = items_of(x->a, x->b, DIM_NET_OUT, &x->tmp);

	for (size_t i = 0; !rc && i < x->tmp.n; i++) {
		rc = parse_out(x->tmp.v[i], &d);
		if (rc == -EINVAL)
			rc = leftover_add(x, LO_OUT, x->tmp.v[i]);
		else if (!rc && (rc = dests_add(&all, &d)) < 0)
			free(d.cidr);
	}
	if (rc)
		goto out;
	/* per (proto, port): its destinations, joined by '\n' (sorted) */
	sort_n(all.v, all.n, sizeof(*all.v), cmp_dest_pc);
	for (size_t i = 0; i < all.n;) {
		size_t k = i, len = 0;
		char *sig, *p;

		while (k < all.n && !strcmp(all.v[k].proto, all.v[i].proto) &&
		       all.v[k].port == all.v[i].port)
			len += strlen(all.v[k++].cidr) + 1;
		if (!(sig = p = malloc(len))) {
			rc = -ENOMEM;
			goto out;
		}
		*p = 0;
		for (size_t j = i; j < k; j++) /* items are unique: no repeats */
			p += sprintf(p, "%s%s", p == sig ? "" : "\n", all.v[j].cidr);
		d = all.v[i];
		d.cidr = sig;
		if ((rc = dests_add(&by_port, &d)) < 0) {
			free(sig);
			goto out;
		}
		i = k;
	}
	/* runs of one (proto, signature) are one rule; ports ascending */
	sort_n(by_port.v, by_port.n, sizeof(*by_port.v), cmp_dest_sig);
	if (!(runs = malloc((by_port.n + 1) * sizeof(*runs)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, k; i < by_port.n; i = k) {
		for (k = i; k < by_port.n &&
			    !strcmp(by_port.v[k].proto, by_port.v[i].proto) &&
			    !strcmp(by_port.v[k].cidr, by_port.v[i].cidr);
		     k++)
			;
		runs[nruns].first = &by_port.v[i];
		runs[nruns++].n = k - i;
	}
	/* rules in (protocol, lowest port) order: easier to read */
	sort_n(runs, nruns, sizeof(*runs), cmp_run);
	for (size_t r = 0; r < nruns; r++) {
		const struct dest *g = runs[r].first;
		const char *c;

		fprintf(x->f, "  - id: connect-%s-%ld\n    network:\n      to:\n",
			g->proto, g->port);
		for (c = g->cidr; *c;) {
			size_t n = strcspn(c, "\n");

			fprintf(x->f, "        - \"%.*s\"\n", (int)n, c);
			c += n + (c[n] == '\n');
		}
		fputs("      ports: [", x->f);
		for (size_t j = 0; j < runs[r].n; j++)
			fprintf(x->f, "%s%ld", j ? ", " : "", g[j].port);
		fprintf(x->f, "]\n      protocol: %s\n    action: allow\n",
			g->proto);
		x->rules++;
	}
out:
	free(runs);
	dests_free(&all);
	dests_free(&by_port);
	return rc;
}

static int rules_listen(struct exp *x)
{
	static const char *const protos[] = {"tcp", "udp"};
	int rc = items_of(x->a, x->b, DIM_NET_LISTEN, &x->tmp);
	struct dests more = {0};

	/* "tcp :8080"; sorted items are not sorted ports: collect, then sort */
	for (size_t i = 0; !rc && i < x->tmp.n; i++) {
		const char *s = x->tmp.v[i];
		size_t pl = proto_len(s);
		long port = pl && s[pl + 1] == ':' ?
				    port_of(s + pl + 2, strlen(s + pl + 2)) : -1;
		struct dest d = {.port = port};

		if (port < 1) { /* 0 is "any" in a policy: not what was seen */
			rc = leftover_add(x, LO_LISTEN, s);
			continue;
		}
		memcpy(d.proto, s, pl);
		d.proto[pl] = 0;
		if (!(d.cidr = strdup("")) || (rc = dests_add(&more, &d)) < 0) {
			free(d.cidr);
			rc = -ENOMEM;
		}
	}
	if (rc)
		goto out;
	sort_n(more.v, more.n, sizeof(*more.v), cmp_dest_pc);
	for (int p = 0; p < 2; p++) {
		int any = 0;

		for (size_t i = 0; i < more.n; i++) {
			if (strcmp(more.v[i].proto, protos[p]))
				continue;
			if (!any)
				fprintf(x->f, "  - id: listen-%s\n    network:\n"
					"      listen: [", protos[p]);
			fprintf(x->f, "%s%ld", any ? ", " : "", more.v[i].port);
			any = 1;
		}
		if (any) {
			fprintf(x->f, "]\n      protocol: %s\n    action: allow\n",
				protos[p]);
			x->rules++;
		}
	}
out:
	dests_free(&more);
	return rc;
}

/* What policy_parse() takes as a DNS name glob, without glob characters
 * (a learned name is a literal). */
static int dns_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '/' || *s == 0x7f ||
		    strchr("*?[]\\", *s))
			return 0;
	return 1;
}

static int rule_dns(struct exp *x)
{
	struct strs ok = {0};
	int rc = items_of(x->a, x->b, DIM_DNS, &x->tmp);

	for (size_t i = 0; !rc && i < x->tmp.n; i++)
		rc = dns_ok(x->tmp.v[i]) ? strs_add(&ok, x->tmp.v[i]) :
					   leftover_add(x, LO_DNS, x->tmp.v[i]);
	if (!rc && ok.n) {
		fputs("  - id: dns\n    network:\n", x->f);
		put_list(x->f, "      ", "dns", &ok);
		fputs("    action: allow\n", x->f);
		x->rules++;
	}
	free(ok.v);
	return rc;
}

static int rules_files(struct exp *x)
{
	static const struct {
		enum model_dim d;
		const char *id, *access;
	} kinds[] = {
		{DIM_FILE_READ, "read-files", "read"},
		{DIM_FILE_WRITE, "write-files", "write"},
		{DIM_FILE_CREATE, "create-files", "create"},
		{DIM_FILE_DELETE, "delete-files", "delete"},
	};
	int rc = 0;

	for (size_t k = 0; !rc && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct strs ok = {0};

		rc = items_of(x->a, x->b, kinds[k].d, &x->tmp);
		for (size_t i = 0; !rc && i < x->tmp.n; i++)
			rc = x->tmp.v[i][0] == '/' ?
				     strs_add(&ok, x->tmp.v[i]) :
				     leftover_add(x, LO_FILES, x->tmp.v[i]);
		if (!rc && ok.n) {
			fprintf(x->f, "  - id: %s\n    file:\n", kinds[k].id);
			put_list(x->f, "      ", "paths", &ok);
			fprintf(x->f, "      access: [%s]\n    action: allow\n",
				kinds[k].access);
			x->rules++;
		}
		free(ok.v);
	}
	return rc;
}

/* Dimensions the policy language has no rule for: all to the comments. */
static int leftovers_whole(struct exp *x)
{
	static const struct {
		enum model_dim d;
		int lo;
	} dims[] = {
		{DIM_PROCESS, LO_PROCESS},
		{DIM_ARGS, LO_ARGS},
		{DIM_NET_IN, LO_IN},
		{DIM_PRIV, LO_PRIV},
	};
	int rc = 0;

	for (size_t k = 0; !rc && k < sizeof(dims) / sizeof(dims[0]); k++) {
		rc = items_of(x->a, x->b, dims[k].d, &x->tmp);
		for (size_t i = 0; !rc && i < x->tmp.n; i++)
			rc = leftover_add(x, dims[k].lo, x->tmp.v[i]);
	}
	return rc;
}

static void put_leftovers(struct exp *x)
{
	int any = 0;

	for (int i = 0; i < LO_N; i++) {
		struct leftover *l = &x->lo[i];

		if (!l->items.n)
			continue;
		if (!any)
			fputs("\n# Learned, but not in the rules above (the policy "
			      "language cannot say it,\n# or it is not a valid "
			      "policy value). Nothing here is allowed or refused "
			      "by\n# this policy:\n", x->f);
		any = 1;
		fprintf(x->f, "#\n# %s:\n", l->what);
		put_comment_items(x->f, &l->items);
	}
}

/* ---- selector and header --------------------------------------------- */

/* Writes the selector of key's resource; -EINVAL if it names none. */
static int put_selector(FILE *f, const struct model *m, char *err,
			size_t errlen)
{
	const char *key = model_key(m), *colon = strchr(key, ':');
	const char *what = colon ? colon + 1 : "";
	enum model_kind k = model_kind_of(m);
	static const char *const prefix[] = {"container", "image", "service"};

	if (!colon || (size_t)(colon - key) != strlen(prefix[k]) ||
	    strncmp(key, prefix[k], (size_t)(colon - key)) || !*what)
		return seterr(err, errlen, EINVAL, "model key '%s' does not "
			      "name a %s ('%s:NAME')", key, prefix[k],
			      prefix[k]);
	fputs("selector:\n", f);
	if (k == MODEL_SERVICE && !strcmp(what, "host")) {
		/* the model of host processes outside any service */
		fputs("  host: true  # every host process: the model learned "
		      "those outside any service\n", f);
		return 0;
	}
	fprintf(f, "  %s: [", prefix[k]);
	if (put_exact_glob(f, what) < 0)
		return seterr(err, errlen, ENOMEM, "out of memory");
	fputs("]\n", f);
	return 0;
}

static void put_model_line(FILE *f, const char *role, const struct model *m)
{
	char t1[MYAML_TIME_MAX], t2[MYAML_TIME_MAX];

	fprintf(f, "# %s ", role);
	myaml_put_quoted(f, model_key(m));
	fprintf(f, ": %s, %zu entries, created %s, last new item %s,\n#   "
		"state %s: ", model_kind_name(model_kind_of(m)), model_size(m),
		myaml_format_time(model_created_ns(m), t1, sizeof(t1)),
		model_last_new_ns(m) ? myaml_format_time(model_last_new_ns(m),
							 t2, sizeof(t2)) :
				       "never",
		model_state_name(model_state_of(m)));
	myaml_put_quoted(f, model_reason(m));
	putc('\n', f);
}

static void put_header(FILE *f, const struct model *a, const struct model *b,
		       uint64_t now)
{
	char t[MYAML_TIME_MAX];

	fputs("# Vigil policy written by `vigil model export --as-policy` at ",
	      f);
	fprintf(f, "%s\n# from what the learned model allows:\n",
		myaml_format_time(now - now % 1000000000ULL, t, sizeof(t)));
	put_model_line(f, "model", a);
	if (b)
		put_model_line(f, "and its image model", b);
	if (model_state_of(a) != MODEL_ACTIVE ||
	    (b && model_state_of(b) != MODEL_ACTIVE))
		fputs("# WARNING: a model is still learning: behaviour it has "
		      "not seen yet is blocked.\n", f);
	fputs("# Execs and connections the model did not learn are blocked "
	      "(in protect mode;\n# reported as \"would block\" in monitor "
	      "and shadow). Review before applying:\n#   vigil policy check "
	      "FILE && vigil policy apply FILE\n", f);
}

/* ---- entry points ---------------------------------------------------- */

void policy_export_name(const char *model_key, char *out, size_t cap)
{
	size_t n;

	if (!cap)
		return;
	n = (size_t)snprintf(out, cap < POL_NAME_MAX ? cap : POL_NAME_MAX,
			     "learned-%s", model_key ? model_key : "");
	if (n >= cap || n >= POL_NAME_MAX)
		n = strlen(out);
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-", out[i]))
			out[i] = '-';
}

static int name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			  "wxyz0123456789._-");

	return n && !s[n] && n < POL_NAME_MAX;
}

char *policy_from_model(const struct model *inst, const struct model *img,
			const char *policy_name, uint64_t now_ns, char *err,
			size_t errlen)
{
	static const char *const why[LO_N] = {
		[LO_PROCESS] = "process: the parent and user of each exec (the "
			       "rule 'exec' allows the\n#   executables whatever "
			       "their parent and user)",
		[LO_ARGS] = "args: command-line patterns (a process rule matches "
			    "executables only)",
		[LO_EXEC] = "file_exec: not absolute paths",
		[LO_FILES] = "files: not absolute paths",
		[LO_OUT] = "net_out: not a protocol, address and port 1-65535",
		[LO_LISTEN] = "net_listen: not a protocol and port 1-65535 (a "
			      "policy's port 0 means any)",
		[LO_IN] = "net_in: inbound peers (a policy has no rule for who "
			  "connects in)",
		[LO_DNS] = "dns: not a literal DNS name",
		[LO_PRIV] = "privilege: privileged operations (default "
			    "privileged is allow; a privileged\n#   rule names "
			    "operations without their arguments)",
	};
	struct exp x = {.a = inst, .b = img};
	char name[POL_NAME_MAX], *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (err && errlen)
		err[0] = 0;
	if (!inst) {
		seterr(err, errlen, EINVAL, "no model");
		errno = EINVAL;
		return NULL;
	}
	if (img && (model_kind_of(inst) != MODEL_CONTAINER ||
		    model_kind_of(img) != MODEL_IMAGE)) {
		seterr(err, errlen, EINVAL, "only a container model takes an "
		       "image model ('%s', '%s')", model_key(inst),
		       model_key(img));
		errno = EINVAL;
		return NULL;
	}
	if (!policy_name) {
		policy_export_name(model_key(inst), name, sizeof(name));
		policy_name = name;
	}
	if (!name_ok(policy_name)) {
		seterr(err, errlen, EINVAL, "policy name '%s' is not valid: use "
		       "1 to %d letters, digits, '.', '_' or '-'", policy_name,
		       POL_NAME_MAX - 1);
		errno = EINVAL;
		return NULL;
	}
	if (!now_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		now_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
			 (uint64_t)ts.tv_nsec;
	}
	for (int i = 0; i < LO_N; i++)
		x.lo[i].what = why[i];
	if (!(x.f = open_memstream(&text, &len))) {
		seterr(err, errlen, ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	put_header(x.f, inst, img, now_ns);
	fputs("name: ", x.f);
	myaml_put_quoted(x.f, policy_name);
	fputs("\ndescription: ", x.f);
	{
		char d[MODEL_KEY_MAX + 64];

		snprintf(d, sizeof(d), "what the model %s learned%s",
			 model_key(inst), img ? ", with its image's" : "");
		myaml_put_quoted(x.f, d);
	}
	fputs("\n", x.f);
	rc = put_selector(x.f, inst, err, errlen);
	if (!rc) {
		fputs("default: {process: block, network: block}\nrules:\n",
		      x.f);
		if (!(rc = rule_exec(&x)) && !(rc = rules_out(&x)) &&
		    !(rc = rules_listen(&x)) && !(rc = rule_dns(&x)) &&
		    !(rc = rules_files(&x)))
			rc = leftovers_whole(&x);
		if (rc)
			seterr(err, errlen, -rc, "%s", rc == -ENOMEM ?
			       "out of memory" : strerror(-rc));
	}
	if (!rc) {
		if (!x.rules) /* "rules:" with nothing after it is null */
			fputs("  []  # the model learned nothing a rule can "
			      "allow: everything is blocked\n", x.f);
		put_leftovers(&x);
	}
	if (fclose(x.f) != 0 && !rc)
		rc = seterr(err, errlen, ENOMEM, "out of memory");
	free(x.tmp.v);
	for (int i = 0; i < LO_N; i++)
		free(x.lo[i].items.v);
	if (rc) {
		free(text);
		errno = -rc;
		return NULL;
	}
	return text;
}
