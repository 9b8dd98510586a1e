/*
 * What tend tells its surroundings: the HTTP status endpoint ([status] listen:
 * /healthz /readyz /status /metrics), the control socket ([status] control) and
 * systemd notifications (notify.h). The supervisor makes one at start, tells it about
 * every state change and probe result, and gets operator requests back through op.
 * It reads the core (never changes it) whenever it answers.
 */
#ifndef TEND_STATUS_H
#define TEND_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "core.h"
#include "probe.h"

struct ev_loop;

#define STATUS_MAX_CONNS	32	/* HTTP connections; past it, accepting pauses */
#define STATUS_TIMEOUT		5.0	/* s from accept to the response written */
#define STATUS_REPLY_MAX	(256 * 1024)

/* An operator's request: CE_OP_RESTART, or CE_OP_EMERGENCY with on. Feed it to the core. */
typedef void (*status_op_cb)(void *arg, enum core_event_type, bool on);

struct status;	/* opaque */

/*
 * Set up what cfg asks for; c must stay valid (and is read) until status_free. NULL if
 * the endpoint or the control socket cannot be set up (the reason is logged).
 */
struct status *status_new(struct ev_loop *, const struct config *cfg,
    const struct core *c, status_op_cb op, void *arg);
/* After every ACT_STATE: STATUS=, READY=1, STOPPING=1; last failure bookkeeping. */
void status_change(struct status *);
/* After every probe result (before the core sees it, or after: both work). */
void status_probe(struct status *, enum probe_result, int http_status, int64_t latency);
void status_free(struct status *);

/* Exposed for the unit tests: the answer to one control request line, and to the */
/* bytes of one HTTP request (REQ_MORE: incomplete; returns the HTTP status or 0). */
void status_control(struct status *, const char *request, struct buf *out);
int status_http(struct status *, const char *in, size_t len, bool eof, struct buf *out);

#endif
