/* test_policy_export.c - a learned model as a policy (policy_export.h): the
 * text has the selector, the default posture and exact allow rules, is
 * deterministic, escapes learned strings and lists what it cannot express
 * as comments; policy_parse() accepts it, and policy_eval() allows what was
 * learned and blocks what was not (execs, connections to other ports or
 * addresses or over the other protocol, listens, DNS names). Also services,
 * the host model, an image name with glob characters, an empty model and
 * the refusals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "harness.h"
#include "model/model.h"
#include "policy/policy.h"
#include "policy/policy_export.h"

#define T0 1796216400000000000ULL /* 2026-12-02T13:00:00Z */
#define SEC 1000000000ULL
#define ID "3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"

struct it {
	enum model_dim d;
	const char *item;
};

static const struct it inst_items[] = {
	{DIM_FILE_EXEC, "/usr/sbin/nginx"},
	{DIM_FILE_EXEC, "/usr/bin/curl"},
	{DIM_FILE_EXEC, "/opt/app/bin/worker-#"},
	{DIM_FILE_EXEC, "/opt/we\"ird\nname"},
	{DIM_FILE_EXEC, "./run.sh"},
	{DIM_PROCESS, "/usr/sbin/nginx <- /usr/bin/runc [uid 0]"},
	{DIM_ARGS, "/usr/bin/curl: -s http://*"},
	{DIM_NET_OUT, "tcp 10.0.0.0/24:5432"},
	{DIM_NET_OUT, "tcp 10.0.1.0/24:5432"},
	{DIM_NET_OUT, "tcp 10.0.0.0/24:443"},
	{DIM_NET_OUT, "tcp 10.0.1.0/24:443"},
	{DIM_NET_OUT, "tcp 10.9.0.0/24:80"},
	{DIM_NET_OUT, "udp 10.0.0.0/24:53"},
	{DIM_NET_OUT, "tcp fd00::/64:8443"},
	{DIM_NET_OUT, "tcp ?/24:1"},
	{DIM_NET_OUT, "tcp 10.0.3.0/24:0"},
	{DIM_NET_LISTEN, "tcp :8080"},
	{DIM_NET_LISTEN, "tcp :443"},
	{DIM_NET_LISTEN, "udp :5353"},
	{DIM_NET_LISTEN, "tcp :0"},
	{DIM_NET_IN, "tcp 10.0.1.0/24 -> :8080"},
	{DIM_DNS, "db.internal.example"},
	{DIM_DNS, "weird*name"},
	{DIM_PRIV, "setuid 65534"},
	{DIM_FILE_READ, "/etc/nginx/nginx.conf"},
	{DIM_FILE_READ, "/proc/#/stat"},
	{DIM_FILE_WRITE, "/var/log/nginx/access.log"},
	{DIM_FILE_CREATE, "/tmp/tmp.*"},
	{DIM_FILE_DELETE, "/tmp/tmp.*"},
	{DIM_FILE_DELETE, "relative/x"},
};

static const struct it img_items[] = {
	{DIM_FILE_EXEC, "/bin/sh"},
	{DIM_FILE_EXEC, "/usr/sbin/nginx"}, /* in both: once in the rule */
	{DIM_NET_OUT, "tcp 10.0.2.0/24:6379"},
};

static struct model *build(enum model_kind k, const char *key,
			   const struct it *items, size_t n, int reverse)
{
	struct model *m = model_new(k, key, T0);

	if (!m)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct it *x = &items[reverse ? n - 1 - i : i];

		CHECK(model_learn(m, x->d, x->item, T0 + i * SEC, "web", "nginx") == 1);
	}
	model_set_state(m, MODEL_ACTIVE, T0 + 86400 * SEC, "stable: no new item for 1d");
	return m;
}

