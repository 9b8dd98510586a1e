#!/bin/bash
# Reload-loop detection with a real uvicorn --reload (issue 5). Under --reload allow, the
# app file in the watched directory is replaced every 300 ms; the port stays open, so
# only uvicorn's output shows the loop. tend counts the events ([reload_loop] defaults:
# count 3 within 60s; the reloader's start is one, each "Reloading" one more) and acts:
# stop (exit 69), restart (without the reload options), or emergency mode. Each time the
# reloader and every server process it started are gone afterwards (the whole group).
. "$(dirname "$0")/lib.sh"
need_uvicorn

# rewrite_start: replace the watched app file every 300 ms (a new copy renamed over it,
# so the server never imports half a file), in the background, until rewrite_stop or
# 100 times (30 s).
RW=
rewrite_start() {
	rm -f "$T/rw-stop"
	(
		for ((i = 0; i < 100; i++)); do
			sleep 0.3
			[ -e "$T/rw-stop" ] && exit 0
			{ cat "$TEST_SRCDIR/apps/reload_app.py"; echo "# rewrite $i"; } >"$T/w/new.tmp"
			mv -f "$T/w/new.tmp" "$T/w/reload_app.py"
		done
	) &
	RW=$!
}
rewrite_stop() {
	[ -n "$RW" ] || return 0
	touch "$T/rw-stop"
	wait "$RW"
	RW=
}

# uv_pids [REGEX]: the PIDs uvicorn announced (reloader and servers) in $T/err, in the
# lines before the first one matching REGEX (all lines without REGEX).
uv_pids() {
	awk -v re="${1:-}" '
		re != "" && $0 ~ re { exit }
		match($0, /Started (reloader|server) process \[[0-9]+\]/) {
			s = substr($0, RSTART, RLENGTH)
			gsub(/[^0-9]/, "", s)
			print s
		}' "$T/err" | sort -u
}

# none_alive PID...: none of them is alive.
none_alive() {
	local p
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}

# reloads_before REGEX: how many "Reloading" lines of $T/err come before the first line
# matching REGEX.
reloads_before() {
	awk -v re="$1" '$0 ~ re { print n + 0; exit } /Reloading/ { n++ }' "$T/err"
}

# group_left PGID: the live processes of the run (MARK_ENV) still in process group PGID
# (the first child's pid: its reloader and every server process it started).
group_left() {
	local p stat
	for p in $(env_pids "$MARK_ENV"); do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }	# state ppid pgrp ...
		[ "$(echo "$stat" | awk '{ print $3 }')" = "$1" ] && echo "$p"
	done
}

