#!/bin/bash
# Stopping: TERM to tend ends the child (143 when the child dies of it, 0 when it exits 0
# on it); --stop-signal picks what the child gets; a child that ignores TERM is SIGKILLed
# with its group after stop_timeout (137); a second INT is passed on; when the main child
# exits, the rest of its process group gets the stop signal, then SIGKILL after
# stop_timeout, before tend exits.
. "$(dirname "$0")/lib.sh"

# launch MODE ARGS...: start tend and wait for the child's pid file; false on failure.
launch() {
	local mode=$1
	shift
	rm -f "$T/rec" "$T/pid" "$T/gc" "$T/gc.pid"
	if start_tend "$mode" "$@" && wait_file "$T/pid"; then
		return 0
	fi
	not_ok "$mode: tend or its child did not start ($*)"
	show_tend
	abort_tend
	return 1
}

for mode in $MODES; do
	# Default policy: a stop request is not a failure to restart from.
	if launch "$mode" -- "$SIGREC" record -o "$T/rec" -p "$T/pid" -d TERM; then
		mark
		kill -TERM "$TEND_PID"
		wait_tend
		check_rc "$mode: TERM to tend, child dies of TERM" 143
		check "$mode: ... and tend did not wait for stop_timeout (${ELAPSED} ms)" \
		    test "$ELAPSED" -lt 8000
	fi

	if launch "$mode" -- "$SIGREC" record -o "$T/rec" -p "$T/pid" -x TERM; then
		kill -TERM "$TEND_PID"
		wait_tend
		check_rc "$mode: TERM to tend, child exits 0 on TERM" 0
	fi

	if launch "$mode" --restart-policy never --stop-signal INT -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -x INT; then
		kill -TERM "$TEND_PID"
		wait_tend
		check_rc "$mode: --stop-signal INT: child exits 0 on INT" 0
		check "$mode: --stop-signal INT: the child got INT, not TERM ($(tr '\n' ' ' <"$T/rec"))" \
		    eval 'has_line "$T/rec" 2 && ! has_line "$T/rec" 15'
	fi

	# A child (and its grandchild) that ignore TERM: SIGKILL to the group after stop_timeout.
	if launch "$mode" --restart-policy never --stop-timeout 1s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -i TERM -g "$T/gc"; then
		mark
		kill -TERM "$TEND_PID"
		wait_tend
		check_rc "$mode: child ignores TERM: SIGKILLed" 137
		check "$mode: ... after stop_timeout 1s (took ${ELAPSED} ms, expected 900..20000)" \
		    test "$ELAPSED" -ge 900 -a "$ELAPSED" -lt 20000
		if [ "$mode" = plain ] && [ -s "$T/gc.pid" ]; then
			gc=$(read_pid "$T/gc.pid")
			check "$mode: ... its grandchild ($gc) was killed too" eval '! alive "$gc"'
		fi
	fi

	# A second INT (a second Ctrl-C) is passed on too; SIGKILL still follows.
	if launch "$mode" --restart-policy never --stop-timeout 2s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid"; then
		mark
		kill -INT "$TEND_PID"
		wait_line "$T/rec" 2
		kill -INT "$TEND_PID"
		poll 5 eval '[ "$(grep -cx 2 "$T/rec")" -ge 2 ]'
		wait_tend
		check "$mode: two INTs to tend: the child got both ($(tr '\n' ' ' <"$T/rec"))" \
		    test "$(grep -cx 2 "$T/rec")" = 2
		check_rc "$mode: ... it handles INT and keeps running: SIGKILLed" 137
		check "$mode: ... after stop_timeout 2s (took ${ELAPSED} ms, expected 1900..20000)" \
		    test "$ELAPSED" -ge 1900 -a "$ELAPSED" -lt 20000
	fi

	# The main child exits 5 and leaves a grandchild that handles TERM and keeps running.
	rm -f "$T/rec" "$T/pid" "$T/gc" "$T/gc.pid"
	run_tend "$mode" --restart-policy never --stop-timeout 1s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -g "$T/gc" -t 0 -e 5
	check_rc "$mode: main child exits 5 leaving a grandchild" 5
	check "$mode: the grandchild got the stop signal TERM ($(tr '\n' ' ' <"$T/gc" 2>/dev/null))" \
	    has_line "$T/gc" 15
	check "$mode: tend waited stop_timeout for it (took ${ELAPSED} ms, expected 900..20000)" \
	    test "$ELAPSED" -ge 900 -a "$ELAPSED" -lt 20000
	if [ "$mode" = plain ] && [ -s "$T/gc.pid" ]; then
		gc=$(read_pid "$T/gc.pid")
		check "$mode: the grandchild ($gc) was killed before tend exited" \
		    eval '! alive "$gc"'
	fi

	# Same with a grandchild that dies of TERM: tend does not wait the full timeout.
	rm -f "$T/rec" "$T/pid" "$T/gc" "$T/gc.pid"
	run_tend "$mode" --restart-policy never --stop-timeout 30s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -g "$T/gc" -d TERM -t 0 -e 3
	check_rc "$mode: main child exits 3 leaving a grandchild that dies of TERM" 3
	check "$mode: ... tend exits once the group is gone (took ${ELAPSED} ms, < 20000)" \
	    test "$ELAPSED" -lt 20000
	if [ "$mode" = plain ] && [ -s "$T/gc.pid" ]; then
		gc=$(read_pid "$T/gc.pid")
		check "$mode: ... and the grandchild ($gc) is gone" eval '! alive "$gc"'
	fi
done

finish