static int count(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static struct policyset *parse(const char *text)
{
	char err[512];
	struct policyset *s = policy_parse(text, strlen(text), "export.yaml", err,
					   sizeof(err));

	if (!s)
		fprintf(stderr, "policy_parse: %s\n--- text ---\n%s------------\n", err, text);
	return s;
}

/* The action policy_eval() takes on q for the one policy of s. */
static int verdict(const struct policyset *s, const struct pol_query *q,
		   const char **rule)
{
	const struct policy *sel[1] = {&s->pol[0]};
	struct pol_verdict v;

	memset(&v, 0, sizeof(v));
	policy_eval(sel, 1, q, &v);
	if (rule)
		*rule = v.rule ? v.rule->id : NULL;
	return (int)v.action;
}

static int exec_of(const struct policyset *s, const char *exe, const char **rule)
{
	struct pol_query q = {.kind = POL_PROCESS, .exe = exe, .parent_exe = "/usr/bin/runc",
			      .parent_name = "runc"};

	return verdict(s, &q, rule);
}

static int connect_of(const struct policyset *s, int proto, const char *ip, int port)
{
	struct pol_query q = {.kind = POL_NETWORK, .proto = (uint8_t)proto,
			      .port = (uint16_t)port};

	if (inet_pton(AF_INET, ip, q.addr) == 1)
		q.family = 2;
	else if (inet_pton(AF_INET6, ip, q.addr) == 1)
		q.family = 10;
	return verdict(s, &q, NULL);
}

static int listen_of(const struct policyset *s, int proto, int port)
{
	struct pol_query q = {.kind = POL_NETWORK, .is_listen = 1, .proto = (uint8_t)proto,
			      .port = (uint16_t)port};

	return verdict(s, &q, NULL);
}

static int dns_of(const struct policyset *s, const char *name)
{
	struct pol_query q = {.kind = POL_NETWORK, .dns = name};

	return verdict(s, &q, NULL);
}

static int file_of(const struct policyset *s, const char *path, unsigned access)
{
	struct pol_query q = {.kind = POL_FILE, .exe = "/usr/sbin/nginx", .path = path,
			      .access = access};

	return verdict(s, &q, NULL);
}

static void test_container(void)
{
	size_t ni = sizeof(inst_items) / sizeof(inst_items[0]);
	size_t ng = sizeof(img_items) / sizeof(img_items[0]);
	struct model *m = build(MODEL_CONTAINER, "container:" ID, inst_items, ni, 0);
	struct model *r = build(MODEL_CONTAINER, "container:" ID, inst_items, ni, 1);
	struct model *img = build(MODEL_IMAGE, "image:shop/web:1.2", img_items, ng, 0);
	char err[256];
	char *t, *t2;
	struct policyset *s;
	const char *rule;

	CHECK(m && r && img);
	if (!m || !r || !img)
		return;
	model_set_parent(m, "image:shop/web:1.2");
	t = policy_from_model(m, img, NULL, T0 + 9 * 86400 * SEC, err, sizeof(err));
	CHECK(t != NULL);
	if (!t) {
		fprintf(stderr, "policy_from_model: %s\n", err);
		return;
	}
	/* the same whatever order the items were learned in */
	t2 = policy_from_model(r, img, NULL, T0 + 9 * 86400 * SEC, err, sizeof(err));
	CHECK(t2 && strcmp(t, t2) == 0);
	free(t2);

	/* the text */
	CHECK(strstr(t, "at 2026-12-11T13:00:00Z") != NULL);
	CHECK(strstr(t, "# model \"container:" ID "\": container, 30 entries") != NULL);
	CHECK(strstr(t, "# and its image model \"image:shop/web:1.2\"") != NULL);
	CHECK(strstr(t, "\nname: \"learned-container-3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6\"\n"));
	CHECK(strstr(t, "selector:\n  container: [\"" ID "\"]\n") != NULL);
	CHECK(strstr(t, "default: {process: block, network: block}\n") != NULL);
	CHECK(strstr(t, "      - \"/opt/we\\\"ird\\nname\"\n") != NULL);
	CHECK(strstr(t, "  - id: connect-tcp-443\n    network:\n      to:\n"
			"        - \"10.0.0.0/24\"\n        - \"10.0.1.0/24\"\n"
			"      ports: [443, 5432]\n      protocol: tcp\n") != NULL);
	CHECK(strstr(t, "  - id: listen-tcp\n    network:\n      listen: [443, 8080]\n"
			"      protocol: tcp\n") != NULL);
	/* learned but not expressible: comments, quoted */
	CHECK(strstr(t, "#   \"setuid 65534\"\n") != NULL);
	CHECK(strstr(t, "#   \"tcp 10.0.1.0/24 -> :8080\"\n") != NULL);
	CHECK(strstr(t, "#   \"/usr/sbin/nginx <- /usr/bin/runc [uid 0]\"\n") != NULL);
	CHECK(strstr(t, "#   \"/usr/bin/curl: -s http://*\"\n") != NULL);
	CHECK(strstr(t, "#   \"./run.sh\"\n") != NULL);
	CHECK(strstr(t, "#   \"relative/x\"\n") != NULL);
	CHECK(strstr(t, "#   \"tcp ?/24:1\"\n") != NULL);
	CHECK(strstr(t, "#   \"tcp 10.0.3.0/24:0\"\n") != NULL);
	CHECK(strstr(t, "#   \"tcp :0\"\n") != NULL);
	CHECK(strstr(t, "#   \"weird*name\"\n") != NULL);
	/* each item once: /usr/sbin/nginx is in both models */
	CHECK_INT(count(t, "\"/usr/sbin/nginx\"\n"), 1);

	s = parse(t);
	CHECK(s != NULL);
	if (s) {
		struct pol_subject me = {0}, other = {0};
		const struct policy *sel[2];

		CHECK_INT(s->n, 1);
		CHECK_STR(s->pol[0].name, "learned-container-3f6a2b1c9d8e7f605142a3b4c5d6e7f8091a2b3c4d5e6");
		CHECK_INT(s->pol[0].dflt[POL_PROCESS], POL_BLOCK);
		CHECK_INT(s->pol[0].dflt[POL_NETWORK], POL_BLOCK);
		CHECK_INT(s->pol[0].dflt[POL_FILE], POL_ALLOW);
		me.container_id = ID;
		me.container_name = "web";
		me.image = me.namespace = me.labels = me.service = "";
		other = me;
		other.container_id = "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899";
		other.container_name = "db";
		CHECK_INT(policyset_select(s, &me, sel, 2), 1);
		CHECK_INT(policyset_select(s, &other, sel, 2), 0);

		/* execs: learned (also the image's, and a '#' pattern) or not */
		CHECK_INT(exec_of(s, "/usr/sbin/nginx", &rule), POL_ALLOW);
		CHECK_STR(rule, "exec");
		CHECK_INT(exec_of(s, "/bin/sh", NULL), POL_ALLOW);
		CHECK_INT(exec_of(s, "/opt/app/bin/worker-12", NULL), POL_ALLOW);
		CHECK_INT(exec_of(s, "/opt/we\"ird\nname", NULL), POL_ALLOW);
		CHECK_INT(exec_of(s, "/usr/bin/wget", &rule), POL_BLOCK);
		CHECK(rule == NULL); /* the default posture decided */
		CHECK_INT(exec_of(s, "/tmp/x", NULL), POL_BLOCK);

		/* connects: only learned (address, port, protocol) products */
		CHECK_INT(connect_of(s, 6, "10.0.1.77", 5432), POL_ALLOW);
		CHECK_INT(connect_of(s, 6, "10.0.0.5", 443), POL_ALLOW);
		CHECK_INT(connect_of(s, 6, "10.9.0.5", 80), POL_ALLOW);
		CHECK_INT(connect_of(s, 6, "10.0.1.77", 80), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "10.9.0.5", 443), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "10.0.2.9", 6379), POL_ALLOW); /* image */
		CHECK_INT(connect_of(s, 17, "10.0.0.9", 53), POL_ALLOW);
		CHECK_INT(connect_of(s, 6, "10.0.0.9", 53), POL_BLOCK);
		CHECK_INT(connect_of(s, 17, "10.0.0.9", 5432), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "fd00::1", 8443), POL_ALLOW);
		CHECK_INT(connect_of(s, 6, "fd01::1", 8443), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "10.0.3.1", 1), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "192.168.1.1", 443), POL_BLOCK);

		/* listens */
		CHECK_INT(listen_of(s, 6, 8080), POL_ALLOW);
		CHECK_INT(listen_of(s, 6, 443), POL_ALLOW);
		CHECK_INT(listen_of(s, 17, 5353), POL_ALLOW);
		CHECK_INT(listen_of(s, 6, 5353), POL_BLOCK);
		CHECK_INT(listen_of(s, 6, 9090), POL_BLOCK);

		/* DNS */
		CHECK_INT(dns_of(s, "db.internal.example"), POL_ALLOW);
		CHECK_INT(dns_of(s, "evil.example"), POL_BLOCK);
		CHECK_INT(dns_of(s, "weirdXname"), POL_BLOCK);

		/* files: allow rules; the default for files stays allow */
		CHECK_INT(file_of(s, "/proc/42/stat", POL_ACC_READ), POL_ALLOW);
		CHECK_INT(file_of(s, "/etc/shadow", POL_ACC_READ), POL_ALLOW);
		policyset_unref(s);
	}
	free(t);

	/* without the image model: the image's items are not allowed */
	t = policy_from_model(m, NULL, "web-learned", T0, err, sizeof(err));
	CHECK(t != NULL);
	s = t ? parse(t) : NULL;
	CHECK(s != NULL);
	if (s) {
		CHECK_STR(s->pol[0].name, "web-learned");
		CHECK_INT(exec_of(s, "/bin/sh", NULL), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "10.0.2.9", 6379), POL_BLOCK);
		CHECK_INT(exec_of(s, "/usr/sbin/nginx", NULL), POL_ALLOW);
		policyset_unref(s);
	}
	free(t);
	model_free(m);
	model_free(r);
	model_free(img);
}

