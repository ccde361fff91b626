/* generalize.c - see generalize.h and docs/generalization.md. One pass per
 * component ORs up its character classes from a table; most components
 * ("usr", "nginx.conf") are then copied as they are. Only those with digits,
 * upper case or >= 16 bytes are looked at again, token by token (a token is
 * a run of [A-Za-z0-9]), and rewritten.
 * Invariants: writes go through struct wr, which never passes lim = cap - 1
 * (room for the NUL); a component is written whole or not at all, so the
 * output is always a prefix of whole components; no replacement emits an
 * alphanumeric byte, so generalising twice changes nothing. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "model/generalize.h"

enum {
	C_DIG = 1, C_HEXL = 2, C_LOW = 4, C_HEXU = 8, C_UP = 16, /* alnum */
	C_SEP = 32,  /* . - _ */
	C_OTH = 64,  /* anything else, '/' included */
	C_CTL = 128, /* control bytes: '?' in gen_args */
};
#define C_ALNUM (C_DIG | C_HEXL | C_LOW | C_HEXU | C_UP)
#define C_HEX (C_DIG | C_HEXL | C_HEXU)

static const uint8_t cls[256] = {
	[0 ... 31] = C_CTL, [32 ... 44] = C_OTH, ['-'] = C_SEP, ['.'] = C_SEP,
	['/'] = C_OTH, ['0' ... '9'] = C_DIG, [':' ... '@'] = C_OTH,
	['A' ... 'F'] = C_HEXU, ['G' ... 'Z'] = C_UP, ['[' ... '^'] = C_OTH,
	['_'] = C_SEP, ['`'] = C_OTH, ['a' ... 'f'] = C_HEXL,
	['g' ... 'z'] = C_LOW, ['{' ... 126] = C_OTH, [127] = C_CTL,
	[128 ... 255] = C_OTH,
};
#define CL(c) cls[(uint8_t)(c)]

#define ARG_KEEP 64	 /* non-path arguments are cut here, then "*" */
#define ARG_PATH_CAP 128 /* cap for a path argument's pattern */

/* Temp-name prefixes. T_RAW: the random part follows directly (.nfs0001,
 * go-build123); T_SEP: one of . - _ must follow; T_OPT: optional separator;
 * T_WORDS: lowercase words ending in '-' may follow (pip-req-build-xyz). */
enum { T_RAW, T_SEP, T_OPT, T_WORDS };
static const struct { const char *s; uint8_t n, mode; } tmp_pfx[] = {
	{ "tmp", 3, T_OPT }, { "temp", 4, T_SEP }, { "runc", 4, T_SEP },
	{ "pip-", 4, T_WORDS }, { ".nfs", 4, T_RAW }, { "ssh-", 4, T_RAW },
	{ "go-build", 8, T_RAW }, { "sh-thd", 6, T_SEP }, { "cc", 2, T_RAW },
};

struct wr { /* an output buffer: len <= lim = cap - 1 */
	char *out;
	size_t len, lim;
	int full; /* a write did not fit (and was dropped) */
};

