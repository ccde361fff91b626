/* evchunk.c - the flight recorder's event encoding inside one chunk (before
 * the chunk is deflated). Per event:
 *
 *   varint type, varint len, varint zigzag(ts_ns - previous event's ts_ns),
 *   the record with ts_ns zeroed, delta-coded against the previous record
 *     of the same length in this chunk (zeros for the first): runs of
 *     (varint same, varint lit, lit raw bytes), "same" bytes copied from
 *     that previous record, until len bytes are produced;
 *   u8 flags: 1 process known, 2 parent known, 4 process as the previous
 *     event's, 8 parent as the previous event's; then for each known and
 *     not repeated one: varint pid, varint ppid, varint n + exe, varint n +
 *     name.
 *
 * Invariants: the decoder checks every length against its buffers and runs
 * vg_record_check() on each record, so damaged input yields -EBADMSG,
 * never an over-read; records are canonical (sensor-checked) before
 * encoding, so decode(encode(x)) is byte-identical. Literals stay raw
 * bytes (not XOR) so that deflate finds the repeated text across events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sensor/sensor.h"
#include "store/evstore.h"
#include "vigil_event.h"

#define REC_MAX 4096
#define NPREV 8 /* distinct record sizes remembered (6 exist) */

struct prev {
	size_t len; /* 0: unused */
	uint8_t *buf;
};

struct evchunk_enc {
	struct prev prev[NPREV];
	uint64_t ts;
	struct proc_info proc, parent;
	int have_proc, have_parent;
};

struct evchunk_dec {
	struct prev prev[NPREV];
	uint64_t ts;
	struct proc_info proc, parent;
	int have_proc, have_parent;
	const uint8_t *in;
	size_t n, off;
	_Alignas(8) uint8_t out[REC_MAX];
};

static void prev_free(struct prev *p)
{
	for (int i = 0; i < NPREV; i++)
		free(p[i].buf);
}

/* The previous record of this length (zeroed when new); NULL if no slot. */
static uint8_t *prev_get(struct prev *p, size_t len)
{
	for (int i = 0; i < NPREV; i++) {
		if (p[i].len == len)
			return p[i].buf;
		if (!p[i].len) {
			p[i].buf = calloc(1, len);
			if (!p[i].buf)
				return NULL;
			p[i].len = len;
			return p[i].buf;
		}
	}
	return NULL;
}

static void prev_clear(struct prev *p)
{
	prev_free(p);
	memset(p, 0, sizeof(*p) * NPREV);
}

struct evchunk_enc *evchunk_enc_new(void)
{
	return calloc(1, sizeof(struct evchunk_enc));
}

void evchunk_enc_free(struct evchunk_enc *e)
{
	if (!e)
		return;
	prev_free(e->prev);
	free(e);
}

void evchunk_enc_reset(struct evchunk_enc *e)
{
	prev_clear(e->prev);
	e->ts = 0;
	e->have_proc = e->have_parent = 0;
}

