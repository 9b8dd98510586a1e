/*
 * The adapter around the core: one libev loop; signals, reaped children, probe results
 * and one deadline timer become core events; the core's actions become syscalls here.
 * Events caused by actions (a spawn's pid) are queued, not fed back recursively.
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
#include "child.h"
#include "clock.h"
#include "config.h"
#include "core.h"
#include "deps.h"
#include "launch.h"
#include "listen.h"
#include "log.h"
#include "output.h"
#include "probe.h"
#include "reload.h"
#include "signals.h"
#include "status.h"
#include "strays.h"
#include "supervise.h"
#include "xmalloc.h"

extern char **environ;

#define QUEUE_MAX 8

struct supervisor {
	const struct config	*cfg;
	struct ev_loop		*loop;
	struct core		 core;
	ev_timer		 deadline;	/* the core's next deadline */
	ev_timer		 group_poll;	/* group members that are not our children */
	struct probe		*probe;
	struct status		*status;	/* endpoint, control socket, sd_notify */
	struct output		*out;		/* the children's stdout and stderr */
	struct reload_watch	*watch;		/* reload-loop detector on their lines */
	ev_timer		 drain;		/* bound on the output drain at exit */
	struct launch		 launch;	/* argv and environment per mode */
	struct listener		 listen;	/* [listen] socket, held across restarts */
	struct deps		*deps;		/* wait_for, made on the first wait */
	bool			 foreground;
	pid_t			 pid;		/* main child */
	pid_t			 pgid;		/* its process group, kept after it exits */
	int			 errfd;
	const char		*argv0;		/* of the main child, for messages */
	uint32_t		 probe_seq;	/* of the probe under way */
	bool			 reaped_main;
	int			 main_status;
	unsigned long		 orphans;	/* reaped processes other than the main child */
	int			 exit_code;
	bool			 done;
	struct core_event	 queue[QUEUE_MAX];
	int			 nqueue;
};

static void feed(struct supervisor *, struct core_event *);

static struct core_event
event(enum core_event_type type)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.now = clock_ms();
	return ev;
}

static void
do_spawn(struct supervisor *s, enum core_mode mode)
{
	const struct config	*cfg = s->cfg;
	struct child_spec	 spec;
	struct core_event	 ev;
	pid_t			 pid;

	int			 fds[2] = { -1, -1 };

	memset(&spec, 0, sizeof spec);
	spec.argv = s->launch.argv[mode];
	spec.envp = s->launch.envp[mode];
	spec.directory = cfg->directory;
	spec.set_user = cfg->has_user;
	spec.uid = cfg->uid;
	spec.gid = cfg->gid;
	spec.groups = cfg->groups;
	spec.ngroups = cfg->ngroups;
	spec.sigmask = signals_orig_mask();
	spec.ignored = signals_ignored();
	spec.foreground = s->foreground;
	spec.listen = s->listen.n > 0 ? &s->listen : NULL;
	spec.listen_pid = s->launch.pid_slot[mode];
	/* Without pipes (EMFILE) the child still runs, writing to tend's own stdout. */
	if (output_pipes(s->out, fds) != 0)
		log_warn("cannot make output pipes; the child writes to tend's stdout directly");
	spec.out_fd = fds[0];
	spec.err_fd = fds[1];
	s->argv0 = spec.argv[0];
	pid = child_spawn(&spec, &s->errfd);
	if (pid < 0 && (errno == EMFILE || errno == ENFILE) && fds[0] >= 0) {
		/* Out of fds: the pipes may be what tipped it; run without them. */
		log_warn("cannot start '%s' with output pipes; trying without", spec.argv[0]);
		output_abort(s->out);
		fds[0] = fds[1] = spec.out_fd = spec.err_fd = -1;
		pid = child_spawn(&spec, &s->errfd);
	}
	if (pid < 0) {
		log_warn("cannot start '%s'", spec.argv[0]);
		if (fds[0] >= 0)
			output_abort(s->out);
		ev = event(CE_SPAWN_FAILED);
	} else {
		if (fds[0] >= 0)
			output_attach(s->out, pid, spec.argv[0]);
		if (s->watch != NULL)
			reload_watch_reset(s->watch);
		s->pid = s->pgid = pid;
		s->reaped_main = false;
		ev = event(CE_SPAWNED);
		ev.pid = pid;
	}
	if (s->nqueue < QUEUE_MAX)
		s->queue[s->nqueue++] = ev;
}

/* An operator's request from the control socket (restart, emergency on|off). */
static void
on_operator(void *arg, enum core_event_type type, bool on)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = event(type);

	ev.on = on;
	feed(s, &ev);
}

static void
on_probe_done(void *arg, enum probe_result result, int http_status, int64_t latency)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = event(CE_PROBE);

	ev.seq = s->probe_seq;
	ev.result = result;
	ev.http_status = http_status;
	ev.latency = latency;
	log_debug("probe %s status=%d latency=%lldms", probe_result_name(result), http_status,
	    (long long)latency);
	status_probe(s->status, result, http_status, latency);
	feed(s, &ev);
}

