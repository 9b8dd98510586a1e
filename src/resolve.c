/*
 * Non-blocking name resolution with c-ares on a libev loop (see resolve.h). c-ares
 * tells us which sockets to watch through its sock_state_cb; we mirror each in an ev_io
 * and keep one ev_timer at ares_timeout() for its retries. Never getaddrinfo(3): it
 * would block the supervisor.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "resolve.h"
#include "xmalloc.h"

#define RESOLVE_SOCKS	8	/* c-ares sockets watched at once */

struct ares_watch {
	ev_io		 io;
	bool		 used;
};

struct resolver {
	struct ev_loop		*loop;
	ares_channel		 ares;		/* only while a lookup is under way or done */
	bool			 busy;		/* a callback is owed */
	int			 port;
	resolve_cb		 cb;
	void			*arg;
	ev_timer		 timer;
	struct ares_watch	 aw[RESOLVE_SOCKS];
	struct resolve_result	 res;
};

/* Keep one address, with the port, if there is room and it is IPv4 or IPv6. */
static void
add_addr(struct resolve_result *res, const struct sockaddr *sa, socklen_t len, int port)
{
	struct sockaddr_storage *ss = &res->addr[res->n];

	if (res->n == RESOLVE_MAX_ADDRS || len > sizeof *ss ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	memcpy(ss, sa, len);
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)port);
	res->len[res->n++] = len;
}

bool
resolver_numeric(const char *host, int port, struct resolve_result *res)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	res->n = 0;
	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		add_addr(res, (struct sockaddr *)&sin, sizeof sin, port);
		return true;
	}
	if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		add_addr(res, (struct sockaddr *)&sin6, sizeof sin6, port);
		return true;
	}
	return false;
}

/* c-ares answered; a lookup cancelled or destroyed owes no callback. */
static void
on_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct resolver *r = arg;

	if (!r->busy || status == ARES_ECANCELLED || status == ARES_EDESTRUCTION) {
		ares_freeaddrinfo(ai);
		return;
	}
	r->res.n = 0;
	if (status == ARES_SUCCESS && ai != NULL)
		for (struct ares_addrinfo_node *n = ai->nodes; n != NULL; n = n->ai_next)
			add_addr(&r->res, n->ai_addr, (socklen_t)n->ai_addrlen, r->port);
	ares_freeaddrinfo(ai);
	r->busy = false;
	r->cb(r->arg, &r->res, r->res.n == 0 ? (status == ARES_SUCCESS ?
	    "no IPv4 or IPv6 address" : ares_strerror(status)) : NULL);
}

/* Re-arm the timer c-ares needs for its own retries. */
static void
rearm(struct resolver *r)
{
	struct timeval tv, *tvp;

	ev_timer_stop(r->loop, &r->timer);
	if (r->ares == NULL || (tvp = ares_timeout(r->ares, NULL, &tv)) == NULL)
		return;
	ev_timer_set(&r->timer, (double)tvp->tv_sec + tvp->tv_usec / 1e6, 0.);
	ev_timer_start(r->loop, &r->timer);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct resolver *r = w->data;
	int fd = w->fd;

	ares_process_fd(r->ares, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm(r);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolver *r = w->data;

	ares_process_fd(r->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

/* c-ares opens, changes or closes a socket: mirror it in an ev_io. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct ares_watch *free_slot = NULL;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (size_t i = 0; i < nitems(r->aw); i++) {
		struct ares_watch *a = &r->aw[i];

		if (!a->used) {
			if (free_slot == NULL)
				free_slot = a;
			continue;
		}
		if (a->io.fd != fd)
			continue;
		ev_io_stop(r->loop, &a->io);
		if (events == 0)
			a->used = false;
		else {
			ev_io_set(&a->io, fd, events);
			ev_io_start(r->loop, &a->io);
		}
		return;
	}
	if (events == 0)
		return;
	if (free_slot == NULL) {
		/* Not watched: c-ares's own timeouts still end the lookup. */
		log_warnx("resolver: too many sockets");
		return;
	}
	free_slot->used = true;
	ev_io_set(&free_slot->io, fd, events);
	ev_io_start(r->loop, &free_slot->io);
}

struct resolver *
resolver_new(struct ev_loop *loop)
{
	struct resolver *r = xcalloc(1, sizeof *r);

	ares_library_init(ARES_LIB_INIT_ALL);	/* reference counted; undone in _free */
	r->loop = loop;
	ev_timer_init(&r->timer, on_timer, 0., 0.);
	r->timer.data = r;
	for (size_t i = 0; i < nitems(r->aw); i++) {
		ev_init(&r->aw[i].io, on_io);
		r->aw[i].io.data = r;
	}
	return r;
}

int
resolver_start(struct resolver *r, const char *host, int port, resolve_cb cb, void *arg,
    const char **why)
{
	struct ares_options opts;
	struct ares_addrinfo_hints hints;
	char lookups[] = "fb";	/* /etc/hosts, then DNS */
	int rc;

	resolver_cancel(r);
	memset(&opts, 0, sizeof opts);
	opts.sock_state_cb = on_sock_state;
	opts.sock_state_cb_data = r;
	opts.lookups = lookups;
	rc = ares_init_options(&r->ares, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS);
	if (rc != ARES_SUCCESS) {
		r->ares = NULL;
		*why = ares_strerror(rc);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r->port = port;
	r->cb = cb;
	r->arg = arg;
	r->busy = true;
	ares_getaddrinfo(r->ares, host, NULL, &hints, on_resolved, r);
	rearm(r);
	return 0;
}

void
resolver_cancel(struct resolver *r)
{
	if (r == NULL)
		return;
	r->busy = false;	/* first: the callbacks ares_destroy makes are ignored */
	if (r->ares != NULL) {
		ares_destroy(r->ares);
		r->ares = NULL;
	}
	ev_timer_stop(r->loop, &r->timer);
	for (size_t i = 0; i < nitems(r->aw); i++) {
		ev_io_stop(r->loop, &r->aw[i].io);
		r->aw[i].used = false;
	}
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	resolver_cancel(r);
	free(r);
	ares_library_cleanup();
}
