/*
 * One log line per state change of the core: the new state, where it came from, the
 * cause, the attempt, the time since the spawn, the last probe result, and for hangs how
 * long the endpoint had been failing. The wording is a contract for log readers (and the
 * e2e tests): keep the keys.
 */
#include "autoconf.h"

#include <stdio.h>

#include "changelog.h"
#include "log.h"
#include "parse.h"

static void
fmt_ms(char *buf, size_t len, int64_t ms)
{
	snprintf(buf, len, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
}

void
changelog_log(const struct core_change *ch)
{
	const char	*kv[24];
	char		 cause[48], pid[24], attempt[16], uptime[32], failing[32], delay[32];
	size_t		 n = 0;
	enum log_level	 level = LOG_INFO;

	kv[n++] = "from";
	kv[n++] = core_state_name(ch->from);
	if (ch->pid != 0) {
		snprintf(pid, sizeof pid, "%ld", (long)ch->pid);
		kv[n++] = "pid";
		kv[n++] = pid;
	}
	kv[n++] = "mode";
	kv[n++] = ch->mode == MODE_EMERGENCY ? "emergency" : "normal";
	/* The cause on the lines a failure or a planned stop leads to. Without a health
	 * url a new child goes straight from (emergency-)starting or recovering to running
	 * with no line of its own: that line carries the cause of the switch then. */
	if (ch->cause != CAUSE_NONE && (ch->to == ST_STOPPING || ch->to == ST_BACKOFF ||
	    ch->to == ST_EXITED || ch->to == ST_EMERGENCY_STARTING ||
	    ch->to == ST_RECOVERING || (!ch->probed && ch->since_spawn == 0 &&
	    (ch->from == ST_EMERGENCY_STARTING || ch->from == ST_RECOVERING)))) {
		if (ch->cause == CAUSE_EXIT)
			snprintf(cause, sizeof cause, "exit:%d", ch->cause_arg);
		else if (ch->cause == CAUSE_SIGNAL || ch->cause == CAUSE_SHUTDOWN)
			snprintf(cause, sizeof cause, "%s:%s", core_cause_name(ch->cause),
			    signal_name(ch->cause_arg));
		else
			snprintf(cause, sizeof cause, "%s", core_cause_name(ch->cause));
		kv[n++] = "cause";
		kv[n++] = cause;
		if (ch->cause != CAUSE_SHUTDOWN && ch->cause != CAUSE_OPERATOR &&
		    ch->cause != CAUSE_RECOVER && ch->to == ST_STOPPING)
			level = LOG_WARN;
	}
	snprintf(attempt, sizeof attempt, "%d", ch->attempt);
	kv[n++] = "attempt";
	kv[n++] = attempt;
	if (ch->since_spawn >= 0) {
		fmt_ms(uptime, sizeof uptime, ch->since_spawn);
		kv[n++] = "since_spawn";
		kv[n++] = uptime;
	}
	if (ch->probed) {
		kv[n++] = "probe";
		kv[n++] = probe_result_name(ch->last_probe);
	}
	if (ch->failing_for >= 0) {
		fmt_ms(failing, sizeof failing, ch->failing_for);
		kv[n++] = "failing_for";
		kv[n++] = failing;
	}
	if (ch->to == ST_BACKOFF) {
		fmt_ms(delay, sizeof delay, ch->delay);
		kv[n++] = "delay";
		kv[n++] = delay;
	}
	if (ch->to == ST_EXITED) {
		snprintf(delay, sizeof delay, "%d", ch->code);
		kv[n++] = "code";
		kv[n++] = delay;
	}
	if (ch->to == ST_EXITED && ch->gave_up != GAVE_UP_NONE) {
		static const char *const reasons[] = { "", "crash-loop", "emergency-loop",
		    "reload-loop", "wait-for" };

		kv[n++] = "gave_up";
		kv[n++] = (unsigned)ch->gave_up < sizeof reasons / sizeof reasons[0] ?
		    reasons[ch->gave_up] : "?";
		level = LOG_ERROR;
	}
	log_eventv(level, core_state_name(ch->to), kv, n);
}
