/*
 * The HTTP health probe: one non-blocking HTTP/1.1 GET on the libev loop. Connect, send,
 * read the status line and headers (and the body when a substring is expected), all
 * within a timeout. Names are resolved with c-ares (never getaddrinfo on the loop);
 * numeric hosts need no resolver. Proxy variables are ignored. The result is typed.
 */
#ifndef TEND_PROBE_H
#define TEND_PROBE_H

#include <stdint.h>

#include "parse.h"

struct ev_loop;

enum probe_result {
	PROBE_OK,
	PROBE_REFUSED,		/* connection refused (nothing listens) */
	PROBE_TIMEOUT,		/* no complete answer within the timeout */
	PROBE_RESET,		/* connection reset or closed before a full header */
	PROBE_BAD_STATUS,	/* status not in expect_status */
	PROBE_BAD_BODY,		/* expect_body not found in the body */
	PROBE_PROTOCOL,		/* not HTTP, or past the response bound */
	PROBE_DNS,		/* the name did not resolve */
	PROBE_ERROR,		/* local error (socket, EMFILE, ...) */
};
#define PROBE_NRESULTS (PROBE_ERROR + 1)

const char *probe_result_name(enum probe_result);	/* "ok", "refused", ... */

struct probe_spec {
	const struct url		*url;
	int64_t				 timeout;	/* ms */
	const struct status_ranges	*expect_status;
	const char			*expect_body;	/* NULL: body not read */
};

/* Called once per probe_start, from the loop, never from inside probe_start. */
typedef void (*probe_cb)(void *arg, enum probe_result, int http_status, int64_t latency_ms);

struct probe;	/* opaque */

struct probe *probe_new(struct ev_loop *);
/* Start a probe; a probe already under way is cancelled (its callback is not called). */
void probe_start(struct probe *, const struct probe_spec *, probe_cb, void *arg);
void probe_cancel(struct probe *);
void probe_free(struct probe *);

#endif