/* The wait_for waiter is done: every target answered, or wait_timeout passed. */
static void
on_deps(void *arg, bool ready)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = event(ready ? CE_DEPS_READY : CE_DEPS_FAILED);

	feed(s, &ev);
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

static void
do_actions(struct supervisor *s, const struct core_actions *acts)
{
	int i;

	for (i = 0; i < acts->n; i++) {
		const struct core_action *a = &acts->v[i];

		switch (a->type) {
		case ACT_SPAWN:
			do_spawn(s, a->mode);
			break;
		case ACT_KILL:
			log_debug("signal %s to %s %ld", signal_name(a->signo),
			    a->group ? "group" : "pid", (long)s->pgid);
			child_kill(s->core.pid, s->pgid, a->group, a->signo);
			if (a->stop)
				strays_signal(s->core.pid, s->pgid, a->signo);
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

static void
feed(struct supervisor *s, struct core_event *first)
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
	struct core_event	 ev = event(CE_TICK);

	feed(s, &ev);
}

/* After the main child: anything of it left to stop? Its group, or a stray that left
 * the group and was orphaned to us (a zombie counts until SIGCHLD reaps it). */
static bool
leftovers_alive(struct supervisor *s)
{
	return child_group_alive(s->pgid) || strays_left();
}

static void
check_group(struct supervisor *s)
{
	struct core_event ev;

	if (s->core.state == ST_STOPPING && s->core.pid == 0 && s->core.group_alive &&
	    !leftovers_alive(s)) {
		ev = event(CE_GROUP_GONE);
		feed(s, &ev);
	}
}

static void
on_group_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	check_group(w->data);
}

static void
on_reaped(void *arg, pid_t pid, int status)
{
	struct supervisor *s = arg;

	if (pid == s->pid) {
		s->reaped_main = true;
		s->main_status = status;
	} else
		s->orphans++;
}

/* SIGCHLD: reap everything first, then report the main child with its group's state. */
static void
reap(struct supervisor *s)
{
	struct core_event	ev;
	enum child_stage	stage;
	int			err;

	child_reap(on_reaped, s);
	if (s->reaped_main) {
		s->reaped_main = false;
		/* The terminal back to tend's group until the next child: a Ctrl-C during
		 * the backoff must reach someone (SIGTTOU is blocked, so this is allowed). */
		if (s->foreground && tcsetpgrp(STDIN_FILENO, getpgrp()) != 0)
			log_debug("tcsetpgrp: %s", strerror(errno));
		ev = event(CE_EXITED);
		ev.pid = s->pid;
		ev.status = s->main_status;
		err = child_exec_error(s->errfd, &stage);
		s->errfd = -1;
		ev.group_alive = leftovers_alive(s);
		if (err != 0 && child_error_permanent(stage, err)) {
			log_errorx("cannot run '%s': %s", s->argv0, strerror(err));
			ev.err = err;	/* tend exits 126/127 */
		} else if (err != 0)
			/* A failure like any other exit (126): the restart policy decides. */
			log_errorx("cannot start '%s': %s: %s", s->argv0,
			    child_stage_name(stage), strerror(err));
		s->pid = 0;
		feed(s, &ev);
	}
	check_group(s);
}

static void
on_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct supervisor	*s = arg;
	struct core_event	 ev;

	if (si->ssi_signo == SIGCHLD) {
		reap(s);
		return;
	}
	/* tend's own SIGPIPE (a write to a closed pipe) is not the child's business. */
	if (si->ssi_pid == (uint32_t)getpid() && si->ssi_code == SI_USER)
		return;
	log_debug("signal %s from pid %u", signal_name((int)si->ssi_signo), si->ssi_pid);
	ev = event(CE_SIGNAL);
	ev.signo = (int)si->ssi_signo;
	feed(s, &ev);
}

/* Every line of the children's output: watch for a reload loop. */
static void
on_line(void *arg, pid_t pid, int stream, const char *line, size_t len, bool partial)
{
	struct supervisor	*s = arg;
	struct core_event	 ev = event(CE_RELOAD_LOOP);

	if (s->watch == NULL || !reload_watch_line(s->watch, line, len, ev.now))
		return;
	log_warnx("reload loop: %d reloads within %lldms (pattern in [reload_loop])",
	    s->cfg->loop_count, (long long)s->cfg->loop_window);
	launch_reload_off(&s->launch);
	feed(s, &ev);
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
	ev_init(&s.group_poll, on_group_poll);
	s.group_poll.repeat = 0.1;
	s.group_poll.data = &s;

	core_conf_from(&cc, cfg);
	core_init(&s.core, &cc, (uint64_t)clock_ms() ^ ((uint64_t)getpid() << 32));
	core_start(&s.core, clock_ms(), &acts);
	do_actions(&s, &acts);
	if (s.nqueue > 0) {
		struct core_event ev = s.queue[0];

		memmove(s.queue, s.queue + 1, (size_t)--s.nqueue * sizeof s.queue[0]);
		feed(&s, &ev);
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
