/* test_event_format.c - the ECS JSON of synthetic records: exact fields,
 * binary and invalid UTF-8 args and paths still give valid JSON, DNS
 * question decoding, time formatting. */
#include <jansson.h>
#include <string.h>
#include "harness.h"
#include "output/event_format.h"
#include "vigil_event.h"

static json_t *render(const void *rec, const struct enrich_view *v)
{
	static struct format_ctx c = {.host_name = "node-1",
				      .boot_to_real_ns = 1700000000000000000LL};
	struct jsonw *w = jsonw_new();
	json_error_t err;
	json_t *j;
	size_t n;
	const char *s;

	event_json(w, rec, v, &c);
	s = jsonw_data(w, &n);
	j = json_loadb(s, n, 0, &err);
	if (!j)
		fprintf(stderr, "invalid JSON: %s\n%s\n", err.text, s);
	jsonw_free(w);
	return j;
}

static const char *str_at(json_t *j, const char *path)
{
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j;
	     tok = strtok_r(NULL, ".", &save))
		j = json_object_get(j, tok);
	return j && json_is_string(j) ? json_string_value(j) : NULL;
}

static long long int_at(json_t *j, const char *path)
{
	char buf[128], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j;
	     tok = strtok_r(NULL, ".", &save))
		j = json_object_get(j, tok);
	return j && json_is_integer(j) ? json_integer_value(j) : -999;
}

static void hdr(struct vg_hdr *h, uint16_t type, uint16_t size)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->abi = VG_ABI_VERSION;
	h->pid = 42;
	h->tid = 43;
	h->ppid = 1;
	h->uid = 1000;
	h->ts_ns = 5;
	memcpy(h->comm, "worker", 7);
}

