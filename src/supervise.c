/*
 * The adapter around the core: one libev loop; signals, reaped children, probe results
 * and one deadline timer become core events; the core's actions become syscalls here.
 * Events caused by actions (a spawn's pid) are queued, not fed back recursively. The
 * child's own life (spawn, kill, reap, its leftovers) is in supervise_child.c.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "changelog.h"
#include "clock.h"
#include "config.h"
#include "core.h"
#include "deps.h"
#include "launch.h"
#include "listen.h"
#include "log.h"
#include "output.h"
#include "parse.h"
#include "probe.h"
#include "reload.h"
#include "signals.h"
#include "status.h"
#include "supervise.h"
#include "supervisor.h"
#include "xmalloc.h"

extern char **environ;

struct core_event
supervise_event(enum core_event_type type)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.now = clock_ms();
	return ev;
}

/* An operator's request from the control socket (restart, emergency on|off). */
static void
on_operator(void *arg, enum core_event_type type, bool on)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = supervise_event(type);

	ev.on = on;
	supervise_feed(s, &ev);
}

static void
on_probe_done(void *arg, enum probe_result result, int http_status, int64_t latency)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = supervise_event(CE_PROBE);

	ev.seq = s->probe_seq;
	ev.result = result;
	ev.http_status = http_status;
	ev.latency = latency;
	log_debug("probe %s status=%d latency=%lldms", probe_result_name(result), http_status,
	    (long long)latency);
	status_probe(s->status, result, http_status, latency);
	supervise_feed(s, &ev);
}

/* The wait_for waiter is done: every target answered, or wait_timeout passed. */
static void
on_deps(void *arg, bool ready)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = supervise_event(ready ? CE_DEPS_READY : CE_DEPS_FAILED);

	supervise_feed(s, &ev);
}

static void
do_probe(struct supervisor *s, enum core_mode mode, uint32_t seq)
{
	const struct config	*cfg = s->cfg;
	struct probe_spec	 spec;

	spec.url = mode == MODE_EMERGENCY ? &cfg->emergency_health : &cfg->health;
	spec.timeout = cfg->health_timeout;
	spec.expect_status = &cfg->expect_status;
	spec.expect_body = cfg->expect_body;
	s->probe_seq = seq;
	probe_start(s->probe, &spec, on_probe_done, s);
}

/* Exit 69 says little by itself: say which limit was reached, and what to change. */
static void
explain_gave_up(struct supervisor *s, enum core_gave_up why)
{
	const struct config	*cfg = s->cfg;
	char			 interval[32];

	format_duration(cfg->limit_interval, interval, sizeof interval);
	switch (why) {
	case GAVE_UP_CRASH_LOOP:
		log_errorx("giving up: %d failures within %s ([restart] limit_burst, "
		    "limit_interval) and no [emergency] section to fall back on", cfg->limit_burst,
		    interval);
		break;
	case GAVE_UP_EMERGENCY_LOOP:
		log_errorx("giving up: emergency mode failed too, %d times within %s",
		    cfg->limit_burst, interval);
		break;
	case GAVE_UP_RELOAD_LOOP:
		log_errorx("giving up: a reload loop, and [reload_loop] action = stop");
		break;
	case GAVE_UP_DEPS:
	case GAVE_UP_NONE:
		break;	/* the waiter named the targets already */
	}
}

static void
do_actions(struct supervisor *s, const struct core_actions *acts)
{
	int i;

	for (i = 0; i < acts->n; i++) {
		const struct core_action *a = &acts->v[i];

		switch (a->type) {
		case ACT_SPAWN:
			supervise_spawn(s, a->mode);
			break;
		case ACT_KILL:
			supervise_kill(s, a);
			break;
		case ACT_PROBE:
			do_probe(s, a->mode, a->seq);
			break;
		case ACT_PROBE_CANCEL:
			probe_cancel(s->probe);
			break;
		case ACT_WAIT_DEPS:
			if (s->deps == NULL)
				s->deps = deps_new(s->loop, s->cfg->wait_for.v, s->cfg->wait_for.n,
				    s->cfg->wait_timeout);
			deps_start(s->deps, on_deps, s);
			break;
		case ACT_STATE:
			if (a->change.to == ST_EXITED)
				explain_gave_up(s, a->change.gave_up);
			changelog_log(&a->change);
			status_change(s->status);
			break;
		case ACT_EXIT:
			s->exit_code = a->code;
			s->done = true;
			ev_break(s->loop, EVBREAK_ALL);
			break;
		}
	}
}

