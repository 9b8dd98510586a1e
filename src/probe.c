/*
 * The health probe: one non-blocking HTTP/1.1 GET (or, for tcp:// targets, a bare
 * connect) on a libev loop. Steps: resolve (resolve.c: numeric hosts directly, names
 * with c-ares on the same loop), connect to each address in turn, send the request,
 * feed the answer to the bounded parser in http.c. One timer bounds the whole probe.
 * Every ending goes through finish(), which closes the socket; the result reaches the
 * caller one loop iteration later, from deliver(), so the callback never runs inside
 * probe_start() or inside c-ares, and may restart or free the probe.
 *
 * Mapping: ECONNREFUSED -> refused; the deadline -> timeout (dns while still
 * resolving); ECONNRESET/EPIPE, or a close before the end of the headers -> reset;
 * anything the parser rejects (also a body cut short) -> protocol-error; other local
 * errors -> error, logged once per distinct errno. A 10 MB answer is cut at the parser's
 * bound, but when no body is expected we stop reading after the headers (so a valid
 * header followed by a huge body is fine). timeout <= 0 means no deadline.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "parse.h"
#include "probe.h"
#include "resolve.h"
#include "xmalloc.h"

#define PROBE_READ_SIZE	4096
#define WARN_RESOLVER	(-1)	/* warn_once codes besides errno values */
#define WARN_TARGET	(-2)

enum phase { P_IDLE, P_RESOLVING, P_CONNECTING, P_SENDING, P_READING, P_DONE };

struct probe {
	struct ev_loop		*loop;
	enum phase		 phase;
	ev_timer		 deadline;	/* the whole probe */
	ev_timer		 later;		/* delivers the result from the loop */
	ev_io			 io;		/* the TCP socket */
	int			 fd;

	struct url		 url;
	struct status_ranges	 expect;
	char			*expect_body;
	probe_cb		 cb;
	void			*arg;
	struct timespec		 t0;

	struct resolver		*resolver;
	struct resolve_result	 addrs;
	int			 next_addr;
	int			 last_errno;

	char			 req[URL_PATH_MAX + URL_HOST_MAX + 128];
	size_t			 req_len, req_off;
	struct http_parser	*http;

	enum probe_result	 result;
	int			 status;
	int64_t			 latency;
	int			 warned;	/* errno (or WARN_*) logged last */
};

static const char *result_names[PROBE_NRESULTS] = {
	"ok", "refused", "timeout", "reset", "bad-status", "bad-body", "protocol-error",
	"dns", "error",
};

static void connect_next(struct probe *);

const char *
probe_result_name(enum probe_result r)
{
	if ((unsigned)r >= PROBE_NRESULTS)
		return "unknown";
	return result_names[r];
}

static int64_t
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
close_socket(struct probe *p)
{
	ev_io_stop(p->loop, &p->io);
	if (p->fd != -1) {
		close(p->fd);	/* no retry on EINTR: Linux frees the fd either way */
		p->fd = -1;
	}
}

/* The probe's single exit: close the socket and hand the result to the loop. */
static void
finish(struct probe *p, enum probe_result r)
{
	if (p->phase == P_IDLE || p->phase == P_DONE)
		return;
	p->latency = elapsed_ms(&p->t0);
	p->result = r;
	p->status = p->http->status;
	p->phase = P_DONE;
	close_socket(p);
	ev_timer_stop(p->loop, &p->deadline);
	ev_timer_set(&p->later, 0., 0.);
	ev_timer_start(p->loop, &p->later);
}

/* No blanks or control bytes: they would split the request line or add headers. */
static bool
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* Log a local problem unless this probe logged the same one last time. */
static void
warn_once(struct probe *p, int code, const char *what, const char *detail)
{
	const char *name = p->url.scheme == URL_UNIX ? p->url.path : p->url.host;

	if (code == p->warned)
		return;
	p->warned = code;
	log_warnx("probe %s:%d: %s: %s", clean(name) ? name : "?", p->url.port, what, detail);
}

