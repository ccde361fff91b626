/* test_evstore.c - the flight recorder (src/store/evstore*.c, evchunk.c) in
 * fresh temporary directories: the chunk codec round-trips every record
 * type with its enrichment and rejects damaged input without over-reading;
 * events come back byte-identical from open chunks (tails) and sealed
 * (deflated) ones; resources are found by id, prefix, name and unit;
 * retention by age, by size overall and per resource, oldest first; a full
 * queue drops and counts; a full database (max_page_count) keeps events
 * queued and counted, never corrupts, and writes them once there is room;
 * a crash leaves readable tails that the next open deflates; a cgroup
 * key reused by another container keeps the two apart; a corrupt
 * file is refused with a message saying what to do; alerts by id/prefix. */
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"
#include "sensor/sensor.h"
#include "store/evstore.h"
#include "vigil_event.h"

#define SEC 1000000000ULL
#define B2R 1796216400000000000LL /* wall = ts + B2R: 2026-12-02T13:00Z */

static char base[64];
static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

union rec {
	struct vg_hdr h;
	struct vg_exec x;
	struct vg_proc p;
	struct vg_file f;
	struct vg_net n;
	struct vg_priv v;
};

static void hdr(union rec *r, uint16_t type, uint32_t pid, uint64_t ts)
{
	memset(r, 0, sizeof(*r));
	r->h.type = type;
	r->h.size = (uint16_t)vg_record_size(type);
	r->h.abi = VG_ABI_VERSION;
	r->h.pid = r->h.tid = pid;
	r->h.ppid = 1;
	r->h.ts_ns = ts;
	r->h.cgroup_id = 77;
	snprintf(r->h.comm, sizeof(r->h.comm), "proc%u", pid % 7);
}

/* Event i of a varied stream: every class, strings that change. */
static void make(union rec *r, int i, uint64_t ts)
{
	static const uint16_t types[] = {VG_EXEC, VG_FORK, VG_EXIT, VG_OPEN,
					 VG_RENAME, VG_CONNECT, VG_DNS,
					 VG_SETUID, VG_MOUNT};
	uint16_t t = types[i % 9];

	hdr(r, t, 100 + (uint32_t)(i % 5), ts);
	r->h.repeat = (uint32_t)(i % 4 == 0 ? i : 0);
	r->h.ret = i % 11 == 0 ? -13 : 0;
	switch (t) {
	case VG_EXEC:
		snprintf(r->x.exe, sizeof(r->x.exe), "/usr/bin/tool-%d", i % 13);
		snprintf(r->x.cwd, sizeof(r->x.cwd), "/");
		r->x.args_len = (uint32_t)snprintf(r->x.args, sizeof(r->x.args),
						   "tool%c--n=%d%cx", 0, i, 0) + 1;
		r->x.argc = 3;
		break;
	case VG_FORK:
	case VG_EXIT:
		r->p.child_pid = 500 + (uint32_t)i;
		r->p.exit_code = (uint32_t)(i % 3) << 8;
		break;
	case VG_OPEN:
	case VG_RENAME:
		snprintf(r->f.path, sizeof(r->f.path), "/var/data/file-%d.txt", i);
		if (t == VG_RENAME)
			snprintf(r->f.path2, sizeof(r->f.path2), "/tmp/n%d", i);
		r->f.access = VG_ACC_READ;
		break;
	case VG_CONNECT:
	case VG_DNS:
		r->n.family = 2;
		r->n.sock_type = 1;
		r->n.rport = (uint16_t)(1000 + i);
		r->n.raddr[0] = 10;
		r->n.raddr[3] = (uint8_t)i;
		r->n.payload_len = t == VG_DNS ? 12 : 0;
		if (t == VG_DNS)
			memset(r->n.payload, 0x41, 12);
		break;
	default:
		r->v.arg[0] = (uint64_t)i;
		r->v.arg[3] = 105;
		snprintf(r->v.str2, sizeof(r->v.str2), "/mnt/%d", i);
	}
}

