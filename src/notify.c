/*
 * sd_notify from the loop. libsystemd's sd_notify() sends blocking: with the receiver's
 * queue full (systemd busy in a daemon-reload, a stalled proxy such as conmon) the loop
 * would stop, and with it reaping and signal forwarding. So for the usual addresses
 * ("/path", "@abstract") tend sends each datagram itself with MSG_DONTWAIT: a state
 * message that does not fit is kept (READY=1 and STOPPING=1 are never lost, STATUS=
 * is the latest) and sent again shortly; a WATCHDOG=1 or EXTEND_TIMEOUT_USEC that
 * does not fit is dropped, the next tick sends another. Other addresses (vsock) go
 * through sd_notify().
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clock.h"
#include "core.h"
#include "log.h"
#include "notify.h"
#include "xmalloc.h"

#define EXTEND_PERIOD	1.0	/* s between EXTEND_TIMEOUT_USEC messages */
#define EXTEND_SLACK	5000	/* ms added to each extension */
#define RETRY_PERIOD	0.2	/* s between tries of a state message that did not fit */

struct notify {
	struct ev_loop		*loop;
	const struct core	*core;
	bool			 enabled;	/* NOTIFY_SOCKET set and libsystemd built in */
	int64_t			 watchdog;	/* WATCHDOG_USEC in ms; 0: no watchdog */
	bool			 ready, stopping;	/* READY=1 / STOPPING=1 decided */
	bool			 failed;	/* a send failed (logged once) */
	bool			 full;		/* the receiver's queue was full (logged once) */
	int			 fd;		/* ours to NOTIFY_SOCKET; -1: sd_notify() */
	struct sockaddr_un	 addr;
	socklen_t		 addrlen;
	bool			 owed;		/* a state message is waiting to be sent */
	bool			 owe_ready, owe_stopping;	/* ... and not sent yet */
	char			 state[768];	/* its STATUS= text (and EXTEND_TIMEOUT_USEC) */
	ev_timer		 extend_timer;
	ev_timer		 watchdog_timer;
	ev_timer		 retry_timer;
};

/* One datagram, never waiting: 0, -EAGAIN when the receiver cannot take it now, or
 * another -errno (logged once). */
static int
send_msg(struct notify *n, const char *msg)
{
#ifdef HAVE_LIBSYSTEMD
	ssize_t	sent;
	int	r;

	if (!n->enabled)
		return 0;
	log_debug("sd_notify: %s", msg);
	if (n->fd >= 0) {
		do
			sent = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			    (const struct sockaddr *)&n->addr, n->addrlen);
		while (sent < 0 && errno == EINTR);
		r = sent < 0 ? -errno : 0;
	} else if ((r = sd_notify(0, msg)) > 0)
		r = 0;
	if (r == -EAGAIN || r == -EWOULDBLOCK) {
		if (!n->full) {
			n->full = true;
			log_warnx("NOTIFY_SOCKET is full (the service manager is not reading); "
			    "notifications are delayed or dropped");
		}
		return -EAGAIN;
	}
	if (r < 0 && !n->failed) {
		n->failed = true;
		log_warnx("sd_notify to NOTIFY_SOCKET failed: %s", strerror(-r));
	}
	return r;
#else
	(void)n;
	(void)msg;
	return 0;
#endif
}

/* Send the state message owed; when it does not fit, try again in a moment. */
static void
flush_state(struct notify *n)
{
	char msg[sizeof n->state + 32];

	if (!n->owed)
		return;
	snprintf(msg, sizeof msg, "%s%sSTATUS=%s", n->owe_ready ? "READY=1\n" : "",
	    n->owe_stopping ? "STOPPING=1\n" : "", n->state);
	if (send_msg(n, msg) == -EAGAIN) {
		if (!ev_is_active(&n->retry_timer))
			ev_timer_again(n->loop, &n->retry_timer);
		return;
	}
	n->owed = n->owe_ready = n->owe_stopping = false;
	ev_timer_stop(n->loop, &n->retry_timer);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	flush_state(w->data);
}

/* Waiting and starting before READY=1: the states systemd's start timeout covers. */
static bool
extending(const struct notify *n)
{
	enum core_state st = n->core->state;

	return !n->ready && !n->core->shutdown && (st == ST_WAITING || st == ST_STARTING ||
	    st == ST_EMERGENCY_STARTING || st == ST_RECOVERING);
}

/*
 * How long systemd should wait for the next message: the rest of the startup deadline
 * and the stop and backoff that may follow it, so the next attempt's messages come in
 * time; the periodic resend keeps it going however long tend waits for dependencies.
 */
static int64_t
extension(const struct notify *n, int64_t now)
{
	const struct core	*c = n->core;
	int64_t			 ms = EXTEND_SLACK;

	if (c->state != ST_WAITING && c->deadline >= 0 && c->deadline > now)
		ms += c->deadline - now;
	if (c->state != ST_WAITING)
		ms += c->conf.stop_timeout + c->conf.backoff_max;
	return ms;
}

