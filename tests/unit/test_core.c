/*
 * The core state machine, driven with a fake clock: every transition of
 * doc/state-machine.md has a test here. The "adapter" below does what supervise.c does,
 * minus the syscalls: it answers spawns with pids and ticks at the core's deadlines.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "config.h"
#include "core.h"

static struct core		c;
static struct core_actions	acts;
static int64_t			now;
static pid_t			next_pid = 100;
/* Every action since the last clear_log(), across events. */
static struct core_action	seen[256];
static int			nseen;

static void
clear_log(void)
{
	nseen = 0;
}

static void
record(void)
{
	int i;

	for (i = 0; i < acts.n && nseen < 256; i++)
		seen[nseen++] = acts.v[i];
}

static void feed(enum core_event_type, int);

/* Answer a spawn at once, as supervise.c does. */
static void
answer_spawns(void)
{
	int i;

	for (i = 0; i < acts.n; i++)
		if (acts.v[i].type == ACT_SPAWN) {
			feed(CE_SPAWNED, ++next_pid);
			return;
		}
}

static void
feed_ev(struct core_event *ev)
{
	ev->now = now;
	core_handle(&c, ev, &acts);
	record();
	answer_spawns();
}

static void
feed(enum core_event_type type, int arg)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	switch (type) {
	case CE_SPAWNED:
		ev.pid = arg;
		break;
	case CE_SIGNAL:
		ev.signo = arg;
		break;
	case CE_OP_EMERGENCY:
		ev.on = arg;
		break;
	default:
		break;
	}
	feed_ev(&ev);
}

static void
exited(int status, bool group_alive)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = CE_EXITED;
	ev.pid = c.pid;
	ev.status = status;
	ev.group_alive = group_alive;
	feed_ev(&ev);
}

static void
exec_failed(int err)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = CE_EXITED;
	ev.pid = c.pid;
	ev.status = (err == ENOENT ? 127 : 126) << 8;
	ev.err = err;
	feed_ev(&ev);
}

static void
probe(enum probe_result r)
{
	struct core_event ev;

	cr_assert(c.probing, "a probe result needs a probe under way");
	memset(&ev, 0, sizeof ev);
	ev.type = CE_PROBE;
	ev.seq = c.seq;
	ev.result = r;
	feed_ev(&ev);
}

/* Move the fake clock to t, waking up at every deadline on the way like the loop does. */
static void
advance_to(int64_t t)
{
	int64_t d;

	while ((d = core_next_deadline(&c)) >= 0 && d <= t && c.state != ST_EXITED) {
		now = d > now ? d : now;
		feed(CE_TICK, 0);
	}
	if (now < t)
		now = t;
}

static void
advance(int64_t ms)
{
	advance_to(now + ms);
}

static int
count(enum core_action_type t)
{
	int i, n = 0;

	for (i = 0; i < nseen; i++)
		n += seen[i].type == t;
	return n;
}

static const struct core_action *
find_kill(int signo)
{
	int i;

	for (i = 0; i < nseen; i++)
		if (seen[i].type == ACT_KILL && seen[i].signo == signo)
			return &seen[i];
	return NULL;
}

static int
exit_code(void)
{
	int i;

	for (i = 0; i < nseen; i++)
		if (seen[i].type == ACT_EXIT)
			return seen[i].code;
	return -1;
}

static struct core_conf
conf(bool health)
{
	struct core_conf cc;

	memset(&cc, 0, sizeof cc);
	cc.policy = POLICY_ON_FAILURE;
	cc.backoff = 1000;
	cc.backoff_max = 30000;
	cc.limit_burst = 5;
	cc.limit_interval = 120000;
	cc.reset_after = 60000;
	cc.startup_timeout = 30000;
	cc.startup_interval = 250;
	cc.health_interval = 5000;
	cc.failure_threshold = 3;
	cc.success_threshold = 1;
	cc.health[MODE_NORMAL] = cc.health[MODE_EMERGENCY] = health;
	cc.recover_after = 600000;
	cc.stop_signal = SIGTERM;
	cc.stop_timeout = 10000;
	cc.hang_signal_wait = 2000;
	cc.loop_action = LOOP_EMERGENCY;
	return cc;
}

