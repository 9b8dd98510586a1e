/*
 * The status endpoint's routes, the control socket's commands and the systemd
 * notifications, all fed from the core and the probe results. Nothing here decides
 * anything about the child: operator requests go back to the supervisor as core events.
 */
#include "autoconf.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "request.h"
#include "server.h"
#include "status.h"
#include "xmalloc.h"

struct status {
	const struct core	*core;
	status_op_cb		 op;
	void			*arg;
	struct metrics		 metrics;
	struct notify		*notify;
	struct server		*http;
	struct control		*control;
	struct buf		 line;		/* scratch for the STATUS= line */
};

/* The wall clock, only to put dates on /status entries. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A whole HTTP/1.1 response; the body is left out for HEAD. Always closes. */
static int
respond(struct buf *out, int code, const char *type, const struct buf *body, bool head)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n", code, request_reason(code),
	    type, body->len);
	if (code == 405)
		buf_puts(out, "Allow: GET, HEAD\r\n");
	buf_puts(out, "\r\n");
	if (!head && body->len > 0)
		buf_add(out, body->p, body->len);
	return code;
}

/* A one-line text/plain answer (the body gets its newline). */
static int TEND_PRINTF(4, 5)
respond_text(struct buf *out, int code, bool head, const char *fmt, ...)
{
	struct buf	body;
	char		text[512];
	va_list		ap;
	int		r;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	buf_init(&body, sizeof text + 1);
	buf_puts(&body, text);
	buf_puts(&body, "\n");
	r = respond(out, code, "text/plain; charset=utf-8", &body, head);
	buf_free(&body);
	return r;
}

