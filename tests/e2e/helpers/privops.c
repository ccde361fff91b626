/* privops.c - performs one privileged operation for test_privilege.py.
 *
 *   privops OP      OP: setuid setgid capset ptrace mount unshare setns
 *                       module bpf memfd deleted
 *   privops memfd|deleted PROG ARGV0 [ARG...]
 *                   exec a copy of PROG (default /bin/true, argv "true")
 *                   with that argv (test_exec_kill.py: a side effect to
 *                   check). Exits 1 when the exec'd child did not exit 0
 *                   (a child killed by SIGKILL: "status 0x9").
 *
 * Prints "pid=N" (the process that made the syscall, or that exec'd) and,
 * per OP, "target=N", "dir=PATH", "file=PATH", "creator=N" (memfd), the
 * capability sets passed (capset) or "ret=N errno=N" (module). Exits 0 when
 * the operation ran, even if its syscall failed as the test expects (module);
 * exits 1 when the helper itself could not do what was asked. Needs root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

extern char **environ;

static int die(const char *what)
{
	fprintf(stderr, "privops: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Waits for pid; 0 when it exited with status 0. */
static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "privops: child %d failed (status 0x%x)\n",
			(int)pid, st);
		return 1;
	}
	return 0;
}

/* Runs fn in a forked child, prints the child's pid, returns its result. */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		return die("fork");
	if (pid == 0)
		_exit(fn());
	printf("pid=%d\n", (int)pid);
	return reap(pid);
}

static int do_setresuid(void)
{
	return setresuid(65534, 65534, 65534) ? die("setresuid") : 0;
}

static int do_setresgid(void)
{
	return setresgid(65534, 65534, 65534) ? die("setresgid") : 0;
}

static int do_unshare(void)
{
	return unshare(CLONE_NEWUTS) ? die("unshare") : 0;
}

static int do_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return die("open /proc/self/ns/uts");
	if (setns(fd, CLONE_NEWUTS))
		return die("setns");
	close(fd);
	return 0;
}

static unsigned long long join(__u32 lo, __u32 hi)
{
	return (unsigned long long)hi << 32 | lo;
}

static int op_capset(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return die("capget");
	data[CAP_TO_INDEX(CAP_NET_RAW)].effective &= ~CAP_TO_MASK(CAP_NET_RAW);
	if (syscall(SYS_capset, &hdr, data))
		return die("capset");
	/* the sets as passed, the way the sensor joins the two u32 halves */
	printf("pid=%d\neffective=0x%llx\npermitted=0x%llx\ninheritable=0x%llx\n",
	       (int)getpid(), join(data[0].effective, data[1].effective),
	       join(data[0].permitted, data[1].permitted),
	       join(data[0].inheritable, data[1].inheritable));
	return 0;
}

static int op_ptrace(void)
{
	pid_t child = fork();
	int st, rc = 0;

	if (child < 0)
		return die("fork");
	if (child == 0) {
		for (;;)
			pause();
	}
	printf("pid=%d\ntarget=%d\n", (int)getpid(), (int)child);
	if (ptrace(PTRACE_ATTACH, child, NULL, NULL)) {
		rc = die("PTRACE_ATTACH");
	} else {
		if (waitpid(child, &st, 0) < 0)
			rc = die("waitpid (attach stop)");
		if (ptrace(PTRACE_DETACH, child, NULL, NULL))
			rc = die("PTRACE_DETACH");
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	return rc;
}

static int op_mount(void)
{
	char dir[] = "/tmp/vigil-mnt-XXXXXX";
	int rc = 0;

	if (!mkdtemp(dir))
		return die("mkdtemp");
	printf("pid=%d\ndir=%s\n", (int)getpid(), dir);
	if (mount("vigiltmpfs", dir, "tmpfs", 0, NULL))
		rc = die("mount");
	else if (umount2(dir, 0))
		rc = die("umount2");
	rmdir(dir);
	return rc;
}

static int op_module(void)
{
	char path[] = "/tmp/vigil-mod-XXXXXX";
	int wfd = mkstemp(path), fd;
	long r;

	if (wfd < 0)
		return die("mkstemp");
	close(wfd);
	/* read-only fd: a writer would make the kernel refuse with ETXTBSY
	 * before it even looks at the file */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		unlink(path);
		return die("open module file");
	}
	printf("pid=%d\nfile=%s\n", (int)getpid(), path);
	r = syscall(SYS_finit_module, fd, "", 0);
	printf("ret=%ld\nerrno=%d\n", r, r < 0 ? errno : 0);
	close(fd);
	unlink(path);
	return 0;
}