static void test_kinds(void)
{
	static const struct it items[] = {
		{DIM_FILE_EXEC, "/usr/local/bin/backup.sh"},
		{DIM_NET_OUT, "tcp 10.0.0.0/24:22"},
	};
	struct model *svc = build(MODEL_SERVICE, "service:cron.service", items, 2, 0);
	struct model *host = build(MODEL_SERVICE, "service:host", items, 2, 0);
	struct model *img = build(MODEL_IMAGE, "image:reg/app:[x]*", items, 2, 0);
	struct model *empty = model_new(MODEL_CONTAINER, "container:abc", T0);
	struct policyset *s;
	char err[256], *t;

	CHECK(svc && host && img && empty);
	if (!svc || !host || !img || !empty)
		return;
	t = policy_from_model(svc, NULL, NULL, T0, err, sizeof(err));
	CHECK(t && strstr(t, "selector:\n  service: [\"cron.service\"]\n"));
	/* not active yet: a warning in the header */
	CHECK(t && strstr(t, "WARNING") == NULL);
	s = t ? parse(t) : NULL;
	CHECK(s != NULL);
	if (s) {
		struct pol_subject subj = {.container_id = "", .container_name = "",
					   .image = "", .namespace = "", .labels = "",
					   .service = "cron.service", .is_host = 1};
		const struct policy *sel[1];

		CHECK_STR(s->pol[0].name, "learned-service-cron.service");
		CHECK_INT(policyset_select(s, &subj, sel, 1), 1);
		subj.service = "sshd.service";
		CHECK_INT(policyset_select(s, &subj, sel, 1), 0);
		CHECK_INT(exec_of(s, "/usr/local/bin/backup.sh", NULL), POL_ALLOW);
		CHECK_INT(exec_of(s, "/bin/bash", NULL), POL_BLOCK);
		policyset_unref(s);
	}
	free(t);

	t = policy_from_model(host, NULL, NULL, T0, err, sizeof(err));
	CHECK(t && strstr(t, "selector:\n  host: true"));
	s = t ? parse(t) : NULL;
	CHECK(s && s->pol[0].sel.host == 1);
	if (s)
		policyset_unref(s);
	free(t);

	/* an image name with glob characters selects that image only */
	model_set_state(img, MODEL_LEARNING, T0, "learning");
	t = policy_from_model(img, NULL, NULL, T0, err, sizeof(err));
	CHECK(t && strstr(t, "image: [\"reg/app:\\\\[x\\\\]\\\\*\"]"));
	CHECK(t && strstr(t, "WARNING: a model is still learning") != NULL);
	s = t ? parse(t) : NULL;
	CHECK(s != NULL);
	if (s) {
		struct pol_subject subj = {.container_id = ID, .container_name = "a",
					   .image = "reg/app:[x]*", .namespace = "",
					   .labels = "", .service = ""};
		const struct policy *sel[1];

		CHECK_STR(s->pol[0].name, "learned-image-reg-app--x--");
		CHECK_INT(policyset_select(s, &subj, sel, 1), 1);
		subj.image = "reg/app:x1";
		CHECK_INT(policyset_select(s, &subj, sel, 1), 0);
		policyset_unref(s);
	}
	free(t);

	/* nothing learned: no rule (an empty list would mean "any"), all blocked */
	t = policy_from_model(empty, NULL, NULL, T0, err, sizeof(err));
	CHECK(t && strstr(t, "rules:\n  []") && !strstr(t, "exe:"));
	s = t ? parse(t) : NULL;
	CHECK(s && s->pol[0].n_rules == 0);
	if (s) {
		CHECK_INT(exec_of(s, "/bin/true", NULL), POL_BLOCK);
		CHECK_INT(connect_of(s, 6, "10.0.0.1", 80), POL_BLOCK);
		policyset_unref(s);
	}
	free(t);

	/* refusals */
	errno = 0;
	CHECK(policy_from_model(NULL, NULL, NULL, T0, err, sizeof(err)) == NULL);
	CHECK_INT(errno, EINVAL);
	CHECK(policy_from_model(svc, NULL, "bad name", T0, err, sizeof(err)) == NULL);
	CHECK_INT(errno, EINVAL);
	CHECK(strstr(err, "policy name 'bad name' is not valid") != NULL);
	CHECK(policy_from_model(svc, img, NULL, T0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "only a container model takes an image model") != NULL);
	CHECK(policy_from_model(empty, svc, NULL, T0, err, sizeof(err)) == NULL);
	CHECK(policy_from_model(svc, NULL, "", T0, NULL, 0) == NULL);
	model_free(svc);
	model_free(host);
	model_free(img);
	model_free(empty);
}

static void test_names(void)
{
	char n[64];

	policy_export_name("container:" ID, n, sizeof(n));
	CHECK_INT(strlen(n), 63);
	CHECK(!strncmp(n, "learned-container-3f6a", 22));
	policy_export_name("service:foo@1.service", n, sizeof(n));
	CHECK_STR(n, "learned-service-foo-1.service");
	policy_export_name("image:nginx:1.25", n, 12);
	CHECK_STR(n, "learned-ima");
}

int main(void)
{
	test_container();
	test_kinds();
	test_names();
	return h_finish("test_policy_export");
}