static inline void put(struct wr *w, const char *s, size_t n)
{
	if (w->full || n > w->lim - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

static int is_uuid(const char *s) /* s has >= 36 bytes */
{
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							    : !(CL(s[i]) & C_HEX))
			return 0;
	return 1;
}

/* Replacement for a whole token of class set f and length n, or NULL. */
static const char *tok_rep(unsigned f, size_t n)
{
	if (f == C_DIG)
		return n >= 3 ? "#" : NULL;
	if ((n >= 8 && f == (C_DIG | C_HEXL)) || (n >= 16 && !(f & ~C_HEX)))
		return "*";
	return NULL;
}

/* Copies c[0..n) replacing hex tokens and UUIDs by '*' and digit runs of
 * >= 3 by '#' (1-2 digit tokens such as libc.so.6 or syslog.1 stay). */
static void tokens(struct wr *w, const char *c, size_t n)
{
	size_t i = 0, lit = 0;

	while (i < n) {
		const char *rep = "*";
		size_t j = i;
		unsigned f = 0;

		if (!(CL(c[i]) & C_ALNUM)) {
			i++;
			continue;
		}
		if (n - i >= 36 && is_uuid(c + i) &&
		    (n - i == 36 || !(CL(c[i + 36]) & C_ALNUM))) {
			j = i + 36;
		} else {
			while (j < n && (CL(c[j]) & C_ALNUM))
				f |= CL(c[j++]);
			rep = tok_rep(f, j - i);
		}
		if (rep) {
			put(w, c + lit, i - lit);
			put(w, rep, 1);
			lit = j;
		}
		i = j;
	}
	put(w, c + lit, n - lit);
}

/* mktemp-style name: a known prefix, then a run of [A-Za-z0-9_] holding >= 6
 * alphanumerics and a digit or both cases, then nothing or ".ext". Writes
 * prefix + "*" + ext (ext through tokens()) and returns 1, or returns 0. */
static int temp_name(struct wr *w, const char *c, size_t n)
{
	for (size_t k = 0; k < sizeof(tmp_pfx) / sizeof(tmp_pfx[0]); k++) {
		size_t i = tmp_pfx[k].n, j, alnum = 0;
		unsigned f = 0, mode = tmp_pfx[k].mode;

		if (c[0] != tmp_pfx[k].s[0] || n < i + 6 || memcmp(c, tmp_pfx[k].s, i))
			continue;
		if (mode != T_RAW && (CL(c[i]) & C_SEP))
			i++;
		else if (mode == T_SEP)
			continue;
		for (j = i; mode == T_WORDS && j < n &&
			    (c[j] == '-' || (CL(c[j]) & (C_HEXL | C_LOW))); j++)
			if (c[j] == '-')
				i = j + 1; /* pip-req-build-: words end in '-' */
		for (j = i; j < n && ((CL(c[j]) & C_ALNUM) || c[j] == '_'); j++) {
			f |= CL(c[j]);
			alnum += c[j] != '_';
		}
		if (alnum < 6 || (j < n && c[j] != '.') ||
		    !((f & C_DIG) || ((f & (C_LOW | C_HEXL)) && (f & (C_UP | C_HEXU)))))
			continue;
		put(w, c, i);
		put(w, "*", 1);
		tokens(w, c + j, n - j);
		return 1;
	}
	return 0;
}

static void component(struct wr *w, const char *c, size_t n, unsigned f)
{
	if (f == C_DIG)
		put(w, "#", 1);
	else if ((f & (C_DIG | C_UP | C_HEXU)) && temp_name(w, c, n))
		return;
	else if ((f & C_DIG) || n >= 16)
		tokens(w, c, n);
	else
		put(w, c, n);
}

static void pop(struct wr *w) /* drops the last component of out */
{
	const char *s = w->len ? memrchr(w->out, '/', w->len) : NULL;

	w->len = s ? (size_t)(s - w->out) : 0;
}

/* gen_path on p[0..n) keeping at most depth components; *cut is set when
 * the cap (not depth) shortened the pattern. cap > 0. */
static size_t path_n(const char *p, size_t n, char *out, size_t cap,
		     size_t depth, int *cut)
{
	struct wr w = { out, 0, cap - 1, 0 };
	int abs = n && p[0] == '/', was_cut = 0;
	size_t i = 0, ncomp = 0, over = 0; /* over: components not written */

	while (i < n) {
		size_t s, len, start = w.len, sl = abs || ncomp;
		unsigned f = 0;

		while (i < n && p[i] == '/')
			i++;
		for (s = i; i < n && p[i] != '/'; i++)
			f |= CL(p[i]);
		if ((len = i - s) == 0)
			break;
		if (abs && len <= 2 && p[s] == '.' && p[i - 1] == '.') { /* . or .. */
			if (len == 2 && over) {
				over--;
			} else if (len == 2 && ncomp) {
				ncomp--;
				pop(&w);
			}
			continue;
		}
		if (over || ncomp >= depth) {
			over++;
			continue;
		}
		put(&w, "/", sl);
		component(&w, p + s, len, f);
		if (w.full) {
			w.len = start;
			w.full = 0;
			over++;
			was_cut = 1;
		} else {
			ncomp++;
		}
	}
	if (over) {
		for (; w.len + 3 > w.lim && w.len; was_cut = 1)
			pop(&w);
		if (w.len || abs) /* a relative pattern cut to nothing is "**" */
			put(&w, "/", 1);
		put(&w, "**", 2);
	} else if (abs && !w.len) {
		put(&w, "/", 1);
	}
	if (w.full) { /* not even the tail or the root fits (cap < 4) */
		w.len = 0;
		was_cut = 1;
	}
	out[w.len] = '\0';
	if (cut)
		*cut = was_cut;
	return w.len;
}

size_t gen_path_coarse(const char *path, int depth, char *out, size_t cap)
{
	if (!cap || !path)
		return cap ? (out[0] = '\0') : 0;
	return path_n(path, strlen(path), out, cap, depth > 0 ? (size_t)depth : 0,
		      NULL);
}

size_t gen_path(const char *path, char *out, size_t cap)
{
	return gen_path_coarse(path, INT_MAX, out, cap); /* no path is that deep */
}

static void arg(struct wr *w, const char *a, size_t n)
{
	unsigned f = 0;

	if (n && a[0] == '/') {
		size_t room = w->lim - w->len + 1, l;
		int cut;

		l = path_n(a, n, w->out + w->len,
			   room < ARG_PATH_CAP ? room : ARG_PATH_CAP, SIZE_MAX, &cut);
		w->full |= cut && room < ARG_PATH_CAP; /* cut by the line's cap */
		w->len += w->full ? 0 : l;
		return;
	}
	for (size_t i = 0; i < n; i++)
		f |= CL(a[i]);
	if (n && f == C_DIG)
		put(w, "#", 1);
	else if ((n && !(f & ~C_ALNUM) && tok_rep(f, n)) || (n == 36 && is_uuid(a)))
		put(w, "*", 1);
	else if (n > ARG_KEEP) {
		put(w, a, ARG_KEEP);
		put(w, "*", 1);
	} else
		put(w, a, n);
}

/* Cuts the line back to the newest argument boundary (ring, nb entries)
 * after which " ..." fits, and appends it. */
static void ellipsis(struct wr *w, const size_t *ring, size_t nb)
{
	w->full = 0;
	for (size_t k = 0; k < 5 && k < nb; k++) {
		size_t b = ring[(nb - 1 - k) % 5];

		if (b + (b ? 4 : 3) <= w->lim) {
			w->len = b;
			put(w, &" ..."[!b], 4 - !b); /* "..." at the start */
			return;
		}
	}
	w->len = 0;
}

size_t gen_args(const char *args, size_t args_len, char *out, size_t cap,
		int max_args)
{
	struct wr w = { out, 0, cap ? cap - 1 : 0, 0 };
	/* Each argument after the first adds >= 1 byte (its ' '), so among the
	 * last 5 boundaries one leaves room for " ..." whenever cap >= 4. */
	size_t ring[5], nb = 0, i = 0;
	int k = 0;

	if (!cap)
		return 0;
	while (args && i < args_len) {
		size_t n = strnlen(args + i, args_len - i);

		ring[nb++ % 5] = w.len;
		if (max_args > 0 && k == max_args) {
			ellipsis(&w, ring, nb);
			break;
		}
		if (k++)
			put(&w, " ", 1);
		arg(&w, args + i, n);
		if (w.full) {
			ellipsis(&w, ring, nb);
			break;
		}
		i += n + 1;
	}
	for (size_t j = 0; j < w.len; j++) /* one line, no control bytes */
		if (CL(out[j]) & C_CTL)
			out[j] = '?';
	out[w.len] = '\0';
	return w.len;
}

/* One component: pattern p[0..pe) against s[0..se). '*' keeps a single
 * backtrack point; '#' takes a maximal digit run (or a literal '#'). */
static int comp_match(const char *p, const char *pe, const char *s,
		      const char *se)
{
	const char *bp = NULL, *bs = NULL;

	while (s < se) {
		if (p < pe && *p == '*') {
			bp = ++p;
			bs = s;
		} else if (p < pe && *p == '#' && (*s == '#' || (CL(*s) & C_DIG))) {
			p++;
			if (*s++ != '#')
				while (s < se && (CL(*s) & C_DIG))
					s++;
		} else if (p < pe && *p != '#' && *p == *s) {
			p++;
			s++;
		} else if (bp) {
			p = bp;
			s = ++bs;
		} else {
			return 0;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int gen_match(const char *pattern, const char *path)
{
	const char *p = pattern, *s = path, *pe, *se;

	if (!p || !s || (*p == '/') != (*s == '/'))
		return 0;
	for (;; p = pe, s = se) {
		while (*p == '/')
			p++;
		while (*s == '/')
			s++;
		pe = strchrnul(p, '/');
		se = strchrnul(s, '/');
		if (pe - p == 2 && p[0] == '*' && p[1] == '*' && !*pe)
			return 1; /* a final "**": any rest */
		if (p == pe || s == se)
			return p == pe && s == se;
		if (se - s == 2 && s[0] == '*' && s[1] == '*' && !*se)
			return 0; /* only "**" covers a final "**" */
		if (!comp_match(p, pe, s, se))
			return 0;
	}
}