static void procs(struct proc_info *p, struct proc_info *pp, int i)
{
	memset(p, 0, sizeof(*p));
	memset(pp, 0, sizeof(*pp));
	p->pid = 100 + (uint32_t)(i % 5);
	p->ppid = 1;
	snprintf(p->exe, sizeof(p->exe), "/usr/bin/tool-%d", i % 3);
	snprintf(p->name, sizeof(p->name), "tool%d", i % 3);
	pp->pid = 1;
	snprintf(pp->exe, sizeof(pp->exe), "/sbin/init");
}

static void test_codec(void)
{
	struct evchunk_enc *e = evchunk_enc_new();
	struct evchunk_dec *d = evchunk_dec_new();
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	union rec recs[200];
	struct proc_info p[200], pp[200];
	struct resource res;
	int ok = 1, n = 0;

	memset(&res, 0, sizeof(res));
	for (int i = 0; i < 200; i++) {
		struct enrich_view v = {&res, NULL, NULL};

		make(&recs[i], i, 1000 * SEC + (uint64_t)i * 7919);
		if (i == 50)
			recs[i].h.ts_ns = 999 * SEC; /* time going back */
		procs(&p[i], &pp[i], i);
		v.proc = i % 7 == 3 ? NULL : &p[i];
		v.parent = i % 5 == 1 ? NULL : &pp[i];
		CHECK(vg_record_check(&recs[i], recs[i].h.size) == 0);
		CHECK(evchunk_enc_add(e, &buf, &len, &cap, &recs[i],
				      recs[i].h.size, &v) == 0);
	}
	CHECK(len < 200 * 100); /* delta coding works before any deflate */
	evchunk_dec_reset(d, buf, len);
	for (;;) {
		const void *rec;
		size_t rl;
		struct enrich_view v = {&res, NULL, NULL};
		int r = evchunk_dec_next(d, &rec, &rl, &v);

		if (r <= 0) {
			CHECK(r == 0);
			break;
		}
		if (rl != recs[n].h.size || memcmp(rec, &recs[n], rl) ||
		    (n % 7 == 3) != (v.proc == NULL) ||
		    (n % 5 == 1) != (v.parent == NULL) ||
		    (v.proc && strcmp(v.proc->exe, p[n].exe)) ||
		    (v.proc && strcmp(v.proc->name, p[n].name)) ||
		    (v.parent && strcmp(v.parent->exe, pp[n].exe)))
			ok = 0;
		n++;
	}
	CHECK(ok);
	CHECK_INT(n, 200);
	/* damage: truncations and flipped bytes never crash or over-read */
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		uint8_t *copy = malloc(cut ? cut : 1);
		const void *rec;
		size_t rl;
		int r, k = 0;

		memcpy(copy, buf, cut);
		evchunk_dec_reset(d, copy, cut);
		while (k++ < 1000) {
			struct enrich_view v = {&res, NULL, NULL};

			r = evchunk_dec_next(d, &rec, &rl, &v);
			if (r <= 0)
				break;
		}
		CHECK(k < 1000);
		free(copy);
	}
	srand(7);
	for (int t = 0; t < 300; t++) {
		uint8_t *copy = malloc(len);
		const void *rec;
		size_t rl;
		int k = 0;

		memcpy(copy, buf, len);
		copy[(size_t)rand() % len] ^= (uint8_t)(1 + rand() % 255);
		evchunk_dec_reset(d, copy, len);
		for (;;) {
			struct enrich_view v = {&res, NULL, NULL};

			if (evchunk_dec_next(d, &rec, &rl, &v) <= 0 || ++k > 400)
				break;
		}
		CHECK(k <= 400);
		free(copy);
	}
	free(buf);
	evchunk_enc_free(e);
	evchunk_dec_free(d);
}

static struct evstore *open_store(const char *dir, struct evstore_opts *o)
{
	char err[1024];
	struct evstore *s;

	o->create = 1;
	o->check = 1;
	o->clock = fake_clock;
	s = evstore_open(dir, o, err, sizeof(err));
	if (!s)
		fprintf(stderr, "open: %s\n", err);
	return s;
}

static void container_res(struct resource *r, uint64_t key, const char *id,
			  const char *name)
{
	memset(r, 0, sizeof(*r));
	r->key = key;
	snprintf(r->path, sizeof(r->path), "/%s", id);
	r->cg.runtime = CG_RUNC;
	snprintf(r->cg.container_id, sizeof(r->cg.container_id), "%s", id);
	snprintf(r->meta.name, sizeof(r->meta.name), "%s", name);
	snprintf(r->meta.image, sizeof(r->meta.image), "shop/%s:1", name);
	r->meta_known = 1;
}

