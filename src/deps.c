/*
 * The wait_for waiter (see deps.h): one probe and one retry timer per target, one
 * deadline and one progress timer for the whole wait. Every ending goes through
 * finish(), which stops everything before the callback runs (last, so it may free us).
 */
#include "autoconf.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps.h"
#include "log.h"
#include "parse.h"
#include "probe.h"
#include "xmalloc.h"

#define DEPS_LINE_MAX 1024	/* a log line's list of targets; longer ones end in "..." */

struct target {
	struct deps		*d;
	char			*name;		/* as configured */
	struct url		 url;
	struct probe		*probe;
	ev_timer		 retry;
	bool			 ready;		/* answered in this wait */
	bool			 tried;		/* a try has ended in this wait */
	int64_t			 delay;		/* pause before the next try, ms */
	enum probe_result	 last;
	int			 status;	/* of the last HTTP answer */
};

struct deps {
	struct ev_loop		*loop;
	struct target		*t;
	size_t			 n, nready;
	int64_t			 timeout;	/* ms; 0: none */
	ev_timer		 deadline;
	ev_timer		 progress;
	deps_cb			 cb;
	void			*arg;
	bool			 active;
	ev_tstamp		 started;
};

static void try_target(struct target *);

/* Why a target has not answered yet, for the log. */
static void
describe(const struct target *t, char *buf, size_t len)
{
	if (!t->tried)
		snprintf(buf, len, "no answer yet");
	else if (t->last == PROBE_BAD_STATUS)
		snprintf(buf, len, "status %d", t->status);
	else
		snprintf(buf, len, "%s", probe_result_name(t->last));
}

/* "name (why), name (why)" for the targets not ready (all with why = false). */
static void
list_targets(const struct deps *d, bool why, char *buf, size_t len)
{
	size_t	off = 0, i;
	char	reason[48];
	int	n;

	buf[0] = '\0';
	for (i = 0; i < d->n; i++) {
		const struct target *t = &d->t[i];

		if (why && t->ready)
			continue;
		describe(t, reason, sizeof reason);
		n = snprintf(buf + off, len - off, "%s%s%s%s%s", off > 0 ? ", " : "", t->name,
		    why ? " (" : "", why ? reason : "", why ? ")" : "");
		if (n < 0 || (size_t)n >= len - off) {
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
}

static void
stop_all(struct deps *d)
{
	size_t	i;

	d->active = false;
	for (i = 0; i < d->n; i++) {
		probe_cancel(d->t[i].probe);
		ev_timer_stop(d->loop, &d->t[i].retry);
	}
	ev_timer_stop(d->loop, &d->deadline);
	ev_timer_stop(d->loop, &d->progress);
}

/* The wait's single exit; the callback comes last, since it may free d. */
static void
finish(struct deps *d, bool ready)
{
	deps_cb	 cb = d->cb;
	void	*arg = d->arg;

	stop_all(d);
	d->cb = NULL;
	if (cb != NULL)
		cb(arg, ready);
}

static void
on_result(void *arg, enum probe_result result, int http_status, int64_t latency)
{
	struct target	*t = arg;
	struct deps	*d = t->d;
	char		 why[48];

	if (!d->active)
		return;
	t->tried = true;
	t->last = result;
	t->status = http_status;
	if (result == PROBE_OK) {
		t->ready = true;
		log_debug("wait_for %s: answered in %lldms", t->name, (long long)latency);
		if (++d->nready == d->n) {
			ev_now_update(d->loop);
			log_info("wait_for: every target answered after %.1fs",
			    ev_now(d->loop) - d->started);
			finish(d, true);
		}
		return;
	}
	describe(t, why, sizeof why);
	log_debug("wait_for %s: %s; next try in %lldms", t->name, why, (long long)t->delay);
	ev_timer_set(&t->retry, (double)t->delay / 1000., 0.);
	ev_timer_start(d->loop, &t->retry);
	t->delay = t->delay * 2 > DEPS_RETRY_MAX ? DEPS_RETRY_MAX : t->delay * 2;
}

static void
try_target(struct target *t)
{
	struct probe_spec	spec;

	memset(&spec, 0, sizeof spec);
	spec.url = &t->url;
	spec.timeout = DEPS_TRY_TIMEOUT;
	spec.expect_status = NULL;	/* 200-399 */
	spec.expect_body = NULL;
	probe_start(t->probe, &spec, on_result, t);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct target *t = w->data;

	if (t->d->active)
		try_target(t);
}

static void
on_progress(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deps	*d = w->data;
	char		 list[DEPS_LINE_MAX];

	list_targets(d, true, list, sizeof list);
	log_info("waiting for %s", list);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deps	*d = w->data;
	char		 list[DEPS_LINE_MAX], dur[32];

	if (d->nready < d->n) {
		format_duration(d->timeout, dur, sizeof dur);
		list_targets(d, true, list, sizeof list);
		log_errorx("wait_for: gave up after %s (wait_timeout); never answered: %s", dur,
		    list);
	}
	finish(d, d->nready == d->n);
}

struct deps *
deps_new(struct ev_loop *loop, char *const *targets, size_t n, int64_t timeout)
{
	struct deps	*d = xcalloc(1, sizeof *d);
	const char	*why;
	size_t		 i;

	d->loop = loop;
	d->n = n;
	d->timeout = timeout;
	d->t = xcalloc(n > 0 ? n : 1, sizeof *d->t);
	for (i = 0; i < n; i++) {
		struct target *t = &d->t[i];

		t->d = d;
		t->name = xstrdup(targets[i]);
		if (parse_target(t->name, &t->url, &why) == -1)
			fatalx("wait_for %s: %s", t->name, why);	/* the config checked it */
		t->probe = probe_new(loop);
		ev_init(&t->retry, on_retry);
		t->retry.data = t;
	}
	ev_init(&d->deadline, on_deadline);
	d->deadline.data = d;
	ev_init(&d->progress, on_progress);
	d->progress.repeat = DEPS_LOG_EVERY / 1000.;
	d->progress.data = d;
	return d;
}

void
deps_start(struct deps *d, deps_cb cb, void *arg)
{
	char	list[DEPS_LINE_MAX], dur[32] = "none";
	size_t	i;

	stop_all(d);
	d->cb = cb;
	d->arg = arg;
	d->active = true;
	d->nready = 0;
	ev_now_update(d->loop);
	d->started = ev_now(d->loop);
	list_targets(d, false, list, sizeof list);
	if (d->timeout > 0)
		format_duration(d->timeout, dur, sizeof dur);
	if (d->n > 0)
		log_info("waiting for %s (wait_timeout %s)", list, dur);
	for (i = 0; i < d->n; i++) {
		struct target *t = &d->t[i];

		t->ready = t->tried = false;
		t->delay = DEPS_RETRY_FIRST;
		try_target(t);
	}
	/* No targets: the deadline timer delivers "ready" from the loop. */
	if (d->timeout > 0 || d->n == 0) {
		ev_timer_set(&d->deadline, d->n == 0 ? 0. : (double)d->timeout / 1000., 0.);
		ev_timer_start(d->loop, &d->deadline);
	}
	ev_timer_again(d->loop, &d->progress);
}

void
deps_cancel(struct deps *d)
{
	if (d == NULL)
		return;
	stop_all(d);
	d->cb = NULL;
}

void
deps_free(struct deps *d)
{
	size_t	i;

	if (d == NULL)
		return;
	deps_cancel(d);
	for (i = 0; i < d->n; i++) {
		probe_free(d->t[i].probe);
		free(d->t[i].name);
	}
	free(d->t);
	free(d);
}
