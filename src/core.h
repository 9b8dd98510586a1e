/*
 * The supervisor's pure state machine: events in, actions out, time passed in.
 * No syscalls here: adapters (main.c and friends) carry the actions out and feed the
 * results back as events. The diagram and every transition are in doc/state-machine.md.
 */
#ifndef TEND_CORE_H
#define TEND_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe.h"

enum core_state {
	ST_WAITING,		/* for wait_for dependencies */
	ST_STARTING,		/* spawned, no probe passed yet */
	ST_RUNNING,		/* healthy (or alive, without a health url) */
	ST_UNHEALTHY,		/* probes failing, below failure_threshold */
	ST_STOPPING,		/* stop sequence under way */
	ST_BACKOFF,		/* waiting before the next spawn */
	ST_EMERGENCY_STARTING,
	ST_EMERGENCY_RUNNING,
	ST_RECOVERING,		/* normal mode on trial after emergency mode */
	ST_EXITED,		/* tend is about to exit */
};
#define CORE_NSTATES (ST_EXITED + 1)

enum core_cause {
	CAUSE_NONE,
	CAUSE_EXIT,		/* exit:N */
	CAUSE_SIGNAL,		/* signal:NAME */
	CAUSE_STARTUP_TIMEOUT,
	CAUSE_HANG,
	CAUSE_RELOAD_LOOP,
	CAUSE_OPERATOR,
	CAUSE_RECOVER,		/* planned: emergency mode healthy long enough */
	CAUSE_SHUTDOWN,		/* tend was told to stop */
};
#define CORE_NCAUSES (CAUSE_SHUTDOWN + 1)

enum core_mode { MODE_NORMAL, MODE_EMERGENCY };

/* What the machine does once a stop has finished (child reaped, group empty). */
enum core_after {
	AFTER_EXIT,		/* exit tend with exit_code (or the child's status) */
	AFTER_BACKOFF,		/* wait the backoff delay, then spawn in the current mode */
	AFTER_SPAWN,		/* spawn again at once, same mode (operator restart) */
	AFTER_EMERGENCY,	/* spawn in emergency mode */
	AFTER_RECOVER,		/* spawn in normal mode, on trial */
};

/* The settings the machine needs, copied from struct config by the adapter. */
struct core_conf {
	int		policy;			/* enum restart_policy */
	int64_t		backoff, backoff_max;
	int		limit_burst;		/* 1..CORE_MAX_BURST */
	int64_t		limit_interval, reset_after;
	int64_t		startup_timeout;	/* 0: none */
	int64_t		startup_interval, health_interval;
	int		failure_threshold, success_threshold;
	bool		health[2];		/* a url to probe, per mode */
	bool		emergency;		/* emergency mode configured */
	int64_t		recover_after;		/* 0: never */
	int		stop_signal;
	int64_t		stop_timeout;
	bool		forward_group;		/* forward = group */
	bool		second_stop_kills;	/* --dev: a second Ctrl-C kills the group */
	int		hang_signal;		/* 0: none */
	int64_t		hang_signal_wait;
	int		loop_action;		/* enum loop_action */
	bool		wait_deps;		/* wait_for targets exist */
	bool		wait_each_start;
};
#define CORE_MAX_BURST 100

enum core_event_type {
	CE_TICK,		/* time passed (a deadline the adapter was told about) */
	CE_DEPS_READY,		/* every wait_for target answered */
	CE_DEPS_FAILED,		/* wait_timeout reached */
	CE_SPAWNED,		/* pid */
	CE_SPAWN_FAILED,	/* fork failed (err): retried like a crash */
	CE_EXITED,		/* the main child was reaped: status, exec_errno */
	CE_GROUP_GONE,		/* no member of the child's group, no stray left */
	CE_PROBE,		/* seq, result, http_status, latency */
	CE_SIGNAL,		/* signo, sent to tend */
	CE_RELOAD_LOOP,		/* the output watcher saw a reload loop */
	CE_OP_RESTART,		/* operator: restart the child */
	CE_OP_EMERGENCY,	/* operator: on = force emergency mode, off = back to normal */
	CE_SUSPEND,		/* --dev, Ctrl-Z: tend is about to stop itself */
	CE_RESUME,		/* ... and runs again (fg, bg) */
};

struct core_event {
	enum core_event_type	type;
	int64_t			now;
	pid_t			pid;
	int			status;		/* CE_EXITED: wait status */
	int			err;		/* CE_EXITED: exec errno (0: exec worked) */
	bool			group_alive;	/* CE_EXITED: others left in the group, or
						 * strays (other children of tend) */
	uint32_t		seq;		/* CE_PROBE */
	enum probe_result	result;
	int			http_status;
	int64_t			latency;
	int			signo;
	bool			on;
};