struct collect {
	union rec *want;
	int n, ok;
	uint64_t first, last;
};

static int collect(void *ctx, const struct evstore_event *e)
{
	struct collect *c = ctx;

	if (c->want && (e->len != c->want[c->n].h.size ||
			memcmp(e->rec, &c->want[c->n], e->len) ||
			e->wall_ns != c->want[c->n].h.ts_ns + (uint64_t)B2R ||
			strcmp(e->fc->host_name, "node-1") ||
			!e->view->proc || strcmp(e->view->proc->exe,
						  "/usr/bin/tool-0")))
		c->ok = 0;
	if (!c->n || e->wall_ns < c->first)
		c->first = e->wall_ns;
	if (e->wall_ns > c->last)
		c->last = e->wall_ns;
	c->n++;
	return 0;
}

static int find_one(void *ctx, const struct evstore_resource *r)
{
	*(struct evstore_resource *)ctx = *r;
	return 1;
}

static void test_roundtrip(void)
{
	char dir[128];
	struct evstore_opts o = {0};
	struct evstore *s;
	struct resource web, db;
	struct proc_info p, pp;
	struct format_ctx fc = {"node-1", B2R};
	static union rec recs[3000];
	struct evstore_resource found;
	struct evstore_stats st;
	struct collect c = {recs, 0, 1, 0, 0};

	snprintf(dir, sizeof(dir), "%s/rt", base);
	fake_now = 1;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	container_res(&web, 77, "0123456789abcdef0123", "web1");
	container_res(&db, 78, "fedcba9876543210fedc", "db1");
	procs(&p, &pp, 0);
	for (int i = 0; i < 3000; i++) {
		struct enrich_view v = {i % 3 == 2 ? &db : &web, &p, &pp};

		make(&recs[i], i, 5000 * SEC + (uint64_t)i * SEC / 100);
		CHECK(evstore_add(s, &recs[i], recs[i].h.size, &v, &fc,
				  recs[i].h.ts_ns + (uint64_t)B2R) == 0);
		if (i == 1500) { /* a write while chunks are open: tails */
			fake_now += 3 * SEC;
			CHECK(evstore_flush(s, 0, 0) > 0);
		}
	}
	CHECK(evstore_flush(s, 0, 0) == 0); /* not due yet */
	fake_now += 3 * SEC;
	CHECK(evstore_flush(s, 0, 0) > 0);
	evstore_stats(s, &st);
	CHECK_INT(st.stored, 3000);
	CHECK_INT(st.queued, 0);
	CHECK_INT(st.dropped, 0);
	/* readable while the last chunks are still open (tails) */
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "web1",
				     find_one, &found) == 1);
	CHECK_STR(found.key, "container:0123456789abcdef0123");
	CHECK_STR(found.res.meta.image, "shop/web1:1");
	{
		static union rec want[2000];
		int k = 0;

		for (int i = 0; i < 3000; i++)
			if (i % 3 != 2)
				want[k++] = recs[i];
		c.want = want;
		CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect,
					 &c, NULL) == 2000);
		CHECK(c.ok);
		CHECK_INT(c.n, 2000);
		evstore_seal_all(s);
		CHECK(evstore_flush(s, 0, 1) >= 0);
		c.n = 0;
		CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect,
					 &c, NULL) == 2000);
		CHECK(c.ok);
		c.want = NULL;
		c.n = 0;
		CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 2, collect,
					 &c, NULL) == 666); /* open, rename */
		c.n = 0;
		c.last = 0;
		CHECK(evstore_each_event(s, &found, 5010 * SEC + B2R,
					 5019 * SEC + B2R, 0xf, collect, &c,
					 NULL) == 601);
		CHECK(c.first >= 5010 * SEC + B2R && c.last <= 5019 * SEC + B2R);
	}
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "fedcba98765",
				     find_one, &found) == 1);
	CHECK_STR(found.res.meta.name, "db1");
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "nope", NULL,
				     NULL) == 0);
	CHECK(evstore_find_resources(s, EVSTORE_FIND_KEY, "host", NULL,
				     NULL) == 0);
	evstore_close(s);
	/* and after a reopen, read-only */
	o.read_only = 1;
	o.create = 0;
	{
		char err[512];

		o.check = 0;
		s = evstore_open(dir, &o, err, sizeof(err));
	}
	CHECK(s != NULL);
	if (s) {
		CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "web1",
					     find_one, &found) == 1);
		c.n = 0;
		CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect,
					 &c, NULL) == 2000);
		evstore_close(s);
	}
}