int main(void)
{
	struct resource host = {0}, ctr = {0};
	struct proc_info parent = {.pid = 1, .exe = "/sbin/init"};
	struct enrich_view hv = {.res = &host, .parent = &parent};
	struct enrich_view cv = {.res = &ctr};
	json_t *j;

	snprintf(host.cg.unit, sizeof(host.cg.unit), "nginx.service");
	ctr.cg.runtime = CG_RUNC;
	snprintf(ctr.cg.container_id, sizeof(ctr.cg.container_id), "web1");
	snprintf(ctr.meta.name, sizeof(ctr.meta.name), "web1");
	snprintf(ctr.meta.image, sizeof(ctr.meta.image), "nginx:1.25");

	{ /* exec with binary and invalid UTF-8 args */
		struct vg_exec x;
		static const char args[] = "sh\0-c\0\xff\xfe bad\0caf\xc3\xa9";

		hdr(&x.h, VG_EXEC, sizeof(x));
		snprintf(x.exe, sizeof(x.exe), "/bin/b\xc0sh");
		snprintf(x.cwd, sizeof(x.cwd), "/srv");
		memcpy(x.args, args, sizeof(args) - 1);
		x.args_len = sizeof(args) - 1;
		x.argc = 4;
		x.h.flags = VG_F_ARGS_TRUNC;
		j = render(&x, &hv);
		CHECK(j != NULL);
		CHECK_STR(str_at(j, "event.action"), "exec");
		CHECK_STR(str_at(j, "event.outcome"), "success");
		CHECK_STR(str_at(j, "@timestamp"), "2023-11-14T22:13:20.000000005Z");
		CHECK_STR(str_at(j, "host.name"), "node-1");
		CHECK_STR(str_at(j, "process.executable"), "/bin/b\xef\xbf\xbdsh");
		CHECK_STR(str_at(j, "process.working_directory"), "/srv");
		CHECK_STR(str_at(j, "service.name"), "nginx.service");
		CHECK_INT(int_at(j, "process.pid"), 42);
		CHECK_INT(int_at(j, "process.args_count"), 4);
		CHECK(json_is_true(json_object_get(json_object_get(j, "process"),
						   "args_truncated")));
		{
			json_t *a = json_object_get(json_object_get(j, "process"), "args");

			CHECK_INT(json_array_size(a), 4);
			CHECK_STR(json_string_value(json_array_get(a, 2)),
				  "\xef\xbf\xbd\xef\xbf\xbd bad");
			CHECK_STR(json_string_value(json_array_get(a, 3)), "caf\xc3\xa9");
		}
		CHECK(json_object_get(j, "container") == NULL);
		json_decref(j);
	}
	{ /* memfd exec killed by exec_kill: vigil.killed; absent otherwise */
		struct vg_exec x;
		json_t *vg;

		hdr(&x.h, VG_EXEC, sizeof(x));
		snprintf(x.exe, sizeof(x.exe), "/memfd:x (deleted)");
		x.h.flags = VG_F_EXE_MEMFD | VG_F_EXE_DELETED | VG_F_KILLED;
		j = render(&x, &cv);
		vg = json_object_get(j, "vigil");
		CHECK(json_is_true(json_object_get(vg, "killed")));
		CHECK(json_is_true(json_object_get(vg, "exe_memfd")));
		CHECK(json_is_true(json_object_get(vg, "exe_deleted")));
		json_decref(j);
		x.h.flags = VG_F_EXE_MEMFD | VG_F_EXE_DELETED;
		j = render(&x, &cv);
		vg = json_object_get(j, "vigil");
		CHECK(json_is_true(json_object_get(vg, "exe_memfd")));
		CHECK(json_object_get(vg, "killed") == NULL);
		json_decref(j);
	}
	{ /* failed open in a container */
		struct vg_file f;

		hdr(&f.h, VG_OPEN, sizeof(f));
		f.h.ret = -13;
		f.access = VG_ACC_READ;
		snprintf(f.path, sizeof(f.path), "/etc/shadow");
		j = render(&f, &cv);
		CHECK_STR(str_at(j, "event.outcome"), "failure");
		CHECK_STR(str_at(j, "error.code"), "EACCES");
		CHECK_STR(str_at(j, "file.path"), "/etc/shadow");
		CHECK_STR(str_at(j, "container.id"), "web1");
		CHECK_STR(str_at(j, "container.runtime"), "runc");
		CHECK_STR(str_at(j, "container.image.name"), "nginx:1.25");
		json_decref(j);
	}
	{ /* exit by signal, exit by code */
		struct vg_proc p;

		hdr(&p.h, VG_EXIT, sizeof(p));
		p.exit_code = 9;
		j = render(&p, &cv);
		CHECK_INT(int_at(j, "process.exit_signal"), 9);
		CHECK_INT(int_at(j, "process.exit_code"), -999);
		json_decref(j);
		p.exit_code = 3 << 8;
		j = render(&p, &cv);
		CHECK_INT(int_at(j, "process.exit_code"), 3);
		CHECK_STR(str_at(j, "event.outcome"), "failure");
		json_decref(j);
	}
	{ /* dns query over a v4-mapped address */
		struct vg_net n;
		static const unsigned char q[] = {
			0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
			7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
			0, 1, 0, 1};

		hdr(&n.h, VG_DNS, sizeof(n));
		n.family = 10;
		n.sock_type = 2;
		n.rport = 53;
		n.raddr[10] = n.raddr[11] = 0xff;
		n.raddr[12] = 10;
		n.raddr[15] = 53;
		memcpy(n.payload, q, sizeof(q));
		n.payload_len = sizeof(q);
		j = render(&n, &hv);
		CHECK_STR(str_at(j, "dns.question.name"), "example.com");
		CHECK_STR(str_at(j, "destination.ip"), "10.0.0.53");
		CHECK_INT(int_at(j, "destination.port"), 53);
		CHECK_STR(str_at(j, "network.transport"), "udp");
		json_decref(j);
	}
	{ /* dns decoder edge cases */
		unsigned char bad[40] = {0, 0, 0x80, 0, 0, 1};
		char name[64];
		uint16_t qt;

		CHECK(dns_query_name(bad, sizeof(bad), name, sizeof(name), &qt) < 0);
		bad[2] = 0;
		bad[12] = 63; /* label longer than the packet */
		CHECK(dns_query_name(bad, sizeof(bad), name, sizeof(name), &qt) < 0);
		bad[12] = 2;
		bad[13] = 'a';
		bad[14] = '\n';
		CHECK(dns_query_name(bad, sizeof(bad), name, sizeof(name), &qt) < 0);
	}
	{ /* every type has an action name, and unknown is "unknown" */
		CHECK_STR(event_action(VG_MODULE_LOAD), "module_load");
		CHECK_STR(event_action(VG_MEMFD_CREATE), "memfd_create");
		CHECK_STR(event_action(999), "unknown");
	}
	return h_finish("event_format");
}
