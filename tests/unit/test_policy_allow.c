/* test_policy_allow.c - learned models -> allow decisions (src/enforce/
 * policy_allow.c): net item parsing, port lists, exec allow by exact item
 * and by pattern, the drift rule, scripts and the dynamic loader, and the
 * thread-safe execset snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "enforce/policy_allow.h"
#include "model/model.h"

static void test_parse(void)
{
	struct policy_port p;

	CHECK_INT(policy_parse_net_item("tcp 127.0.0.0/24:8080", &p), 0);
	CHECK_INT(p.proto, 6);
	CHECK_INT(p.port, 8080);
	CHECK_INT(policy_parse_net_item("udp fd00::/64:53", &p), 0);
	CHECK_INT(p.proto, 17);
	CHECK_INT(p.port, 53);
	CHECK_INT(policy_parse_net_item("tcp :443", &p), 0);
	CHECK_INT(p.port, 443);
	CHECK_INT(policy_parse_net_item("tcp ::/64:65535", &p), 0);
	CHECK_INT(p.port, 65535);
	CHECK_INT(policy_parse_net_item("tcp 10.0.0.0/24:0", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("tcp 10.0.0.0/24:65536", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("tcp 10.0.0.0/24:", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("tcp 10.0.0.0/24:8o", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("tcp 10.0.0.0/24", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("sctp :80", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item("", &p), -EINVAL);
	CHECK_INT(policy_parse_net_item(NULL, &p), -EINVAL);
}

static void test_ports(void)
{
	struct model *inst = model_new(MODEL_CONTAINER, "container:a", 1);
	struct model *img = model_new(MODEL_IMAGE, "image:a", 1);
	struct policy_port out[4];
	size_t n;

	model_learn(inst, DIM_NET_OUT, "tcp 10.0.0.0/24:443", 1, "a", "x");
	model_learn(inst, DIM_NET_OUT, "tcp 10.0.1.0/24:443", 1, "a", "x");
	model_learn(inst, DIM_NET_OUT, "udp 10.0.0.0/24:53", 1, "a", "x");
	model_learn(img, DIM_NET_OUT, "tcp fd00::/64:443", 1, "a", "x");
	model_learn(img, DIM_NET_OUT, "tcp 10.9.0.0/24:5432", 1, "a", "x");
	model_learn(img, DIM_NET_OUT, "garbage", 1, "a", "x");
	model_learn(inst, DIM_NET_LISTEN, "tcp :8080", 1, "a", "x");
	model_learn(inst, DIM_NET_IN, "tcp 10.0.0.0/24 -> :9999", 1, "a", "x");

	n = policy_ports(inst, img, DIM_NET_OUT, out, 4);
	CHECK_INT(n, 3);
	CHECK_INT(out[0].proto, 6);
	CHECK_INT(out[0].port, 443);
	CHECK_INT(out[1].proto, 17);
	CHECK_INT(out[1].port, 53);
	CHECK_INT(out[2].port, 5432);
	CHECK_INT(policy_ports(inst, img, DIM_NET_OUT, out, 2), 3); /* too small */
	n = policy_ports(inst, NULL, DIM_NET_LISTEN, out, 4);
	CHECK_INT(n, 1);
	CHECK_INT(out[0].port, 8080);
	CHECK_INT(policy_ports(inst, img, DIM_NET_IN, out, 4), 0);
	CHECK_INT(policy_ports(NULL, NULL, DIM_NET_OUT, out, 4), 0);
	model_free(inst);
	model_free(img);
}

static int written_cb(void *ctx, const char *path)
{
	return !strcmp(ctx, path);
}

static void test_exec_models(void)
{
	struct model *inst = model_new(MODEL_CONTAINER, "container:a", 1);
	struct model *img = model_new(MODEL_IMAGE, "image:a", 1);

	model_learn(img, DIM_FILE_EXEC, "/bin/busybox", 1, "a", "x");
	model_learn(inst, DIM_FILE_EXEC, "/app/releases/#/bin/run", 1, "a", "x");
	model_learn(inst, DIM_FILE_EXEC, "/opt/tools/" "**", 1, "a", "x");

	CHECK_INT(policy_allow_exec(inst, img, "/bin/busybox"), 1);
	CHECK_INT(policy_allow_exec(inst, NULL, "/bin/busybox"), 0);
	CHECK_INT(policy_allow_exec(inst, img, "/app/releases/20240101/bin/run"), 1);
	CHECK_INT(policy_allow_exec(inst, img, "/opt/tools/x/y/z"), 1);
	CHECK_INT(policy_allow_exec(inst, img, "/tmp/dropper"), 0);
	CHECK_INT(policy_allow_exec(inst, img, "busybox"), 0);
	CHECK_INT(policy_allow_exec(inst, img, NULL), 0);
	CHECK_INT(policy_allow_exec(NULL, NULL, "/bin/busybox"), 0);

	CHECK_INT(policy_exec_verdict(inst, img, "/bin/busybox", NULL, NULL),
		  POLICY_ALLOW);
	CHECK_INT(policy_exec_verdict(inst, img, "/tmp/x", NULL, NULL),
		  POLICY_DENY_UNKNOWN);
	/* drift wins over a known pattern */
	CHECK_INT(policy_exec_verdict(inst, img, "/opt/tools/new", written_cb,
				      "/opt/tools/new"),
		  POLICY_DENY_DRIFT);
	CHECK_INT(policy_exec_verdict(inst, img, "/opt/tools/old", written_cb,
				      "/opt/tools/new"),
		  POLICY_ALLOW);
	CHECK_STR(policy_verdict_reason(POLICY_DENY_UNKNOWN),
		  "not in the learned model");
	model_free(inst);
	model_free(img);
}