static void
start(struct core_conf cc)
{
	now = 1000000;
	clear_log();
	core_init(&c, &cc, 42);
	core_start(&c, now, &acts);
	record();
	answer_spawns();
}

/* Start and pass the first probe. */
static void
start_running(struct core_conf cc)
{
	start(cc);
	advance(cc.startup_interval);
	probe(PROBE_OK);
	cr_assert_eq(c.state, c.mode == MODE_EMERGENCY ? ST_EMERGENCY_RUNNING : ST_RUNNING);
}

/* The child dies of the stop signal it was sent. */
static void
dies_of(int signo)
{
	exited(signo, false);	/* a wait status for "killed by signo" */
}

Test(core, no_health_url_means_running_when_alive)
{
	start(conf(false));
	cr_assert_eq(count(ACT_SPAWN), 1);
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert_eq(c.pid, next_pid);
	cr_assert_eq(core_next_deadline(&c), now + 60000, "only the reset_after clock");
}

Test(core, first_passing_probe_makes_running)
{
	start(conf(true));
	cr_assert_eq(c.state, ST_STARTING);
	advance(249);
	cr_assert_eq(count(ACT_PROBE), 0);
	advance(1);
	cr_assert_eq(count(ACT_PROBE), 1);
	probe(PROBE_REFUSED);
	cr_assert_eq(c.state, ST_STARTING, "failures while starting do not count");
	advance(250);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert(core_healthy(&c));
}

Test(core, startup_deadline_stops_and_backs_off)
{
	struct core_conf cc = conf(true);
	const struct core_action *k;
	int64_t t0;

	cc.startup_timeout = 5000;
	start(cc);
	t0 = now;
	while (now - t0 < 4750) {
		advance(250);
		if (c.probing)
			probe(PROBE_REFUSED);
	}
	cr_assert_eq(c.state, ST_STARTING);
	advance_to(t0 + 5000);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_eq(c.cause, CAUSE_STARTUP_TIMEOUT);
	k = find_kill(SIGTERM);
	cr_assert_not_null(k);
	cr_assert_not(k->group, "the stop signal goes to the child");
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_BACKOFF);
	cr_assert(c.delay >= 500 && c.delay <= 1000, "first delay %lld", (long long)c.delay);
	cr_assert_eq(c.restarts[CAUSE_STARTUP_TIMEOUT], 1);
	advance(c.delay);
	cr_assert_eq(c.state, ST_STARTING);
	cr_assert_eq(c.spawns, 2);
}

Test(core, stop_timeout_sigkills_the_group)
{
	struct core_conf cc = conf(false);
	const struct core_action *k;

	cc.stop_timeout = 3000;
	start(cc);
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_not_null(find_kill(SIGTERM));
	cr_assert_not(find_kill(SIGTERM)->stop, "forward = child: the child alone first");
	advance(2999);
	cr_assert_null(find_kill(SIGKILL));
	advance(1);
	k = find_kill(SIGKILL);
	cr_assert_not_null(k);
	cr_assert(k->group);
	cr_assert(k->stop, "the SIGKILL reaches strays too");
	dies_of(SIGKILL);
	cr_assert_eq(exit_code(), 137);
	cr_assert_eq(c.state, ST_EXITED);
}

Test(core, stop_timeout_zero_kills_at_once)
{
	struct core_conf cc = conf(false);

	cc.stop_timeout = 0;
	start(cc);
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_not_null(find_kill(SIGKILL));
	cr_assert_null(find_kill(SIGTERM));
}

Test(core, term_uses_stop_signal_int_and_quit_pass_through)
{
	struct core_conf cc = conf(false);

	cc.stop_signal = SIGINT;
	start(cc);
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_not_null(find_kill(SIGINT));
	cr_assert_null(find_kill(SIGTERM));

	start(conf(false));
	feed(CE_SIGNAL, SIGQUIT);
	cr_assert_not_null(find_kill(SIGQUIT));
	cr_assert_eq(c.state, ST_STOPPING);
	exited(0, false);
	cr_assert_eq(exit_code(), 0, "a child that exits cleanly on stop gives 0");
}