/* An errno as a result; unexpected local errors are logged, once per distinct errno. */
static void
finish_errno(struct probe *p, int err, const char *what)
{
	switch (err) {
	case ECONNREFUSED:
		finish(p, PROBE_REFUSED);
		return;
	case ETIMEDOUT:
		finish(p, PROBE_TIMEOUT);
		return;
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
		finish(p, PROBE_RESET);
		return;
	}
	warn_once(p, err, what, strerror(err));
	finish(p, PROBE_ERROR);
}

/* From the loop: clean up c-ares, then call back (last: the callback may free us). */
static void
deliver(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;
	probe_cb cb = p->cb;
	void *arg = p->arg;

	resolver_cancel(p->resolver);	/* closes c-ares's sockets; we are not inside it */
	p->phase = P_IDLE;
	p->cb = NULL;
	if (cb != NULL)
		cb(arg, p->result, p->status, p->latency);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;

	finish(p, p->phase == P_RESOLVING ? PROBE_DNS : PROBE_TIMEOUT);
}

/* Judge a complete (or failed) answer. */
static void
judge(struct probe *p, enum http_state st, bool eof)
{
	struct http_parser *h = p->http;

	if (h->headers_done && !status_ranges_match(&p->expect, h->status))
		finish(p, PROBE_BAD_STATUS);
	else if (st == HTTP_ERROR)
		finish(p, eof && !h->headers_done ? PROBE_RESET : PROBE_PROTOCOL);
	else if (st == HTTP_DONE) {
		if (p->expect_body != NULL &&
		    memmem(h->body, h->body_len, p->expect_body, strlen(p->expect_body)) == NULL)
			finish(p, PROBE_BAD_BODY);
		else
			finish(p, PROBE_OK);
	} else if (eof)
		finish(p, PROBE_RESET);	/* the parser always decides at EOF; be safe */
}

/* Read what is there; the parser's bounds keep this loop short. */
static void
read_answer(struct probe *p)
{
	char buf[PROBE_READ_SIZE];

	while (p->phase == P_READING) {
		ssize_t n = recv(p->fd, buf, sizeof buf, 0);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				finish_errno(p, errno, "recv");
			return;
		}
		judge(p, http_feed(p->http, buf, (size_t)n), n == 0);
	}
}

/* Write the rest of the request, then wait for the answer. */
static void
send_request(struct probe *p)
{
	while (p->req_off < p->req_len) {
		ssize_t n = send(p->fd, p->req + p->req_off, p->req_len - p->req_off,
		    MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;	/* still watching for EV_WRITE */
			finish_errno(p, errno, "send");
			return;
		}
		p->req_off += (size_t)n;
	}
	p->phase = P_READING;
	ev_io_stop(p->loop, &p->io);
	ev_io_set(&p->io, p->fd, EV_READ);
	ev_io_start(p->loop, &p->io);
}

static void
connected(struct probe *p)
{
	if (p->url.scheme == URL_TCP) {
		finish(p, PROBE_OK);
		return;
	}
	p->phase = P_SENDING;
	ev_io_stop(p->loop, &p->io);
	ev_io_set(&p->io, p->fd, EV_WRITE);
	ev_io_start(p->loop, &p->io);
	send_request(p);
}

static void
on_socket(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = w->data;
	int err = 0;
	socklen_t len = sizeof err;

	switch (p->phase) {
	case P_CONNECTING:
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err == 0) {
			connected(p);
			return;
		}
		p->last_errno = err;
		close_socket(p);
		connect_next(p);
		return;
	case P_SENDING:
		send_request(p);
		return;
	case P_READING:
		read_answer(p);
		return;
	default:
		return;
	}
}

/* Connect to the next address; a failure falls through to the one after it. */
static void
connect_next(struct probe *p)
{
	while (p->next_addr < p->addrs.n) {
		int i = p->next_addr++;
		const struct sockaddr_storage *ss = &p->addrs.addr[i];
		int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd == -1) {	/* e.g. EAFNOSUPPORT where IPv6 is off: try the next one */
			p->last_errno = errno;
			continue;
		}
		p->fd = fd;
		if (connect(fd, (const struct sockaddr *)ss, p->addrs.len[i]) == 0) {
			connected(p);
			return;
		}
		if (errno == EINPROGRESS || errno == EINTR) {
			p->phase = P_CONNECTING;
			ev_io_set(&p->io, fd, EV_WRITE);
			ev_io_start(p->loop, &p->io);
			return;
		}
		p->last_errno = errno;
		close_socket(p);
	}
	finish_errno(p, p->last_errno != 0 ? p->last_errno : EHOSTUNREACH, "connect");
}

