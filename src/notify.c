/*
 * sd_notify from the loop. Each sd_notify() opens a datagram socket and does one
 * sendmsg(MSG_NOSIGNAL) to NOTIFY_SOCKET: it does not wait for an answer, and could
 * only block while the service manager's receive queue is full (systemd drains it
 * promptly), so it is called straight from the loop, once per event or tick.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

struct notify {
	struct ev_loop		*loop;
	const struct core	*core;
	bool			 enabled;	/* NOTIFY_SOCKET set and libsystemd built in */
	int64_t			 watchdog;	/* WATCHDOG_USEC in ms; 0: no watchdog */
	bool			 ready, stopping;	/* READY=1 / STOPPING=1 sent */
	bool			 failed;	/* a send failed (logged once) */
	ev_timer		 extend_timer;
	ev_timer		 watchdog_timer;
};

static void
send_msg(struct notify *n, const char *msg)
{
#ifdef HAVE_LIBSYSTEMD
	int r;

	if (!n->enabled)
		return;
	log_debug("sd_notify: %s", msg);
	if ((r = sd_notify(0, msg)) < 0 && !n->failed) {
		n->failed = true;
		log_warnx("sd_notify to NOTIFY_SOCKET failed: %s", strerror(-r));
	}
#else
	(void)n;
	(void)msg;
#endif
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
	send_extend(n, msg, sizeof msg, "");
	send_msg(n, msg);
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

	if (watchdog_fresh(n, clock_ms()))
		send_msg(n, "WATCHDOG=1");
}

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
#ifdef HAVE_LIBSYSTEMD
	uint64_t	usec = 0;

	n->enabled = sock != NULL && *sock != '\0';
	if (!n->enabled) {
		log_debug("NOTIFY_SOCKET not set: no systemd notifications");
		return n;
	}
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
	char			 msg[768], ext[64];
	const char		*ready = "", *stopping = "";

	if (!n->enabled)
		return;
	if (!n->ready && core_healthy(c)) {
		n->ready = true;
		ready = "READY=1\n";
	}
	if (!n->stopping && (c->shutdown || c->state == ST_EXITED ||
	    (c->state == ST_STOPPING && c->after == AFTER_EXIT))) {
		n->stopping = true;
		stopping = "STOPPING=1\n";
	}
	ext[0] = '\0';
	if (extending(n)) {
		send_extend(n, ext, sizeof ext, "\n");
		if (!ev_is_active(&n->extend_timer))
			ev_timer_again(n->loop, &n->extend_timer);
	} else
		ev_timer_stop(n->loop, &n->extend_timer);
	snprintf(msg, sizeof msg, "%s%sSTATUS=%.600s%s", ready, stopping, status, ext);
	send_msg(n, msg);
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	ev_timer_stop(n->loop, &n->extend_timer);
	ev_timer_stop(n->loop, &n->watchdog_timer);
	free(n);
}
