/*
 * The health probe: one non-blocking HTTP/1.1 GET (or, for tcp:// targets, a bare
 * connect) on a libev loop. Steps: resolve (numeric hosts directly; names with c-ares,
 * its sockets watched by the same loop), connect to each address in turn, send the
 * request, feed the answer to the bounded parser in http.c. One timer bounds the
 * whole probe. Every ending goes through finish(), which closes the socket; the result
 * reaches the caller one loop iteration later, from deliver(), so the callback never
 * runs inside probe_start() or inside c-ares, and may restart or free the probe.
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
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
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
#include "xmalloc.h"

#define PROBE_MAX_ADDRS	8	/* addresses tried per probe */
#define PROBE_ARES_SOCKS 8	/* c-ares sockets watched at once */
#define PROBE_READ_SIZE	4096

enum phase { P_IDLE, P_RESOLVING, P_CONNECTING, P_SENDING, P_READING, P_DONE };

struct ares_watch {
	ev_io		 io;
	bool		 used;
};

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

	struct sockaddr_storage	 addrs[PROBE_MAX_ADDRS];
	socklen_t		 addrlens[PROBE_MAX_ADDRS];
	int			 naddrs, next_addr;
	int			 last_errno;

	char			 req[URL_PATH_MAX + URL_HOST_MAX + 128];
	size_t			 req_len, req_off;
	struct http_parser	*http;

	enum probe_result	 result;
	int			 status;
	int64_t			 latency;
	int			 warned_errno;

	ares_channel		 ares;		/* only while a name-based probe is under way */
	ev_timer		 ares_timer;
	struct ares_watch	 aw[PROBE_ARES_SOCKS];
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

/* Stop watching c-ares and drop its channel (never from inside a c-ares callback). */
static void
ares_teardown(struct probe *p)
{
	if (p->ares != NULL) {
		ares_destroy(p->ares);	/* pending lookups end with ARES_EDESTRUCTION */
		p->ares = NULL;
	}
	ev_timer_stop(p->loop, &p->ares_timer);
	for (size_t i = 0; i < nitems(p->aw); i++) {
		ev_io_stop(p->loop, &p->aw[i].io);
		p->aw[i].used = false;
	}
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

/* An errno as a result; unexpected local errors are logged, once per distinct errno. */
static void
finish_errno(struct probe *p, int err, const char *what)
{
	switch (err) {
	case 99999:
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
	if (err != p->warned_errno) {
		p->warned_errno = err;
		errno = err;
		log_warn("health probe %s %s:%d", what, p->url.host, p->url.port);
	}
	finish(p, PROBE_ERROR);
}

/* From the loop: clean up c-ares, then call back (last: the callback may free us). */
static void
deliver(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;
	probe_cb cb = p->cb;
	void *arg = p->arg;

	ares_teardown(p);
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
			finish(p, PROBE_OK);
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
				finish_errno(p, errno, "recv from");
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
			finish_errno(p, errno, "send to");
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
	while (p->next_addr < p->naddrs) {
		int i = p->next_addr++;
		int fd = socket(p->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd == -1) {
			finish_errno(p, errno, "socket for");
			return;
		}
		p->fd = fd;
		if (connect(fd, (struct sockaddr *)&p->addrs[i], p->addrlens[i]) == 0) {
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
	finish_errno(p, p->last_errno != 0 ? p->last_errno : EHOSTUNREACH, "connect to");
}

/* Keep one address (with our port) for connect_next. */
static void
add_addr(struct probe *p, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage *ss = &p->addrs[p->naddrs];

	if (p->naddrs == PROBE_MAX_ADDRS || len > sizeof *ss ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	memcpy(ss, sa, len);
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)p->url.port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)p->url.port);
	p->addrlens[p->naddrs++] = len;
}

/* A numeric host needs no resolver. */
static bool
numeric_host(struct probe *p)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, p->url.host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		add_addr(p, (struct sockaddr *)&sin, sizeof sin);
		return true;
	}
	if (inet_pton(AF_INET6, p->url.host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		add_addr(p, (struct sockaddr *)&sin6, sizeof sin6);
		return true;
	}
	return false;
}

/* c-ares answered; it may be a late answer for a probe that already ended. */
static void
on_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct probe *p = arg;

	if (p->phase != P_RESOLVING || status == ARES_ECANCELLED ||
	    status == ARES_EDESTRUCTION) {
		ares_freeaddrinfo(res);
		return;
	}
	if (status == ARES_SUCCESS && res != NULL)
		for (struct ares_addrinfo_node *n = res->nodes; n != NULL; n = n->ai_next)
			add_addr(p, n->ai_addr, (socklen_t)n->ai_addrlen);
	ares_freeaddrinfo(res);
	if (p->naddrs == 0) {
		log_debug("health probe: %s: %s", p->url.host, ares_strerror(status));
		finish(p, PROBE_DNS);
		return;
	}
	connect_next(p);
}

