/* test_generalize.c - path and argument generalisation: every rule and the
 * false-positive list by example, cap and truncation behaviour (guard bytes
 * after the buffer), gen_match on what gen_path produces, and properties
 * over random paths: gen_match(gen_path(p), p) and idempotence. Ends with a
 * timing print (not an assertion). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "harness.h"
#include "model/generalize.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UUID "0b5c5b6e-8f2a-4c1d-9e3f-1a2b3c4d5e6f"

static const char *path_cases[][2] = {
	/* digits: pids, tids, uids */
	{ "/proc/1234/stat", "/proc/#/stat" },
	{ "/proc/1234/task/1240/comm", "/proc/#/task/#/comm" },
	{ "/proc/self/status", "/proc/self/status" },
	{ "/proc/thread-self/attr/current", "/proc/thread-self/attr/current" },
	{ "/run/user/1000/bus", "/run/user/#/bus" },
	{ "/dev/pts/3", "/dev/pts/#" },
	/* hashes and container ids */
	{ "/var/cache/app/3f9a2b1c7d", "/var/cache/app/*" },
	{ "/var/cache/app/abc12345", "/var/cache/app/*" },
	{ "/var/cache/app/deadbeef", "/var/cache/app/deadbeef" }, /* no digit */
	{ "/var/cache/app/a1b2c3d", "/var/cache/app/a1b2c3d" },	  /* 7 chars */
	{ "/data/DEADBEEFCAFEBABE0123", "/data/*" },
	{ "/data/DEADBEEF01", "/data/DEADBEEF01" }, /* upper case needs 16 */
	{ "/sys/fs/cgroup/docker/" HEX64 "/memory.max", "/sys/fs/cgroup/docker/*/memory.max" },
	{ "/sys/fs/cgroup/system.slice/docker-" HEX64 ".scope/cgroup.procs",
	  "/sys/fs/cgroup/system.slice/docker-*.scope/cgroup.procs" },
	{ "/var/lib/docker/overlay2/" HEX64 "-init/diff", "/var/lib/docker/overlay2/*-init/diff" },
	{ "/data/x-DeadBeef12345678.bin", "/data/x-*.bin" },
	/* UUIDs */
	{ "/var/lib/kubelet/pods/" UUID "/volumes", "/var/lib/kubelet/pods/*/volumes" },
	{ "/dev/disk/by-uuid/0B5C5B6E-8F2A-4C1D-9E3F-1A2B3C4D5E6F", "/dev/disk/by-uuid/*" },
	{ "/run/" UUID ".lock", "/run/*.lock" },
	/* temp names */
	{ "/tmp/tmp.aB3dE9", "/tmp/tmp.*" },
	{ "/tmp/tmp.aB3dE9xyz1", "/tmp/tmp.*" },
	{ "/tmp/tmp.aB3dE9.json", "/tmp/tmp.*.json" },
	{ "/run/runc.FjtnN2", "/run/runc.*" },
	{ "/tmp/pip-build-8x_k2j1a", "/tmp/pip-build-*" },
	{ "/tmp/pip-req-build-abc12345", "/tmp/pip-req-build-*" },
	{ "/mnt/data/.nfs000000001234", "/mnt/data/.nfs*" },
	{ "/tmp/tmpk2j1a8x_", "/tmp/tmp*" },
	{ "/tmp/ccAbC123.s", "/tmp/cc*.s" },
	{ "/tmp/go-build1234567890/b001/exe/main", "/tmp/go-build*/b001/exe/main" },
	{ "/tmp/ssh-XXXXaB12cD/agent.12345", "/tmp/ssh-*/agent.#" },
	{ "/tmp/tmp.abcdef", "/tmp/tmp.abcdef" }, /* no digit, one case */
	{ "/tmp/tmp.aB3", "/tmp/tmp.aB3" },	  /* too short */
	{ "/tmp/tmpfiles.d", "/tmp/tmpfiles.d" },
	/* digit runs inside components */
	{ "/var/crash/core.12345", "/var/crash/core.#" },
	{ "/var/log/access.log.20240101", "/var/log/access.log.#" },
	{ "/tmp/krb5cc_1000", "/tmp/krb5cc_#" },
	{ "/var/log/app.log.2", "/var/log/app.log.2" },
	/* false positives: must stay as they are */
	{ "/etc/nginx/nginx.conf", "/etc/nginx/nginx.conf" },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6" },
	{ "/usr/bin/python3.11", "/usr/bin/python3.11" },
	{ "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt" },
	{ "/home/user/.bashrc", "/home/user/.bashrc" },
	{ "/var/log/syslog.1", "/var/log/syslog.1" },
	{ "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
	  "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
	{ "/usr/share/terminfo/x/xterm-256color", "/usr/share/terminfo/x/xterm-256color" },
	{ "/usr/bin/runc.amd64", "/usr/bin/runc.amd64" },
	{ "/usr/bin/containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2" },
	{ "/usr/lib/tmpfiles.d/tmp.conf", "/usr/lib/tmpfiles.d/tmp.conf" },
	{ "/sys/class/hwmon/hwmon0/temp1_input", "/sys/class/hwmon/hwmon0/temp1_input" },
	/* normalisation */
	{ "//usr///bin//ls", "/usr/bin/ls" },
	{ "/var/log/", "/var/log" },
	{ "/a/b/../c", "/a/c" },
	{ "/a/./b/.", "/a/b" },
	{ "/../etc/passwd", "/etc/passwd" },
	{ "/a/b/../../..", "/" },
	{ "/", "/" },
	{ "", "" },
	{ "/a/..b/c..", "/a/..b/c.." },
	/* relative paths: components only */
	{ "proc/1234/stat", "proc/#/stat" },
	{ "./a/../b", "./a/../b" },
	{ "a//b/", "a/b" },
	/* patterns are fixed points */
	{ "/tmp/tmp.*", "/tmp/tmp.*" },
	{ "/var/cache/**", "/var/cache/**" },
	{ "/proc/#/task/#/comm", "/proc/#/task/#/comm" },
};

