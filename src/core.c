/*
 * The supervisor's state machine (doc/state-machine.md has the diagram). Every event
 * goes through core_handle(); it changes the state and appends actions for the adapter.
 * No syscalls, no clock: the time comes in with the event, so tests use a fake one.
 * The stop sequence and what follows a failure are in core_restart.c.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "core.h"
#include "core_restart.h"

static const char *state_names[CORE_NSTATES] = {
	"waiting", "starting", "running", "unhealthy", "stopping", "backoff",
	"emergency-starting", "emergency-running", "recovering", "exited",
};

static const char *cause_names[CORE_NCAUSES] = {
	"none", "exit", "signal", "startup-timeout", "hang", "reload-loop", "operator",
	"recover", "shutdown",
};

const char *
core_state_name(enum core_state s)
{
	return (unsigned)s < CORE_NSTATES ? state_names[s] : "?";
}

const char *
core_cause_name(enum core_cause c)
{
	return (unsigned)c < CORE_NCAUSES ? cause_names[c] : "?";
}

struct core_action *
core_emit(struct core_actions *a, enum core_action_type type, enum core_mode mode,
    int signo, bool group, uint32_t seq, int code)
{
	struct core_action *act;

	/* The machine never emits more than a handful per event; the bound is a bug check. */
	if (a->n >= CORE_MAX_ACTIONS)
		return NULL;
	act = &a->v[a->n++];
	act->type = type;
	act->mode = mode;
	act->signo = signo;
	act->group = group;
	act->stop = false;
	act->seq = seq;
	act->code = code;
	return act;
}

void
core_set_state(struct core *c, struct core_actions *a, int64_t now, enum core_state to)
{
	struct core_change *ch = &c->change;

	ch->from = c->state;
	ch->to = to;
	ch->mode = c->mode;
	ch->pid = c->pid;
	ch->code = c->exit_code;
	ch->gave_up = c->gave_up;
	ch->cause = c->cause;
	ch->cause_arg = c->cause_arg;
	ch->attempt = c->spawns;
	ch->since_spawn = c->spawns > 0 ? now - c->spawned_at : -1;
	ch->last_probe = c->last_probe;
	ch->probed = c->probed;
	ch->failing_for = c->failing_since >= 0 ? now - c->failing_since : -1;
	ch->delay = to == ST_BACKOFF ? c->delay : 0;
	c->state = to;
	core_emit(a, ACT_STATE, c->mode, 0, false, 0, 0);
	if (a->n > 0 && a->v[a->n - 1].type == ACT_STATE)
		a->v[a->n - 1].change = *ch;
}

void
core_init(struct core *c, const struct core_conf *conf, uint64_t seed)
{
	memset(c, 0, sizeof *c);
	c->conf = *conf;
	if (c->conf.limit_burst < 1)
		c->conf.limit_burst = 1;
	if (c->conf.limit_burst > CORE_MAX_BURST)
		c->conf.limit_burst = CORE_MAX_BURST;
	c->state = ST_WAITING;
	c->mode = MODE_NORMAL;
	c->exit_code = -1;
	c->next_probe = c->failing_since = c->healthy_since = c->last_ok = -1;
	c->deadline = c->kill_at = c->hang_until = c->backoff_until = c->recover_at = -1;
	c->suspended_at = -1;
	c->recover_wait = conf->recover_after;
	c->rng = seed;
}

bool
core_healthy(const struct core *c)
{
	return c->state == ST_RUNNING || c->state == ST_EMERGENCY_RUNNING;
}

static bool
starting(const struct core *c)
{
	return c->state == ST_STARTING || c->state == ST_EMERGENCY_STARTING ||
	    c->state == ST_RECOVERING;
}

static bool
probing_state(const struct core *c)
{
	return starting(c) || core_healthy(c) || c->state == ST_UNHEALTHY;
}

void
core_exit(struct core *c, struct core_actions *a, int64_t now, int code)
{
	c->exit_code = code;
	core_set_state(c, a, now, ST_EXITED);
	core_emit(a, ACT_EXIT, c->mode, 0, false, 0, code);
}