/* A lookup ended (maybe inside c-ares: no resolver_* calls here). */
static void
on_resolved(void *arg, const struct resolve_result *res, const char *why)
{
	struct probe *p = arg;

	if (res->n == 0) {
		log_debug("probe %s: %s", p->url.host, why);
		finish(p, PROBE_DNS);
		return;
	}
	p->addrs = *res;
	connect_next(p);
}

/* The request, "Host" with brackets for IPv6 and the port unless it is 80. */
static bool
build_request(struct probe *p)
{
	const struct url *u = &p->url;
	const char *lb = strchr(u->host, ':') != NULL ? "[" : "";
	const char *rb = *lb != '\0' ? "]" : "";
	char port[16] = "";
	int n;

	if (!clean(u->host) || !clean(u->path))
		return false;
	if (u->port != 80)
		snprintf(port, sizeof port, ":%d", u->port);
	n = snprintf(p->req, sizeof p->req,
	    "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: tend/%s\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n",
	    u->path[0] != '\0' ? u->path : "/", lb, u->host, rb, port, PACKAGE_VERSION);
	if (n < 0 || (size_t)n >= sizeof p->req)
		return false;
	p->req_len = (size_t)n;
	p->req_off = 0;
	return true;
}

struct probe *
probe_new(struct ev_loop *loop)
{
	struct probe *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->resolver = resolver_new(loop);
	p->fd = -1;
	p->http = xmalloc(sizeof *p->http);
	http_init(p->http, false);
	ev_timer_init(&p->deadline, on_deadline, 0., 0.);
	ev_timer_init(&p->later, deliver, 0., 0.);
	ev_init(&p->io, on_socket);
	p->deadline.data = p->later.data = p->io.data = p;
	return p;
}

void
probe_start(struct probe *p, const struct probe_spec *spec, probe_cb cb, void *arg)
{
	static const struct status_ranges any_good = { 1, { 200 }, { 399 } };

	probe_cancel(p);
	p->url = *spec->url;
	p->expect = spec->expect_status != NULL ? *spec->expect_status : any_good;
	free(p->expect_body);
	p->expect_body = NULL;
	if (spec->expect_body != NULL && spec->expect_body[0] != '\0')
		p->expect_body = xstrdup(spec->expect_body);
	p->cb = cb;
	p->arg = arg;
	p->addrs.n = p->next_addr = 0;
	p->last_errno = 0;
	http_init(p->http, p->expect_body != NULL);
	if (clock_gettime(CLOCK_MONOTONIC, &p->t0) == -1)
		memset(&p->t0, 0, sizeof p->t0);
	p->phase = P_CONNECTING;
	if (spec->timeout > 0) {
		ev_timer_set(&p->deadline, (double)spec->timeout / 1000., 0.);
		ev_timer_start(p->loop, &p->deadline);
	}

	if (p->url.scheme == URL_UNIX || p->url.port <= 0 || p->url.port > 65535 ||
	    !build_request(p)) {
		warn_once(p, WARN_TARGET, "target", "not http:// or tcp://, bad port or bad bytes");
		finish(p, PROBE_ERROR);
	} else if (resolver_numeric(p->url.host, p->url.port, &p->addrs)) {
		connect_next(p);
	} else {
		const char *why;

		p->phase = P_RESOLVING;
		if (resolver_start(p->resolver, p->url.host, p->url.port, on_resolved, p,
		    &why) == -1) {
			warn_once(p, WARN_RESOLVER, "resolver", why);
			finish(p, PROBE_ERROR);
		}
	}
}

void
probe_cancel(struct probe *p)
{
	if (p == NULL)
		return;
	p->phase = P_IDLE;
	close_socket(p);
	resolver_cancel(p->resolver);
	ev_timer_stop(p->loop, &p->deadline);
	ev_timer_stop(p->loop, &p->later);
	p->cb = NULL;
}

void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_cancel(p);
	free(p->expect_body);
	resolver_free(p->resolver);
	free(p->http);
	free(p);
}
