/*
 * One request per connection, on the loop: accept, read until the callback has an
 * answer, write it, drain briefly, close. No step blocks and every step is bounded, so
 * a slow or hostile client costs a connection slot for at most `timeout`, never a probe.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "server.h"
#include "xmalloc.h"

#define DRAIN_TIME	1.0		/* s to drain the peer after the response */
#define DRAIN_MAX	(64 * 1024)	/* bytes drained at most */
#define PAUSE_TIME	0.5		/* s without accepting after EMFILE and the like */

enum phase { PH_READ, PH_WRITE, PH_DRAIN };

struct conn {
	struct server		*srv;
	int			 fd;
	enum phase		 phase;
	ev_io			 io;
	ev_timer		 timer;
	char			*in;
	size_t			 in_len;
	struct buf		 out;
	size_t			 out_off;
	size_t			 drained;
	void			*state;
	TAILQ_ENTRY(conn)	 entry;
};

struct server {
	struct ev_loop		*loop;
	struct server_conf	 conf;
	int			 fd;
	ev_io			 accept_io;
	ev_timer		 pause;		/* accepting paused after a resource error */
	int			 nconns;
	TAILQ_HEAD(, conn)	 conns;	/* oldest first */
};

static void
conn_close(struct conn *c)
{
	struct server *s = c->srv;

	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->timer);
	if (close(c->fd) == -1 && errno != EINTR)
		log_warn("%s: close", s->conf.name);
	TAILQ_REMOVE(&s->conns, c, entry);
	s->nconns--;
	buf_free(&c->out);
	free(c->in);
	free(c->state);
	free(c);
	if (s->nconns < s->conf.max_conns && !ev_is_active(&s->accept_io) &&
	    !ev_is_active(&s->pause))
		ev_io_start(s->loop, &s->accept_io);
}

static void
set_phase(struct conn *c, enum phase ph, int events)
{
	c->phase = ph;
	ev_io_stop(c->srv->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->srv->loop, &c->io);
}

/* The response is out: no more from us; read what the peer still sends, briefly. */
static void
start_drain(struct conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	set_phase(c, PH_DRAIN, EV_READ);
	ev_timer_stop(c->srv->loop, &c->timer);
	ev_timer_set(&c->timer, DRAIN_TIME, 0.);
	ev_timer_start(c->srv->loop, &c->timer);
}

static void
do_write(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->phase != PH_WRITE)
				set_phase(c, PH_WRITE, EV_WRITE);
			return;
		}
		if (n < 0) {
			log_debug("%s: send: %s", c->srv->conf.name, strerror(errno));
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	start_drain(c);
}

/* Ask the callback; true if the connection was handed on (answered or closed). */
static bool
deliver(struct conn *c, bool eof)
{
	struct server *s = c->srv;

	if (!s->conf.cb(s->conf.arg, c->state, c->in, c->in_len, eof, &c->out)) {
		if (!eof && c->in_len < s->conf.in_max)
			return false;
		log_debug("%s: %s without a complete request", s->conf.name,
		    eof ? "closed" : "too many bytes");
		conn_close(c);
		return true;
	}
	c->phase = PH_WRITE;
	do_write(c);
	return true;
}

static void
do_read(struct conn *c)
{
	struct server	*s = c->srv;
	char		 scratch[4096];
	ssize_t		 n;

	for (;;) {
		if (c->phase == PH_DRAIN)
			n = read(c->fd, scratch, sizeof scratch);
		else
			n = read(c->fd, c->in + c->in_len, s->conf.in_max - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (n == 0 && c->phase == PH_READ && deliver(c, true))
				return;
			if (c->phase != PH_WRITE)
				conn_close(c);
			return;
		}
		if (c->phase == PH_DRAIN) {
			c->drained += (size_t)n;
			if (c->drained > DRAIN_MAX) {
				conn_close(c);
				return;
			}
			continue;
		}
		c->in_len += (size_t)n;
		if (deliver(c, false))
			return;
	}
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	if (c->phase == PH_WRITE)
		do_write(c);
	else
		do_read(c);
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	if (c->phase != PH_DRAIN)
		log_debug("%s: connection timed out", c->srv->conf.name);
	conn_close(c);
}

static void
on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *s = w->data;

	if (s->nconns < s->conf.max_conns)
		ev_io_start(loop, &s->accept_io);
}

static void
add_conn(struct server *s, int fd)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->srv = s;
	c->fd = fd;
	c->phase = PH_READ;
	c->in = xmalloc(s->conf.in_max + 1);
	buf_init(&c->out, s->conf.out_max);
	c->state = xcalloc(1, s->conf.conn_state > 0 ? s->conf.conn_state : 1);
	ev_io_init(&c->io, on_io, fd, EV_READ);
	c->io.data = c;
	ev_io_start(s->loop, &c->io);
	ev_timer_init(&c->timer, on_timeout, s->conf.timeout, 0.);
	c->timer.data = c;
	ev_timer_start(s->loop, &c->timer);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->nconns++;
}

/*
 * At the bound, make room by closing the oldest connection that is still sending its
 * request: slow clients cannot lock out a prompt one (a probe by kubelet, say), which is
 * answered within its first read. False if every connection is past its request.
 */
static bool
evict(struct server *s)
{
	struct conn *c;

	TAILQ_FOREACH(c, &s->conns, entry) {
		if (c->phase == PH_READ) {
			log_debug("%s: %d connections: closing the oldest unfinished one",
			    s->conf.name, s->nconns);
			conn_close(c);
			return true;
		}
	}
	return false;
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server	*s = w->data;
	int		 fd;

	while (s->nconns < s->conf.max_conns || evict(s)) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			add_conn(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* The request stays in the backlog; try again in a moment. */
			log_warn("%s: accept (pausing %.1fs)", s->conf.name, PAUSE_TIME);
			ev_io_stop(loop, &s->accept_io);
			/* Set again: a one-shot timer that fired has no time left, and
			 * would fire at once (a log line and an accept() per loop turn). */
			ev_timer_set(&s->pause, PAUSE_TIME, 0.);
			ev_timer_start(loop, &s->pause);
			return;
		}
		log_warn("%s: accept", s->conf.name);
		return;
	}
	/* Full of answers being sent: the backlog holds the next ones until one closes. */
	ev_io_stop(loop, &s->accept_io);
}

struct server *
server_new(struct ev_loop *loop, int fd, const struct server_conf *conf)
{
	struct server *s = xcalloc(1, sizeof *s);

	s->loop = loop;
	s->conf = *conf;
	s->fd = fd;
	TAILQ_INIT(&s->conns);
	ev_io_init(&s->accept_io, on_accept, fd, EV_READ);
	s->accept_io.data = s;
	ev_io_start(loop, &s->accept_io);
	ev_timer_init(&s->pause, on_pause_end, PAUSE_TIME, 0.);
	s->pause.data = s;
	return s;
}

int
server_nconns(const struct server *s)
{
	return s->nconns;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	while (!TAILQ_EMPTY(&s->conns))
		conn_close(TAILQ_FIRST(&s->conns));
	ev_io_stop(s->loop, &s->accept_io);
	ev_timer_stop(s->loop, &s->pause);
	if (close(s->fd) == -1 && errno != EINTR)
		log_warn("%s: close", s->conf.name);
	free(s);
}
