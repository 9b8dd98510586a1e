#!/bin/bash
# EMFILE: tend runs out of file descriptors. Its soft RLIMIT_NOFILE is lowered under it
# (prlimit --pid) while it probes a healthy child, so every probe socket and every spawn
# fails, and a client waits in the control socket's backlog (accept fails too); then the
# limit comes back. tend must log the error, not exit, not spin, and
# supervise a running child again once descriptors can be had. Started with almost no
# descriptors at all, tend must exit at once with a message instead of hanging.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"
need_python

if ! command -v prlimit >/dev/null || ! prlimit --pid $$ --nofile >/dev/null 2>&1; then
	skip "no prlimit (util-linux), or it cannot read limits here"
	finish
fi

STARVE=${EMFILE_STARVE_SECS:-3}

for mode in $MODES; do
	if ! srv_start "ok-$mode"; then
		not_ok "$mode: the endpoint did not start"
		srv_stop
		continue
	fi
	if ! start_tend "$mode" --health-url "http://127.0.0.1:$PORT/" --startup-interval 100ms \
	    --health-interval 200ms --health-timeout 500ms --health-failure-threshold 3 \
	    --stop-timeout 1s --restart-backoff 100ms --restart-backoff-max 500ms \
	    --restart-limit-burst 100 --status-control "$T/ctl-$mode.sock" -- \
	    "$SIGREC" record -o "$T/sig" -x TERM -t 60; then
		not_ok "$mode: tend did not start"
		abort_tend
		srv_stop
		continue
	fi
	if ! poll 10 eval '[ "$(last_state)" = running ]'; then
		not_ok "$mode: tend never reached running"
		show_tend
		abort_tend
		srv_stop
		continue
	fi
	soft=$(prlimit --pid "$TEND_PID" --nofile --output SOFT --noheadings | tr -d ' ')
	nlines=$(wc -l <"$T/err")
	# Soft limit 3: no new descriptor at all (0, 1 and 2 are open).
	if ! prlimit --pid "$TEND_PID" --nofile=3: 2>"$T/prlimit.err"; then
		skip "$mode: prlimit cannot lower tend's limit: $(head -n 1 "$T/prlimit.err")"
		abort_tend
		srv_stop
		continue
	fi
	# A client in the backlog that tend cannot accept: the accept must pause, not spin.
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(float(sys.argv[2]) + 1)' "$T/ctl-$mode.sock" "$STARVE" 2>/dev/null &
	client=$!
	cpu0=$(cpu_ms "$TEND_PID")
	sleep "$STARVE"
	cpu1=$(cpu_ms "$TEND_PID")
	check "$mode: tend is alive after $STARVE s without descriptors" alive "$TEND_PID"
	check "$mode: tend does not spin ($((cpu1 - cpu0)) ms of CPU in $STARVE s)" \
	    test $((cpu1 - cpu0)) -lt $((STARVE * 100))
	check "$mode: tend logged 'Too many open files'" \
	    eval 'tail -n +$((nlines + 1)) "$T/err" | grep -q "Too many open files"'
	starved=$(tail -n +$((nlines + 1)) "$T/err" | wc -l)
	check "$mode: ... without flooding its log ($starved lines in $STARVE s)" \
	    test "$starved" -lt $((STARVE * 20))
	if grep -q 'cause=hang .*probe=error' "$T/err"; then
		diag "$mode: note: tend's own probe errors (EMFILE) counted as the app's failures:" \
		    "the healthy child was stopped with cause=hang"
	fi
	prlimit --pid "$TEND_PID" --nofile="$soft":
	kill "$client" 2>/dev/null
	wait "$client" 2>/dev/null
	nlines=$(wc -l <"$T/err")
	if poll 15 eval 'count_children "$TEND_PID"; [ "$NCHILD" = 1 ] && [ "$(last_state)" = running ]'; then
		ok "$mode: descriptors back: the child runs and is healthy again"
	else
		not_ok "$mode: 15 s after the limit came back: $NCHILD children, state $(last_state)"
		show_tend
	fi
	mark
	kill -TERM "$TEND_PID"
	wait_tend
	check "$mode: TERM ends tend in $ELAPSED ms (exit $RC)" \
	    test "$ELAPSED" -lt 5000 -a \( "$RC" = 0 -o "$RC" = 143 \)
	srv_stop
done

# Started with 4 descriptors (0, 1, 2 and one more): no room for tend's own; it must say
# so and exit, not hang.
printf '#!/bin/sh\nexec prlimit --nofile=4:4 "%s" "$@"\n' "$TEND" >"$T/tend-4fds"
chmod +x "$T/tend-4fds"
TEND_TIMEOUT=10
TEND="$T/tend-4fds" run_tend plain -- true
check "started with 4 descriptors: tend exits at once (exit $RC, $ELAPSED ms)" \
    test "$RC" != 0 -a "$RC" != 124 -a "$ELAPSED" -lt 5000
check "... with a message on stderr ($(head -n 1 "$T/err"))" test -s "$T/err"

finish
