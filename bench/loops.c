/* loops.c - the workloads of Vigil's overhead benchmark (bench/run.sh).
 *
 *   loops open N          N x open("/etc/hostname", O_RDONLY) + close
 *   loops exec N          N x fork + execve("/bin/true") + waitpid
 *   loops connect N PORT  N x socket + connect(127.0.0.1:PORT) + close, against
 *                         a listener this program forks first (PORT 0: any
 *                         free port) and kills at the end
 *   loops listen PORT     only the listener: accept + close until killed
 *
 * Each workload prints `elapsed=S` (CLOCK_MONOTONIC seconds of the loop
 * alone, set-up excluded) and `iters=N` on stdout. Exit status 0 only if every
 * iteration succeeded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(double start, long n)
{
	printf("elapsed=%.6f\niters=%ld\n", now() - start, n);
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "loops: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long parse_count(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "loops: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int do_open(long n)
{
	double t0 = now();

	for (long i = 0; i < n; i++) {
		int fd = open("/etc/hostname", O_RDONLY);

		if (fd < 0)
			die("open /etc/hostname");
		close(fd);
	}
	report(t0, n);
	return 0;
}

static int do_exec(long n)
{
	char *const argv[] = {"true", NULL};
	double t0 = now();

	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execve("/bin/true", argv, environ);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "loops: /bin/true failed (status %d)\n",
				status);
			return 1;
		}
	}
	report(t0, n);
	return 0;
}

/* Binds 127.0.0.1:port (0: any) with backlog 4096; returns the socket and
 * stores the bound port. */
static int make_listener(int port, int *bound)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((unsigned short)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die("socket");
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt SO_REUSEADDR");
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind 127.0.0.1");
	if (listen(s, 4096) < 0)
		die("listen");
	if (getsockname(s, (struct sockaddr *)&a, &alen) < 0)
		die("getsockname");
	*bound = ntohs(a.sin_port);
	return s;
}

static void serve(int s)
{
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0) {
			close(c);
			continue;
		}
		if (errno != EINTR && errno != ECONNABORTED && errno != EMFILE &&
		    errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
			die("accept");
	}
}

static int do_listen(int port)
{
	int bound, s = make_listener(port, &bound);

	printf("listening=%d\n", bound);
	fflush(stdout);
	serve(s);
	return 0;
}

static int do_connect(long n, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int bound, status, rc = 0, s = make_listener(port, &bound);
	long failed = 0;
	int first_err = 0;
	pid_t child;
	double t0;

	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		serve(s);
	}
	/* The socket is listening already, so connects queue from now on even
	 * before the child's first accept. */
	close(s);
	a.sin_port = htons((unsigned short)bound);

	t0 = now();
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (c < 0) {
			rc = errno;
			break;
		}
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			if (!failed++)
				first_err = errno;
		}
		close(c);
	}
	if (!rc && !failed)
		report(t0, n);

	kill(child, SIGKILL);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (rc) {
		fprintf(stderr, "loops: socket: %s\n", strerror(rc));
		return 1;
	}
	if (failed) {
		fprintf(stderr, "loops: %ld of %ld connects failed (first: %s)\n",
			failed, n, strerror(first_err));
		return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: loops open N | exec N | connect N PORT | "
			"listen PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "open") && argc == 3)
		return do_open(parse_count(argv[2], "count", 0, 1L << 40));
	if (!strcmp(argv[1], "exec") && argc == 3)
		return do_exec(parse_count(argv[2], "count", 0, 1L << 40));
	if (!strcmp(argv[1], "connect") && argc == 4)
		return do_connect(parse_count(argv[2], "count", 0, 1L << 40),
				  (int)parse_count(argv[3], "port", 0, 65535));
	if (!strcmp(argv[1], "listen") && argc == 3)
		return do_listen((int)parse_count(argv[2], "port", 0, 65535));
	usage();
	return 2;
}
