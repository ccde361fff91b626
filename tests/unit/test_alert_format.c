/* test_alert_format.c - the alert formats byte for byte: ECS, Falco,
 * OCSF and CEF renderings and the RFC 5424 frame of fixed anomalies
 * (a container exec, a host detection-rule alert whose text needs CEF
 * escaping, a silent-job alert without event, an outbound connect), plus
 * the score -> severity scales and option parsing helpers.
 *
 * Golden strings are exact: a change in any format shows up here. Set
 * VIGIL_GOLDEN_DIR=DIR to write the current renderings to DIR/<name>. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "alert/alert.h"
#include "alert/alert_doc.h"
#include "vigil_event.h"

#define T0 1793577600000000000ULL /* 2026-11-02T00:00:00Z, a Monday */

static void golden(const char *name, const char *got, const char *want)
{
	const char *dir = getenv("VIGIL_GOLDEN_DIR");

	if (dir) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "w");
		if (f) {
			fputs(got, f);
			fclose(f);
		}
	}
	if (strcmp(got, want)) {
		h_failed++;
		fprintf(stderr, "golden %s differs:\n got: %s\nwant: %s\n", name,
			got, want);
	} else {
		h_passed++;
	}
}

/* Renders a in every format, checks the JSON ones parse, and keeps the
 * texts in *out. */
struct rendered {
	char ecs[8192], falco[8192], ocsf[8192], cef[4096], frame[8192];
};

static void render_all(const struct anomaly *a, struct rendered *out)
{
	static const struct format_ctx fc = {.host_name = "node-1"};
	struct jsonw *w = jsonw_new(), *ecs = jsonw_new();
	struct strbuf b = STRBUF_INIT;
	struct alert_doc d;
	const char *s;
	size_t n;

	alert_json(ecs, a, &fc);
	CHECK_INT(jsonw_error(ecs), 0);
	s = jsonw_data(ecs, &n);
	alert_doc_fill(&d, a, &fc, s, n);
	CHECK_INT(alert_render(ALERT_FMT_ECS, &d, w, &b), 0);
	snprintf(out->ecs, sizeof(out->ecs), "%s", strbuf_data(&b, NULL));
	CHECK_INT(alert_render(ALERT_FMT_FALCO, &d, w, &b), 0);
	snprintf(out->falco, sizeof(out->falco), "%s", strbuf_data(&b, NULL));
	CHECK_INT(alert_render(ALERT_FMT_OCSF, &d, w, &b), 0);
	snprintf(out->ocsf, sizeof(out->ocsf), "%s", strbuf_data(&b, NULL));
	CHECK_INT(alert_render(ALERT_FMT_CEF, &d, w, &b), 0);
	snprintf(out->cef, sizeof(out->cef), "%s", strbuf_data(&b, NULL));
	strbuf_reset(&b);
	syslog_frame(&b, 16, &d, 777, "{\"m\":1}", 7);
	snprintf(out->frame, sizeof(out->frame), "%s", strbuf_data(&b, NULL));
	for (int i = 0; i < 3; i++) {
		const char *t = i == 0 ? out->ecs : i == 1 ? out->falco : out->ocsf;
		json_error_t err;
		json_t *j = json_loads(t, 0, &err);

		CHECK(j != NULL);
		if (!j)
			fprintf(stderr, "invalid JSON (%s): %s\n", err.text, t);
		json_decref(j);
	}
	CHECK(strchr(out->cef, '\n') == NULL);
	strbuf_free(&b);
	jsonw_free(w);
	jsonw_free(ecs);
}

static void hdr(struct vg_hdr *h, uint16_t type, uint16_t size, uint32_t pid,
		const char *comm)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->abi = VG_ABI_VERSION;
	h->pid = h->tid = pid;
	h->ppid = 100;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

#include "test_alert_format_golden.h"

