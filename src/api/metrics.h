/* metrics.h - a minimal Prometheus text-format endpoint (GET /metrics)
 * served from the agent's own loop: non-blocking accept, one short
 * request per connection, bounded time per request. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H
#include <stdio.h>

struct metrics_srv;

/* addr: "HOST:PORT" (IPv4) or ":PORT" (127.0.0.1). NULL + message on error. */
struct metrics_srv *metrics_open(const char *addr, char *err, size_t errlen);
/* Writes the exposition text for one scrape. */
typedef void (*metrics_fill_fn)(void *ctx, FILE *out);
/* Answers every connection waiting now; never blocks for long. */
void metrics_serve(struct metrics_srv *m, metrics_fill_fn fill, void *ctx);
void metrics_close(struct metrics_srv *m);
#endif
