#!/bin/bash
# Emergency recovery with a real uvicorn app (tests/apps/recover.py): its startup
# deadlocks until the file FIXED_FILE exists. tend goes to emergency mode after the crash
# loop; after recover_after healthy it stops the emergency child (cause recover) and tries
# normal mode (recovering). Without the file the trial fails its startup and tend goes
# back to emergency mode with the wait doubled; with the file the trial passes and tend
# is running in normal mode.
. "$(dirname "$0")/lib.sh"
need_uvicorn

free_port
app_cmd recover
RECOVER=3000
if ! FIXED_FILE=$T/fixed start_tend_ts plain --health-url "http://127.0.0.1:$PORT/health" \
    --startup-timeout 3s --startup-interval 250ms --health-interval 500ms \
    --stop-timeout 1s --restart-backoff 200ms \
    --restart-limit-burst 2 --restart-limit-interval 1m \
    --emergency-environment EMERGENCY_MODE=1 \
    --emergency-health-url "http://127.0.0.1:$PORT/health-emergency" \
    --emergency-recover-after 3s -- "${APP[@]}"; then
	not_ok "tend did not start"
	abort_tend
	finish
fi

# fail_out MESSAGE: one failed test with tend's output, then the end of the script.
fail_out() {
	not_ok "$1"
	show_tend
	abort_tend
	check_sanitizers "recover"
	finish
}

RECOVER_RE='^tend: (warn: )?stopping .*cause=recover'

# gap_ms RUNNING_LINE STOP_LINE: ms from emergency-running to the stop, by tend's own
# since_spawn of the same child (not the arrival stamps, which a busy machine skews).
gap_ms() {
	echo $(($(secs_ms "$(field since_spawn "$2")") - $(secs_ms "$(field since_spawn "$1")")))
}

# 1. Broken: crash loop (2 startup timeouts of 3 s), then emergency mode.
wait_ts 40 1 '^tend: emergency-running ' || fail_out "no emergency-running within 30 s"
erun1=$TS_LINE
ok "broken start: emergency-running ($TS_LINE)"
check "broken start: 2 normal attempts failed with startup-timeout first" \
    eval '[ "$(ts_count "^tend: (warn: )?stopping .*cause=startup-timeout")" = 2 ]'

# 2. Still broken: after recover_after, a trial in normal mode that fails.
wait_ts 20 1 "$RECOVER_RE" || fail_out "no stop with cause=recover within 20 s"
r1=$TS_LINE
gap1=$(gap_ms "$erun1" "$r1")
check "still broken: emergency child stopped with cause=recover from emergency-running after $gap1 ms (recover_after ${RECOVER} ms)" \
    eval '[ "$(field from "$r1")" = emergency-running ] &&
        [ "$gap1" -ge $((RECOVER - 300)) ] && [ "$gap1" -lt $((RECOVER + 5000)) ]'
wait_ts 10 1 '^tend: recovering ' || fail_out "no recovering line"
rec1=$TS_LINE
check "still broken: a normal-mode child on trial ($rec1)" \
    test "$(field mode "$rec1")" = normal
wait_ts 20 1 '^tend: (warn: )?stopping .*from=recovering' ||
    fail_out "the failing trial was not stopped"
check "still broken: the trial failed with startup-timeout ($TS_LINE)" \
    test "$(field cause "$TS_LINE")" = startup-timeout
wait_ts 20 2 '^tend: emergency-running ' || fail_out "no return to emergency-running"
erun2=$TS_LINE
ok "still broken: back to emergency-running ($TS_LINE)"
check "still broken: the failed trial led straight to emergency-starting (one backoff in all, after the first failure)" \
    eval '[ "$(ts_count "^tend: emergency-starting ")" = 2 ] && [ "$(ts_count "^tend: backoff ")" = 1 ]'

# 3. Fixed: the next trial (after the doubled wait) passes.
: >"$T/fixed"
wait_ts 30 2 "$RECOVER_RE" || fail_out "no second stop with cause=recover within 30 s"
gap2=$(gap_ms "$erun2" "$TS_LINE")
diag "recover_after waits: first $gap1 ms, second $gap2 ms (3s, then doubled)"
check "fixed: the second trial came after the doubled wait ($gap2 ms, >= $((2 * RECOVER - 1000)))" \
    test "$gap2" -ge $((2 * RECOVER - 1000)) -a "$gap2" -lt $((2 * RECOVER + 8000))
wait_ts 20 1 '^tend: running .*from=recovering' || fail_out "the fixed trial never ran"
run=$TS_LINE
check "fixed: running in normal mode ($run)" test "$(field mode "$run")" = normal
check "fixed: the app started in normal mode with the fix ($(grep -c '^recover: mode=normal.*fixed=1' "$T/out") such start)" \
    test "$(grep -c '^recover: mode=normal.*fixed=1' "$T/out")" = 1
ans=$(http_get /health)
check "fixed: /health answers 200 ok ($(echo "$ans" | head -1 | tr -d '\r'))" \
    eval '[[ $ans == "HTTP/1.1 200"* ]] && [[ $ans == *ok* ]]'
sleep 1
check "fixed: no further stop after running" \
    eval '! ts_find 1 "^tend: (warn: )?stopping .*from=running"'
kill -TERM "$TEND_PID"
wait_tend_ts
check_rc "fixed: TERM to tend, uvicorn exits 0" 0
check_sanitizers "recover"

finish
