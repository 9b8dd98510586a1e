#!/bin/bash
# Health watchdog with a real uvicorn app that serves, then wedges its event loop
# (tests/apps/hang.py, which also ignores SIGTERM): tend sees failure_threshold failed
# probes in a row, stops the child with cause hang (TERM is ignored: SIGKILL after
# stop_timeout) and starts it again. With --health-hang-signal ABRT, tend puts
# PYTHONFAULTHANDLER=1 into the child's environment and the Python traceback of the
# wedged loop reaches tend's stderr.
. "$(dirname "$0")/lib.sh"
need_uvicorn
unset PYTHONFAULTHANDLER	# tend must set it for the hang signal

INTERVAL=500
TIMEOUT=500
THRESHOLD=3
BOUND=$((INTERVAL * THRESHOLD + TIMEOUT))	# the issue's bound, before the margin
MARGIN=4000

# failed_runs: print "ROW AFTER": the failed probes tend logged in a row (since the last
# passing one) before its first stopping line, and how many of them came after the app's
# "blocking the event loop" line. By the order of the lines, not their time stamps (two
# lines can share a millisecond); in a row, as tend counts them (on a busy machine a
# probe may time out before the wedge and count towards the threshold).
failed_runs() {
	local l row=0 after=0 wedged=0
	while IFS= read -r l; do
		l=${l#* }
		case $l in
		"blocking the event loop"*) wedged=1 ;;
		"tend: probe ok "*) row=0 after=0 ;;
		"tend: stopping "* | "tend: warn: stopping "*) break ;;
		esac
		if [[ $l =~ ^tend:\ probe\ (timeout|reset|refused|protocol-error) ]]; then
			row=$((row + 1))
			after=$((after + wedged))
		fi
	done <"$T/ts"
	echo "$row $after"
}

# hang_run LABEL TRIGGER ARGS...: start hang.py under tend with ARGS; TRIGGER is "after"
# (HANG_AFTER=2) or "request" (GET /hang once running). Then wait for the hang to be
# detected and the restarted child to run. Sets T_BLOCK, T_STOP, STOP, false on failure.
hang_run() {
	local label=$1 trigger=$2 hang_after=0
	shift 2
	free_port
	app_cmd hang
	[ "$trigger" = after ] && hang_after=2
	if ! HANG_AFTER=$hang_after start_tend_ts plain --log-level debug \
	    --health-url "http://127.0.0.1:$PORT/health" \
	    --startup-timeout 5s --startup-interval 250ms \
	    --health-interval ${INTERVAL}ms --health-timeout ${TIMEOUT}ms \
	    --health-failure-threshold $THRESHOLD \
	    --stop-timeout 1s --restart-backoff 200ms "$@" -- "${APP[@]}"; then
		not_ok "$label: tend did not start"
		abort_tend
		return 1
	fi
	if ! wait_ts 20 1 '^tend: running '; then
		not_ok "$label: the app never ran"
		show_tend
		abort_tend
		return 1
	fi
	if [ "$trigger" = request ]; then
		ans=$(http_get /hang)
		check "$label: GET /hang answered ($(echo "$ans" | head -1 | tr -d '\r'))" \
		    eval '[[ $ans == "HTTP/1.1 200"* ]]'
	fi
	if ! wait_ts 20 1 '^blocking the event loop'; then
		not_ok "$label: the app never wedged"
		show_tend
		abort_tend
		return 1
	fi
	T_BLOCK=$TS_MS
	if ! wait_ts 30 1 '^tend: (warn: )?stopping '; then
		not_ok "$label: no stopping line within 30 s of the wedge"
		show_tend
		abort_tend
		return 1
	fi
	T_STOP=$TS_MS
	STOP=$TS_LINE
	local took=$((T_STOP - T_BLOCK))
	diag "$label: hang detected $took ms after the event loop wedged (interval ${INTERVAL}ms," \
	    "timeout ${TIMEOUT}ms, failure_threshold $THRESHOLD: bound $BOUND ms + margin)"
	check "$label: stopped with cause=hang from unhealthy ($STOP)" \
	    eval '[ "$(field cause "$STOP")" = hang ] && [ "$(field from "$STOP")" = unhealthy ] &&
	        [ "$(field attempt "$STOP")" = 1 ]'
	check "$label: the hang line says how long the endpoint failed (failing_for=$(field failing_for "$STOP"))" \
	    eval 'field failing_for "$STOP" >/dev/null'
	check "$label: detected within $took ms of the wedge (< $BOUND + $MARGIN)" \
	    test "$took" -lt $((BOUND + MARGIN))
	local row after
	read -r row after < <(failed_runs)
	check "$label: $row failed probes in a row before the stop (>= $THRESHOLD), $after of them after the wedge" \
	    test "$row" -ge "$THRESHOLD" -a "$after" -ge 1
	if ! wait_ts 30 2 '^tend: running '; then
		not_ok "$label: the child was not restarted (no second running line)"
		show_tend
		abort_tend
		return 1
	fi
	local run2=$TS_LINE
	check "$label: restarted: a second starting line, then running attempt=2 ($run2)" \
	    eval '[ "$(ts_count "^tend: starting ")" = 2 ] && [ "$(field attempt "$run2")" = 2 ] &&
	        [ "$(grep -c "^hang: mode=normal" "$T/out")" = 2 ]'
	return 0
}