static void container_exec(void)
{
	static const char args[] = "sh\0-c\0id; cat /etc/passwd";
	struct model *m = model_new(MODEL_CONTAINER, "container:web1", T0);
	struct resource res = {0};
	struct proc_info parent = {.pid = 100, .exe = "/usr/sbin/nginx"};
	struct enrich_view v = {.res = &res, .parent = &parent};
	struct vg_exec x;
	struct anomaly a = {0};
	struct rendered r;

	res.cg.runtime = CG_DOCKER;
	snprintf(res.cg.container_id, sizeof(res.cg.container_id),
		 "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899");
	snprintf(res.meta.name, sizeof(res.meta.name), "web1");
	snprintf(res.meta.image, sizeof(res.meta.image),
		 "registry.local:5000/shop/web:1.2");
	snprintf(res.meta.pod_name, sizeof(res.meta.pod_name), "web-7d4");
	snprintf(res.meta.pod_namespace, sizeof(res.meta.pod_namespace), "shop");
	hdr(&x.h, VG_EXEC, sizeof(x), 4242, "sh");
	snprintf(x.exe, sizeof(x.exe), "/bin/sh");
	snprintf(x.parent_exe, sizeof(x.parent_exe), "/usr/sbin/nginx");
	snprintf(x.cwd, sizeof(x.cwd), "/");
	memcpy(x.args, args, sizeof(args));
	x.args_len = sizeof(args);
	x.argc = 3;
	a.kind = ANOM_NEW_ITEM;
	a.dim = DIM_PROCESS;
	a.item = "/bin/sh <- /usr/sbin/nginx";
	a.nearest[0] = "/usr/sbin/nginx <- /usr/bin/runc";
	a.n_nearest = 1;
	a.model = m;
	a.score = 70;
	a.title = "Behaviour outside the learned model";
	snprintf(a.explanation, sizeof(a.explanation),
		 "new process '/bin/sh <- /usr/sbin/nginx' not in model "
		 "'container:web1'");
	a.wall_ns = T0 + 3600ULL * 1000000000ULL + 123456789;
	a.rec = &x;
	a.view = &v;
	render_all(&a, &r);
	golden("exec.ecs", r.ecs, GOLD_EXEC_ECS);
	golden("exec.falco", r.falco, GOLD_EXEC_FALCO);
	golden("exec.ocsf", r.ocsf, GOLD_EXEC_OCSF);
	golden("exec.cef", r.cef, GOLD_EXEC_CEF);
	golden("exec.syslog", r.frame, GOLD_EXEC_SYSLOG);
	model_free(m);
}

static void host_rule(void)
{
	static char *const mitre[] = {"T1003.008", "T1552.001"};
	struct resource res = {0};
	struct proc_info proc = {.pid = 77, .exe = "/usr/bin/cat"};
	struct enrich_view v = {.res = &res, .proc = &proc};
	struct vg_file f;
	struct anomaly a = {0};
	struct rendered r;

	snprintf(res.cg.unit, sizeof(res.cg.unit), "cron.service");
	hdr(&f.h, VG_OPEN, sizeof(f), 77, "cat");
	f.h.uid = 1000;
	f.access = VG_ACC_READ;
	snprintf(f.path, sizeof(f.path), "/etc/shadow");
	a.kind = ANOM_RULE;
	a.dim = DIM_FILE_WRITE;
	a.item = "/etc/shadow";
	a.score = 80;
	a.title = "Read | of a \\credential\\ file";
	a.rule_id = "credential-file-read";
	a.rule_description = "Password hashes";
	a.mitre = mitre;
	a.n_mitre = 2;
	snprintf(a.explanation, sizeof(a.explanation),
		 "key=value | back\\slash\nsecond line\r");
	a.wall_ns = T0 + 999999;
	a.rec = &f;
	a.view = &v;
	render_all(&a, &r);
	golden("rule.ecs", r.ecs, GOLD_RULE_ECS);
	golden("rule.falco", r.falco, GOLD_RULE_FALCO);
	golden("rule.ocsf", r.ocsf, GOLD_RULE_OCSF);
	golden("rule.cef", r.cef, GOLD_RULE_CEF);
}

static void silent_job(void)
{
	struct model *m = model_new(MODEL_SERVICE, "service:cron.service", T0);
	struct anomaly a = {0};
	struct rendered r;

	a.kind = ANOM_SILENT;
	a.dim = DIM_PROCESS;
	a.item = "/usr/local/bin/backup.sh <- /usr/sbin/cron";
	a.model = m;
	a.score = 40;
	a.title = "Expected periodic activity did not happen";
	snprintf(a.explanation, sizeof(a.explanation), "weekly job missing");
	a.wall_ns = T0 + 7 * 86400ULL * 1000000000ULL;
	render_all(&a, &r);
	golden("silent.falco", r.falco, GOLD_SILENT_FALCO);
	golden("silent.ocsf", r.ocsf, GOLD_SILENT_OCSF);
	golden("silent.cef", r.cef, GOLD_SILENT_CEF);
	golden("silent.syslog", r.frame, GOLD_SILENT_SYSLOG);
	model_free(m);
}

