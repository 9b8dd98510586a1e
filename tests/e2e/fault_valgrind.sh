#!/bin/bash
# valgrind (memcheck) on tend in its main scenarios: a clean exit, restarts until the
# crash-loop limit, a probe loop (through the resolver: localhost) that ends in a hang,
# and a TERM shutdown while probing. No memory error, no definite or indirect leak, no
# descriptor left open at exit. Its children run without valgrind. tests/soak/valgrind.sh
# runs more scenarios.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"
need_valgrind
need_python

vg_run clean --restart-policy never -- true
vg_check clean "clean exit" 0

vg_run restarts --restart-backoff 0 --restart-limit-burst 3 -- sh -c 'exit 3'
vg_check restarts "three crashes, then give up" 69

if srv_start hang --ok-first 3 --fault hang; then
	# (a 1 s probe timeout: tend under valgrind on a busy machine is slow, and the three
	# good answers must not be lost to timeouts, or tend never sees the app healthy)
	vg_run hang --health-url "http://localhost:$PORT/health" --startup-interval 100ms \
	    --health-interval 200ms --health-timeout 1s --health-failure-threshold 2 \
	    --stop-timeout 1s --restart-limit-burst 1 -- "$SIGREC" record -o "$T/sig" -x TERM -t 30
	vg_check hang "probes, then a hang, then give up" 69
	check "probes, then a hang: tend saw the hang" grep -q 'cause=hang' "$T/err"
else
	not_ok "the endpoint did not start"
fi
srv_stop

if srv_start ok; then
	vg_start term --health-url "http://127.0.0.1:$PORT/health" --startup-interval 50ms \
	    --health-interval 50ms -- "$SIGREC" record -o "$T/sig" -x TERM -t 30
	if poll 20 grep -q '^tend: running ' "$T/err"; then
		sleep 1	# some probes
		kill -TERM "$TEND_PID"
		wait "$BG"
		RC=$?
		vg_check term "TERM while probing" 0
	else
		not_ok "TERM while probing: tend never reached running"
		show_tend
		kill -KILL "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
	fi
else
	not_ok "the endpoint did not start"
fi
srv_stop

finish