static void add_n(struct evstore *s, struct resource *r, int n, uint64_t t0,
		  uint64_t step, int noise)
{
	struct format_ctx fc = {"node-1", B2R};
	struct proc_info p, pp;
	union rec x;

	procs(&p, &pp, 0);
	for (int i = 0; i < n; i++) {
		struct enrich_view v = {r, &p, &pp};

		make(&x, 3, t0 + (uint64_t)i * step); /* opens */
		if (noise)
			for (int k = 0; k < 200; k++)
				x.f.path[k] = (char)('!' + rand() % 90);
		evstore_add(s, &x, x.h.size, &v, &fc, x.h.ts_ns + (uint64_t)B2R);
	}
}

static int64_t sql_int(struct evstore *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(evstore_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_retention(void)
{
	char dir[128];
	struct evstore_opts o = {.max_age_ns = 3600 * SEC};
	struct evstore *s;
	struct resource web, db;
	struct evstore_resource found;
	struct collect c = {0};

	snprintf(dir, sizeof(dir), "%s/age", base);
	fake_now = 1;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	container_res(&web, 77, "aaaaaaaaaaaaaaaa", "web1");
	/* 3 h of events, one every 2 minutes: chunks span <= 60 s */
	add_n(s, &web, 90, 10000 * SEC, 120 * SEC, 0);
	evstore_seal_all(s);
	CHECK(evstore_flush(s, 0, 1) > 0);
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "web1",
				     find_one, &found) == 1);
	CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c,
				 NULL) == 31); /* the last hour: 30 steps + 1 */
	CHECK(c.first >= c.last - 3600 * SEC);
	CHECK(c.last == 10000 * SEC + 89 * 120 * SEC + B2R);
	evstore_close(s);

	/* size: overall, oldest first, and per resource */
	snprintf(dir, sizeof(dir), "%s/size", base);
	memset(&o, 0, sizeof(o));
	o.max_bytes = 400 * 1024;
	o.max_resource_bytes = 100 * 1024;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	container_res(&web, 77, "aaaaaaaaaaaaaaaa", "web1");
	container_res(&db, 78, "bbbbbbbbbbbbbbbb", "db1");
	srand(1);
	for (int round = 0; round < 40; round++) {
		add_n(s, &web, 40, 20000 * SEC + (uint64_t)round * 100 * SEC,
		      SEC / 10, 1);
		if (round % 4 == 0)
			add_n(s, &db, 10, 20000 * SEC + (uint64_t)round * 100 * SEC,
			      SEC / 10, 1);
		evstore_seal_all(s);
		CHECK(evstore_flush(s, 0, 1) >= 0);
	}
	CHECK(sql_int(s, "SELECT sum(bytes) FROM chunks") <= 400 * 1024);
	CHECK(sql_int(s, "SELECT max(b) FROM (SELECT sum(bytes) b FROM chunks "
			 "GROUP BY res)") <= 100 * 1024);
	/* web1 lost its oldest chunks, kept the newest; db1 (small) kept all */
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "web1",
				     find_one, &found) == 1);
	memset(&c, 0, sizeof(c));
	evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c, NULL);
	CHECK(c.n > 0 && c.n < 1600);
	CHECK(c.last == 20000 * SEC + 39 * 100 * SEC + 39 * SEC / 10 + B2R);
	CHECK(c.first > 20000 * SEC + B2R);
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "db1",
				     find_one, &found) == 1);
	memset(&c, 0, sizeof(c));
	evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c, NULL);
	CHECK_INT(c.n, 100);
	{
		struct evstore_stats st;

		evstore_stats(s, &st);
		CHECK(st.pruned_chunks > 0);
	}
	evstore_close(s);
}

