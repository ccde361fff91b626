/* sink_syslog.c - alerts as RFC 5424 syslog messages over UDP, TCP or a
 * unix socket.
 *
 * Framing: UDP and unix datagram sockets carry one message per datagram;
 * TCP uses octet counting ("LEN SP MSG", RFC 6587 3.4.1); a unix stream
 * socket ends each message with LF (RFC 6587 3.4.2; the rendered formats
 * never contain a raw newline). A unix path is tried as a datagram socket
 * first (/dev/log), then as a stream socket.
 *
 * Connecting is lazy and never fatal: a failed connect is retried on a
 * later alert after a backoff (1 s doubling to 30 s); a TCP peer that
 * closed is noticed before sending (the connection is re-made and the
 * message sent once more on a send error). TCP sends block for at most 1 s
 * (SO_SNDTIMEO), connects for at most 1 s. Every alert that could not be
 * sent is counted as failed; syslog keeps no queue (the webhook does).
 * Host names are resolved once, when the sink is opened. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "alert/sink.h"

enum { T_UDP, T_TCP, T_UNIX };

#define BACKOFF_MIN_NS 1000000000ULL
#define BACKOFF_MAX_NS 30000000000ULL

struct syslog_sink {
	struct alert_sink base;
	int transport;
	struct sockaddr_storage addr;
	socklen_t alen;
	int fd;
	int stream; /* the connected socket is a stream */
	int facility;
	unsigned long procid;
	uint64_t next_try_ns, backoff_ns;
	struct jsonw *w;
	struct strbuf msg, line;
	struct alert_sink_stats st;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void drop_conn(struct syslog_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Non-blocking connect bounded by timeout_ms; 0 or -errno. */
static int connect_within(int fd, const struct sockaddr *a, socklen_t len,
			  int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (connect(fd, a, len) < 0) {
		if (errno != EINPROGRESS)
			return -errno;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			return -errno;
		if (err)
			return -err;
	}
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}

static int open_conn(struct syslog_sink *s)
{
	static const struct timeval tv = {.tv_sec = 1};
	int type = s->transport == T_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd, rc;

	for (;;) {
		fd = socket(s->addr.ss_family, type | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = connect_within(fd, (struct sockaddr *)&s->addr, s->alen,
				    1000);
		if (rc == -EPROTOTYPE && s->transport == T_UNIX &&
		    type == SOCK_DGRAM) {
			close(fd);
			type = SOCK_STREAM;
			continue;
		}
		break;
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s->fd = fd;
	s->stream = type == SOCK_STREAM;
	return 0;
}

/* A stream whose peer closed reads as EOF or shows HUP: make a new one. */
static int peer_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
		return 1;
	return (p.revents & POLLIN) && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static int ensure_conn(struct syslog_sink *s)
{
	uint64_t now;
	int rc;

	if (s->fd >= 0 && s->stream && peer_closed(s->fd))
		drop_conn(s);
	if (s->fd >= 0)
		return 0;
	now = mono_ns();
	if (now < s->next_try_ns)
		return -ENOTCONN;
	rc = open_conn(s);
	if (rc < 0) {
		s->backoff_ns = s->backoff_ns ? s->backoff_ns * 2 : BACKOFF_MIN_NS;
		if (s->backoff_ns > BACKOFF_MAX_NS)
			s->backoff_ns = BACKOFF_MAX_NS;
		s->next_try_ns = now + s->backoff_ns;
		return rc;
	}
	s->backoff_ns = 0;
	return 0;
}

static int send_all(struct syslog_sink *s, struct iovec *iov, int n)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};

	while (m.msg_iovlen) {
		ssize_t k = sendmsg(s->fd, &m, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (!s->stream)
			return 0; /* a datagram goes whole or not at all */
		while (m.msg_iovlen && (size_t)k >= m.msg_iov->iov_len) {
			k -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + k;
			m.msg_iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static int send_line(struct syslog_sink *s)
{
	char prefix[24];
	struct iovec iov[3];
	int n = 0;
	size_t len;
	const char *p = strbuf_data(&s->line, &len);

	if (s->stream && s->transport == T_TCP) {
		iov[n].iov_base = prefix;
		iov[n++].iov_len = (size_t)snprintf(prefix, sizeof(prefix),
						    "%zu ", len);
	}
	iov[n].iov_base = (void *)p;
	iov[n++].iov_len = len;
	if (s->stream && s->transport == T_UNIX) {
		iov[n].iov_base = "\n";
		iov[n++].iov_len = 1;
	}
	return send_all(s, iov, n);
}

static int syslog_write(struct alert_sink *base, const struct alert_doc *d)
{
	struct syslog_sink *s = (struct syslog_sink *)base;
	const char *m;
	size_t mlen;
	int rc = alert_render(base->fmt, d, s->w, &s->msg);

	if (rc < 0)
		goto fail;
	m = strbuf_data(&s->msg, &mlen);
	strbuf_reset(&s->line);
	syslog_frame(&s->line, s->facility, d, s->procid, m, mlen);
	rc = strbuf_error(&s->line);
	if (rc < 0)
		goto fail;
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = ensure_conn(s);
		if (rc < 0)
			goto fail;
		rc = send_line(s);
		if (rc == 0) {
			s->st.sent++;
			return 0;
		}
		/* a dead stream or a vanished unix socket: reconnect; a UDP
		 * socket reports an earlier datagram's ICMP error here, and
		 * this one was not sent: try once more */
		if (s->transport != T_UDP)
			drop_conn(s);
	}
fail:
	s->st.failed++;
	return rc;
}

static int syslog_flush(struct alert_sink *s)
{
	(void)s;
	return 0;
}

static void syslog_stats(struct alert_sink *s, struct alert_sink_stats *out)
{
	*out = ((struct syslog_sink *)s)->st;
}

static void syslog_close(struct alert_sink *base)
{
	struct syslog_sink *s = (struct syslog_sink *)base;

	drop_conn(s);
	jsonw_free(s->w);
	strbuf_free(&s->msg);
	strbuf_free(&s->line);
	free(s);
}

static const struct alert_sink_ops syslog_ops = {
	.name = "syslog",
	.write = syslog_write,
	.flush = syslog_flush,
	.stats = syslog_stats,
	.close = syslog_close,
};

/* "HOST:PORT" or "[V6]:PORT" -> s->addr; 0 or -1 with err set. */
static int resolve(struct syslog_sink *s, const char *hp, char *err, size_t cap)
{
	char host[256], *end;
	const char *colon, *h = hp;
	size_t hl;
	long port;
	struct addrinfo hints = {0}, *res = NULL;
	int rc;

	if (*hp == '[') {
		const char *rb = strchr(hp, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		h = hp + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - hp);
	}
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		goto bad;
	hints.ai_socktype = s->transport == T_TCP ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		snprintf(err, cap, "cannot resolve syslog host '%s': %s", host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->alen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, cap, "bad syslog address '%s' (want HOST:PORT)", hp);
	return -1;
}

struct alert_sink *sink_syslog_open(const char *addr, enum alert_fmt fmt,
				    int facility, char *err, size_t cap)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	const char *rest;

	if (!s || !(s->w = jsonw_new())) {
		free(s);
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	s->base.ops = &syslog_ops;
	s->base.fmt = fmt;
	s->fd = -1;
	s->facility = facility;
	s->procid = (unsigned long)getpid();
	snprintf(s->base.label, sizeof(s->base.label), "syslog %s (%s)", addr,
		 alert_fmt_name(fmt));
	if (!strncmp(addr, "udp://", 6) || !strncmp(addr, "tcp://", 6)) {
		s->transport = addr[0] == 'u' ? T_UDP : T_TCP;
		if (resolve(s, addr + 6, err, cap) < 0)
			goto fail;
	} else if (!strncmp(addr, "unix://", 7)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;

		rest = addr + 7;
		if (rest[0] != '/' || strlen(rest) >= sizeof(un->sun_path)) {
			snprintf(err, cap, "bad syslog address '%s' (want "
					   "unix:///absolute/path)", addr);
			goto fail;
		}
		s->transport = T_UNIX;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, rest, strlen(rest) + 1);
		s->alen = (socklen_t)sizeof(*un);
	} else {
		snprintf(err, cap, "bad syslog address '%s' (want udp://HOST:PORT,"
				   " tcp://HOST:PORT or unix:///PATH)", addr);
		goto fail;
	}
	return &s->base;
fail:
	syslog_close(&s->base);
	return NULL;
}