# --- no hang signal: TERM is ignored, SIGKILL after stop_timeout ---------------------------
if hang_run "hang" after; then
	pid1=$(field pid "$STOP")
	if ts_find 1 '^tend: backoff '; then
		b1=$TS_LINE
		d=$(($(secs_ms "$(field since_spawn "$b1")") - $(secs_ms "$(field since_spawn "$STOP")")))
		check "hang: the wedged child ignored TERM and was killed after stop_timeout 1s (stop took $d ms)" \
		    test "$d" -ge 900 -a "$d" -lt 6000
	else
		not_ok "hang: no backoff line after the stop"
	fi
	check "hang: TERM then KILL were sent during the stop" \
	    eval 'ts_find 1 "^tend: signal TERM to .*$pid1" && ts_find 1 "^tend: signal KILL to "'
	check "hang: the wedged child ($pid1) is gone" eval '! alive "$pid1"'
	check "hang: no hang signal without --health-hang-signal" \
	    eval '! grep -q "^Fatal Python error" "$T/err"'
	mark
	kill -TERM "$TEND_PID"
	wait_tend_ts
	check_rc "hang: TERM to tend; the child ignores it and is SIGKILLed" 137
	check "hang: ... after about stop_timeout (${ELAPSED} ms)" test "$ELAPSED" -lt 10000
fi
check_sanitizers "hang"

# --- hang_signal ABRT: the traceback reaches tend's stderr --------------------------------
if hang_run "hang ABRT" request --health-hang-signal ABRT --health-hang-signal-wait 1s; then
	check "hang ABRT: faulthandler's 'Thread 0x' line in tend's stderr" \
	    grep -qE '^(Current thread|Thread) 0x[0-9a-f]+' "$T/err"
	check "hang ABRT: the traceback shows block_loop in common.py" \
	    grep -qE '^  File ".*/common\.py", line [0-9]+ in block_loop' "$T/err"
	check "hang ABRT: the traceback came after the hang was detected" \
	    eval 'ts_find 1 "^  File .*common\.py.* in block_loop" && [ "$TS_MS" -ge "$T_STOP" ]'
	check "hang ABRT: tend logged sending ABRT" \
	    eval 'ts_find 1 "^tend: signal ABRT to "'
	kill -TERM "$TEND_PID"
	wait_tend_ts
	check_rc "hang ABRT: TERM to tend; the child ignores it and is SIGKILLed" 137
fi
check_sanitizers "hang ABRT"

finish