enum core_action_type {
	ACT_SPAWN,	/* mode; reply with CE_SPAWNED or CE_SPAWN_FAILED */
	ACT_KILL,	/* signo to the child (group = false) or its process group; stop:
			 * part of a stop sequence, so also to tend's stray children */
	ACT_PROBE,	/* start probe seq for mode; reply with CE_PROBE */
	ACT_PROBE_CANCEL,
	ACT_WAIT_DEPS,	/* start waiting for wait_for targets */
	ACT_STATE,	/* the state changed: log it, notify, update status */
	ACT_EXIT,	/* exit tend with code */
};

/* What an ACT_STATE action describes. */
/* Why tend gave up (exit 69). */
enum core_gave_up {
	GAVE_UP_NONE,
	GAVE_UP_CRASH_LOOP,	/* limit_burst failures in normal mode, no [emergency] */
	GAVE_UP_EMERGENCY_LOOP,	/* ... in emergency mode */
	GAVE_UP_RELOAD_LOOP,	/* a reload loop with [reload_loop] action = stop */
	GAVE_UP_DEPS,		/* wait_for targets did not answer within wait_timeout */
};

struct core_change {
	enum core_state		from, to;
	enum core_gave_up	gave_up;	/* ST_EXITED with code 69 */
	enum core_mode		mode;
	pid_t			pid;		/* the child, 0 if none */
	int			code;		/* ST_EXITED: tend's exit code */
	enum core_cause		cause;
	int			cause_arg;	/* exit code or signal number */
	int			attempt;	/* spawns since tend started */
	int64_t			since_spawn;	/* ms since the last spawn, -1 if none yet */
	enum probe_result	last_probe;
	bool			probed;		/* last_probe is meaningful */
	int64_t			failing_for;	/* ms the endpoint has been failing, hangs */
	int64_t			delay;		/* backoff delay, in ST_BACKOFF */
};

struct core_action {
	enum core_action_type	type;
	enum core_mode		mode;
	int			signo;
	bool			group;
	bool			stop;		/* ACT_KILL: strays too (strays.h) */
	uint32_t		seq;
	int			code;
	struct core_change	change;		/* ACT_STATE */
};

#define CORE_MAX_ACTIONS 16
struct core_actions {
	int			n;
	struct core_action	v[CORE_MAX_ACTIONS];
};

struct core {
	struct core_conf	conf;
	enum core_state		state;
	enum core_mode		mode;
	bool			forced;		/* operator forced emergency mode */
	bool			shutdown;	/* tend was told to stop */
	int			exit_code;	/* when shutdown or giving up */
	enum core_gave_up	gave_up;	/* why, when giving up */
	enum core_after		after;		/* what follows the stop under way */
	bool			killed;		/* SIGKILL sent to the group in this stop */

	pid_t			pid;		/* main child, 0 if none */
	bool			group_alive;
	int64_t			spawned_at;
	int			last_status;	/* wait status of the last child */

	/* Probes. */
	uint32_t		seq;
	bool			probing;
	int64_t			next_probe;	/* -1: none */
	int			fails, oks;	/* consecutive */
	int64_t			failing_since;	/* -1: not failing */
	enum probe_result	last_probe;
	bool			probed;
	int64_t			healthy_since;	/* -1: not healthy */
	int64_t			last_ok;	/* -1: never */
	bool			ever_ready;

	/* Deadlines, -1 when not armed. */
	int64_t			deadline;	/* startup */
	int64_t			kill_at;	/* stop_timeout: SIGKILL the group */
	int64_t			hang_until;	/* hang_signal_wait */
	int64_t			backoff_until;
	int64_t			recover_at;

	/* Failures and backoff. */
	int64_t			window[2][CORE_MAX_BURST];	/* failure times per mode, a ring */
	int			nwindow[2], window_head[2];
	int			streak;		/* failures since the last reset */
	int64_t			delay;		/* backoff of the pending restart */
	int64_t			recover_wait;
	int			spawns;		/* children spawned since tend started */
	bool			reset_pending;	/* healthy, reset_after not reached yet */
	int64_t			probe_started;
	int64_t			suspended_at;	/* -1: not suspended (core_suspend.c) */
	enum core_cause		cause;		/* of the current stop / last failure */
	int			cause_arg;
	int64_t			last_failure_at;
	int			restarts[CORE_NCAUSES];
	uint64_t		rng;

	struct core_change	change;		/* the last state change */
};

void core_init(struct core *, const struct core_conf *, uint64_t seed);
/* First step: wait for dependencies or spawn. */
void core_start(struct core *, int64_t now, struct core_actions *);
void core_handle(struct core *, const struct core_event *, struct core_actions *);
/* The earliest deadline the adapter must wake up for with CE_TICK, or -1. */
int64_t core_next_deadline(const struct core *);

bool core_healthy(const struct core *);	/* running or emergency-running */
const char *core_state_name(enum core_state);
const char *core_cause_name(enum core_cause);	/* "exit", "signal", "startup-timeout", ... */

/* Backoff delay for the n-th failure in a row (n >= 1), jitter from r in [0, 1). */
int64_t core_backoff(int64_t base, int64_t max, int n, double r);

#endif