static const char *match_cases[][3] = {
	{ "/proc/#/stat", "/proc/1234/stat", "1" },
	{ "/proc/#/stat", "/proc/self/stat", "0" },
	{ "/proc/#/stat", "/proc/12a/stat", "0" },
	{ "/tmp/tmp.*", "/tmp/tmp.aB3dE9", "1" },
	{ "/tmp/tmp.*", "/tmp/tmp.a/b", "0" },
	{ "/var/cache/**", "/var/cache/app/x/y", "1" },
	{ "/var/cache/**", "/var/cache", "1" },
	{ "/var/cache/**", "/var/cachex/a", "0" },
	{ "/var/log/core.#", "/var/log/core.12345", "1" },
	{ "/var/log/core.#", "/var/log/core.", "0" },
	{ "/a/b", "/a/b/c", "0" },
	{ "/a/b/c", "/a/b", "0" },
	{ "/a/b", "//a//b/", "1" },
	{ "a/b", "/a/b", "0" },
	{ "/usr/bin/*sh", "/usr/bin/bash", "1" },
	{ "/a/*.log", "/a/x.log.1", "0" },
	{ "/a/x*y*z", "/a/xaaybbyz", "1" },
	{ "/a/#-#", "/a/12-34", "1" },
	{ "/a/*-#.log", "/a/x-1-22.log", "1" },
	{ "/**", "/", "1" },
	/* pattern against pattern: does the first cover the second? */
	{ "/proc/#/stat", "/proc/#/stat", "1" },
	{ "/x/*", "/x/#", "1" },
	{ "/x/#", "/x/*", "0" },
	{ "/a/**", "/a/b/**", "1" },
	{ "/a/*", "/a/**", "0" },
	{ "/a/b/**", "/a/**", "0" },
};

/* gen_path with guard bytes after cap: never overflows, NUL-terminates,
 * returns strlen. Returns the result in res (size >= cap). */
static void capped(const char *what, const char *in, size_t cap, char *res, size_t args)
{
	char buf[600];

	memset(buf, 0x5a, sizeof(buf));
	size_t n = args ? gen_args(in, args, buf, cap, 0)
			: (what ? gen_path_coarse(in, 2, buf, cap) : gen_path(in, buf, cap));
	int guard_ok = 1;

	for (size_t i = cap; i < sizeof(buf); i++)
		guard_ok &= (uint8_t)buf[i] == 0x5a;
	CHECK(guard_ok);
	if (cap) {
		CHECK(memchr(buf, 0, cap) != NULL);
		CHECK_INT(n, strlen(buf));
		memcpy(res, buf, strlen(buf) + 1);
	} else {
		CHECK_INT(n, 0);
		res[0] = '\0';
	}
}

