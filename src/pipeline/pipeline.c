/* pipeline.c - see pipeline.h. Filters apply to what is printed, never to
 * what is recorded or enriched, so a recording replays with any filter. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline/pipeline.h"
#include "sensor/sensor.h"
#include "vigil_event.h"

static int side_sink(void *ctx, uint32_t kind, const void *data, size_t len)
{
	struct pipeline *p = ctx;
	int rc;

	if (!p->rec)
		return 0;
	rc = rec_write(p->rec, kind, data, len);
	if (rc < 0 && !p->rec_err)
		p->rec_err = rc;
	return rc;
}

int pipeline_init(struct pipeline *p, int live)
{
	struct enrich_opts eo = {.live = live, .state_root = getenv("VIGIL_STATE_ROOT")};

	memset(p, 0, sizeof(*p));
	p->class_mask = 0xf;
	p->en = enrich_new(&eo, side_sink, p);
	p->w = jsonw_new();
	if (!p->en || !p->w) {
		pipeline_fini(p);
		return -ENOMEM;
	}
	p->fc.host_name = p->host_name;
	return 0;
}

void pipeline_fini(struct pipeline *p)
{
	enrich_free(p->en);
	jsonw_free(p->w);
	p->en = NULL;
	p->w = NULL;
}

static uint32_t class_of(uint16_t t)
{
	if (t < VG_OPEN)
		return 1;
	if (t < VG_CONNECT)
		return 2;
	if (t < VG_SETUID)
		return 4;
	return 8;
}

static int selected(struct pipeline *p, const struct vg_hdr *h,
		    const struct enrich_view *v)
{
	const struct resource *r = v->res;

	if (!(class_of(h->type) & p->class_mask))
		return 0;
	if (p->host_only && r->cg.runtime != CG_HOST)
		return 0;
	if (p->container) {
		size_t n = strlen(p->container);

		if (r->cg.runtime == CG_HOST)
			return 0;
		if (strcmp(r->cg.container_id, p->container) &&
		    strcmp(r->meta.name, p->container) &&
		    !(n >= 12 && !strncmp(r->cg.container_id, p->container, n)))
			return 0;
	}
	return 1;
}

int pipeline_record(struct pipeline *p, const void *rec, size_t len,
		    uint64_t now_ns)
{
	const struct vg_hdr *h = rec;
	struct enrich_view v;
	int rc = enrich_event(p->en, rec, now_ns, &v);

	if (p->rec) {
		int wr = rec_write(p->rec, REC_KIND_EVENT, rec, len);

		if (wr < 0 && !p->rec_err)
			p->rec_err = wr;
	}
	if (rc <= 0)
		return p->rec_err;
	if (p->hook)
		p->hook(p->hook_ctx, rec, &v);
	if (!selected(p, h, &v)) {
		p->filtered++;
	} else if (p->out) {
		if (p->json) {
			size_t n;
			const char *s;

			event_json(p->w, rec, &v, &p->fc);
			s = jsonw_data(p->w, &n);
			if (jsonw_error(p->w) == 0) {
				fwrite(s, 1, n, p->out);
				fputc('\n', p->out);
			} else {
				p->write_errors++;
			}
		} else {
			char line[2048];

			event_text(line, sizeof(line), rec, &v, &p->fc);
			fprintf(p->out, "%s\n", line);
		}
		p->shown++;
	}
	enrich_done(p->en, rec);
	return p->rec_err;
}

int pipeline_write_meta(struct pipeline *p)
{
	char text[512];
	int n = snprintf(text, sizeof(text),
			 "host_name=%s\nboot_to_real_ns=%" PRId64 "\nabi=%d\n",
			 p->host_name, p->fc.boot_to_real_ns, VG_ABI_VERSION);

	if (!p->rec)
		return 0;
	return rec_write(p->rec, REC_KIND_META, text, (size_t)n);
}

int pipeline_read_meta(struct pipeline *p, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *line = text + i, *eq, *nl;
		size_t ll;

		nl = memchr(line, '\n', len - i);
		ll = nl ? (size_t)(nl - line) : len - i;
		i += ll + 1;
		eq = memchr(line, '=', ll);
		if (!eq)
			continue;
		if (eq - line == 9 && !strncmp(line, "host_name", 9)) {
			size_t vl = ll - 10;

			if (vl >= sizeof(p->host_name))
				vl = sizeof(p->host_name) - 1;
			memcpy(p->host_name, eq + 1, vl);
			p->host_name[vl] = 0;
		} else if (eq - line == 15 &&
			   !strncmp(line, "boot_to_real_ns", 15)) {
			p->fc.boot_to_real_ns = strtoll(eq + 1, NULL, 10);
		} else if (eq - line == 3 && !strncmp(line, "abi", 3)) {
			if (strtol(eq + 1, NULL, 10) != VG_ABI_VERSION)
				return -EPROTO;
		}
	}
	return 0;
}

int pipeline_replay(struct pipeline *p, struct rec_reader *rd, uint64_t *bad,
		    void (*after_event)(void *ctx), void *ctx,
		    const volatile int *stop)
{
	union {
		struct vg_hdr h;
		char b[REC_MAX_PAYLOAD];
	} buf;

	while (!stop || !*stop) {
		const void *data;
		uint32_t kind;
		size_t len;
		int n = rec_next(rd, &kind, &data, &len);

		if (n == 0)
			return 0;
		if (n < 0)
			return -EBADMSG;
		if (kind == REC_KIND_META) {
			if (pipeline_read_meta(p, data, len) < 0)
				return -EPROTO;
		} else if (kind == REC_KIND_EVENT) {
			/* a copy: checking canonicalises strings in place */
			memcpy(buf.b, data, len);
			if (vg_record_check(buf.b, len) < 0) {
				(*bad)++;
				continue;
			}
			pipeline_record(p, buf.b, len, 0);
			if (after_event)
				after_event(ctx);
		} else {
			enrich_side(p->en, kind, data, len);
		}
	}
	return 0;
}