static void
send_extend(struct notify *n, char *buf, size_t len, const char *prefix)
{
	snprintf(buf, len, "%sEXTEND_TIMEOUT_USEC=%lld", prefix,
	    (long long)extension(n, clock_ms()) * 1000);
}

static void
on_extend(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct notify	*n = w->data;
	char		 msg[64];

	if (!extending(n)) {
		ev_timer_stop(loop, w);
		return;
	}
	flush_state(n);
	if (n->owed)
		return;	/* still full: no room for another datagram either */
	send_extend(n, msg, sizeof msg, "");
	(void)send_msg(n, msg);
}

/* Proven healthy lately: a probe passed within WATCHDOG_USEC, or alive without a url. */
static bool
watchdog_fresh(const struct notify *n, int64_t now)
{
	const struct core *c = n->core;

	if (!c->conf.health[c->mode])
		return c->pid != 0;
	return c->last_ok >= 0 && now - c->last_ok <= n->watchdog;
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct notify *n = w->data;

	flush_state(n);
	/* Never before the state message owed (a ping would overtake READY=1). */
	if (!n->owed && watchdog_fresh(n, clock_ms()))
		(void)send_msg(n, "WATCHDOG=1");
}

#ifdef HAVE_LIBSYSTEMD
/* Our own non-blocking socket for a path or abstract NOTIFY_SOCKET; else (vsock, an
 * error) fd stays -1 and sd_notify() sends. */
static void
open_socket(struct notify *n, const char *sock)
{
	size_t len = strlen(sock);

	if ((sock[0] != '/' && sock[0] != '@') || len >= sizeof n->addr.sun_path)
		return;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, sock, len);
	if (sock[0] == '@') {
		n->addr.sun_path[0] = '\0';
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0)
		log_warn("socket for NOTIFY_SOCKET; using sd_notify(), which may block");
}
#endif

struct notify *
notify_new(struct ev_loop *loop, const struct core *c)
{
	struct notify	*n = xcalloc(1, sizeof *n);
	const char	*sock = getenv("NOTIFY_SOCKET");

	n->loop = loop;
	n->core = c;
	ev_init(&n->extend_timer, on_extend);
	n->extend_timer.repeat = EXTEND_PERIOD;
	n->extend_timer.data = n;
	ev_init(&n->watchdog_timer, on_watchdog);
	n->watchdog_timer.data = n;
	ev_init(&n->retry_timer, on_retry);
	n->retry_timer.repeat = RETRY_PERIOD;
	n->retry_timer.data = n;
	n->fd = -1;
#ifdef HAVE_LIBSYSTEMD
	uint64_t	usec = 0;

	n->enabled = sock != NULL && *sock != '\0';
	if (!n->enabled) {
		log_debug("NOTIFY_SOCKET not set: no systemd notifications");
		return n;
	}
	open_socket(n, sock);
	/* Checks WATCHDOG_PID too: a watchdog meant for another process is not ours. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		n->watchdog = (int64_t)(usec / 1000);
		n->watchdog_timer.repeat = (double)usec / 2e6;
		ev_timer_again(loop, &n->watchdog_timer);
		log_debug("systemd watchdog: WATCHDOG=1 every %llums while healthy",
		    (unsigned long long)(usec / 2000));
	}
#else
	if (sock != NULL && *sock != '\0')
		log_warnx("NOTIFY_SOCKET is set but tend was built without libsystemd: "
		    "no READY=1 will be sent (use Type=simple or exec)");
	else
		log_debug("built without libsystemd: no systemd notifications");
#endif
	return n;
}

bool
notify_enabled(const struct notify *n)
{
	return n->enabled;
}

void
notify_change(struct notify *n, const char *status)
{
	const struct core	*c = n->core;
	char			 ext[64];

	if (!n->enabled)
		return;
	if (!n->ready && core_healthy(c)) {
		n->ready = true;
		n->owe_ready = true;
	}
	if (!n->stopping && (c->shutdown || c->state == ST_EXITED ||
	    (c->state == ST_STOPPING && c->after == AFTER_EXIT))) {
		n->stopping = true;
		n->owe_stopping = true;
	}
	ext[0] = '\0';
	if (extending(n)) {
		send_extend(n, ext, sizeof ext, "\n");
		if (!ev_is_active(&n->extend_timer))
			ev_timer_again(n->loop, &n->extend_timer);
	} else
		ev_timer_stop(n->loop, &n->extend_timer);
	/* A state message still owed is replaced: its READY=1/STOPPING=1 stay owed. */
	snprintf(n->state, sizeof n->state, "%.600s%s", status, ext);
	n->owed = true;
	flush_state(n);
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	ev_timer_stop(n->loop, &n->extend_timer);
	ev_timer_stop(n->loop, &n->watchdog_timer);
	ev_timer_stop(n->loop, &n->retry_timer);
	if (n->fd >= 0 && close(n->fd) != 0 && errno != EINTR)
		log_warn("close NOTIFY_SOCKET");
	free(n);
}