static size_t put_varint(uint8_t *o, uint64_t v)
{
	size_t n = 0;

	while (v > 0x7f) {
		o[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	o[n++] = (uint8_t)v;
	return n;
}

static int get_varint(const uint8_t *in, size_t n, size_t *off, uint64_t *v)
{
	uint64_t r = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*off >= n)
			return -EBADMSG;
		b = in[(*off)++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -EBADMSG;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Delta-codes cur against prev (n bytes each) into o; returns its length
 * (at most n + 2 * (n / 4 + 1) * 3 bytes). */
static size_t delta_encode(const uint8_t *cur, const uint8_t *prev, size_t n,
			   uint8_t *o)
{
	size_t i = 0, w = 0;

	while (i < n) {
		size_t s = i, j, k;

		while (i + 8 <= n && ld64(cur + i) == ld64(prev + i))
			i += 8;
		while (i < n && cur[i] == prev[i])
			i++;
		/* literals until 4 equal bytes in a row, or equal to the end */
		j = i;
		while (j < n) {
			if (cur[j] != prev[j]) {
				j++;
				continue;
			}
			k = j;
			while (k < n && cur[k] == prev[k] && k - j < 4)
				k++;
			if (k - j >= 4 || k == n)
				break;
			j = k;
		}
		w += put_varint(o + w, i - s);
		w += put_varint(o + w, j - i);
		memcpy(o + w, cur + i, j - i);
		w += j - i;
		i = j;
	}
	return w;
}

/* Decodes len bytes from in (n available); *used = bytes consumed. */
static int delta_decode(const uint8_t *in, size_t n, const uint8_t *prev,
			uint8_t *out, size_t len, size_t *used)
{
	size_t off = 0, o = 0;

	while (o < len) {
		uint64_t same, lit;

		if (get_varint(in, n, &off, &same) < 0 ||
		    get_varint(in, n, &off, &lit) < 0 || (!same && !lit) ||
		    same > len - o)
			return -EBADMSG;
		memcpy(out + o, prev + o, same);
		o += same;
		if (lit > len - o || lit > n - off)
			return -EBADMSG;
		memcpy(out + o, in + off, lit);
		o += lit;
		off += lit;
	}
	*used = off;
	return 0;
}

static int same_proc(const struct proc_info *a, const struct proc_info *b)
{
	return a->pid == b->pid && a->ppid == b->ppid &&
	       !strcmp(a->exe, b->exe) && !strcmp(a->name, b->name);
}

static size_t put_str(uint8_t *o, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1), w = put_varint(o, n);

	memcpy(o + w, s, n);
	return w + n;
}

static size_t put_proc(uint8_t *o, const struct proc_info *p)
{
	size_t w = put_varint(o, p->pid);

	w += put_varint(o + w, p->ppid);
	w += put_str(o + w, p->exe, sizeof(p->exe));
	w += put_str(o + w, p->name, sizeof(p->name));
	return w;
}

/* Encodes one side (process or parent): sets flag bits, writes fields. */
static size_t side(uint8_t *o, const struct proc_info *p, struct proc_info *last,
		   int *have_last, uint8_t *flags, uint8_t known, uint8_t same)
{
	size_t w = 0;

	if (!p) {
		*have_last = 0;
		return 0;
	}
	*flags |= known;
	if (*have_last && same_proc(p, last)) {
		*flags |= same;
		return 0;
	}
	w = put_proc(o, p);
	*last = *p;
	last->exe[sizeof(last->exe) - 1] = 0;
	last->name[sizeof(last->name) - 1] = 0;
	*have_last = 1;
	return w;
}

int evchunk_enc_add(struct evchunk_enc *e, uint8_t **buf, size_t *len,
		    size_t *cap, const void *rec, size_t reclen,
		    const struct enrich_view *v)
{
	const struct vg_hdr *h = rec;
	size_t need = *len + 2 * reclen + 3 * 64 + 2 * (256 + 32) + 64, w;
	uint8_t *o, *prev, *fl;
	_Alignas(8) uint8_t tmp[REC_MAX];
	uint64_t ts = h->ts_ns;
	int64_t d;

	if (reclen < sizeof(*h) || reclen > REC_MAX)
		return -EINVAL;
	if (need > *cap) {
		size_t nc = *cap ? *cap : 4096;
		uint8_t *nb;

		while (nc < need)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	prev = prev_get(e->prev, reclen);
	if (!prev)
		return -ENOMEM;
	memcpy(tmp, rec, reclen);
	((struct vg_hdr *)tmp)->ts_ns = 0;
	o = *buf + *len;
	w = put_varint(o, h->type);
	w += put_varint(o + w, reclen);
	d = (int64_t)(ts - e->ts);
	w += put_varint(o + w, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
	e->ts = ts;
	w += delta_encode(tmp, prev, reclen, o + w);
	memcpy(prev, tmp, reclen);
	fl = o + w++;
	*fl = 0;
	w += side(o + w, v ? v->proc : NULL, &e->proc, &e->have_proc, fl, 1, 4);
	w += side(o + w, v ? v->parent : NULL, &e->parent, &e->have_parent, fl,
		  2, 8);
	*len += w;
	return 0;
}

struct evchunk_dec *evchunk_dec_new(void)
{
	return calloc(1, sizeof(struct evchunk_dec));
}

void evchunk_dec_free(struct evchunk_dec *d)
{
	if (!d)
		return;
	prev_free(d->prev);
	free(d);
}

void evchunk_dec_reset(struct evchunk_dec *d, const uint8_t *buf, size_t n)
{
	prev_clear(d->prev);
	d->ts = 0;
	d->have_proc = d->have_parent = 0;
	d->in = buf;
	d->n = n;
	d->off = 0;
}

static int get_str(struct evchunk_dec *d, char *out, size_t cap)
{
	uint64_t n;

	if (get_varint(d->in, d->n, &d->off, &n) < 0 || n >= cap ||
	    n > d->n - d->off)
		return -EBADMSG;
	memcpy(out, d->in + d->off, n);
	out[n] = 0;
	d->off += n;
	return 0;
}

static int get_proc(struct evchunk_dec *d, struct proc_info *p)
{
	uint64_t pid, ppid;

	memset(p, 0, sizeof(*p));
	if (get_varint(d->in, d->n, &d->off, &pid) < 0 ||
	    get_varint(d->in, d->n, &d->off, &ppid) < 0 || pid > UINT32_MAX ||
	    ppid > UINT32_MAX)
		return -EBADMSG;
	p->pid = (uint32_t)pid;
	p->ppid = (uint32_t)ppid;
	if (get_str(d, p->exe, sizeof(p->exe)) < 0 ||
	    get_str(d, p->name, sizeof(p->name)) < 0)
		return -EBADMSG;
	return 0;
}

static int dec_side(struct evchunk_dec *d, uint8_t flags, uint8_t known,
		    uint8_t same, struct proc_info *last, int *have_last,
		    const struct proc_info **out)
{
	*out = NULL;
	if (!(flags & known)) {
		*have_last = 0;
		return 0;
	}
	if (flags & same) {
		if (!*have_last)
			return -EBADMSG;
	} else {
		if (get_proc(d, last) < 0)
			return -EBADMSG;
		*have_last = 1;
	}
	*out = last;
	return 0;
}

int evchunk_dec_next(struct evchunk_dec *d, const void **rec, size_t *len,
		     struct enrich_view *v)
{
	uint64_t type, rl, zz;
	size_t used;
	uint8_t *prev, flags;
	struct vg_hdr *h;

	if (d->off >= d->n)
		return 0;
	if (get_varint(d->in, d->n, &d->off, &type) < 0 ||
	    get_varint(d->in, d->n, &d->off, &rl) < 0 ||
	    get_varint(d->in, d->n, &d->off, &zz) < 0 || rl < sizeof(*h) ||
	    rl > REC_MAX)
		goto bad;
	prev = prev_get(d->prev, rl);
	if (!prev)
		goto bad;
	if (delta_decode(d->in + d->off, d->n - d->off, prev, d->out, rl,
			 &used) < 0)
		goto bad;
	d->off += used;
	memcpy(prev, d->out, rl);
	d->ts += (uint64_t)((int64_t)(zz >> 1) ^ -(int64_t)(zz & 1));
	h = (struct vg_hdr *)d->out;
	h->ts_ns = d->ts;
	if (h->type != type || vg_record_check(d->out, rl) < 0 ||
	    h->type == VG_CGROUP)
		goto bad;
	if (d->off >= d->n)
		goto bad;
	flags = d->in[d->off++];
	if (flags & ~0x0f)
		goto bad;
	if (dec_side(d, flags, 1, 4, &d->proc, &d->have_proc, &v->proc) < 0 ||
	    dec_side(d, flags, 2, 8, &d->parent, &d->have_parent,
		     &v->parent) < 0)
		goto bad;
	*rec = d->out;
	*len = rl;
	return 1;
bad:
	d->off = d->n;
	return -EBADMSG;
}
