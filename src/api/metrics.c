/* metrics.c - see metrics.h. The request is read with a 200 ms timeout and
 * only its first line matters; anything but GET /metrics gets a 404. The
 * body is built in memory (open_memstream) so a slow client never holds
 * the agent mid-write for long (send timeout 200 ms). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "api/metrics.h"

struct metrics_srv {
	int fd;
};

struct metrics_srv *metrics_open(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *colon = strrchr(addr, ':');
	char host[64] = "127.0.0.1";
	struct metrics_srv *m;
	char *end;
	long port;
	int one = 1, fd;

	if (!colon || colon - addr >= (long)sizeof(host)) {
		snprintf(err, errlen, "bad metrics address '%s' (want HOST:PORT)", addr);
		return NULL;
	}
	if (colon > addr) {
		memcpy(host, addr, colon - addr);
		host[colon - addr] = 0;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "bad metrics address '%s' (want IPv4:PORT)", addr);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		snprintf(err, errlen, "metrics on '%s': %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->fd = fd;
	return m;
}

static void answer(int c, metrics_fill_fn fill, void *ctx)
{
	struct timeval tv = {0, 200000};
	char req[1024], head[256];
	char *body = NULL;
	size_t blen = 0;
	ssize_t n;
	FILE *f;
	int ok;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(c, req, sizeof(req) - 1, 0);
	if (n <= 0)
		return;
	req[n] = 0;
	ok = !strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET /metrics?", 13);
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	if (ok)
		fill(ctx, f);
	else
		fputs("not found: try /metrics\n", f);
	fclose(f);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     ok ? "200 OK" : "404 Not Found", blen);
	if (send(c, head, (size_t)n, MSG_NOSIGNAL) == n)
		send(c, body, blen, MSG_NOSIGNAL);
	free(body);
}

void metrics_serve(struct metrics_srv *m, metrics_fill_fn fill, void *ctx)
{
	if (!m)
		return;
	for (int i = 0; i < 16; i++) { /* bounded work per loop turn */
		int c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			return;
		/* accepted sockets inherit nothing: make them blocking with
		 * timeouts (set in answer) */
		fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
		answer(c, fill, ctx);
		close(c);
	}
}

void metrics_close(struct metrics_srv *m)
{
	if (!m)
		return;
	close(m->fd);
	free(m);
}
