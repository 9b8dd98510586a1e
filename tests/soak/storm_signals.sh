#!/bin/bash
# Storm: SIGUSR1 to tend 100 times a second for 10 s while its child restarts every
# 300 ms. Every signal must be accounted for: tend logs each one it gets ("signal USR1
# from pid", --log-level debug) and each one it forwards ("signal USR1 to pid"); one that
# arrives while no child exists is dropped by design. The children count what they get;
# one that arrives before a new child installed its handler kills it (cause
# signal:USR1). tend must not crash, stall or spin, and must stop on TERM. As PID 1 and
# plain.
. "$(dirname "$0")/../e2e/lib.sh"

RATE=${STORM_RATE:-100}
SECS=${STORM_SECS:-10}
. "$TEST_SRCDIR/soak/lib.sh"
build_benchhelp

for mode in $MODES; do
	rm -f "$T/got"
	if ! start_tend "$mode" --log-level debug --restart-backoff 1ms --restart-backoff-max 5ms \
	    --restart-limit-burst 100 --restart-limit-interval 1ms -- \
	    "$HELP" count-sig "$T/got" 300 1; then
		not_ok "$mode: tend did not start"
		abort_tend
		continue
	fi
	sleep 0.5
	cpu0=$(cpu_ms "$TEND_PID")
	sent=$("$HELP" send "$TEND_PID" 10 "$RATE" "$SECS")
	cpu1=$(cpu_ms "$TEND_PID")
	sleep 0.5
	check "$mode: tend is alive after $sent signals in $SECS s" alive "$TEND_PID"
	mark
	kill -TERM "$TEND_PID"
	wait_tend
	check "$mode: tend stopped on TERM within 5 s (exit $RC, ${ELAPSED} ms)" \
	    test "$ELAPSED" -lt 5000 -a \( "$RC" = 143 -o "$RC" = 1 \)

	got_tend=$(grep -c '^tend: signal USR1 from pid' "$T/err")
	fwd=$(grep -c '^tend: signal USR1 to ' "$T/err")
	dropped=$((got_tend - fwd))
	got_child=0
	[ -f "$T/got" ] && got_child=$(wc -l <"$T/got")
	killed=$(grep -c 'cause=signal:USR1' "$T/err")
	spawns=$(grep -c '^tend: running ' "$T/err")
	lost=$((fwd - got_child - killed))
	diag "$mode: sent $sent; tend got $got_tend, forwarded $fwd, dropped $dropped (no child);" \
	    "children got $got_child, $killed killed by one before their handler;" \
	    "$lost lost to exiting children; $spawns spawns; tend CPU $((cpu1 - cpu0)) ms"
	check "$mode: the sender sent about $RATE/s ($sent)" test "$sent" -ge $((RATE * SECS * 9 / 10))
	# Standard signals merge while pending: allow 1% of them to be merged.
	check "$mode: tend logged $got_tend of the $sent signals (>= 99%)" \
	    test "$got_tend" -le "$sent" -a $((got_tend * 100)) -ge $((sent * 99))
	check "$mode: forwarded + dropped = received ($fwd + $dropped = $got_tend), few dropped" \
	    test "$fwd" -ge 0 -a "$dropped" -ge 0 -a $((dropped * 10)) -le "$got_tend"
	check "$mode: the children got or died of $((got_child + killed)) of $fwd forwarded (>= 95%)" \
	    test "$lost" -ge 0 -a $(((got_child + killed) * 100)) -ge $((fwd * 95))
	check "$mode: the child restarted during the storm ($spawns spawns)" \
	    test "$spawns" -ge $((SECS * 2))
	check "$mode: tend did not spin (CPU $((cpu1 - cpu0)) ms over $SECS s)" \
	    test $((cpu1 - cpu0)) -lt $((SECS * 300))
done

finish