Test(core, second_stop_signal_is_forwarded_again)
{
	start(conf(false));
	feed(CE_SIGNAL, SIGINT);
	feed(CE_SIGNAL, SIGINT);
	cr_assert_eq(count(ACT_KILL), 2);
}

Test(core, dev_second_stop_signal_kills_at_once)
{
	struct core_conf cc = conf(false);

	cc.second_stop_kills = true;
	start(cc);
	feed(CE_SIGNAL, SIGINT);
	cr_assert_null(find_kill(SIGKILL));
	feed(CE_SIGNAL, SIGINT);
	cr_assert_not_null(find_kill(SIGKILL));
	cr_assert(find_kill(SIGKILL)->group);
}

Test(core, other_signals_are_forwarded)
{
	struct core_conf cc = conf(false);
	const struct core_action *k;

	start(cc);
	feed(CE_SIGNAL, SIGUSR1);
	k = find_kill(SIGUSR1);
	cr_assert_not_null(k);
	cr_assert_not(k->group);
	cr_assert_not(k->stop);
	cr_assert_eq(c.state, ST_RUNNING);

	cc.forward_group = true;
	start(cc);
	feed(CE_SIGNAL, SIGHUP);
	k = find_kill(SIGHUP);
	cr_assert_not_null(k);
	cr_assert(k->group);
	cr_assert_not(k->stop, "a forwarded signal is the group's, not the strays'");
}