/* Spawn in mode m, or wait for dependencies first when they are to be checked again. */
void
core_spawn(struct core *c, struct core_actions *a, int64_t now, enum core_mode m,
    bool first)
{
	c->mode = m;
	c->backoff_until = -1;
	if (c->conf.wait_deps && (first || c->conf.wait_each_start)) {
		core_set_state(c, a, now, ST_WAITING);
		core_emit(a, ACT_WAIT_DEPS, m, 0, false, 0, 0);
		return;
	}
	core_emit(a, ACT_SPAWN, m, 0, false, 0, 0);
}

void
core_start(struct core *c, int64_t now, struct core_actions *a)
{
	a->n = 0;
	core_spawn(c, a, now, MODE_NORMAL, true);
}

/* The child entered a healthy state: arm the reset and recovery clocks. */
static void
became_healthy(struct core *c, struct core_actions *a, int64_t now)
{
	c->fails = c->oks = 0;
	c->failing_since = -1;
	c->healthy_since = now;
	c->reset_pending = true;
	c->ever_ready = true;
	if (c->mode == MODE_EMERGENCY) {
		if (c->conf.recover_after > 0 && !c->forced)
			c->recover_at = now + c->recover_wait;
		core_set_state(c, a, now, ST_EMERGENCY_RUNNING);
	} else {
		if (c->state == ST_RECOVERING)
			c->recover_wait = c->conf.recover_after;
		core_set_state(c, a, now, ST_RUNNING);
	}
}

static void
on_spawned(struct core *c, struct core_actions *a, int64_t now, pid_t pid)
{
	enum core_state to;

	c->pid = pid;
	c->group_alive = true;
	c->spawned_at = now;
	c->spawns++;
	c->probing = false;
	c->probed = false;
	c->fails = c->oks = 0;
	c->failing_since = -1;
	c->killed = false;
	if (c->after == AFTER_RECOVER)
		to = ST_RECOVERING;
	else
		to = c->mode == MODE_EMERGENCY ? ST_EMERGENCY_STARTING : ST_STARTING;
	c->after = AFTER_EXIT;
	if (!c->conf.health[c->mode]) {
		/* Without a health url, running means alive. */
		c->state = to;
		became_healthy(c, a, now);
		return;
	}
	c->deadline = c->conf.startup_timeout > 0 ? now + c->conf.startup_timeout : -1;
	c->next_probe = now + c->conf.startup_interval;
	core_set_state(c, a, now, to);
}

static void
on_exited(struct core *c, struct core_actions *a, const struct core_event *ev)
{
	int st = ev->status;

	if (ev->pid != c->pid || c->pid == 0)
		return;
	c->pid = 0;
	c->last_status = st;
	c->group_alive = ev->group_alive;
	if (ev->err != 0) {
		/* The command could not be executed: retrying will not help. */
		c->after = AFTER_EXIT;
		c->exit_code = ev->err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		c->cause = CAUSE_EXIT;
		c->cause_arg = c->exit_code;
		core_begin_stop(c, a, ev->now);
		return;
	}
	if (c->state == ST_STOPPING) {
		if (!c->group_alive)
			core_finish_stop(c, a, ev->now);
		else if (!c->killed)
			core_send_stop(c, a, ev->now, c->conf.stop_signal, true);
		return;
	}
	if (WIFSIGNALED(st))
		core_fail(c, a, ev->now, CAUSE_SIGNAL, WTERMSIG(st));
	else
		core_fail(c, a, ev->now, CAUSE_EXIT, WIFEXITED(st) ? WEXITSTATUS(st) : 255);
}