/* Re-arm the single timer to the core's next deadline, and the group poll if needed. */
static void
rearm(struct supervisor *s)
{
	int64_t next = core_next_deadline(&s->core);

	ev_timer_stop(s->loop, &s->deadline);
	if (next >= 0 && !s->done) {
		int64_t delay = next - clock_ms();

		ev_timer_set(&s->deadline, delay > 0 ? (double)delay / 1000.0 : 0., 0.);
		ev_timer_start(s->loop, &s->deadline);
	}
	if (s->core.state == ST_STOPPING && s->core.pid == 0 && s->core.group_alive &&
	    !s->done) {
		if (!ev_is_active(&s->group_poll))
			ev_timer_again(s->loop, &s->group_poll);
	} else
		ev_timer_stop(s->loop, &s->group_poll);
}

void
supervise_queue(struct supervisor *s, const struct core_event *ev)
{
	/* An action causes at most one event; the bound is a bug check. */
	if (s->nqueue < SUPERVISE_QUEUE_MAX)
		s->queue[s->nqueue++] = *ev;
}

void
supervise_feed(struct supervisor *s, struct core_event *first)
{
	struct core_actions	acts;
	struct core_event	ev = *first;

	for (;;) {
		core_handle(&s->core, &ev, &acts);
		do_actions(s, &acts);
		if (s->nqueue == 0 || s->done)
			break;
		ev = s->queue[0];
		memmove(s->queue, s->queue + 1, (size_t)--s->nqueue * sizeof s->queue[0]);
	}
	s->nqueue = 0;
	rearm(s);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct supervisor	*s = w->data;
	struct core_event	 ev = supervise_event(CE_TICK);

	supervise_feed(s, &ev);
}

static void
on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct supervisor	*s = arg;
	struct core_event	 ev;

	if (si->ssi_signo == SIGCHLD) {
		supervise_reap(s);
		return;
	}
	/* The terminal's own TSTP (SI_KERNEL: Ctrl-Z), not a kill -TSTP, which is passed
	 * on: with --dev, or between children (without --dev a child has the terminal,
	 * and its stop is seen in supervise_reap). */
	if (si->ssi_signo == SIGTSTP && si->ssi_code == SI_KERNEL && getpid() != 1 &&
	    isatty(STDIN_FILENO))
		/* The terminal's TSTP proves tend's group is its foreground job, even if
		 * the shell handed the terminal over only after tend started and looked. */
		s->job_control = true;
	if (si->ssi_signo == SIGTSTP && s->job_control && si->ssi_code == SI_KERNEL) {
		supervise_suspend(s);
		return;
	}
	/* fg after bg: the shell gave tend's group the terminal; the child had it. */
	if (si->ssi_signo == SIGCONT)
		supervise_give_terminal(s);
	/* tend's own SIGPIPE (a write to a closed pipe) is not the child's business. */
	if (si->ssi_pid == (uint32_t)getpid() && si->ssi_code == SI_USER)
		return;
	log_debug("signal %s from pid %u", signal_name((int)si->ssi_signo), si->ssi_pid);
	ev = supervise_event(CE_SIGNAL);
	ev.signo = (int)si->ssi_signo;
	supervise_feed(s, &ev);
}

/* Every line of the children's output: watch for a reload loop. */
static void
on_line(void *arg, pid_t pid, int stream, const char *line, size_t len, bool partial)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = supervise_event(CE_RELOAD_LOOP);

	if (s->watch == NULL || !reload_watch_line(s->watch, line, len, ev.now))
		return;
	log_warnx("reload loop: %d reloads within %lldms (pattern in [reload_loop])",
	    s->cfg->loop_count, (long long)s->cfg->loop_window);
	launch_reload_off(&s->launch);
	supervise_feed(s, &ev);
}

static void
on_log_line(void *arg, const char *line, size_t len)
{
	output_log(arg, line, len);
}

static void
on_drained(void *arg)
{
	struct supervisor *s = arg;

	ev_break(s->loop, EVBREAK_ALL);
}

static void
on_drain_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* After the core said exit: let the output of the children (and workers) drain, 2 s at most. */
static void
drain_output(struct supervisor *s)
{
	if (!output_busy(s->out))
		return;
	output_set_idle_cb(s->out, on_drained, s);
	ev_timer_init(&s->drain, on_drain_timeout, 2., 0.);
	ev_timer_start(s->loop, &s->drain);
	ev_run(s->loop, 0);
	ev_timer_stop(s->loop, &s->drain);
	output_set_idle_cb(s->out, NULL, NULL);
}