Test(core, shutdown_without_child_exits_at_once)
{
	start(conf(false));
	exited(1 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_eq(exit_code(), 143);
}

Test(core, exit_status_passes_through_with_policy_never)
{
	struct core_conf cc = conf(false);
	int code;

	cc.policy = POLICY_NEVER;
	for (code = 0; code < 256; code += 51) {
		start(cc);
		exited(code << 8, false);
		cr_assert_eq(exit_code(), code);
	}
	start(cc);
	exited(SIGSEGV, false);
	cr_assert_eq(exit_code(), 128 + SIGSEGV);
}

Test(core, on_failure_ends_on_clean_exit_and_restarts_otherwise)
{
	start(conf(false));
	exited(0, false);
	cr_assert_eq(exit_code(), 0);

	start(conf(false));
	exited(3 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	cr_assert_eq(c.cause, CAUSE_EXIT);
	cr_assert_eq(c.cause_arg, 3);
}

Test(core, always_restarts_a_clean_exit)
{
	struct core_conf cc = conf(false);

	cc.policy = POLICY_ALWAYS;
	start(cc);
	exited(0, false);
	cr_assert_eq(c.state, ST_BACKOFF);
}

Test(core, exec_failure_exits_126_or_127)
{
	start(conf(false));
	exec_failed(ENOENT);
	cr_assert_eq(exit_code(), 127);
	start(conf(false));
	exec_failed(EACCES);
	cr_assert_eq(exit_code(), 126);
}

Test(core, backoff_grows_and_is_capped)
{
	struct core_conf cc = conf(false);
	int64_t prev = 0;
	int i;

	cc.limit_burst = 100;
	cc.backoff_max = 8000;
	start(cc);
	for (i = 0; i < 8; i++) {
		exited(1 << 8, false);
		cr_assert_eq(c.state, ST_BACKOFF);
		if (prev < 4000)
			cr_assert(c.delay >= prev, "delay %d shrank below the cap", i);
		cr_assert(c.delay >= ((1000 << i) < 8000 ? (1000 << i) : 8000) / 2);
		cr_assert(c.delay <= 8000);
		prev = c.delay;
		advance(c.delay);
	}
	cr_assert(prev >= 4000, "capped delay stays in [max/2, max]");
}

Test(core, backoff_function_bounds)
{
	cr_assert_eq(core_backoff(0, 1000, 3, 0.5), 0);
	cr_assert_eq(core_backoff(1000, 30000, 1, 0.0), 500);
	cr_assert_eq(core_backoff(1000, 30000, 1, 0.999999), 999);
	cr_assert_eq(core_backoff(1000, 30000, 3, 0.0), 2000);
	cr_assert_eq(core_backoff(1000, 30000, 60, 0.0), 15000);
	cr_assert(core_backoff(1000, 30000, 60, 0.999999) <= 30000);
}

Test(core, crash_loop_without_emergency_gives_up)
{
	struct core_conf cc = conf(false);
	int i;

	cc.limit_burst = 3;
	start(cc);
	for (i = 0; i < 2; i++) {
		exited(1 << 8, false);
		cr_assert_eq(c.state, ST_BACKOFF);
		advance(c.delay);
	}
	exited(1 << 8, false);
	cr_assert_eq(exit_code(), 69);
	cr_assert_eq(c.change.gave_up, GAVE_UP_CRASH_LOOP, "the exited line says why");
}

Test(core, failures_spread_over_limit_interval_are_no_crash_loop)
{
	struct core_conf cc = conf(false);
	int i;

	cc.limit_burst = 3;
	cc.limit_interval = 10000;
	cc.backoff = cc.backoff_max = 12000;	/* two delays > limit_interval */
	start(cc);
	for (i = 0; i < 6; i++) {
		exited(1 << 8, false);
		cr_assert_eq(c.state, ST_BACKOFF, "failure %d", i);
		advance(c.delay);
	}
}

/* Drive a deadlocked startup into emergency mode. */
static void
deadlock_until_emergency(struct core_conf cc)
{
	int i;

	for (i = 0; i < cc.limit_burst; i++) {
		cr_assert_eq(c.mode, MODE_NORMAL);
		advance(cc.startup_timeout);
		cr_assert_eq(c.state, ST_STOPPING);
		dies_of(SIGTERM);
		if (c.state == ST_BACKOFF)
			advance(c.delay);
	}
}

Test(core, crash_loop_goes_to_emergency_mode)
{
	struct core_conf cc = conf(true);

	cc.emergency = true;
	cc.limit_burst = 3;
	cc.startup_timeout = 2000;
	start(cc);
	deadlock_until_emergency(cc);
	cr_assert_eq(c.mode, MODE_EMERGENCY);
	cr_assert_eq(c.state, ST_EMERGENCY_STARTING);
	cr_assert_eq(seen[nseen - 2].type, ACT_SPAWN);
	cr_assert_eq(seen[nseen - 2].mode, MODE_EMERGENCY);
	advance(250);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	cr_assert(core_healthy(&c));
}

Test(core, emergency_crash_loop_gives_up)
{
	struct core_conf cc = conf(true);
	int i;

	cc.emergency = true;
	cc.limit_burst = 2;
	cc.startup_timeout = 2000;
	start(cc);
	deadlock_until_emergency(cc);
	cr_assert_eq(c.mode, MODE_EMERGENCY);
	for (i = 0; i < 2 && c.state != ST_EXITED; i++) {
		exited(1 << 8, false);
		if (c.state == ST_BACKOFF)
			advance(c.delay);
	}
	cr_assert_eq(exit_code(), 69);
	cr_assert_eq(c.change.gave_up, GAVE_UP_EMERGENCY_LOOP, "the exited line says why");
}

Test(core, emergency_recovers_to_normal_and_backs_off_the_next_try)
{
	struct core_conf cc = conf(true);

	cc.emergency = true;
	cc.limit_burst = 1;
	cc.startup_timeout = 2000;
	cc.recover_after = 60000;
	cc.health_interval = 100000;	/* keep probes out of the way */
	start(cc);
	deadlock_until_emergency(cc);
	advance(250);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	advance(60000);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_eq(c.cause, CAUSE_RECOVER);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_RECOVERING);
	cr_assert_eq(c.mode, MODE_NORMAL);
	/* Still broken: the trial fails its startup, back to emergency mode. */
	advance(2000);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_EMERGENCY_STARTING);
	cr_assert_eq(c.recover_wait, 120000, "the wait doubles");
	advance(250);
	probe(PROBE_OK);
	advance(119999);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	advance(1);
	cr_assert_eq(c.state, ST_STOPPING);
	dies_of(SIGTERM);
	/* Fixed now: the trial passes, normal mode again, the wait back to recover_after. */
	advance(250);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert_eq(c.mode, MODE_NORMAL);
	cr_assert_eq(c.recover_wait, 60000);
}