/* GET or HEAD of path. */
static int
route(struct status *st, const struct request *req, struct buf *out)
{
	const struct core	*c = st->core;
	const char		*type = "text/plain; charset=utf-8";
	struct buf		 body;
	int64_t			 now = clock_ms();
	int			 code = 200;

	if (strcmp(req->path, "/healthz") == 0)
		return respond_text(out, 200, req->head, "ok");
	if (strcmp(req->path, "/readyz") == 0) {
		if (core_healthy(c))
			return respond_text(out, 200, req->head, "ready: %s",
			    core_state_name(c->state));
		return respond_text(out, 503, req->head, "not ready: %s",
		    core_state_name(c->state));
	}
	buf_init(&body, STATUS_REPLY_MAX);
	if (strcmp(req->path, "/status") == 0) {
		metrics_json(&body, &st->metrics, c, now);
		type = "application/json";
	} else if (strcmp(req->path, "/metrics") == 0) {
		metrics_prometheus(&body, &st->metrics, c, now);
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else if (strcmp(req->path, "/") == 0)
		buf_puts(&body, "tend: /healthz /readyz /status /metrics\n");
	else {
		code = 404;
		buf_puts(&body, "not found (tend serves /healthz /readyz /status /metrics)\n");
	}
	if (body.full) {
		buf_free(&body);
		return respond_text(out, 500, req->head, "response too large");
	}
	respond(out, code, type, &body, req->head);
	buf_free(&body);
	return code;
}

/* The answer once the head is complete or broken; 0 while more bytes are needed. */
static int
answer(struct status *st, struct request_scanner *sc, const char *in, size_t len, bool eof,
    struct buf *out)
{
	struct request	req;
	size_t		head_len = 0;
	int		code;

	switch (request_scan(sc, in, len, &head_len)) {
	case REQ_MORE:
		if (!eof || len == 0)
			return 0;
		return respond_text(out, 400, false, "bad request: incomplete head");
	case REQ_LINE_TOO_LONG:
		return respond_text(out, 414, false, "request line longer than %d bytes",
		    REQUEST_LINE_MAX);
	case REQ_HEAD_TOO_LARGE:
		return respond_text(out, 431, false, "request head longer than %d bytes",
		    REQUEST_HEAD_MAX);
	case REQ_HEAD:
		break;
	}
	if ((code = request_parse(&req, in, head_len)) != 0)
		return respond_text(out, code, req.head, "%s", req.why);
	return route(st, &req, out);
}

int
status_http(struct status *st, const char *in, size_t len, bool eof, struct buf *out)
{
	struct request_scanner sc;

	memset(&sc, 0, sizeof sc);
	return answer(st, &sc, in, len, eof, out);
}

static bool
on_http(void *arg, void *state, const char *in, size_t len, bool eof, struct buf *out)
{
	return answer(arg, state, in, len, eof, out) != 0;
}

/* Why an operator request cannot be carried out now, or NULL. */
static const char *
op_refused(const struct core *c)
{
	if (c->shutdown || c->state == ST_EXITED)
		return "tend is shutting down";
	if (c->state == ST_STOPPING)
		return "a stop is under way; try again once it is done";
	if (c->state == ST_WAITING)
		return "tend is waiting for its dependencies; no child to act on yet";
	return NULL;
}

static void
do_op(struct status *st, const char *what, enum core_event_type type, bool on,
    struct buf *out)
{
	const struct core *c = st->core;

	log_info("operator: %s (control socket)", what);
	st->op(st->arg, type, on);
	buf_printf(out, "ok: %s; state %s, mode %s\n", what, core_state_name(c->state),
	    c->mode == MODE_EMERGENCY ? "emergency" : "normal");
}

void
status_control(struct status *st, const char *req, struct buf *out)
{
	const struct core	*c = st->core;
	const char		*why;
	int64_t			 now = clock_ms();

	if (strcmp(req, "status") == 0)
		metrics_summary(out, &st->metrics, c, now);
	else if (strcmp(req, "status json") == 0)
		metrics_json(out, &st->metrics, c, now);
	else if (strcmp(req, "check") == 0) {
		if (core_healthy(c))
			buf_printf(out, "healthy: %s\n", core_state_name(c->state));
		else
			buf_printf(out, "unhealthy: %s\n", core_state_name(c->state));
	} else if (strcmp(req, "restart") == 0) {
		if ((why = op_refused(c)) != NULL)
			buf_printf(out, "error: %s\n", why);
		else
			do_op(st, "restart", CE_OP_RESTART, false, out);
	} else if (strcmp(req, "emergency on") == 0) {
		if (!c->conf.emergency)
			buf_puts(out, "error: no emergency mode configured ([emergency])\n");
		else if (c->forced)
			buf_puts(out, "ok: emergency mode is already forced\n");
		else if ((why = op_refused(c)) != NULL)
			buf_printf(out, "error: %s\n", why);
		else
			do_op(st, "emergency on", CE_OP_EMERGENCY, true, out);
	} else if (strcmp(req, "emergency off") == 0) {
		if (!c->forced && c->mode == MODE_NORMAL)
			buf_puts(out, "ok: emergency mode is not forced (normal mode)\n");
		else if ((why = op_refused(c)) != NULL)
			buf_printf(out, "error: %s\n", why);
		else
			do_op(st, "emergency off", CE_OP_EMERGENCY, false, out);
	} else
		buf_puts(out, "error: unknown request (status, status json, check, restart, "
		    "emergency on, emergency off)\n");
}

static void
on_control(void *arg, const char *req, struct buf *out)
{
	status_control(arg, req, out);
}

/* The listening socket for [status] listen; -1 (logged) if it cannot be made. */
static int
http_listen(const struct url *u)
{
	struct addrinfo	hints, *res = NULL, *ai;
	char		port[16];
	int		fd = -1, one = 1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", u->port);
	/* At start, before the loop runs: a name here may block on the resolver briefly. */
	if ((err = getaddrinfo(u->host, port, &hints, &res)) != 0) {
		log_errorx("[status] listen %s:%s: %s", u->host, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		err = errno;
		close(fd);
		errno = err;
		fd = -1;
	}
	if (fd == -1)
		log_error("[status] listen %s:%s", u->host, port);
	freeaddrinfo(res);
	return fd;
}

struct status *
status_new(struct ev_loop *loop, const struct config *cfg, const struct core *c,
    status_op_cb op, void *arg)
{
	struct status		*st = xcalloc(1, sizeof *st);
	struct server_conf	 sc;
	char			 err[512];
	int			 fd;

	st->core = c;
	st->op = op;
	st->arg = arg;
	metrics_init(&st->metrics, clock_ms(), wall_ms());
	buf_init(&st->line, 1024);
	st->notify = notify_new(loop, c);
	if (cfg->status_listen != NULL) {
		if ((fd = http_listen(&cfg->status)) == -1)
			goto fail;
		memset(&sc, 0, sizeof sc);
		sc.name = "status endpoint";
		sc.in_max = REQUEST_HEAD_MAX;
		sc.out_max = STATUS_REPLY_MAX + 1024;
		sc.conn_state = sizeof(struct request_scanner);
		sc.max_conns = STATUS_MAX_CONNS;
		sc.timeout = STATUS_TIMEOUT;
		sc.cb = on_http;
		sc.arg = st;
		st->http = server_new(loop, fd, &sc);
		log_info("status endpoint on http://%s%s%s:%d/ (/healthz /readyz /status "
		    "/metrics)", strchr(cfg->status.host, ':') != NULL ? "[" : "",
		    cfg->status.host, strchr(cfg->status.host, ':') != NULL ? "]" : "",
		    cfg->status.port);
	}
	if (cfg->status_control != NULL) {
		st->control = control_new(loop, cfg->status_control, on_control, st, err,
		    sizeof err);
		if (st->control == NULL) {
			log_errorx("%s", err);
			goto fail;
		}
	} else if (getpid() == 1) {
		/* A container's init: `tend status --check` (a HEALTHCHECK) works without
		 * settings, at the client's default path, when tend may create it there. */
		st->control = control_new(loop, CONTROL_DEFAULT_PATH, on_control, st, err,
		    sizeof err);
		/* Another tend has it: fine. Otherwise (a non-root USER, a read-only root)
		 * say so, or such a HEALTHCHECK fails for ever without a word why. */
		if (st->control == NULL && errno == EADDRINUSE)
			log_debug("no default control socket: %s", err);
		else if (st->control == NULL)
			log_info("%s: tend status (a HEALTHCHECK) cannot reach this tend; set "
			    "[status] control (TEND_STATUS_CONTROL) to a path tend can create",
			    err);
	}
	return st;
fail:
	status_free(st);
	return NULL;
}

void
status_change(struct status *st)
{
	if (st == NULL)
		return;
	metrics_change(&st->metrics, st->core);
	if (!notify_enabled(st->notify))
		return;
	buf_reset(&st->line);
	metrics_status_line(&st->line, &st->metrics, st->core, clock_ms());
	notify_change(st->notify, st->line.p);
}

void
status_probe(struct status *st, enum probe_result result, int http_status, int64_t latency)
{
	if (st != NULL)
		metrics_probe(&st->metrics, clock_ms(), result, http_status, latency);
}

void
status_free(struct status *st)
{
	if (st == NULL)
		return;
	server_free(st->http);
	control_free(st->control);
	notify_free(st->notify);
	buf_free(&st->line);
	free(st);
}