# cmdline PID: its argv, space separated (nothing if PID is gone or empty).
cmdline() {
	[ -n "$1" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# loop_start LABEL ARGS...: uvicorn --reload under tend --reload allow ARGS, every process
# of the run marked with MARK_ENV in its environment; once the app started, the rewriting
# starts. False (reported) if that fails.
loop_start() {
	local label=$1
	shift
	free_port
	if ! reload_app_cmd; then
		not_ok "$label: cannot copy the app"
		return 1
	fi
	MARK_ENV="RELOAD_RUN=$T/$label"
	if ! start_tend_ts plain --reload allow --environment "$MARK_ENV" --stop-timeout 5s \
	    --health-url "http://127.0.0.1:$PORT/" --startup-interval 100ms \
	    --health-interval 500ms "$@" -- "${RAPP[@]}"; then
		not_ok "$label: tend did not start"
		abort_tend
		return 1
	fi
	if ! wait_ts 20 1 '^tend: running '; then
		not_ok "$label: uvicorn --reload was not running within 20 s"
		show_tend
		abort_tend
		return 1
	fi
	RC=running	# for show_tend while tend runs
	mark
	rewrite_start
	return 0
}

# loop_detected LABEL: the warning came after 2 reloads (the reloader's start makes the
# third event) and the child was stopped with cause=reload-loop.
loop_detected() {
	local n
	n=$(reloads_before '^tend: warn: reload loop')
	check "$1: 'reload loop' warning after ${n:-no} 'Reloading' lines (expected 2)" \
	    test "${n:-x}" = 2
	check "$1: the child was stopped with cause=reload-loop" \
	    ts_find 1 '^tend: warn: stopping .*cause=reload-loop'
	ts_find 1 '^tend: warn: reload loop' && diag "$1: detected $((TS_MS - MARK)) ms after the rewriting began"
}

# --- action stop: tend exits 69, nothing of the run is left -------------------------------
if loop_start stop --reload-loop-action stop; then
	wait_tend_ts
	rewrite_stop
	left=$(env_pids "$MARK_ENV")
	check_rc "stop: a reload loop with action stop ends tend" 69
	loop_detected stop
	check "stop: the exited line has code=69 gave_up=reload-loop" \
	    eval 'ts_find 1 "^tend: (warn: |error: )?exited " && [ "$(field code "$TS_LINE")" = 69 ] &&
	        [ "$(field gave_up "$TS_LINE")" = reload-loop ]'
	pids=$(uv_pids)
	check "stop: uvicorn announced a reloader and a server at least ($(echo $pids))" \
	    test "$(echo "$pids" | grep -c .)" -ge 2
	# shellcheck disable=SC2086
	check "stop: none of the reloader and server processes is alive" none_alive $pids
	check "stop: no process of the run is left when tend exits (${left:-none})" test -z "$left"
	check_sanitizers "stop"
fi

# --- action restart: the group is stopped, then the command runs again, without reload ----
if loop_start restart --reload-loop-action restart --restart-backoff 200ms; then
	# The rewriting stops with the first loop (a restarted reloader would loop again).
	if wait_ts 30 1 '^tend: warn: stopping .*cause=reload-loop' && rewrite_stop &&
	    wait_ts 20 2 '^tend: running '; then
		run2=$TS_LINE
		pid2=$(field pid "$run2")
		loop_detected restart
		check "restart: running again, attempt=2 ($run2)" test "$(field attempt "$run2")" = 2
		old=$(uv_pids '^tend: starting from=backoff')
		ts_find 1 '^tend: starting ' && pid1=$(field pid "$TS_LINE")
		left=$(group_left "$pid1")
		# shellcheck disable=SC2086
		check "restart: the first run's group $pid1 is gone (${left:-none left}; announced: $(echo $old))" \
		    eval '[ -n "$pid1" ] && [ -z "$left" ] && none_alive $old && [ "$(echo "$old" | grep -c .)" -ge 2 ]'
		now2=$(group_left "$pid2")
		# shellcheck disable=SC2086
		check "restart: the same lookup finds the new child's group $pid2 ($(echo $now2))" \
		    eval '[ -n "$now2" ] && [[ " $(echo $now2) " == *" $pid2 "* ]]'
		argv2=$(cmdline "$pid2")
		check "restart: the new child runs without the reload options ($argv2)" \
		    eval '[ -n "$argv2" ] && [[ $argv2 != *--reload* ]]'
		# No new loop while nothing changes (and no reloader in the new child).
		sleep 2
		check "restart: no second reload loop in 2 s without file changes" \
		    test "$(ts_count '^tend: warn: reload loop')" = 1
		diag "restart: 'Started reloader process' lines: $(ts_count 'Started reloader process') (1 = the restarted child has none)"
		kill -TERM "$TEND_PID"
		wait_tend_ts
		left=$(env_pids "$MARK_ENV")
		check "restart: TERM ends tend (exit $RC: 0 or 143)" eval '[ "$RC" = 0 ] || [ "$RC" = 143 ]'
		check "restart: no process of the run is left (${left:-none})" test -z "$left"
	else
		rewrite_stop
		not_ok "restart: no reload-loop restart within 50 s"
		show_tend
		abort_tend
	fi
	check_sanitizers "restart"
fi

# --- action emergency: the child is stopped and started in emergency mode -----------------
if loop_start emergency --reload-loop-action emergency \
    --emergency-environment EMERGENCY_MODE=1; then
	# The rewriting stops with the first loop (a restarted reloader would loop again).
	if wait_ts 30 1 '^tend: warn: stopping .*cause=reload-loop' && rewrite_stop &&
	    wait_ts 20 1 '^tend: emergency-running '; then
		erun=$TS_LINE
		loop_detected emergency
		check "emergency: emergency-starting came first, mode=emergency ($erun)" \
		    eval 'ts_find 1 "^tend: (warn: )?emergency-starting " &&
		        [ "$(field mode "$erun")" = emergency ]'
		old=$(uv_pids '^tend: (warn: )?emergency-starting ')
		ts_find 1 '^tend: starting ' && pid1=$(field pid "$TS_LINE")
		left=$(group_left "$pid1")
		# shellcheck disable=SC2086
		check "emergency: the normal run's group $pid1 is gone (${left:-none left}; announced: $(echo $old))" \
		    eval '[ -n "$pid1" ] && [ -z "$left" ] && none_alive $old && [ "$(echo "$old" | grep -c .)" -ge 2 ]'
		check "emergency: the app runs with EMERGENCY_MODE=1" \
		    poll 10 grep -q '^reload_app: mode=emergency' "$T/out"
		diag "emergency child: $(cmdline "$(field pid "$erun")")"
		kill -TERM "$TEND_PID"
		wait_tend_ts
		left=$(env_pids "$MARK_ENV")
		check "emergency: TERM ends tend (exit $RC: 0 or 143)" \
		    eval '[ "$RC" = 0 ] || [ "$RC" = 143 ]'
		check "emergency: no process of the run is left (${left:-none})" test -z "$left"
	else
		rewrite_stop
		not_ok "emergency: no emergency mode within 50 s of a reload loop"
		show_tend
		abort_tend
	fi
	check_sanitizers "emergency"
fi

finish