Test(core, hang_after_failure_threshold)
{
	struct core_conf cc = conf(true);
	int i;

	start_running(cc);
	for (i = 0; i < 2; i++) {
		advance(5000);
		probe(PROBE_TIMEOUT);
		cr_assert_eq(c.state, ST_UNHEALTHY);
	}
	advance(5000);
	probe(PROBE_TIMEOUT);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_eq(c.cause, CAUSE_HANG);
	cr_assert_eq(c.change.failing_for, 10000);
	cr_assert_not_null(find_kill(SIGTERM));
}

Test(core, hang_signal_comes_first)
{
	struct core_conf cc = conf(true);
	const struct core_action *k;
	int i;

	cc.hang_signal = SIGABRT;
	cc.failure_threshold = 1;
	start_running(cc);
	clear_log();
	advance(5000);
	probe(PROBE_BAD_STATUS);
	k = find_kill(SIGABRT);
	cr_assert_not_null(k);
	cr_assert_not(k->group);
	cr_assert_null(find_kill(SIGTERM));
	advance(1999);
	cr_assert_null(find_kill(SIGTERM));
	advance(1);
	cr_assert_not_null(find_kill(SIGTERM));
	for (i = 0; i < nseen; i++)
		if (seen[i].type == ACT_KILL)
			break;
	cr_assert_eq(seen[i].signo, SIGABRT, "ABRT before TERM");
}

Test(core, unhealthy_recovers_after_success_threshold)
{
	struct core_conf cc = conf(true);

	cc.success_threshold = 2;
	start_running(cc);
	advance(5000);
	probe(PROBE_RESET);
	cr_assert_eq(c.state, ST_UNHEALTHY);
	advance(5000);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_UNHEALTHY);
	advance(5000);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_RUNNING);
}

Test(core, counts_reset_only_after_healthy_for_reset_after)
{
	struct core_conf cc = conf(true);

	cc.health_interval = 1000000;
	start_running(cc);
	exited(1 << 8, false);
	advance(c.delay);
	advance(250);
	probe(PROBE_OK);
	exited(1 << 8, false);
	cr_assert_eq(c.streak, 2, "healthy only briefly: no reset");
	advance(c.delay);
	advance(250);
	probe(PROBE_OK);
	advance(60000);
	cr_assert_eq(c.streak, 0, "healthy for reset_after: reset");
	exited(1 << 8, false);
	cr_assert(c.delay <= 1000);
}

Test(core, local_probe_errors_are_no_verdict)
{
	struct core_conf cc = conf(true);
	int i;

	cc.failure_threshold = 1;
	start_running(cc);
	for (i = 0; i < 5; i++) {
		advance(5000);
		probe(PROBE_ERROR);
		cr_assert_eq(c.state, ST_RUNNING, "EMFILE in tend is not a hang of the child");
	}
	advance(5000);
	probe(PROBE_TIMEOUT);
	cr_assert_eq(c.state, ST_STOPPING);
}

Test(core, zero_backoff_still_says_why)
{
	struct core_conf cc = conf(false);
	int i, backoffs = 0;

	cc.backoff = 0;
	start(cc);
	clear_log();
	exited(3 << 8, false);
	for (i = 0; i < nseen; i++)
		if (seen[i].type == ACT_STATE && seen[i].change.to == ST_BACKOFF) {
			backoffs++;
			cr_assert_eq(seen[i].change.cause, CAUSE_EXIT);
			cr_assert_eq(seen[i].change.cause_arg, 3);
		}
	cr_assert_eq(backoffs, 1);
	cr_assert_eq(count(ACT_SPAWN), 1, "exactly one child per restart");
	cr_assert_eq(c.state, ST_RUNNING, "respawned at once");
}

Test(core, spawn_failure_with_policy_never_is_no_success)
{
	struct core_conf cc = conf(false);

	cc.policy = POLICY_NEVER;
	start(cc);
	exited(0, false);
	start(cc);
	clear_log();
	/* A fresh core whose first fork fails. */
	core_init(&c, &cc, 1);
	core_start(&c, now, &acts);
	feed(CE_SPAWN_FAILED, 0);
	cr_assert_eq(exit_code(), 255);
}

