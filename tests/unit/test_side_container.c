/* test_side_container.c - pins the layout of the REC_KIND_CONTAINER side
 * frame (struct side_container, src/enrich/enrich.h; written into
 * recordings, so part of the recording format) and checks that
 * enrich_side() reads frames of every generation: the original 968-byte
 * frame (before pod labels; labels read as ""), today's, and a longer one
 * from a newer build (its extra bytes ignored), while a shorter one is
 * refused. Also: unterminated strings in a frame are cut, not overrun. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "enrich/enrich.h"
#include "harness.h"
#include "record/recording.h"
#include "vigil_event.h"

static struct enrich *new_enrich(uint64_t cgroup_id, const char *leaf)
{
	struct enrich_opts o = {0};
	struct enrich *e = enrich_new(&o, NULL, NULL);
	struct vg_cgroup c;
	struct enrich_view v;

	if (!e)
		return NULL;
	memset(&c, 0, sizeof(c));
	c.h.type = VG_CGROUP;
	c.h.size = sizeof(c);
	c.h.abi = VG_ABI_VERSION;
	c.h.cgroup_id = cgroup_id;
	c.depth = 1;
	c.hierarchy = 2;
	snprintf(c.name[0], sizeof(c.name[0]), "%s", leaf);
	CHECK_INT(enrich_event(e, &c, 1, &v), 0);
	return e;
}

static void test_layout(void)
{
	/* the original frame: offsets as tests/tools/mkrec.py writes them */
	CHECK_INT(offsetof(struct side_container, key), 0);
	CHECK_INT(offsetof(struct side_container, meta.name), 8);
	CHECK_INT(offsetof(struct side_container, meta.image), 136);
	CHECK_INT(offsetof(struct side_container, meta.pod_name), 392);
	CHECK_INT(offsetof(struct side_container, meta.pod_namespace), 520);
	CHECK_INT(offsetof(struct side_container, meta.pod_uid), 648);
	CHECK_INT(offsetof(struct side_container, meta.bundle), 712);
	CHECK_INT(SIDE_CONTAINER_V1_SIZE, 968);
	/* appended: pod labels */
	CHECK_INT(offsetof(struct side_container, meta.labels), 968);
	CHECK_INT(sizeof(((struct container_meta *)0)->labels), 512);
	CHECK_INT(sizeof(struct side_container), 1480);
	CHECK_INT(sizeof(struct side_proc), 264);
}

static void test_generations(void)
{
	struct enrich *e = new_enrich(4242, "ctr1");
	const struct resource *r;
	unsigned char *buf;
	struct side_container sc;

	CHECK(e != NULL);
	if (!e)
		return;
	buf = calloc(1, sizeof(sc) + 64);
	CHECK(buf != NULL);
	if (!buf) {
		enrich_free(e);
		return;
	}
	memset(&sc, 0, sizeof(sc));
	sc.key = 4242;
	snprintf(sc.meta.name, sizeof(sc.meta.name), "web");
	snprintf(sc.meta.image, sizeof(sc.meta.image), "nginx:1.25");
	snprintf(sc.meta.labels, sizeof(sc.meta.labels), "app=web");

	/* an old frame: everything before labels; labels stay "" */
	memcpy(buf, &sc, SIDE_CONTAINER_V1_SIZE);
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, SIDE_CONTAINER_V1_SIZE), 0);
	r = enrich_find_container(e, "ctr1");
	CHECK(r != NULL && r->meta_known);
	CHECK_STR(r ? r->meta.name : NULL, "web");
	CHECK_STR(r ? r->meta.image : NULL, "nginx:1.25");
	CHECK_STR(r ? r->meta.labels : NULL, "");

	/* today's frame */
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, &sc, sizeof(sc)), 0);
	CHECK_STR(r ? r->meta.labels : NULL, "app=web");

	/* an old frame again replaces labels too (what the frame says) */
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, SIDE_CONTAINER_V1_SIZE), 0);
	CHECK_STR(r ? r->meta.labels : NULL, "");

	/* a newer build's longer frame: what we know is read, the rest not */
	memcpy(buf, &sc, sizeof(sc));
	memset(buf + sizeof(sc), 'z', 64);
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, sizeof(sc) + 64), 0);
	CHECK_STR(r ? r->meta.labels : NULL, "app=web");

	/* in between: labels cut where the frame ends */
	memcpy(buf, &sc, sizeof(sc));
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, SIDE_CONTAINER_V1_SIZE + 4), 0);
	CHECK_STR(r ? r->meta.labels : NULL, "app=");

	/* shorter than the first layout: refused, nothing changed */
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, SIDE_CONTAINER_V1_SIZE - 1),
		  -EBADMSG);
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, 0), -EBADMSG);
	CHECK_STR(r ? r->meta.labels : NULL, "app=");

	/* strings without their NUL are cut at the field's end */
	memset(buf, 'x', sizeof(sc));
	memcpy(buf, &sc.key, sizeof(sc.key));
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, buf, sizeof(sc)), 0);
	CHECK_INT(r ? strlen(r->meta.labels) : 0, sizeof(r->meta.labels) - 1);
	CHECK_INT(r ? strlen(r->meta.bundle) : 0, sizeof(r->meta.bundle) - 1);

	/* a frame for a cgroup not seen is ignored */
	sc.key = 7;
	CHECK_INT(enrich_side(e, REC_KIND_CONTAINER, &sc, sizeof(sc)), 0);
	free(buf);
	enrich_free(e);
}

int main(void)
{
	test_layout();
	test_generations();
	return h_finish("test_side_container");
}
