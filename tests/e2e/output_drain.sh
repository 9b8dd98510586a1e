#!/bin/bash
# Output at exit (issue 5): what processes that outlive the main child write still
# arrives. A grandchild that left the group (setsid) is stopped with the rest (see
# strays.sh) and what it writes 0.5 s after its TERM is drained; one tend cannot reach
# (no subreaper) that writes only after 5 s does not keep tend (tend drains up to 2 s at
# exit); a worker of the group that prints when the group is stopped is heard too.
. "$(dirname "$0")/lib.sh"

for mode in $MODES; do
	# --- a setsid grandchild writes 0.5 s after its stop signal ------------------------
	rm -f "$T/ready"
	run_tend "$mode" --stop-timeout 5s -- sh -c '
		setsid sh -c "trap \"sleep 0.5; echo late; echo late-err >&2; exit 0\" TERM
		    echo \$\$ >\"\$1\"; while :; do sleep 0.05; done" sh "$1" &
		while [ ! -s "$1" ]; do sleep 0.01; done
		echo main' child "$T/ready"
	check_rc "$mode, late: the child exits 0" 0
	check "$mode, late: the child's line and the grandchild's late stdout line arrived" \
	    eval 'has_line "$T/out" main && has_line "$T/out" late'
	check "$mode, late: the grandchild's late stderr line arrived" has_line "$T/err" late-err
	check "$mode, late: tend waited for it (${ELAPSED} ms, >= 400 and < 5000)" \
	    test "$ELAPSED" -ge 400 -a "$ELAPSED" -lt 5000

	# --- a grandchild that ignores TERM and keeps its pipe open for 5 s -----------------
	# Plain, without subreaper, it is not tend's to stop: tend leaves after the ~2 s drain
	# bound. As PID 1 everything orphaned is tend's: SIGKILL after stop_timeout.
	rm -f "$T/ready"
	if [ "$mode" = plain ]; then
		opts=(--no-subreaper) what="the drain bound" min=1500
	else
		opts=(--stop-timeout 1s) what="stop_timeout and SIGKILL" min=900
	fi
	run_tend "$mode" "${opts[@]}" -- sh -c '
		setsid sh -c "trap \"\" TERM; echo \$\$ >\"\$1\"; sleep 5; echo too-late" sh "$1" &
		while [ ! -s "$1" ]; do sleep 0.01; done
		echo main' child "$T/ready"
	check_rc "$mode, bound: the child exits 0" 0
	check "$mode, bound: tend left after $what (${ELAPSED} ms, >= $min and < 4500)" \
	    test "$ELAPSED" -ge "$min" -a "$ELAPSED" -lt 4500
	check "$mode, bound: the child's line arrived, the line after 5 s did not" \
	    eval 'has_line "$T/out" main && ! has_line "$T/out" too-late'
	gc=$(cat "$T/ready" 2>/dev/null)
	[ "$mode" = plain ] && [ -n "$gc" ] && kill -KILL "$gc" 2>/dev/null

	# --- a worker of the group prints when the group is stopped -------------------------
	rm -f "$T/ready"
	run_tend "$mode" --stop-timeout 5s -- sh -c '
		(trap "echo worker-stopped; echo worker-stopped-err >&2; exit 0" TERM
		 echo ready >"$1"
		 while :; do sleep 0.05; done) &
		while [ ! -s "$1" ]; do sleep 0.01; done
		echo main' child "$T/ready"
	check_rc "$mode, worker: the child exits 0" 0
	check "$mode, worker: the worker's lines, written when the group was stopped, arrived" \
	    eval 'has_line "$T/out" worker-stopped && has_line "$T/err" worker-stopped-err'
	check "$mode, worker: the worker stopped on TERM, no KILL needed (${ELAPSED} ms < 4000)" \
	    test "$ELAPSED" -lt 4000
done

finish
