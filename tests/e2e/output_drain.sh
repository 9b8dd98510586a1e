#!/bin/bash
# Output at exit (issue 5): what processes that outlive the main child write still
# arrives. A grandchild that left the group (setsid) and writes 0.5 s after the child
# exited is drained (tend drains up to 2 s at exit); one that writes only after 5 s does
# not keep tend (about 2 s, then exit); a worker of the group that prints when the group
# is stopped is heard too.
. "$(dirname "$0")/lib.sh"

for mode in $MODES; do
	# --- a setsid grandchild writes 0.5 s after the child exited ------------------------
	rm -f "$T/ready"
	run_tend "$mode" -- sh -c '
		setsid sh -c "echo \$\$ >\"\$1\"; sleep 0.5; echo late; echo late-err >&2" sh "$1" &
		while [ ! -s "$1" ]; do sleep 0.01; done
		echo main' child "$T/ready"
	check_rc "$mode, late: the child exits 0" 0
	check "$mode, late: the child's line and the grandchild's late stdout line arrived" \
	    eval 'has_line "$T/out" main && has_line "$T/out" late'
	check "$mode, late: the grandchild's late stderr line arrived" has_line "$T/err" late-err
	check "$mode, late: tend waited for it (${ELAPSED} ms, >= 400 and < 5000)" \
	    test "$ELAPSED" -ge 400 -a "$ELAPSED" -lt 5000

	# --- a grandchild that keeps its pipe open for 5 s: tend leaves after ~2 s -----------
	rm -f "$T/ready"
	run_tend "$mode" -- sh -c '
		setsid sh -c "echo \$\$ >\"\$1\"; sleep 5; echo too-late" sh "$1" &
		while [ ! -s "$1" ]; do sleep 0.01; done
		echo main' child "$T/ready"
	check_rc "$mode, bound: the child exits 0" 0
	check "$mode, bound: tend left after the drain bound (${ELAPSED} ms, >= 1500 and < 4500)" \
	    test "$ELAPSED" -ge 1500 -a "$ELAPSED" -lt 4500
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