static void test_caps(void)
{
	static const char *ins[] = { "/proc/1234/stat", "/", "/var/cache/app/3f9a2b1c7d/x",
				     "relative/path/1234", "/tmp/tmp.aB3dE9", "" };
	size_t caps[] = { 0, 1, 2, 3, 4, 5, 8, 9, 13 };
	char res[600];

	for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
		for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
			for (int mode = 0; mode < 3; mode++) {
				capped(mode == 1 ? "coarse" : NULL, ins[i], caps[c], res,
				       mode == 2 ? strlen(ins[i]) + 1 : 0);
				/* a cut pattern ends in the any-tail and still matches */
				if (mode == 0 && res[0])
					CHECK(gen_match(res, ins[i]));
			}
	capped(NULL, "/proc/1234/stat", 8, res, 0);
	CHECK_STR(res, "/**");
	capped(NULL, "/proc/1234/stat", 10, res, 0);
	CHECK_STR(res, "/proc/**");
	capped(NULL, "/proc/1234/stat", 12, res, 0);
	CHECK_STR(res, "/proc/#/**");
	capped(NULL, "/proc/1234/stat", 13, res, 0);
	CHECK_STR(res, "/proc/#/stat");
	capped(NULL, "/proc/1234/stat", 3, res, 0);
	CHECK_STR(res, "");
	capped(NULL, "/", 2, res, 0);
	CHECK_STR(res, "/");
	capped(NULL, "a/bbbbbbbb", 5, res, 0);
	CHECK_STR(res, "a/**");
	capped(NULL, "bbbbbbbb/c", 5, res, 0);
	CHECK_STR(res, "**");
	/* a component too long for the cap is left out whole; a later ".."
	 * that drops it again lets writing go on */
	capped(NULL, "/zzzzzzzzzzzzzzzzzzzz/b", 16, res, 0);
	CHECK_STR(res, "/**");
	capped(NULL, "/x/zzzzzzzzzzzzzzzzzzzz/../b", 16, res, 0);
	CHECK_STR(res, "/x/b");
}

static void test_args(void)
{
	char out[512], big[300];
	static const char many[] = "a\0b\0c\0d";
	struct {
		const char *a;
		size_t n;
		size_t cap;
		int max;
		const char *want;
	} c[] = {
		{ "ls\0-l\0/proc/1234/fd", 19, 512, 8, "ls -l /proc/#/fd" },
		{ "sleep\0" "12345", 11, 512, 8, "sleep #" },
		{ "sleep\0" "12345\0", 12, 512, 8, "sleep #" },
		{ "docker\0rm\0" HEX64, 74, 512, 8, "docker rm *" },
		{ "kubectl\0delete\0pod\0" UUID, 55, 512, 8, "kubectl delete pod *" },
		{ "echo\0a\tb\nc\x7f", 12, 512, 8, "echo a?b?c?" },
		{ "echo\0caf\xc3\xa9", 10, 512, 8, "echo caf\xc3\xa9" },
		{ "cat\0/tmp/a\nb", 12, 512, 8, "cat /tmp/a?b" },
		{ "nginx\0-g\0daemon off;\0--pid=1234", 31, 512, 8,
		  "nginx -g daemon off; --pid=1234" },
		{ "cp\0/tmp/tmp.aB3dE9\0/var/lib/x/0", 31, 512, 8, "cp /tmp/tmp.* /var/lib/x/#" },
		{ many, 7, 512, 2, "a b ..." },
		{ many, 7, 512, 4, "a b c d" },
		{ many, 7, 512, 0, "a b c d" },
		{ "a\0\0b", 4, 512, 0, "a  b" },
		{ "", 0, 512, 8, "" },
		{ "aaaa\0bbbb\0cccc", 14, 15, 0, "aaaa bbbb cccc" },
		{ "aaaa\0bbbb\0cccc", 14, 14, 0, "aaaa bbbb ..." },
		{ "aaaa\0bbbb\0cccc", 14, 12, 0, "aaaa ..." },
		{ "aaaa\0b", 6, 5, 0, "..." },
		{ "aaaa\0b", 6, 4, 0, "..." },
		{ "aaaa\0b", 6, 3, 0, "" },
		{ "x\0/proc/1234/stat", 17, 14, 0, "x ..." },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t n = gen_args(c[i].a, c[i].n, out, c[i].cap, c[i].max);

		CHECK_STR(out, c[i].want);
		CHECK_INT(n, strlen(c[i].want));
	}
	CHECK_INT(gen_args(NULL, 5, out, sizeof(out), 0), 0);
	CHECK_STR(out, "");
	/* long non-path argument: 64 bytes then '*' */
	memset(big, 'x', 100);
	memcpy(big, "run\0", 4);
	gen_args(big, 100, out, sizeof(out), 0);
	CHECK_INT(strlen(out), 4 + 64 + 1);
	CHECK(out[strlen(out) - 1] == '*');
	/* long path argument: its own 127-byte pattern, then the next argument */
	memcpy(big, "cat\0", 4);
	for (int i = 4; i < 290; i++)
		big[i] = i % 10 == 4 ? '/' : 'p';
	memcpy(big + 290, "\0-n", 4);
	gen_args(big, 293, out, sizeof(out), 0);
	CHECK(strlen(out) <= 4 + 127 + 3);
	CHECK(strstr(out, "/** -n") != NULL);
	/* tiny caps: no overflow, always terminated */
	for (size_t cap = 0; cap < 40; cap++) {
		char res[600];

		capped(NULL, "ls\0-la\0/proc/1234/stat\0" HEX64, cap, res, 24 + 64);
		CHECK(cap < 4 ? res[0] == '\0' : strcmp(res, "ls -la /proc/#/stat *") == 0 ||
						 strstr(res, "...") != NULL);
	}
}

