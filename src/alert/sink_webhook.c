/* sink_webhook.c - alerts POSTed as JSON to an HTTP(S) endpoint, through
 * a disk-backed queue, exactly in the order they were raised.
 *
 * The event thread only renders the alert and appends it to the queue
 * (wqueue.h: a file per alert, fsync'ed). A sender thread owns the curl
 * handle and drains the queue strictly sequentially: it sends the oldest
 * entry, deletes it after a 2xx, and only then looks at the next one, so
 * a later alert always waits for the earlier. A thread rather than a curl
 * multi loop on the agent's tick: in --replay the tick follows the
 * recording's clock, not the real one, and a blocking sender with its own
 * timeouts and backoff is simpler to get right than a state machine; the
 * event thread never waits on the network.
 *
 * Delivery: 2xx -> delivered. 400, 413, 415, 422 (the payload itself is
 * refused; resending the same bytes cannot work) -> counted failed and
 * dropped. Anything else (connection errors, timeouts, 5xx, 401/403/404,
 * 429...) -> counted failed and retried after a backoff of 1 s doubling to
 * 60 s, forever: the entry stays on disk across restarts, and the queue is
 * resent in order when the agent starts again. The cap (files or bytes)
 * bounds the disk: alerts beyond it are counted as dropped. A request that
 * timed out after the server processed it is sent again, so a receiver may
 * see a duplicate in that case (dedup on vigil.alert.id).
 *
 * Invariants: w->mu guards stop (also read atomically by curl's progress
 * callback, so closing aborts a request in flight), the backoff state and
 * the stats; the queue has its own lock (order: w->mu, then the queue's).
 * Only the sender thread touches curl after open. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "alert/sink.h"
#include "alert/wqueue.h"

#define BACKOFF_MIN_NS 1000000000ULL
#define BACKOFF_MAX_NS 60000000000ULL
#define FLUSH_NS 10000000000ULL

enum { SENT = 0, REJECTED = 1, RETRY = -1 };

struct webhook_sink {
	struct alert_sink base;
	char url[2048];
	struct curl_slist *hdrs;
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	struct wqueue *q;
	pthread_t th;
	int th_started;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* to the sender: new entry, stop, flush */
	pthread_cond_t done; /* from the sender: an attempt finished */
	int stop, flushing;
	uint64_t retry_at_ns, backoff_ns;
	uint64_t started, finished; /* delivery attempts */
	int last_failed, down_reported;
	struct alert_sink_stats st;
	struct jsonw *w; /* event thread */
	struct strbuf body;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wait_until(struct webhook_sink *w, pthread_cond_t *c,
		       uint64_t at_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(at_ns / 1000000000ULL),
			      .tv_nsec = (long)(at_ns % 1000000000ULL)};

	pthread_cond_timedwait(c, &w->mu, &ts);
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * n;
}

/* Aborts a transfer in flight when the sink is closing. */
static int xferinfo(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		    curl_off_t un)
{
	struct webhook_sink *w = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

static int refused_payload(long code)
{
	return code == 400 || code == 413 || code == 415 || code == 422;
}

/* One delivery attempt of the oldest entry (sender thread, unlocked). */
static int attempt(struct webhook_sink *w, char *why, size_t cap)
{
	char *data;
	size_t len;
	uint64_t seq;
	long code = 0;
	CURLcode res;
	int rc = wqueue_peek(w->q, &data, &len, &seq);

	if (rc == 0)
		return SENT; /* nothing there (cannot happen: one consumer) */
	if (rc < 0) { /* unreadable entry: drop it so the queue moves on */
		snprintf(why, cap, "queued alert %llu unreadable: %s",
			 (unsigned long long)seq, strerror(-rc));
		wqueue_pop(w->q, seq);
		return REJECTED;
	}
	wqueue_sync(w->q);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	w->curl_err[0] = 0;
	res = curl_easy_perform(w->curl);
	free(data);
	if (res != CURLE_OK) {
		snprintf(why, cap, "%s", w->curl_err[0] ? w->curl_err
							: curl_easy_strerror(res));
		return RETRY;
	}
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300) {
		wqueue_pop(w->q, seq);
		return SENT;
	}
	snprintf(why, cap, "HTTP %ld", code);
	if (refused_payload(code)) {
		wqueue_pop(w->q, seq);
		return REJECTED;
	}
	return RETRY;
}