static void
on_probe(struct core *c, struct core_actions *a, const struct core_event *ev)
{
	int64_t now = ev->now, interval;
	bool ok = ev->result == PROBE_OK;

	if (!c->probing || ev->seq != c->seq || !probing_state(c))
		return;	/* stale: the child it was for is gone */
	c->probing = false;
	interval = starting(c) ? c->conf.startup_interval : c->conf.health_interval;
	if (ev->result == PROBE_ERROR) {
		/* tend's own trouble (EMFILE, no route): no verdict on the child. */
		c->next_probe = now + interval;
		return;
	}
	c->last_probe = ev->result;
	c->probed = true;
	if (ok)
		c->last_ok = now;
	c->next_probe = c->probe_started + interval > now ? c->probe_started + interval :
	    now;
	if (starting(c)) {
		/* Failures while starting are expected; only the deadline counts. */
		if (ok) {
			c->deadline = -1;
			c->next_probe = now + c->conf.health_interval;
			became_healthy(c, a, now);
		}
		return;
	}
	if (ok) {
		c->fails = 0;
		if (c->state == ST_UNHEALTHY && ++c->oks >= c->conf.success_threshold)
			became_healthy(c, a, now);
		return;
	}
	c->oks = 0;
	if (c->fails++ == 0)
		c->failing_since = now;
	if (c->fails >= c->conf.failure_threshold) {
		core_fail(c, a, now, CAUSE_HANG, 0);
		return;
	}
	if (c->state != ST_UNHEALTHY) {
		c->healthy_since = c->recover_at = -1;
		c->reset_pending = false;
		core_set_state(c, a, now, ST_UNHEALTHY);
	}
}

static void
on_signal(struct core *c, struct core_actions *a, int64_t now, int signo)
{
	bool stop = signo == SIGTERM || signo == SIGINT || signo == SIGQUIT;
	int sig = signo == SIGTERM ? c->conf.stop_signal : signo;

	if (!stop) {
		if (c->pid != 0)
			core_emit(a, ACT_KILL, c->mode, signo, c->conf.forward_group, 0, 0);
		return;
	}
	if (c->shutdown) {
		/* Asked again: --dev kills at once; otherwise pass it on again (a second
		 * Ctrl-C) while the SIGKILL clock runs on. */
		if (c->conf.second_stop_kills)
			core_kill_group(c, a, now);
		else if (c->pid != 0)
			core_emit(a, ACT_KILL, c->mode, sig, c->conf.forward_group, 0, 0);
		return;
	}
	c->shutdown = true;
	c->after = AFTER_EXIT;
	if (c->state == ST_STOPPING) {
		/* The stop under way goes on, then tend exits: say so (log, STOPPING=1). */
		c->cause = CAUSE_SHUTDOWN;
		c->cause_arg = signo;
		core_set_state(c, a, now, ST_STOPPING);
		return;
	}
	c->cause = CAUSE_SHUTDOWN;
	c->cause_arg = signo;
	if (c->pid == 0) {
		core_exit(c, a, now, 128 + signo);
		return;
	}
	if (c->probing) {
		core_emit(a, ACT_PROBE_CANCEL, c->mode, 0, false, 0, 0);
		c->probing = false;
	}
	c->next_probe = c->deadline = c->recover_at = c->healthy_since = -1;
	core_set_state(c, a, now, ST_STOPPING);
	core_send_stop(c, a, now, sig, false);
}