static void
core_conf_from(struct core_conf *cc, const struct config *cfg)
{
	memset(cc, 0, sizeof *cc);
	cc->policy = cfg->policy;
	cc->backoff = cfg->backoff;
	cc->backoff_max = cfg->backoff_max;
	cc->limit_burst = cfg->limit_burst;
	cc->limit_interval = cfg->limit_interval;
	cc->reset_after = cfg->reset_after;
	cc->startup_timeout = cfg->startup_timeout;
	cc->startup_interval = cfg->startup_interval;
	cc->health_interval = cfg->health_interval;
	cc->failure_threshold = cfg->failure_threshold;
	cc->success_threshold = cfg->success_threshold;
	cc->health[MODE_NORMAL] = cfg->health_url != NULL;
	cc->health[MODE_EMERGENCY] = cfg->emergency_health_url != NULL || cfg->health_url != NULL;
	cc->emergency = cfg->emergency;
	cc->recover_after = cfg->recover_after;
	cc->stop_signal = cfg->stop_signal;
	cc->stop_timeout = cfg->stop_timeout;
	cc->forward_group = cfg->forward == FORWARD_GROUP;
	cc->second_stop_kills = cfg->dev;
	cc->hang_signal = cfg->hang_signal;
	cc->hang_signal_wait = cfg->hang_signal_wait;
	cc->loop_action = cfg->loop_action;
	cc->wait_deps = cfg->wait_for.n > 0;
	cc->wait_each_start = cfg->wait_each_start;
}

int
supervise_run(const struct config *cfg)
{
	struct supervisor	s;
	struct core_conf	cc;
	struct core_actions	acts;

	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.errfd = -1;
	s.exit_code = 1;
	/* Bound once, before anything else: a port in use is a configuration error. */
	if (listen_open(&s.listen, cfg->listen_socket, &cfg->listen, cfg->listen_fd,
	    environ) != 0)
		return EXIT_CONFIG;
	/* Not the default loop: libev would install its own SIGCHLD reaper there. */
	s.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
	if (s.loop == NULL)
		fatalx("cannot create the event loop");
	if (signals_setup(s.loop, on_signal, &s) != 0)
		fatal("cannot set up signal handling");
	if (getpid() != 1 && cfg->subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		log_warn("cannot become a subreaper; orphans will not be reaped by tend");
	/* The child's group gets the terminal (Ctrl-C reaches it), except with --dev:
	 * then tend keeps it, so Ctrl-C reaches tend even when the child ignores INT. */
	s.foreground = !cfg->dev && isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	/* Either way, Ctrl-Z suspends tend with the child, like any shell job (never as
	 * PID 1: a namespace's init cannot be stopped). */
	s.job_control = getpid() != 1 && isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	if (launch_prepare(&s.launch, cfg, &s.listen, environ) != 0) {
		s.exit_code = EXIT_CONFIG;
		goto out;
	}
	/* [status] listen and control, sd_notify: they read s.core from now on. */
	if ((s.status = status_new(s.loop, cfg, &s.core, on_operator, &s)) == NULL) {
		s.exit_code = EXIT_CONFIG;
		goto out;
	}
	s.out = output_new(s.loop, STDOUT_FILENO, STDERR_FILENO,
	    cfg->log_prefix == PREFIX_YES ||
	    (cfg->log_prefix == PREFIX_AUTO && isatty(STDOUT_FILENO)), on_line, &s);
	log_set_sink(on_log_line, s.out);
	if (cfg->loop_pattern != NULL) {
		char err[256];

		s.watch = reload_watch_new(cfg->loop_pattern, cfg->loop_count, cfg->loop_window,
		    err, sizeof err);
		if (s.watch == NULL)
			log_warnx("[reload_loop] pattern: %s; reload loops go undetected", err);
	}
	s.probe = probe_new(s.loop);
	ev_init(&s.deadline, on_deadline);
	s.deadline.data = &s;
	ev_init(&s.group_poll, supervise_group_poll_cb);
	s.group_poll.repeat = 0.1;
	s.group_poll.data = &s;

	core_conf_from(&cc, cfg);
	core_init(&s.core, &cc, (uint64_t)clock_ms() ^ ((uint64_t)getpid() << 32));
	core_start(&s.core, clock_ms(), &acts);
	do_actions(&s, &acts);
	if (s.nqueue > 0) {
		struct core_event ev = s.queue[0];

		memmove(s.queue, s.queue + 1, (size_t)--s.nqueue * sizeof s.queue[0]);
		supervise_feed(&s, &ev);
	} else
		rearm(&s);
	if (!s.done)
		ev_run(s.loop, 0);
	ev_timer_stop(s.loop, &s.deadline);
	ev_timer_stop(s.loop, &s.group_poll);
	status_free(s.status);
	drain_output(&s);

	if (s.errfd >= 0)
		close(s.errfd);
	probe_free(s.probe);
	deps_free(s.deps);
	log_set_sink(NULL, NULL);
	output_free(s.out);		/* its last lines still go through on_line */
	reload_watch_free(s.watch);
out:
	launch_free(&s.launch);
	listen_close(&s.listen);
	signals_teardown(s.loop);
	ev_loop_destroy(s.loop);
	return s.exit_code;
}