static void test_queue_and_full_disk(void)
{
	char dir[128];
	struct evstore_opts o = {.queue_events = 100};
	struct evstore *s;
	struct resource web;
	struct evstore_stats st;
	struct format_ctx fc = {"node-1", B2R};
	union rec x;
	int nobufs = 0;

	snprintf(dir, sizeof(dir), "%s/queue", base);
	fake_now = 1;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	container_res(&web, 77, "aaaaaaaaaaaaaaaa", "web1");
	for (int i = 0; i < 150; i++) {
		struct enrich_view v = {&web, NULL, NULL};

		make(&x, i, 100 * SEC + (uint64_t)i);
		nobufs += evstore_add(s, &x, x.h.size, &v, &fc,
				      x.h.ts_ns + B2R) == -ENOBUFS;
	}
	evstore_stats(s, &st);
	CHECK_INT(nobufs, 50);
	CHECK_INT(st.dropped, 50);
	CHECK_INT(st.queued, 100);
	CHECK(evstore_flush(s, 0, 1) == 100);
	evstore_stats(s, &st);
	CHECK_INT(st.stored, 100);
	evstore_close(s);

	/* a full database: counted, queued, retried, never corrupt */
	snprintf(dir, sizeof(dir), "%s/full", base);
	memset(&o, 0, sizeof(o));
	o.queue_events = 5000;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	sqlite3_exec(evstore_db(s), "PRAGMA max_page_count = 40", NULL, NULL,
		     NULL);
	srand(2);
	add_n(s, &web, 3000, 100 * SEC, SEC / 1000, 1);
	evstore_seal_all(s);
	CHECK(evstore_flush(s, 0, 1) == -ENOSPC);
	evstore_stats(s, &st);
	CHECK(st.write_errors >= 1);
	CHECK_INT(st.last_error, -ENOSPC);
	CHECK_INT(st.queued, 3000);
	CHECK(strstr(evstore_errmsg(s), "full") != NULL);
	add_n(s, &web, 3000, 200 * SEC, SEC / 1000, 1); /* 2000 fit */
	evstore_stats(s, &st);
	CHECK_INT(st.dropped, 1000);
	CHECK_INT(st.queued, 5000);
	CHECK(sql_int(s, "SELECT count(*) FROM pragma_quick_check "
			 "WHERE quick_check = 'ok'") == 1);
	sqlite3_exec(evstore_db(s), "PRAGMA max_page_count = 1000000", NULL,
		     NULL, NULL);
	evstore_seal_all(s);
	CHECK(evstore_flush(s, 0, 1) == 5000);
	evstore_stats(s, &st);
	CHECK_INT(st.stored, 5000);
	CHECK_INT(st.queued, 0);
	evstore_close(s);
}

static void test_crash_recovery(void)
{
	char dir[128];
	struct evstore_opts o = {0};
	struct evstore *s;
	struct resource web;
	struct evstore_resource found;
	struct collect c = {0};
	pid_t pid;
	int status = -1;

	snprintf(dir, sizeof(dir), "%s/crash", base);
	container_res(&web, 77, "aaaaaaaaaaaaaaaa", "web1");
	pid = fork();
	if (pid == 0) { /* writes open chunks, then dies without closing */
		fake_now = 1;
		s = open_store(dir, &o);
		if (!s)
			_exit(1);
		add_n(s, &web, 500, 100 * SEC, SEC / 100, 0);
		fake_now += 3 * SEC;
		if (evstore_flush(s, 0, 0) != 500)
			_exit(2);
		add_n(s, &web, 100, 200 * SEC, SEC / 100, 0); /* lost */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	{
		struct evstore_stats st;

		evstore_stats(s, &st);
		CHECK_INT(st.recovered_chunks, 1);
	}
	CHECK(sql_int(s, "SELECT count(*) FROM tails") == 0);
	CHECK(sql_int(s, "SELECT count(*) FROM chunks WHERE data IS NULL") == 0);
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "web1",
				     find_one, &found) == 1);
	CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c,
				 NULL) == 500);
	evstore_close(s);
}

