#!/bin/bash
# valgrind (memcheck) on tend in the longer scenarios (tests/e2e/fault_valgrind.sh has
# the short ones): a deadlocked uvicorn start that ends in emergency mode; a wedged app
# with hang_signal ABRT, restarted; 200 restarts with probes; /dev/full as stdout under a
# chatty child; a USR1 storm; long lines and a reload loop in the child's output. No
# memory error, no definite or indirect leak, no descriptor left open at exit.
. "$(dirname "$0")/../e2e/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"
need_valgrind
need_python
build_benchhelp

# vg_term NAME DESC REGEX [SECS] -- ARGS...: start tend ARGS under valgrind, wait (SECS,
# default 60) for a line of its stderr matching REGEX, TERM it; expects exit 0 or 143
# (whichever the child gives), checked by vg_check.
vg_term() {
	local name=$1 desc=$2 re=$3 secs=60
	shift 3
	if [ "$1" != -- ]; then
		secs=$1
		shift
	fi
	shift
	vg_start "$name" "$@"
	if poll "$secs" grep -qE "$re" "$T/err"; then
		kill -TERM "$TEND_PID"
		wait "$BG"
		RC=$?
		case $RC in 137 | 143) RC=0 ;; esac	# the child died of TERM or KILL: fine here
		vg_check "$name" "$desc" 0
	else
		not_ok "$desc: no line matching '$re' within $secs s"
		show_tend
		kill -KILL "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
	fi
}

if /usr/bin/python3 -c 'import uvicorn, starlette' >/dev/null 2>&1; then
	free_port
	app_cmd deadlock
	vg_term emergency "deadlocked start, then emergency mode" '^tend: emergency-running ' -- \
	    --health-url "http://127.0.0.1:$PORT/health" --startup-timeout 2s \
	    --startup-interval 100ms --stop-timeout 500ms --restart-backoff 0 \
	    --restart-limit-burst 2 --emergency-health-url "http://127.0.0.1:$PORT/health-emergency" \
	    -- "${APP[@]}"
	free_port
	app_cmd hang
	HANG_AFTER=1 vg_term hang "wedged app, hang_signal ABRT, restarted" \
	    '^tend: (warn: )?running .*attempt=2' -- \
	    --health-url "http://127.0.0.1:$PORT/health" --health-interval 300ms \
	    --health-timeout 300ms --health-failure-threshold 2 --health-hang-signal ABRT \
	    --health-hang-signal-wait 500ms --stop-timeout 500ms --restart-backoff 0 -- "${APP[@]}"
else
	skip "no uvicorn/starlette for /usr/bin/python3: app scenarios"
fi

if srv_start ok; then
	rm -f "$T/crash"
	vg_start restarts --health-url "http://127.0.0.1:$PORT/" --startup-interval 10ms \
	    --restart-backoff 0 --restart-limit-burst 100 --restart-limit-interval 1ms \
	    -- "$HELP" crash "$T/crash"
	if poll 120 eval '[ "$(grep -c "^s" "$T/crash" 2>/dev/null || echo 0)" -ge 200 ]'; then
		kill -TERM "$TEND_PID"
		wait "$BG"
		RC=$?
		case $RC in 1 | 143) RC=0 ;; esac	# the child's exit 1, or TERM
		vg_check restarts "200 restarts with probes" 0
	else
		not_ok "200 restarts with probes: only $(grep -c "^s" "$T/crash" 2>/dev/null) starts"
		show_tend
		kill -KILL "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
	fi
else
	not_ok "the endpoint did not start"
fi
srv_stop

# /dev/full as stdout: vg_start writes stdout to $T/out.
ln -sf /dev/full "$T/out"
vg_term full "/dev/full as stdout, chatty child" 'discarded|dropped' -- \
    -- sh -c 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i + 1)); done; exec sleep 30'
rm -f "$T/out"

vg_start storm --log-level debug --restart-backoff 1ms --restart-backoff-max 5ms \
    --restart-limit-burst 100 --restart-limit-interval 1ms -- "$HELP" count-sig "$T/got" 300 1
if poll 30 grep -q '^tend: running ' "$T/err"; then
	sent=$("$HELP" send "$TEND_PID" 10 100 3)
	kill -TERM "$TEND_PID"
	wait "$BG"
	RC=$?
	# The child's TERM (143); or the last child's exit 1 or death by a USR1 that came
	# before its handler (138), when TERM found tend between children.
	case $RC in 1 | 138 | 143) RC=0 ;; esac
	vg_check storm "USR1 storm ($sent signals)" 0
else
	not_ok "USR1 storm: tend never ran the child"
	kill -KILL "$BG" 2>/dev/null
	wait "$BG" 2>/dev/null
fi

# Long lines (past the line buffer), then three reloads in a row: a reload loop (stop).
cat >"$T/reloader.sh" <<'EOF'
head -c 300000 /dev/zero | tr '\0' 'x'
echo
for i in 1 2 3 4; do
	echo "WARNING:  StatReload detected changes in 'app.py'. Reloading..." >&2
	sleep 0.1
done
exec sleep 30
EOF
vg_run reload --reload-loop-action stop --reload-loop-window 10s -- sh "$T/reloader.sh"
check "long lines and a reload loop: tend saw the loop" grep -q 'reload loop' "$T/err"
[ "$RC" = 143 ] && RC=0
vg_check reload "long lines and a reload loop (action stop)" "$RC"
check "long lines and a reload loop: not killed by valgrind's error code or the timeout" \
    test "$RC" != 99 -a "$RC" != 124

finish