Test(core, stale_probe_results_are_ignored)
{
	struct core_conf cc = conf(true);
	struct core_event ev;

	start(cc);
	advance(250);
	memset(&ev, 0, sizeof ev);
	ev.type = CE_PROBE;
	ev.seq = c.seq + 7;
	ev.result = PROBE_OK;
	feed_ev(&ev);
	cr_assert_eq(c.state, ST_STARTING);
}

Test(core, main_exit_stops_the_rest_of_the_group)
{
	struct core_conf cc = conf(false);
	const struct core_action *k;

	cc.policy = POLICY_NEVER;
	start(cc);
	exited(5 << 8, true);
	cr_assert_eq(c.state, ST_STOPPING);
	k = find_kill(SIGTERM);
	cr_assert_not_null(k);
	cr_assert(k->group);
	cr_assert(k->stop, "strays (setsid'd workers) get the stop signal too");
	cr_assert_eq(exit_code(), -1, "not before the group is gone");
	advance(10000);
	cr_assert_not_null(find_kill(SIGKILL));
	cr_assert(find_kill(SIGKILL)->stop);
	feed(CE_GROUP_GONE, 0);
	cr_assert_eq(exit_code(), 5);
}

Test(core, operator_restart_and_emergency)
{
	struct core_conf cc = conf(false);

	cc.emergency = true;
	start(cc);
	feed(CE_OP_RESTART, 0);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_eq(c.cause, CAUSE_OPERATOR);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert_eq(c.spawns, 2);
	cr_assert_eq(c.nwindow[MODE_NORMAL], 0, "an operator restart is no failure");

	feed(CE_OP_EMERGENCY, 1);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	cr_assert_eq(c.recover_at, -1, "forced: no automatic recovery");
	feed(CE_OP_EMERGENCY, 0);
	dies_of(SIGTERM);
	cr_assert_eq(c.mode, MODE_NORMAL);
	cr_assert_eq(c.state, ST_RUNNING);
}

Test(core, operator_emergency_off_ends_automatic_emergency_mode)
{
	struct core_conf cc = conf(true);

	cc.emergency = true;
	cc.limit_burst = 1;
	cc.startup_timeout = 2000;
	start(cc);
	deadlock_until_emergency(cc);
	advance(250);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	feed(CE_OP_EMERGENCY, 0);
	cr_assert_eq(c.state, ST_STOPPING);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_RECOVERING, "a trial of normal mode");
}

Test(core, reload_loop_actions)
{
	struct core_conf cc = conf(false);

	cc.emergency = true;
	start(cc);
	feed(CE_RELOAD_LOOP, 0);
	cr_assert_eq(c.cause, CAUSE_RELOAD_LOOP);
	dies_of(SIGTERM);
	cr_assert_eq(c.mode, MODE_EMERGENCY);

	cc.loop_action = LOOP_STOP;
	start(cc);
	feed(CE_RELOAD_LOOP, 0);
	dies_of(SIGTERM);
	cr_assert_eq(exit_code(), 69);
	cr_assert_eq(c.change.gave_up, GAVE_UP_RELOAD_LOOP, "the exited line says why");

	cc.loop_action = LOOP_RESTART;
	start(cc);
	feed(CE_RELOAD_LOOP, 0);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_BACKOFF);
	cr_assert_eq(c.mode, MODE_NORMAL);
}

Test(core, spawn_failure_is_retried)
{
	start(conf(false));
	exited(1 << 8, false);
	advance(c.delay);
	feed(CE_SPAWN_FAILED, 0);
	cr_assert_eq(c.state, ST_BACKOFF);
}

Test(core, names)
{
	cr_assert_str_eq(core_state_name(ST_EMERGENCY_RUNNING), "emergency-running");
	cr_assert_str_eq(core_cause_name(CAUSE_STARTUP_TIMEOUT), "startup-timeout");
	cr_assert_str_eq(core_cause_name(CAUSE_RELOAD_LOOP), "reload-loop");
}

static struct core_conf
deps_conf(bool each)
{
	struct core_conf cc = conf(false);

	cc.wait_deps = true;
	cc.wait_each_start = each;
	return cc;
}