/* Re-arm the timer c-ares needs for its own retries. */
static void
ares_rearm(struct probe *p)
{
	struct timeval tv, *tvp;

	ev_timer_stop(p->loop, &p->ares_timer);
	if (p->ares == NULL || (tvp = ares_timeout(p->ares, NULL, &tv)) == NULL)
		return;
	ev_timer_set(&p->ares_timer, (double)tvp->tv_sec + tvp->tv_usec / 1e6, 0.);
	ev_timer_start(p->loop, &p->ares_timer);
}

static void
on_ares_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct probe *p = w->data;
	int fd = w->fd;

	ares_process_fd(p->ares, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	ares_rearm(p);
}

static void
on_ares_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe *p = w->data;

	ares_process_fd(p->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	ares_rearm(p);
}

/* c-ares opens, changes or closes a socket: mirror it in an ev_io. */
static void
on_ares_sock(void *data, ares_socket_t fd, int readable, int writable)
{
	struct probe *p = data;
	struct ares_watch *free_slot = NULL;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (size_t i = 0; i < nitems(p->aw); i++) {
		struct ares_watch *a = &p->aw[i];

		if (!a->used) {
			if (free_slot == NULL)
				free_slot = a;
			continue;
		}
		if (a->io.fd != fd)
			continue;
		ev_io_stop(p->loop, &a->io);
		if (events == 0)
			a->used = false;
		else {
			ev_io_set(&a->io, fd, events);
			ev_io_start(p->loop, &a->io);
		}
		return;
	}
	if (events == 0)
		return;
	if (free_slot == NULL) {
		/* Not watched: c-ares's own timeouts still end the lookup. */
		log_warnx("health probe: too many resolver sockets");
		return;
	}
	free_slot->used = true;
	ev_io_set(&free_slot->io, fd, events);
	ev_io_start(p->loop, &free_slot->io);
}

/* Start a c-ares lookup on a fresh channel (so resolv.conf changes are seen). */
static void
resolve(struct probe *p)
{
	struct ares_options opts;
	struct ares_addrinfo_hints hints;
	char lookups[] = "fb";
	int rc;

	memset(&opts, 0, sizeof opts);
	opts.sock_state_cb = on_ares_sock;
	opts.sock_state_cb_data = p;
	opts.lookups = lookups;	/* /etc/hosts, then DNS */
	rc = ares_init_options(&p->ares, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS) {
		log_warnx("health probe: resolver: %s", ares_strerror(rc));
		p->ares = NULL;
		finish(p, PROBE_ERROR);
		return;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	p->phase = P_RESOLVING;
	ares_getaddrinfo(p->ares, p->url.host, NULL, &hints, on_resolved, p);
	ares_rearm(p);
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

	ares_library_init(ARES_LIB_INIT_ALL);	/* reference counted; undone in probe_free */
	p->loop = loop;
	p->fd = -1;
	p->http = xmalloc(sizeof *p->http);
	http_init(p->http, false);
	ev_timer_init(&p->deadline, on_deadline, 0., 0.);
	ev_timer_init(&p->later, deliver, 0., 0.);
	ev_timer_init(&p->ares_timer, on_ares_timer, 0., 0.);
	ev_init(&p->io, on_socket);
	p->deadline.data = p->later.data = p->ares_timer.data = p->io.data = p;
	for (size_t i = 0; i < nitems(p->aw); i++) {
		ev_init(&p->aw[i].io, on_ares_io);
		p->aw[i].io.data = p;
	}
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
	p->naddrs = p->next_addr = 0;
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
		log_warnx("health probe: unsupported target %s", p->url.host);
		finish(p, PROBE_ERROR);
	} else if (numeric_host(p))
		connect_next(p);
	else
		resolve(p);
}

void
probe_cancel(struct probe *p)
{
	if (p == NULL)
		return;
	p->phase = P_IDLE;	/* first: c-ares callbacks during teardown are ignored */
	close_socket(p);
	ares_teardown(p);
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
	free(p->http);
	free(p);
	ares_library_cleanup();
}