static void outbound_connect(void)
{
	struct model *m = model_new(MODEL_CONTAINER, "container:web1", T0);
	struct resource res = {0};
	struct enrich_view v = {.res = &res};
	struct vg_net n;
	struct anomaly a = {0};
	struct rendered r;
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					   0xff, 0xff, 203, 0, 113, 9};

	res.cg.runtime = CG_RUNC;
	snprintf(res.cg.container_id, sizeof(res.cg.container_id), "web1");
	hdr(&n.h, VG_CONNECT, sizeof(n), 4300, "curl");
	n.family = 10;
	n.sock_type = 1;
	memcpy(n.raddr, mapped, 16);
	n.rport = 4444;
	a.kind = ANOM_NEW_ITEM;
	a.dim = DIM_NET_OUT;
	a.item = "tcp 203.0.113.0/24:4444";
	a.model = m;
	a.score = 29;
	a.title = "Behaviour outside the learned model";
	snprintf(a.explanation, sizeof(a.explanation), "new net_out");
	a.wall_ns = T0;
	a.rec = &n;
	a.view = &v;
	render_all(&a, &r);
	golden("connect.falco", r.falco, GOLD_CONNECT_FALCO);
	golden("connect.cef", r.cef, GOLD_CONNECT_CEF);
	model_free(m);
}

static void scales(void)
{
	static const struct {
		int score, sys, ocsf, cef;
		const char *falco;
	} t[] = {
		{0, 6, 1, 0, "Informational"}, {9, 6, 1, 0, "Informational"},
		{10, 5, 2, 1, "Notice"},       {29, 5, 2, 2, "Notice"},
		{30, 4, 3, 4, "Warning"},      {59, 4, 3, 6, "Warning"},
		{60, 3, 4, 7, "Error"},	       {79, 3, 4, 8, "Error"},
		{80, 2, 5, 9, "Critical"},     {100, 2, 5, 10, "Critical"},
	};
	char repo[64], tag[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(alert_syslog_severity(t[i].score), t[i].sys);
		CHECK_INT(alert_ocsf_severity(t[i].score), t[i].ocsf);
		CHECK_INT(alert_cef_severity(t[i].score), t[i].cef);
		CHECK_STR(alert_falco_priority(t[i].score), t[i].falco);
	}
	CHECK_INT(syslog_facility_parse("local0"), 16);
	CHECK_INT(syslog_facility_parse("local7"), 23);
	CHECK_INT(syslog_facility_parse("user"), 1);
	CHECK_INT(syslog_facility_parse("3"), 3);
	CHECK_INT(syslog_facility_parse("local8"), -EINVAL);
	CHECK_INT(syslog_facility_parse("24"), -EINVAL);
	CHECK_INT(alert_fmt_parse("falco"), ALERT_FMT_FALCO);
	CHECK_INT(alert_fmt_parse("cef"), ALERT_FMT_CEF);
	CHECK_INT(alert_fmt_parse("json"), -EINVAL);
	alert_image_split("nginx", repo, sizeof(repo), tag, sizeof(tag));
	CHECK_STR(repo, "nginx");
	CHECK_STR(tag, "");
	alert_image_split("reg:5000/app:1.2@sha256:ab", repo, sizeof(repo), tag,
			  sizeof(tag));
	CHECK_STR(repo, "reg:5000/app");
	CHECK_STR(tag, "1.2");
	alert_image_split("reg:5000/app", repo, sizeof(repo), tag, sizeof(tag));
	CHECK_STR(repo, "reg:5000/app");
	CHECK_STR(tag, "");
}

static void options(void)
{
	struct alert_conf c = {0};

	CHECK_INT(alert_conf_option(&c, ALERT_OPT_SYSLOG, "udp://h:1"), 0);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_SYSLOG, "tcp://h:2"), 0);
	CHECK_INT(c.n_syslog, 2);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_SYSLOG, "h:514"), -EINVAL);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK, "ftp://h/x"), -EINVAL);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK, "https://h/x"), 0);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK_FORMAT, "falco"), 0);
	CHECK_INT(c.webhook_fmt, ALERT_FMT_FALCO);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK_FORMAT, "cef"), -EINVAL);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_ALERTS_FORMAT, "ocsf"), 0);
	CHECK_INT(c.file_fmt, ALERT_FMT_OCSF);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK_HEADER, "X-A: b"), 0);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK_HEADER, "no colon"),
		  -EINVAL);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_WEBHOOK_HEADER, "X: a\r\nY: b"),
		  -EINVAL);
	CHECK_INT(alert_conf_option(&c, ALERT_OPT_SYSLOG_FACILITY, "daemon"), 0);
	CHECK_INT(c.facility, 3);
}

int main(void)
{
	container_exec();
	host_rule();
	silent_job();
	outbound_connect();
	scales();
	options();
	return h_finish("test_alert_format");
}