Test(core, waiting_then_deps_ready_spawns)
{
	start(deps_conf(false));
	cr_assert_eq(c.state, ST_WAITING);
	cr_assert_eq(count(ACT_WAIT_DEPS), 1);
	cr_assert_eq(count(ACT_SPAWN), 0, "no spawn before the targets answer");
	cr_assert_eq(core_next_deadline(&c), -1, "wait_timeout is the waiter's, not the core's");
	feed(CE_DEPS_READY, 0);
	cr_assert_eq(count(ACT_SPAWN), 1);
	cr_assert_eq(c.state, ST_RUNNING);
}

Test(core, deps_failed_exits_69)
{
	start(deps_conf(false));
	feed(CE_DEPS_FAILED, 0);
	cr_assert_eq(c.state, ST_EXITED);
	cr_assert_eq(exit_code(), 69);
	cr_assert_eq(c.change.gave_up, GAVE_UP_DEPS, "the exited line says why");
	cr_assert_eq(count(ACT_SPAWN), 0);
}

Test(core, signal_while_waiting_exits_at_once)
{
	start(deps_conf(false));
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_eq(c.state, ST_EXITED);
	cr_assert_eq(exit_code(), 128 + SIGTERM);
	cr_assert_eq(count(ACT_SPAWN), 0);
}

