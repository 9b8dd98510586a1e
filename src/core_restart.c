/*
 * The core's failures and stops: the stop sequence (hang signal, stop signal, SIGKILL to
 * the group), the decision of what follows a failure (restart policy, crash loop,
 * emergency mode), the backoff with jitter, and the operator's restart and emergency
 * on|off, which are planned stops. The other events are in core.c.
 */
#include "autoconf.h"

#include <signal.h>

#include "config.h"
#include "core.h"
#include "core_restart.h"

/*
 * Exponential backoff with "equal jitter": a delay in [d/2, d] for d = base * 2^(n-1),
 * capped at max. Below the cap the ranges of successive failures touch but never overlap
 * backwards, so the delay does not shrink while failures go on; and many tends restarting
 * together spread out.
 */
int64_t
core_backoff(int64_t base, int64_t max, int n, double r)
{
	int64_t d = base;
	int	i;

	if (base <= 0)
		return 0;
	for (i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return d / 2 + (int64_t)(r * (double)(d - d / 2));
}

/* xorshift64*: deterministic for tests (the adapter seeds it), good enough for jitter. */
double
core_random(struct core *c)
{
	uint64_t x = c->rng ? c->rng : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* Remember a failure of the given mode at now. */
void
core_window_add(struct core *c, enum core_mode m, int64_t now)
{
	int burst = c->conf.limit_burst;

	c->window[m][c->window_head[m]] = now;
	c->window_head[m] = (c->window_head[m] + 1) % burst;
	if (c->nwindow[m] < burst)
		c->nwindow[m]++;
}

/* A crash loop: limit_burst failures of this mode within limit_interval before now. */
bool
core_window_full(const struct core *c, enum core_mode m, int64_t now)
{
	int burst = c->conf.limit_burst, oldest;

	if (c->nwindow[m] < burst)
		return false;
	/* The ring is full, so the oldest of the last `burst` failures is at the head. */
	oldest = c->window_head[m];
	return now - c->window[m][oldest] < c->conf.limit_interval;
}

void
core_window_clear(struct core *c, enum core_mode m)
{
	c->nwindow[m] = 0;
	c->window_head[m] = 0;
}

/* SIGKILL for the group (and the child, should it have left its group). */
void
core_kill_group(struct core *c, struct core_actions *a, int64_t now)
{
	struct core_action *k = core_emit(a, ACT_KILL, c->mode, SIGKILL, true, 0, 0);

	if (k != NULL)
		k->stop = true;
	c->killed = true;
	/* Sent again after each stop_timeout while anything lingers, in case it raced a fork. */
	c->kill_at = now + (c->conf.stop_timeout > 1000 ? c->conf.stop_timeout : 1000);
}

/* Ask the child (or its group, forward = group) to stop; SIGKILL follows at kill_at. */
void
core_send_stop(struct core *c, struct core_actions *a, int64_t now, int signo, bool group)
{
	struct core_action *k;

	c->hang_until = -1;
	if (c->conf.stop_timeout == 0) {
		core_kill_group(c, a, now);
		return;
	}
	k = core_emit(a, ACT_KILL, c->mode, signo, group || c->conf.forward_group, 0, 0);
	if (k != NULL)
		k->stop = k->group;
	if (c->kill_at < 0)
		c->kill_at = now + c->conf.stop_timeout;
}

void
core_finish_stop(struct core *c, struct core_actions *a, int64_t now)
{
	int code;

	c->kill_at = c->hang_until = -1;
	c->killed = false;
	switch (c->after) {
	case AFTER_EXIT:
		code = c->exit_code >= 0 ? c->exit_code :
		    exit_code_of_status(c->last_status);
		core_exit(c, a, now, code);
		break;
	case AFTER_BACKOFF:
		c->delay = core_backoff(c->conf.backoff, c->conf.backoff_max, c->streak,
		    core_random(c));
		c->backoff_until = now + c->delay;
		/* Even for a zero delay (the line carries the cause): run_timers spawns. */
		core_set_state(c, a, now, ST_BACKOFF);
		break;
	case AFTER_SPAWN:
		core_spawn(c, a, now, c->mode, false);
		break;
	case AFTER_EMERGENCY:
		core_spawn(c, a, now, MODE_EMERGENCY, false);
		break;
	case AFTER_RECOVER:
		core_spawn(c, a, now, MODE_NORMAL, false);
		break;
	}
}

/* Start the stop sequence for the current child; `after` says what follows it. */
void
core_begin_stop(struct core *c, struct core_actions *a, int64_t now)
{
	if (c->probing) {
		core_emit(a, ACT_PROBE_CANCEL, c->mode, 0, false, 0, 0);
		c->probing = false;
	}
	c->next_probe = c->deadline = c->recover_at = -1;
	c->healthy_since = -1;
	c->reset_pending = false;
	if (c->pid == 0 && !c->group_alive) {
		core_finish_stop(c, a, now);	/* nothing to stop */
		return;
	}
	if (c->state != ST_STOPPING)
		core_set_state(c, a, now, ST_STOPPING);
	if (c->pid != 0) {
		if (c->cause == CAUSE_HANG && c->conf.hang_signal != 0) {
			/* A traceback first (Python's faulthandler on ABRT), then the stop. */
			core_emit(a, ACT_KILL, c->mode, c->conf.hang_signal, false, 0, 0);
			c->hang_until = now + c->conf.hang_signal_wait;
		} else
			core_send_stop(c, a, now, c->conf.stop_signal, false);
	} else
		core_send_stop(c, a, now, c->conf.stop_signal, true);
}

/* A failure of the child (any cause): decide what follows and stop it. */
void
core_fail(struct core *c, struct core_actions *a, int64_t now, enum core_cause cause,
    int arg)
{
	bool clean = cause == CAUSE_EXIT && arg == 0;

	c->cause = cause;
	c->cause_arg = arg;
	c->last_failure_at = now;
	if (c->shutdown)
		c->after = AFTER_EXIT;
	else if (c->conf.policy == POLICY_NEVER ||
	    (clean && c->conf.policy == POLICY_ON_FAILURE))
		c->after = AFTER_EXIT;
	else if (c->state == ST_RECOVERING) {
		/* Normal mode failed its trial: back to emergency, and wait longer next time. */
		c->after = AFTER_EMERGENCY;
		c->recover_wait = c->recover_wait > PARSE_DURATION_MAX / 2 ?
		    PARSE_DURATION_MAX : c->recover_wait * 2;
	} else if (cause == CAUSE_RELOAD_LOOP && c->conf.loop_action == LOOP_STOP) {
		c->after = AFTER_EXIT;
		c->exit_code = EXIT_GAVE_UP;
		c->gave_up = GAVE_UP_RELOAD_LOOP;
	} else if (cause == CAUSE_RELOAD_LOOP && c->conf.loop_action == LOOP_EMERGENCY &&
	    c->conf.emergency && c->mode == MODE_NORMAL) {
		c->after = AFTER_EMERGENCY;
		core_window_clear(c, MODE_EMERGENCY);
	} else {
		core_window_add(c, c->mode, now);
		c->streak++;
		c->after = AFTER_BACKOFF;
		if (core_window_full(c, c->mode, now)) {
			if (c->mode == MODE_NORMAL && c->conf.emergency) {
				c->after = AFTER_EMERGENCY;
				core_window_clear(c, MODE_EMERGENCY);
				c->streak = 0;
			} else {
				c->after = AFTER_EXIT;
				c->exit_code = EXIT_GAVE_UP;
				c->gave_up = c->mode == MODE_EMERGENCY ?
				    GAVE_UP_EMERGENCY_LOOP : GAVE_UP_CRASH_LOOP;
			}
		}
	}
	if (c->after != AFTER_EXIT)
		c->restarts[cause]++;
	core_begin_stop(c, a, now);
}

/* A planned stop (operator, recovery): not a failure, not counted in the crash window. */
void
core_planned_stop(struct core *c, struct core_actions *a, int64_t now,
    enum core_cause cause, enum core_after after)
{
	c->cause = cause;
	c->cause_arg = 0;
	c->after = after;
	c->restarts[cause]++;
	core_begin_stop(c, a, now);
}

/* restart, emergency on|off from the control socket. */
void
core_operator(struct core *c, struct core_actions *a, const struct core_event *ev)
{
	int64_t now = ev->now;

	if (c->shutdown || c->state == ST_STOPPING || c->state == ST_EXITED)
		return;
	if (ev->type == CE_OP_EMERGENCY) {
		bool was = c->forced;

		/* on: emergency mode until off (no automatic recovery). off: try normal
		 * mode now, whoever chose emergency mode. */
		c->forced = ev->on;
		if (ev->on && (was || c->mode == MODE_EMERGENCY)) {
			c->recover_at = -1;
			return;
		}
		if (!ev->on && c->mode == MODE_NORMAL)
			return;
	}
	if (c->state == ST_WAITING)
		return;
	if (c->state == ST_BACKOFF) {
		/* No child to stop: start the one asked for now. */
		if (ev->type == CE_OP_EMERGENCY)
			c->mode = ev->on ? MODE_EMERGENCY : MODE_NORMAL;
		core_spawn(c, a, now, c->mode, false);
		return;
	}
	if (ev->type == CE_OP_RESTART)
		core_planned_stop(c, a, now, CAUSE_OPERATOR, AFTER_SPAWN);
	else
		core_planned_stop(c, a, now, CAUSE_OPERATOR,
		    ev->on ? AFTER_EMERGENCY : AFTER_RECOVER);
}