/* Deadlines that have passed, then the next probe; runs after every event. */
static void
run_timers(struct core *c, struct core_actions *a, int64_t now)
{
	if (c->state == ST_STOPPING) {
		if (c->hang_until >= 0 && now >= c->hang_until && c->pid != 0)
			core_send_stop(c, a, now, c->conf.stop_signal, false);
		if (c->kill_at >= 0 && now >= c->kill_at)
			core_kill_group(c, a, now);
		return;
	}
	if (c->state == ST_BACKOFF) {
		/* backoff_until is -1 once the spawn is asked for: only one per backoff. */
		if (c->backoff_until >= 0 && now >= c->backoff_until)
			core_spawn(c, a, now, c->mode, false);
		return;
	}
	if (!probing_state(c))
		return;
	if (starting(c) && c->deadline >= 0 && now >= c->deadline) {
		core_fail(c, a, now, CAUSE_STARTUP_TIMEOUT, 0);
		return;
	}
	if (c->reset_pending && now - c->healthy_since >= c->conf.reset_after) {
		/* Healthy long enough: forget past failures of this mode and the backoff. */
		c->reset_pending = false;
		c->streak = 0;
		core_window_clear(c, c->mode);
	}
	if (c->state == ST_EMERGENCY_RUNNING && c->recover_at >= 0 &&
	    now >= c->recover_at) {
		core_planned_stop(c, a, now, CAUSE_RECOVER, AFTER_RECOVER);
		return;
	}
	if (c->conf.health[c->mode] && !c->probing && c->next_probe >= 0 &&
	    now >= c->next_probe) {
		c->probing = true;
		c->probe_started = now;
		core_emit(a, ACT_PROBE, c->mode, 0, false, ++c->seq, 0);
	}
}

void
core_handle(struct core *c, const struct core_event *ev, struct core_actions *a)
{
	int64_t now = ev->now;

	a->n = 0;
	if (c->state == ST_EXITED)
		return;
	switch (ev->type) {
	case CE_TICK:
		break;
	case CE_DEPS_READY:
		if (c->state == ST_WAITING)
			core_emit(a, ACT_SPAWN, c->mode, 0, false, 0, 0);
		break;
	case CE_DEPS_FAILED:
		if (c->state == ST_WAITING) {
			c->gave_up = GAVE_UP_DEPS;
			core_exit(c, a, now, EXIT_GAVE_UP);
		}
		break;
	case CE_SPAWNED:
		on_spawned(c, a, now, ev->pid);
		break;
	case CE_SPAWN_FAILED:
		/* fork() failed (EAGAIN, ENOMEM): a failure like any other, retried later. */
		c->pid = 0;
		c->group_alive = false;
		c->last_status = 255 << 8;	/* policy never exits 255, not a stale 0 */
		core_fail(c, a, now, CAUSE_EXIT, 255);
		break;
	case CE_EXITED:
		on_exited(c, a, ev);
		break;
	case CE_GROUP_GONE:
		c->group_alive = false;
		if (c->state == ST_STOPPING && c->pid == 0)
			core_finish_stop(c, a, now);
		break;
	case CE_PROBE:
		on_probe(c, a, ev);
		break;
	case CE_SIGNAL:
		on_signal(c, a, now, ev->signo);
		break;
	case CE_RELOAD_LOOP:
		if (c->pid != 0 && c->state != ST_STOPPING)
			core_fail(c, a, now, CAUSE_RELOAD_LOOP, 0);
		break;
	case CE_OP_RESTART:
	case CE_OP_EMERGENCY:
		core_operator(c, a, ev);
		break;
	case CE_SUSPEND:
		core_suspend(c, a, now);
		break;
	case CE_RESUME:
		core_resume(c, a, now);
		break;
	}
	if (c->state != ST_EXITED)
		run_timers(c, a, now);
}

static void
earliest(int64_t *best, int64_t t)
{
	if (t >= 0 && (*best < 0 || t < *best))
		*best = t;
}

int64_t
core_next_deadline(const struct core *c)
{
	int64_t t = -1;

	switch (c->state) {
	case ST_STOPPING:
		if (c->pid != 0)
			earliest(&t, c->hang_until);
		earliest(&t, c->kill_at);
		break;
	case ST_BACKOFF:
		earliest(&t, c->backoff_until);
		break;
	case ST_WAITING:
	case ST_EXITED:
		break;
	default:
		if (starting(c))
			earliest(&t, c->deadline);
		if (c->reset_pending)
			earliest(&t, c->healthy_since + c->conf.reset_after);
		if (c->state == ST_EMERGENCY_RUNNING)
			earliest(&t, c->recover_at);
		if (c->conf.health[c->mode] && !c->probing)
			earliest(&t, c->next_probe);
		break;
	}
	return t;
}