static void test_loader(void)
{
	CHECK_INT(policy_is_loader("/lib64/ld-linux-x86-64.so.2"), 1);
	CHECK_INT(policy_is_loader("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), 1);
	CHECK_INT(policy_is_loader("/lib/ld-musl-x86_64.so.1"), 1);
	CHECK_INT(policy_is_loader("/tmp/ld-linux-x86-64.so.2"), 0);
	CHECK_INT(policy_is_loader("/lib/libc.so.6"), 0);
	CHECK_INT(policy_is_loader("/lib/ld-config"), 0);
	CHECK_INT(policy_is_loader(NULL), 0);
}

static void test_execset(void)
{
	struct policy_execset *s = policy_execset_new();
	struct model *m = model_new(MODEL_CONTAINER, "container:a", 1);
	struct policy_file f = {0};
	char why[128];

	CHECK(s != NULL);
	CHECK_INT(policy_execset_add(s, "/bin/busybox"), 0);
	CHECK_INT(policy_execset_add(s, "/bin/busybox"), 0); /* duplicate */
	CHECK_INT(policy_execset_add(s, ""), -EINVAL);
	CHECK_INT(policy_execset_count(s), 1);
	model_learn(m, DIM_FILE_EXEC, "/usr/bin/*", 1, "a", "x");
	model_learn(m, DIM_FILE_EXEC, "/bin/busybox", 1, "a", "x");
	CHECK_INT(policy_execset_add_model(s, m), 0);
	CHECK_INT(policy_execset_add_model(s, NULL), 0);
	CHECK_INT(policy_execset_count(s), 2);

	f.path = "/bin/busybox";
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)), POLICY_ALLOW);
	CHECK_STR(why, "in the learned model");
	f.path = "/usr/bin/python3";
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)), POLICY_ALLOW);
	f.path = "/tmp/x";
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)),
		  POLICY_DENY_UNKNOWN);
	CHECK_STR(why, "not in the learned model");
	f.is_script = 1; /* its interpreter is checked on its own */
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)), POLICY_ALLOW);
	f.is_script = 0;
	f.path = "/lib64/ld-linux-x86-64.so.2";
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_ALLOW);
	f.path = "relative";
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)),
		  POLICY_DENY_UNKNOWN);

	/* drift: the written set and the ctime rule */
	CHECK_INT(policy_execset_mark_written(s, "/usr/bin/evil"), 0);
	CHECK_INT(policy_execset_mark_written(s, "/usr/bin/evil"), 0);
	CHECK_INT(policy_execset_mark_written(s, "rel"), -EINVAL);
	f.path = "/usr/bin/evil";
	CHECK_INT(policy_execset_check(s, &f, why, sizeof(why)),
		  POLICY_DENY_DRIFT);
	CHECK(!strncmp(why, "drift", 5));
	f.path = "/usr/bin/env";
	f.ctime_ns = 2000;
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_ALLOW);
	policy_execset_set_since(s, 1000);
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_DENY_DRIFT);
	f.ctime_ns = 999;
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_ALLOW);
	f.path = "/lib64/ld-linux-x86-64.so.2";
	f.ctime_ns = 5000; /* a replaced loader is drift too */
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_DENY_DRIFT);
	/* a tiny reason buffer is cut, still terminated */
	f.path = "/tmp/x";
	f.ctime_ns = 0;
	CHECK_INT(policy_execset_check(s, &f, why, 4), POLICY_DENY_UNKNOWN);
	CHECK_STR(why, "not");

	policy_execset_clear(s);
	CHECK_INT(policy_execset_count(s), 0);
	f.path = "/bin/busybox";
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_DENY_UNKNOWN);
	CHECK_INT(policy_execset_add(s, "/bin/busybox"), 0);
	CHECK_INT(policy_execset_check(s, &f, NULL, 0), POLICY_ALLOW);
	CHECK_INT(policy_execset_written_lost(s), 0);
	model_free(m);
	policy_execset_free(s);
	policy_execset_free(NULL);
}

int main(void)
{
	test_parse();
	test_ports();
	test_exec_models();
	test_loader();
	test_execset();
	return h_finish("test_policy_allow");
}