static void *sender(void *arg)
{
	struct webhook_sink *w = arg;
	char why[CURL_ERROR_SIZE + 64];
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
			break;
		if (!wqueue_count(w->q)) {
			pthread_cond_wait(&w->wake, &w->mu);
			continue;
		}
		if (mono_ns() < w->retry_at_ns) {
			wait_until(w, &w->wake, w->retry_at_ns);
			continue;
		}
		w->started++;
		pthread_mutex_unlock(&w->mu);
		why[0] = 0;
		rc = attempt(w, why, sizeof(why));
		pthread_mutex_lock(&w->mu);
		w->finished++;
		w->last_failed = rc == RETRY;
		if (rc == SENT) {
			w->st.sent++;
			w->backoff_ns = 0;
			w->retry_at_ns = 0;
			if (w->down_reported)
				fprintf(stderr, "vigil: webhook %s: delivering "
						"again\n", w->url);
			w->down_reported = 0;
		} else if (rc == REJECTED) {
			w->st.failed++;
			w->st.dropped++;
			fprintf(stderr, "vigil: webhook %s: alert dropped (%s)\n",
				w->url, why);
		} else {
			w->st.failed++;
			w->backoff_ns = w->backoff_ns ? w->backoff_ns * 2
						      : BACKOFF_MIN_NS;
			if (w->backoff_ns > BACKOFF_MAX_NS)
				w->backoff_ns = BACKOFF_MAX_NS;
			/* a flush retries at once (and gives up after that) */
			w->retry_at_ns = w->flushing ? 0 : mono_ns() + w->backoff_ns;
			if (!w->down_reported)
				fprintf(stderr, "vigil: webhook %s: %s; alerts "
						"stay queued, retrying\n",
					w->url, why);
			w->down_reported = 1;
		}
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int webhook_write(struct alert_sink *s, const struct alert_doc *d)
{
	struct webhook_sink *w = (struct webhook_sink *)s;
	const char *p;
	size_t n;
	int rc = alert_render(s->fmt, d, w->w, &w->body);

	if (rc == 0) {
		p = strbuf_data(&w->body, &n);
		rc = wqueue_push(w->q, p, n);
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0) {
		pthread_cond_signal(&w->wake);
	} else {
		if (rc != -ENOSPC)
			w->st.failed++;
		w->st.dropped++;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Waits until the queue is delivered, an attempt begun after this call
 * fails (the endpoint is down: no point waiting), or FLUSH_NS passed. */
static int webhook_flush(struct alert_sink *s)
{
	struct webhook_sink *w = (struct webhook_sink *)s;
	uint64_t deadline = mono_ns() + FLUSH_NS, start;

	pthread_mutex_lock(&w->mu);
	start = w->started; /* an attempt in flight now does not count */
	w->flushing = 1;
	w->retry_at_ns = 0; /* try now rather than after the backoff */
	pthread_cond_signal(&w->wake);
	while (w->th_started && wqueue_count(w->q) &&
	       !(w->finished > start && w->last_failed) &&
	       mono_ns() < deadline)
		wait_until(w, &w->done, deadline);
	w->flushing = 0;
	if (w->last_failed)
		w->retry_at_ns = mono_ns() + w->backoff_ns;
	pthread_mutex_unlock(&w->mu);
	return wqueue_count(w->q) ? -EAGAIN : 0;
}

static void webhook_stats(struct alert_sink *s, struct alert_sink_stats *out)
{
	struct webhook_sink *w = (struct webhook_sink *)s;

	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
	out->queued = wqueue_count(w->q);
}

static void webhook_close(struct alert_sink *s)
{
	struct webhook_sink *w = (struct webhook_sink *)s;

	if (w->th_started) {
		pthread_mutex_lock(&w->mu);
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
	}
	if (w->curl)
		curl_easy_cleanup(w->curl);
	curl_slist_free_all(w->hdrs);
	curl_global_cleanup();
	wqueue_close(w->q);
	jsonw_free(w->w);
	strbuf_free(&w->body);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static const struct alert_sink_ops webhook_ops = {
	.name = "webhook",
	.write = webhook_write,
	.flush = webhook_flush,
	.stats = webhook_stats,
	.close = webhook_close,
};

static int setup_curl(struct webhook_sink *w, const struct sink_webhook_conf *c)
{
	uint64_t t = c->timeout_ms ? c->timeout_ms : 10000;
	struct curl_slist *h;

	w->curl = curl_easy_init();
	if (!w->curl)
		return -ENOMEM;
	h = curl_slist_append(NULL, "Content-Type: application/json");
	w->hdrs = h;
	if (h)
		h = curl_slist_append(w->hdrs, "User-Agent: vigil/0.1.0");
	for (size_t i = 0; h && i < c->n_headers; i++)
		h = curl_slist_append(w->hdrs, c->headers[i]);
	if (!h)
		return -ENOMEM;
	if (curl_easy_setopt(w->curl, CURLOPT_URL, c->url) != CURLE_OK ||
	    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https") !=
		    CURLE_OK)
		return -EINVAL;
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)t);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(t < 5000 ? t : 5000));
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, w->curl_err);
	curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, xferinfo);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, w);
	return 0;
}

