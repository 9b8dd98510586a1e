#!/bin/bash
# Restart policy and backoff with a real uvicorn app that serves, then exits
# (tests/apps/crash.py): under on-failure a non-zero exit is restarted with a growing
# backoff (doubled per failure from --restart-backoff, capped at --restart-backoff-max,
# jitter in [d/2, d]); a crash loop without [emergency] ends tend with 69; exit 0 under
# on-failure ends tend with 0; never passes the child's code through; always restarts an
# exit 0.
. "$(dirname "$0")/lib.sh"
need_uvicorn

# crash_start LABEL ARGS...: start crash.py under tend (EXIT_CODE, EXIT_AFTER from the
# caller's environment); false (reported) if tend did not start.
crash_start() {
	local label=$1
	shift
	free_port
	app_cmd crash
	if start_tend_ts plain --health-url "http://127.0.0.1:$PORT/health" \
	    --startup-timeout 5s --startup-interval 100ms --health-interval 300ms \
	    --stop-timeout 1s "$@" -- "${APP[@]}"; then
		return 0
	fi
	not_ok "$label: tend did not start"
	abort_tend
	return 1
}

# --- growing backoff: 200ms doubled per failure, at most 2s ------------------------------
if EXIT_CODE=3 EXIT_AFTER=0.5 crash_start "backoff" --restart-backoff 200ms \
    --restart-backoff-max 2s --restart-limit-burst 20 --restart-limit-interval 1m \
    --restart-reset-after 1m; then
	if wait_ts 40 5 '^tend: backoff '; then
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check "backoff: TERM to tend during the loop (exit $RC: 0 or 143)" \
		    eval '[ "$RC" = 0 ] || [ "$RC" = 143 ]'
		prev=0
		nominal=200
		delays=
		for n in 1 2 3 4 5; do
			ts_find "$n" '^tend: backoff ' || break
			line=$TS_LINE
			d=$(secs_ms "$(field delay "$line")")
			delays="$delays ${d}ms"
			check "backoff: failure $n has cause=exit:3 and attempt=$n ($line)" \
			    eval '[ "$(field cause "$line")" = exit:3 ] && [ "$(field attempt "$line")" = "$n" ]'
			[ "$nominal" -gt 2000 ] && nominal=2000
			check "backoff: delay $n is ${d} ms, within [$((nominal / 2)), $nominal] (+-10)" \
			    test "$d" -ge $((nominal / 2 - 10)) -a "$d" -le $((nominal + 10))
			if [ "$n" -le 4 ]; then	# below the cap, jitter cannot reorder them
				check "backoff: delay $n (${d} ms) >= delay $((n - 1)) (${prev} ms)" \
				    test "$d" -ge "$prev"
			fi
			prev=$d
			nominal=$((nominal * 2))
		done
		diag "backoff delays:$delays"
		# The next spawn really waited for the delay. (The time stamps are when the lines
		# reached the test: a stamper running late on a busy machine shortens the gap, so
		# the lower bound is half the delay, still far from no wait at all.)
		if ts_find 4 '^tend: backoff ' && tb=$TS_MS && d=$(secs_ms "$(field delay "$TS_LINE")") &&
		    ts_find 5 '^tend: starting '; then
			check "backoff: the 5th spawn came $((TS_MS - tb)) ms after the 4th failure (delay ${d} ms)" \
			    test $((TS_MS - tb)) -ge $((d / 2)) -a $((TS_MS - tb)) -lt $((d + 3000))
		else
			not_ok "backoff: no 5th starting line"
		fi
	else
		not_ok "backoff: fewer than 5 backoff lines within 40 s"
		show_tend
		abort_tend
	fi
	check_sanitizers "backoff"
fi

# --- crash loop without [emergency]: exit 69 ----------------------------------------------
if EXIT_CODE=3 EXIT_AFTER=0.3 crash_start "crash loop" --restart-backoff 200ms \
    --restart-limit-burst 3 --restart-limit-interval 1m; then
	wait_tend_ts
	check_rc "crash loop: limit_burst 3 within limit_interval 1m, no [emergency]: gave up" 69
	check "crash loop: 3 starts ($(ts_count '^tend: starting ')), 2 backoffs ($(ts_count '^tend: backoff '))" \
	    eval '[ "$(ts_count "^tend: starting ")" = 3 ] && [ "$(ts_count "^tend: backoff ")" = 2 ] &&
	        [ "$(grep -c "^crash: mode=normal" "$T/out")" = 3 ]'
	check "crash loop: no emergency mode" \
	    eval '[ "$(ts_count "^tend: (warn: |error: )?emergency")" = 0 ]'
	check "crash loop: an exited line with code=69 gave_up=crash-loop" \
	    eval 'ts_find 1 "^tend: (warn: |error: )?exited " && [ "$(field code "$TS_LINE")" = 69 ] &&
	        [ "$(field gave_up "$TS_LINE")" = crash-loop ]'
	check "crash loop: tend says which limit it reached" \
	    grep -q "giving up: .* failures within .*limit_burst" "$T/err"
	check_sanitizers "crash loop"
fi

# --- policies -----------------------------------------------------------------------------
if EXIT_CODE=0 EXIT_AFTER=0.5 crash_start "on-failure, exit 0" --restart-policy on-failure; then
	wait_tend_ts
	check_rc "on-failure: the child exits 0: tend exits 0" 0
	check "on-failure: exit 0 is not restarted ($(ts_count '^tend: starting ') starts)" \
	    eval '[ "$(ts_count "^tend: starting ")" = 1 ] && [ "$(ts_count "^tend: backoff ")" = 0 ]'
	check_sanitizers "on-failure, exit 0"
fi

if EXIT_CODE=7 EXIT_AFTER=0.5 crash_start "never, exit 7" --restart-policy never; then
	wait_tend_ts
	check_rc "never: the child exits 7: tend exits 7" 7
	check "never: not restarted ($(ts_count '^tend: starting ') starts)" \
	    test "$(ts_count '^tend: starting ')" = 1
	check_sanitizers "never, exit 7"
fi

if EXIT_CODE=0 EXIT_AFTER=0.5 crash_start "always, exit 0" --restart-policy always \
    --restart-backoff 200ms; then
	if wait_ts 20 2 '^tend: running '; then
		run2=$TS_LINE
		check "always: exit 0 restarted (cause=exit:0, then running attempt=$(field attempt "$run2"))" \
		    eval 'ts_find 1 "^tend: backoff " && [ "$(field cause "$TS_LINE")" = exit:0 ] &&
		        [ "$(field attempt "$run2")" = 2 ]'
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check "always: TERM to tend ends it (exit $RC: 0 or 143)" \
		    eval '[ "$RC" = 0 ] || [ "$RC" = 143 ]'
	else
		not_ok "always: exit 0 was not restarted"
		show_tend
		abort_tend
	fi
	check_sanitizers "always, exit 0"
fi

finish