Test(core, deps_waited_for_once_unless_wait_each_start)
{
	start(deps_conf(false));
	feed(CE_DEPS_READY, 0);
	exited(3 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	advance(c.delay);
	cr_assert_eq(count(ACT_WAIT_DEPS), 1, "not again on a restart");
	cr_assert_eq(count(ACT_SPAWN), 2);

	start(deps_conf(true));
	feed(CE_DEPS_READY, 0);
	exited(3 << 8, false);
	advance(c.delay);
	cr_assert_eq(c.state, ST_WAITING, "wait_each_start: waiting again");
	cr_assert_eq(count(ACT_WAIT_DEPS), 2);
	cr_assert_eq(count(ACT_SPAWN), 1);
	feed(CE_DEPS_READY, 0);
	cr_assert_eq(count(ACT_SPAWN), 2);
}

Test(core, operator_during_backoff_spawns_now)
{
	struct core_conf cc = conf(false);

	cc.emergency = true;
	cc.backoff = 10000;
	cc.backoff_max = 10000;
	start(cc);
	exited(3 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	feed(CE_OP_RESTART, 0);
	cr_assert_eq(count(ACT_SPAWN), 2, "restart during a backoff: spawn at once");
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert_eq(c.mode, MODE_NORMAL);

	exited(3 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	feed(CE_OP_EMERGENCY, 1);
	cr_assert_eq(count(ACT_SPAWN), 3);
	cr_assert_eq(seen[nseen - 2].type, ACT_SPAWN);
	cr_assert_eq(seen[nseen - 2].mode, MODE_EMERGENCY);
	cr_assert_eq(c.state, ST_EMERGENCY_RUNNING);
	cr_assert(c.forced);
}

Test(core, shutdown_during_a_stop_finishes_it_then_exits)
{
	struct core_conf cc = conf(true);

	start_running(cc);
	/* A hang: failure_threshold failed probes. */
	while (c.state != ST_STOPPING) {
		advance(cc.health_interval);
		probe(PROBE_TIMEOUT);
	}
	cr_assert_eq(c.cause, CAUSE_HANG);
	clear_log();
	feed(CE_SIGNAL, SIGTERM);
	cr_assert_eq(c.state, ST_STOPPING);
	cr_assert_eq(c.cause, CAUSE_SHUTDOWN, "the stop line says tend is shutting down");
	cr_assert_eq(count(ACT_STATE), 1);
	dies_of(SIGTERM);
	cr_assert_eq(c.state, ST_EXITED, "no restart after the shutdown");
	cr_assert_eq(exit_code(), 128 + SIGTERM);
	cr_assert_eq(count(ACT_SPAWN), 0);
}

Test(core, main_exit_mid_stop_stops_the_rest_of_the_group)
{
	const struct core_action *k;

	start(conf(false));
	feed(CE_SIGNAL, SIGTERM);
	k = find_kill(SIGTERM);
	cr_assert_not_null(k);
	cr_assert_not(k->group);
	clear_log();
	exited(0, true);	/* the main child is gone, a worker lives on */
	k = find_kill(SIGTERM);
	cr_assert_not_null(k, "the group is asked to stop too");
	cr_assert(k->group);
	cr_assert_eq(c.state, ST_STOPPING);
	feed(CE_GROUP_GONE, 0);
	cr_assert_eq(c.state, ST_EXITED);
	cr_assert_eq(exit_code(), 0);
}

/* --dev's Ctrl-Z: the group is stopped, and for the machine time stands still until the
 * resume (no tick arrives meanwhile: tend itself is stopped). */
Test(core, suspend_keeps_the_startup_deadline_for_after_the_resume)
{
	struct core_conf	cc = conf(true);
	const struct core_action *k;
	uint32_t		seq;

	cc.startup_timeout = 3000;
	start(cc);
	advance(1000);
	cr_assert(c.probing);
	seq = c.seq;
	clear_log();
	feed(CE_SUSPEND, 0);
	k = find_kill(SIGTSTP);
	cr_assert_not_null(k, "the child's group is stopped");
	cr_assert(k->group);
	cr_assert_not(k->stop, "strays are no part of a suspend");
	now += 60000;			/* a long pause, no tick */
	clear_log();
	feed(CE_RESUME, 0);
	k = find_kill(SIGCONT);
	cr_assert_not_null(k);
	cr_assert(k->group);
	cr_assert_eq(count(ACT_PROBE_CANCEL), 1, "the probe under way timed out meanwhile");
	cr_assert_eq(count(ACT_PROBE), 1, "... and is asked again at once");
	cr_assert_neq(c.seq, seq);
	cr_assert_eq(c.state, ST_STARTING, "the pause is no missed deadline");
	advance(1999);
	cr_assert_eq(c.state, ST_STARTING, "2 s of the deadline were left");
	advance(1);
	cr_assert_eq(c.cause, CAUSE_STARTUP_TIMEOUT);
}

Test(core, suspend_while_running_is_no_hang)
{
	struct core_conf	cc = conf(true);
	uint32_t		seq;

	start_running(cc);
	advance(cc.health_interval);
	cr_assert(c.probing);
	seq = c.seq;
	feed(CE_SUSPEND, 0);
	feed(CE_SUSPEND, 0);	/* twice: the first pause counts */
	now += 600000;
	feed(CE_RESUME, 0);
	cr_assert_eq(c.state, ST_RUNNING);
	cr_assert_eq(c.fails, 0);
	{
		/* The old probe's late answer is stale. */
		struct core_event ev;

		memset(&ev, 0, sizeof ev);
		ev.type = CE_PROBE;
		ev.seq = seq;
		ev.result = PROBE_TIMEOUT;
		feed_ev(&ev);
	}
	cr_assert_eq(c.fails, 0);
	probe(PROBE_OK);
	cr_assert_eq(c.state, ST_RUNNING);
	feed(CE_RESUME, 0);	/* a resume without a suspend changes nothing */
	cr_assert_eq(c.state, ST_RUNNING);
}

/* The other clocks stand still too: a backoff, and the healthy time reset_after counts. */
Test(core, suspend_holds_backoff_and_reset_after)
{
	struct core_conf	cc = conf(true);
	int64_t			left;

	start_running(cc);
	advance(cc.reset_after - 1000);		/* healthy for 59 s: no reset yet */
	feed(CE_SUSPEND, 0);
	now += 30000;
	feed(CE_RESUME, 0);
	cr_assert(c.reset_pending, "30 s stopped are no healthy time");
	advance(999);
	cr_assert(c.reset_pending);
	advance(cc.health_interval);
	cr_assert_not(c.reset_pending, "reset after 60 s of healthy time");

	start(conf(false));
	exited(3 << 8, false);
	cr_assert_eq(c.state, ST_BACKOFF);
	left = c.backoff_until - now;
	cr_assert_gt(left, 0);
	feed(CE_SUSPEND, 0);
	now += 600000;
	feed(CE_RESUME, 0);
	cr_assert_eq(c.state, ST_BACKOFF, "the backoff is not over by the pause");
	cr_assert_eq(c.backoff_until - now, left, "it goes on where it stood");
	advance(left);
	cr_assert_eq(c.state, ST_RUNNING);
}