/* DIR/endpoint names the URL a queue belongs to, for people looking at
 * the directory; failing to write it changes nothing. */
static void note_endpoint(const char *dir, const char *url)
{
	char path[4096];
	FILE *f;
	int fd;

	if (snprintf(path, sizeof(path), "%s/endpoint", dir) >= (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%s\n", url);
	fclose(f);
}

/* Starts the sender with every signal blocked, so signals reach the
 * event thread (whose poll they interrupt). */
static int start_sender(struct webhook_sink *w)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->th, NULL, sender, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	w->th_started = 1;
	return 0;
}

struct alert_sink *sink_webhook_open(const struct sink_webhook_conf *c,
				     char *err, size_t cap)
{
	struct webhook_sink *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int rc;

	if (!w) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->done, &ca);
	pthread_condattr_destroy(&ca);
	w->base.ops = &webhook_ops;
	w->base.fmt = c->fmt;
	snprintf(w->url, sizeof(w->url), "%s", c->url);
	snprintf(w->base.label, sizeof(w->base.label), "webhook %s (%s)",
		 c->url, alert_fmt_name(c->fmt));
	if (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) {
		snprintf(err, cap, "bad webhook URL '%s' (want http:// or "
				   "https://)", c->url);
		goto fail;
	}
	w->w = jsonw_new();
	rc = w->w ? setup_curl(w, c) : -ENOMEM;
	if (rc < 0) {
		snprintf(err, cap, "webhook '%s': %s", c->url,
			 rc == -EINVAL ? "URL not accepted by libcurl"
				       : strerror(-rc));
		goto fail;
	}
	rc = wqueue_open(c->queue_dir, c->max_files ? c->max_files : 100000,
			 c->max_bytes ? c->max_bytes : 256ULL << 20, &w->q);
	if (rc < 0) {
		snprintf(err, cap, "webhook queue '%s': %s", c->queue_dir,
			 strerror(-rc));
		goto fail;
	}
	note_endpoint(c->queue_dir, c->url);
	rc = start_sender(w);
	if (rc < 0) {
		snprintf(err, cap, "webhook sender thread: %s", strerror(-rc));
		goto fail;
	}
	return &w->base;
fail:
	webhook_close(&w->base);
	return NULL;
}
