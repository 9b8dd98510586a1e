#!/bin/bash
# Startup deadline with real uvicorn apps (tests/apps): a slow startup that fits the
# deadline is not restarted; a lifespan startup that deadlocks is stopped with cause
# startup-timeout after the deadline (SIGKILL, since it ignores TERM while stuck), and
# after limit_burst such failures tend runs the app in emergency mode, where it serves
# /health-emergency: tend reports emergency-running.
. "$(dirname "$0")/lib.sh"
need_uvicorn

# --- a slow startup (2 s) within an 8 s deadline -----------------------------------------
free_port
app_cmd slow_start
if STARTUP_DELAY=2 start_tend_ts plain --health-url "http://127.0.0.1:$PORT/health" \
    --startup-timeout 8s --startup-interval 250ms --health-interval 500ms \
    --stop-timeout 2s -- "${APP[@]}"; then
	if wait_ts 20 1 '^tend: running '; then
		line=$TS_LINE
		ok "slow start: running ($line)"
		since=$(secs_ms "$(field since_spawn "$line")")
		check "slow start: running after the 2 s startup delay (since_spawn=${since} ms)" \
		    test "$since" -ge 1900 -a "$since" -lt 8000
		check "slow start: first attempt, normal mode" \
		    eval '[ "$(field attempt "$line")" = 1 ] && [ "$(field mode "$line")" = normal ]'
		sleep 1.5	# a few health probes while running
		check "slow start: no stop, no restart (one starting line, no stopping)" \
		    eval '[ "$(ts_count "^tend: (warn: )?stopping ")" = 0 ] &&
		        [ "$(ts_count "^tend: starting ")" = 1 ]'
		check "slow start: the app started once ($(grep -c '^slow_start: ' "$T/out") start lines)" \
		    test "$(grep -c '^slow_start: mode=normal' "$T/out")" = 1
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check_rc "slow start: TERM to tend, uvicorn exits 0" 0
	else
		not_ok "slow start: never running within 20 s"
		show_tend
		abort_tend
	fi
	check_sanitizers "slow start"
else
	not_ok "slow start: tend did not start"
	abort_tend
fi

# --- a deadlocked startup: startup-timeout, limit_burst 2, then emergency mode -----------
# (a 3 s deadline, also for the emergency start: uvicorn may need 2 s to start on a busy CI)
free_port
app_cmd deadlock
DEADLINE=3000
BURST=2
if start_tend_ts plain --health-url "http://127.0.0.1:$PORT/health" \
    --startup-timeout 3s --startup-interval 250ms --health-interval 500ms \
    --stop-timeout 1s --restart-backoff 200ms --restart-backoff-max 500ms \
    --restart-limit-burst $BURST --restart-limit-interval 1m \
    --emergency-environment EMERGENCY_MODE=1 \
    --emergency-health-url "http://127.0.0.1:$PORT/health-emergency" \
    --emergency-recover-after 10m -- "${APP[@]}"; then
	if wait_ts 40 1 '^tend: emergency-running '; then
		t_emerg=$TS_MS
		erun=$TS_LINE
		diag "deadlocked start -> emergency-running: $((t_emerg - TS0)) ms after tend started" \
		    "(startup timeout 3s x $BURST attempts, stop_timeout 1s, backoff 200ms)"
		ok "deadlock: emergency-running ($erun)"
		check "deadlock: emergency-running is mode=emergency" \
		    test "$(field mode "$erun")" = emergency

		# Each normal attempt ends with startup-timeout, no earlier than the deadline.
		for ((n = 1; n <= BURST; n++)); do
			if ! ts_find "$n" '^tend: starting .*mode=normal'; then
				not_ok "deadlock: no starting line for attempt $n"
				continue
			fi
			t_start=$TS_MS
			if ! ts_find "$n" '^tend: (warn: )?stopping '; then
				not_ok "deadlock: no stopping line for attempt $n"
				show_tend
				continue
			fi
			t_stop=$TS_MS
			stop=$TS_LINE
			took=$((t_stop - t_start))
			check "deadlock: attempt $n stopped with cause=startup-timeout ($stop)" \
			    eval '[ "$(field cause "$stop")" = startup-timeout ] &&
			        [ "$(field from "$stop")" = starting ] &&
			        [ "$(field attempt "$stop")" = "$n" ]'
			# (arrival times: a late stamp of the starting line shortens it; the exact
			# lower bound is tend's since_spawn, checked next)
			check "deadlock: attempt $n: spawn to stopping took $took ms (deadline $DEADLINE, < $((DEADLINE + 5000)))" \
			    test "$took" -ge $((DEADLINE - 1000)) -a "$took" -lt $((DEADLINE + 5000))
			since=$(secs_ms "$(field since_spawn "$stop")")
			check "deadlock: attempt $n: tend's since_spawn=${since} ms >= the deadline" \
			    test "$since" -ge "$DEADLINE" -a "$since" -lt $((DEADLINE + 5000))
		done

		# The stuck startup ignores TERM: the stop took stop_timeout (SIGKILL).
		if ts_find 1 '^tend: (warn: )?stopping ' && s1=$TS_LINE &&
		    ts_find 1 '^tend: backoff ' && b1=$TS_LINE; then
			d=$(($(secs_ms "$(field since_spawn "$b1")") - $(secs_ms "$(field since_spawn "$s1")")))
			check "deadlock: TERM ignored while stuck, SIGKILL after stop_timeout 1s (stop took $d ms)" \
			    test "$d" -ge 900 -a "$d" -lt 6000
		else
			not_ok "deadlock: no stopping/backoff pair for attempt 1"
		fi
		check "deadlock: $BURST normal attempts, then emergency (attempt=$(field attempt "$erun"))" \
		    eval '[ "$(ts_count "^tend: starting .*mode=normal")" = "$BURST" ] &&
		        [ "$(ts_count "^tend: emergency-starting .*mode=emergency")" = 1 ]'
		check "deadlock: the emergency child saw EMERGENCY_MODE=1" \
		    grep -q '^deadlock: mode=emergency' "$T/out"
		ans=$(http_get /health-emergency)
		check "deadlock: the emergency child serves /health-emergency ($(echo "$ans" | head -1 | tr -d '\r'))" \
		    eval '[[ $ans == "HTTP/1.1 200"* ]] && [[ $ans == *"ok mode=emergency"* ]]'
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check_rc "deadlock: TERM to tend in emergency mode, uvicorn exits 0" 0
	else
		not_ok "deadlock: no emergency-running within 40 s"
		show_tend
		abort_tend
	fi
	check_sanitizers "deadlock"
else
	not_ok "deadlock: tend did not start"
	abort_tend
fi

finish