static void test_coarse(void)
{
	char out[256];
	static const char *c[][3] = {
		{ "/var/cache/app/x", "2", "/var/cache/**" },
		{ "/var/cache", "2", "/var/cache" },
		{ "/proc/1234/stat", "2", "/proc/#/**" },
		{ "/proc/1234/stat", "0", "/**" },
		{ "/proc/1234/stat", "-3", "/**" },
		{ "/", "0", "/" },
		{ "/a/b/c/..", "2", "/a/b" },
		{ "/a/b/c/../..", "1", "/a" },
		{ "/a/b/c/d/..", "1", "/a/**" },
		{ "/a/b/c/../../..", "1", "/" },
		{ "/var/cache/app/**", "2", "/var/cache/**" },
		{ "/var/**", "2", "/var/**" },
		{ "a/b/c", "1", "a/**" },
		{ "/sys/fs/cgroup/docker/" HEX64 "/cpu.max", "4", "/sys/fs/cgroup/docker/**" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		gen_path_coarse(c[i][0], (int)strtol(c[i][1], NULL, 10), out, sizeof(out));
		CHECK_STR(out, c[i][2]);
	}
	gen_path_coarse("/var/cache/app/x", 2, out, 10);
	CHECK_STR(out, "/var/**");
}

/* Random paths from realistic and random components (no "." or ".."). */
static void rand_comp(char *c, size_t cap)
{
	static const char *words[] = { "usr", "lib", "etc", "nginx.conf", "libc.so.6", "python3.11",
				       "syslog.1", ".bashrc", "x86_64-linux-gnu", "proc", "self",
				       "tmp", "core.12345", "docker-", ".scope", "app.log.2",
				       "**" };
	static const char cs[] = "abcdefABCXYZxyz0123456789._-#*";
	int k = rand() % 8;
	size_t n = 0;

	if (k == 0) {
		snprintf(c, cap, "%s", words[rand() % (sizeof(words) / sizeof(words[0]))]);
	} else if (k == 1) {
		snprintf(c, cap, "%d", rand() % 100000);
	} else if (k == 2) {
		for (n = 8 + (size_t)(rand() % 57); n; n--)
			*c++ = "0123456789abcdef"[rand() % 16];
		*c = '\0';
	} else if (k == 3) {
		snprintf(c, cap, "%08x-%04x-%04x-%04x-%012x", rand(), rand() % 65536,
			 rand() % 65536, rand() % 65536, rand());
	} else if (k == 4) {
		static const char *pfx[] = { "tmp.", "runc.", "pip-build-", ".nfs", "cc", "tmp" };
		n = (size_t)snprintf(c, cap, "%s", pfx[rand() % 6]);
		for (int m = 6 + rand() % 6; m; m--)
			c[n++] = "aB3dE9xYz_"[rand() % 10];
		c[n] = '\0';
	} else {
		do {
			for (n = 0; n < 1 + (size_t)(rand() % 14); n++)
				c[n] = cs[rand() % (int)(sizeof(cs) - 1)];
			c[n] = '\0';
		} while (!strcmp(c, ".") || !strcmp(c, ".."));
	}
}

static void test_random(void)
{
	char p[1024], g[1024], g2[1024], small[40], comp[80];
	int bad_match = 0, bad_idem = 0, bad_small = 0, bad_coarse = 0;

	srand(42);
	for (int i = 0; i < 1000; i++) {
		size_t n = 0;

		for (int d = 1 + rand() % 10; d; d--) {
			rand_comp(comp, sizeof(comp));
			n += (size_t)snprintf(p + n, sizeof(p) - n, "/%s%s",
					      rand() % 20 ? "" : "/", comp);
		}
		gen_path(p, g, sizeof(g));
		gen_path(g, g2, sizeof(g2));
		if (!gen_match(g, p) && bad_match++ < 5)
			fprintf(stderr, "no match: %s <- %s\n", g, p);
		if (strcmp(g, g2) && bad_idem++ < 5)
			fprintf(stderr, "not idempotent: %s -> %s\n", g, g2);
		gen_path(p, small, sizeof(small));
		if ((!gen_match(small, p) || !gen_match(small, g)) && bad_small++ < 5)
			fprintf(stderr, "cut no match: %s <- %s\n", small, p);
		gen_path_coarse(p, rand() % 5, small, sizeof(small));
		if ((!gen_match(small, p) || !gen_match(small, g)) && bad_coarse++ < 5)
			fprintf(stderr, "coarse no match: %s <- %s\n", small, p);
	}
	CHECK_INT(bad_match, 0);
	CHECK_INT(bad_idem, 0);
	CHECK_INT(bad_small, 0);
	CHECK_INT(bad_coarse, 0);
}

/* Random bytes (slashes, dots, digits, NULs, control and high bytes) with
 * random caps: no overflow (guard bytes; ASan in the sanitizer build),
 * always terminated, and gen_path output always matches its own input. */
static void test_fuzz(void)
{
	static const char alpha[] = "//..aZ09_-#*\t\x7f\xc3";
	char in[200], res[600];
	int bad = 0;

	srand(7);
	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)(rand() % 120), cap = (size_t)(rand() % 70);

		for (size_t j = 0; j < n; j++)
			in[j] = rand() % 8 ? alpha[rand() % (sizeof(alpha) - 1)] : (char)rand();
		in[n] = '\0';
		capped(NULL, in, cap, res, 0);
		if (res[0] && in[0] == '/' && !strstr(in, "/.") && !gen_match(res, in) && bad++ < 3)
			fprintf(stderr, "fuzz: %s does not match its input\n", res);
		capped("coarse", in, cap, res, 0);
		capped(NULL, in, cap, res, n + 1); /* as args: NULs inside split them */
		gen_match(in, res);
		gen_match(res, in);
	}
	CHECK_INT(bad, 0);
}

