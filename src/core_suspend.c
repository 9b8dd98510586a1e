/*
 * Job control for the local launcher (--dev on a terminal): Ctrl-Z stops the child's
 * whole group and then tend itself, so the shell gets its prompt back; fg or bg
 * continues both. For the machine, time stands still while suspended: every deadline
 * (the startup deadline, the next probe, backoff, the SIGKILL clock, the recovery try)
 * and the healthy and failing clocks move by the time spent stopped, and a probe that
 * was under way is asked again, so a long pause is neither a missed startup deadline
 * nor a hang.
 */
#include "autoconf.h"

#include <signal.h>

#include "core.h"
#include "core_restart.h"

void
core_suspend(struct core *c, struct core_actions *a, int64_t now)
{
	if (c->suspended_at >= 0)
		return;
	c->suspended_at = now;
	/* The group, as the terminal would have: a reloader stops with its server. */
	if (c->pid != 0)
		core_emit(a, ACT_KILL, c->mode, SIGTSTP, true, 0, 0);
}

static void
shift(int64_t *t, int64_t d)
{
	if (*t >= 0)
		*t += d;
}

void
core_resume(struct core *c, struct core_actions *a, int64_t now)
{
	int64_t d;

	if (c->suspended_at < 0)
		return;
	d = now > c->suspended_at ? now - c->suspended_at : 0;
	c->suspended_at = -1;
	shift(&c->deadline, d);
	shift(&c->next_probe, d);
	shift(&c->kill_at, d);
	shift(&c->hang_until, d);
	shift(&c->backoff_until, d);
	shift(&c->recover_at, d);
	shift(&c->healthy_since, d);
	shift(&c->failing_since, d);
	if (c->probing) {
		/* Its timeout ran while the child was stopped: no verdict; ask again now. */
		core_emit(a, ACT_PROBE_CANCEL, c->mode, 0, false, 0, 0);
		c->probing = false;
		c->next_probe = now;
	}
	if (c->pid != 0)
		core_emit(a, ACT_KILL, c->mode, SIGCONT, true, 0, 0);
}