static int op_bpf(void)
{
	struct bpf_insn insns[] = {
		/* r0 = 0 */
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		/* exit */
		{.code = BPF_JMP | BPF_EXIT},
	};
	union bpf_attr attr;
	long fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (__u64)(unsigned long)"GPL";
	strncpy(attr.prog_name, "vigil_test", sizeof(attr.prog_name) - 1);
	printf("pid=%d\n", (int)getpid());
	fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		return die("bpf(BPF_PROG_LOAD)");
	close((int)fd);
	return 0;
}

/* the program memfd/deleted copy and exec, and its argv */
static const char *exec_prog = "/bin/true";
static char *true_argv[] = {"true", NULL};
static char **exec_argv = true_argv;

/* Copies exec_prog into fd. */
static int copy_true(int fd)
{
	char buf[65536];
	int in = open(exec_prog, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (in < 0)
		return die(exec_prog);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			close(in);
			return die("write");
		}
	}
	close(in);
	return n < 0 ? die(exec_prog) : 0;
}

/* Forks a child that executes fd (execveat AT_EMPTY_PATH); prints its pid. */
static int exec_fd(int fd)
{
	pid_t pid = fork();

	if (pid < 0)
		return die("fork");
	if (pid == 0) {
		syscall(SYS_execveat, fd, "", exec_argv, environ, AT_EMPTY_PATH);
		fprintf(stderr, "privops: execveat: %s\n", strerror(errno));
		_exit(127);
	}
	printf("pid=%d\n", (int)pid);
	return reap(pid);
}

static int op_memfd(void)
{
	int fd = memfd_create("vigil-memfd", 0), rc;

	if (fd < 0)
		return die("memfd_create");
	printf("creator=%d\n", (int)getpid());
	if (copy_true(fd))
		return 1;
	rc = exec_fd(fd);
	close(fd);
	return rc;
}

static int op_deleted(void)
{
	char path[] = "/tmp/vigil-del-XXXXXX";
	int wfd = mkstemp(path), fd, rc;

	if (wfd < 0)
		return die("mkstemp");
	if (copy_true(wfd) || fchmod(wfd, 0755)) {
		unlink(path);
		return die("copy/chmod");
	}
	close(wfd); /* an open writer would make exec fail with ETXTBSY */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	if (fd < 0)
		return die("open copy");
	printf("file=%s\n", path);
	rc = exec_fd(fd);
	close(fd);
	return rc;
}

/* PTRACE_TRACEME in a child: the benign twin of an attach. */
static int op_traceme(void)
{
	pid_t c = fork();
	int st;

	if (c < 0)
		return die("fork");
	if (c == 0) {
		long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);

		_exit(r < 0 ? 1 : 0);
	}
	printf("pid=%d\n", (int)c);
	waitpid(c, &st, 0);
	return 0;
}

/* setuid(0): from a setuid-root copy run by another user, an escalation. */
static int op_setuid0(void)
{
	int r = setuid(0);

	printf("pid=%d\nret=%d\nuid=%d\n", (int)getpid(), r, (int)getuid());
	return 0;
}

/* A non-shell program starting a shell, as an exploited service would. */
static int op_spawnsh(void)
{
	pid_t c = fork();
	int st;

	if (c < 0)
		return die("fork");
	if (c == 0) {
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
		_exit(127);
	}
	printf("pid=%d\n", (int)c);
	waitpid(c, &st, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *op = argc == 2 ? argv[1] : "";

	/* unbuffered: nothing printed twice across fork, nothing lost on _exit */
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 4 && (!strcmp(argv[1], "memfd") || !strcmp(argv[1], "deleted"))) {
		op = argv[1];
		exec_prog = argv[2];
		exec_argv = argv + 3;
	}
	if (!strcmp(op, "setuid"))
		return in_child(do_setresuid);
	if (!strcmp(op, "setgid"))
		return in_child(do_setresgid);
	if (!strcmp(op, "capset"))
		return op_capset();
	if (!strcmp(op, "ptrace"))
		return op_ptrace();
	if (!strcmp(op, "mount"))
		return op_mount();
	if (!strcmp(op, "unshare"))
		return in_child(do_unshare);
	if (!strcmp(op, "setns"))
		return in_child(do_setns);
	if (!strcmp(op, "module"))
		return op_module();
	if (!strcmp(op, "bpf"))
		return op_bpf();
	if (!strcmp(op, "memfd"))
		return op_memfd();
	if (!strcmp(op, "deleted"))
		return op_deleted();
	if (!strcmp(op, "traceme"))
		return op_traceme();
	if (!strcmp(op, "setuid0"))
		return op_setuid0();
	if (!strcmp(op, "spawnsh"))
		return op_spawnsh();
	fprintf(stderr, "usage: privops setuid|setgid|capset|ptrace|mount|"
			"unshare|setns|module|bpf|memfd|deleted|traceme|setuid0|spawnsh\n"
			"       privops memfd|deleted PROG ARGV0 [ARG...]\n");
	return 2;
}