static void timing(void)
{
	static const char *mix[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/proc/1234/task/1240/status",
		"/etc/nginx/conf.d/default.conf",
		"/var/lib/docker/overlay2/3f9a2b1c7d/diff/etc/hosts",
		"/tmp/tmp.aB3dE9/output.json",
		"/usr/share/zoneinfo/Europe/Berlin",
		"/var/log/nginx/access.log.20240101",
		"/usr/lib/python3.11/site-packages/requests/__init__.py",
		"/home/user/.cache/pip/http/a/b/c/d/e/f",
		"/sys/fs/cgroup/system.slice/cron.service/memory.max",
	};
	char out[256];
	size_t sum = 0, bytes = 0;
	const int nm = (int)(sizeof(mix) / sizeof(mix[0])), batch = 100000;
	double total = 0, best = 1e9;

	for (int i = 0; i < nm; i++)
		bytes += strlen(mix[i]);
	for (int b = 0; b < 10; b++) { /* 10 x 100k = 1M calls */
		struct timespec t0, t1;
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < batch; i++)
			sum += gen_path(mix[i % nm], out, sizeof(out));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		total += ns;
		best = ns < best ? ns : best;
	}
	printf("gen_path: %.1f ns/call over 1M calls (best 100k batch %.1f), "
	       "mean path %zu bytes [%zu]\n",
	       total / (10.0 * batch), best / batch, bytes / (size_t)nm, sum % 10);
}

int main(void)
{
	char out[512], again[512];

	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		size_t n = gen_path(path_cases[i][0], out, sizeof(out));

		CHECK_STR(out, path_cases[i][1]);
		CHECK_INT(n, strlen(path_cases[i][1]));
		gen_path(out, again, sizeof(again));
		CHECK_STR(again, out);
		if (path_cases[i][0][0] == '/' && !strstr(path_cases[i][0], "/."))
			CHECK(gen_match(out, path_cases[i][0]));
	}
	CHECK_INT(gen_path(NULL, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++)
		if (gen_match(match_cases[i][0], match_cases[i][1]) !=
		    (match_cases[i][2][0] == '1')) {
			fprintf(stderr, "gen_match(%s, %s) != %s\n", match_cases[i][0],
				match_cases[i][1], match_cases[i][2]);
			CHECK(0);
		} else {
			CHECK(1);
		}
	CHECK(!gen_match(NULL, "/a") && !gen_match("/a", NULL));
	test_caps();
	test_args();
	test_coarse();
	test_random();
	test_fuzz();
	timing();
	return h_finish("generalize");
}