/* A cgroup key that comes back as another container keeps both apart. */
static void test_key_reuse(void)
{
	char dir[128];
	struct evstore_opts o = {0};
	struct evstore *s;
	struct resource a, b;
	struct evstore_resource found;
	struct collect c = {0};

	snprintf(dir, sizeof(dir), "%s/reuse", base);
	fake_now = 1;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	container_res(&a, 77, "aaaaaaaaaaaaaaaa", "first");
	container_res(&b, 77, "bbbbbbbbbbbbbbbb", "second");
	add_n(s, &a, 30, 100 * SEC, SEC / 10, 0);
	fake_now += 3 * SEC;
	CHECK(evstore_flush(s, 0, 0) == 30); /* a's chunk open, as tails */
	add_n(s, &a, 5, 110 * SEC, SEC / 10, 0);
	add_n(s, &b, 20, 120 * SEC, SEC / 10, 0);
	add_n(s, &a, 7, 130 * SEC, SEC / 10, 0);
	evstore_close(s);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "first",
				     find_one, &found) == 1);
	CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c,
				 NULL) == 42);
	c.n = 0;
	CHECK(evstore_find_resources(s, EVSTORE_FIND_CONTAINER, "second",
				     find_one, &found) == 1);
	CHECK(evstore_each_event(s, &found, 0, UINT64_MAX, 0xf, collect, &c,
				 NULL) == 20);
	CHECK(c.first == 120 * SEC + B2R);
	evstore_close(s);
}

static int count_alert(void *ctx, const struct evstore_alert *a)
{
	(*(int *)ctx)++;
	return strcmp(a->resource, "container:x") != 0;
}

static void test_alerts_and_corrupt(void)
{
	char dir[128], path[160], err[1024];
	struct evstore_opts o = {0};
	struct evstore *s;
	struct evstore_alert a;
	int n = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/alerts", base);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(evstore_add_alert(s, "abcdef0123456789", 10 * SEC, "container:x",
				80, "{\"a\":1}") == 0);
	CHECK(evstore_add_alert(s, "abcdef9999999999", 20 * SEC, "container:x",
				40, "{\"a\":2}") == 0);
	CHECK(evstore_add_alert(s, "0000000000000001", 30 * SEC, "", 10,
				"{\"a\":3}") == 0);
	CHECK(evstore_get_alert(s, "abcdef0123456789", &a) == 0);
	CHECK_STR(a.json, "{\"a\":1}");
	CHECK_INT(a.score, 80);
	CHECK_STR(a.resource, "container:x");
	free((char *)a.json);
	CHECK(evstore_get_alert(s, "abcdef9", &a) == 0);
	CHECK_STR(a.id, "abcdef9999999999");
	free((char *)a.json);
	CHECK(evstore_get_alert(s, "abcdef", &a) == -EEXIST);
	CHECK(evstore_get_alert(s, "ffff", &a) == -ENOENT);
	CHECK(evstore_each_alert(s, "container:x", 0, UINT64_MAX, count_alert,
				 &n) == 2);
	CHECK_INT(n, 2);
	n = 0;
	CHECK(evstore_each_alert(s, NULL, 15 * SEC, UINT64_MAX, count_alert,
				 &n) == 1);
	evstore_close(s);

	/* a file that is not a database */
	snprintf(dir, sizeof(dir), "%s/corrupt", base);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/events.db", dir);
	f = fopen(path, "w");
	for (int i = 0; f && i < 4096; i++)
		fputc(i * 7, f);
	if (f)
		fclose(f);
	o.create = 1;
	o.check = 1;
	s = evstore_open(dir, &o, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(errno, EUCLEAN);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "move it aside") != NULL);
	/* missing, read-only */
	snprintf(dir, sizeof(dir), "%s/none", base);
	o.create = 0;
	o.read_only = 1;
	s = evstore_open(dir, &o, err, sizeof(err));
	CHECK(s == NULL && errno == ENOENT);
	CHECK(strstr(err, "no flight recorder") != NULL);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/vigil-evstore-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_codec();
	test_roundtrip();
	test_retention();
	test_queue_and_full_disk();
	test_crash_recovery();
	test_key_reuse();
	test_alerts_and_corrupt();
	if (h_failed == 0)
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return h_finish("test_evstore");
}
