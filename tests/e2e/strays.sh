#!/bin/bash
# Strays: a worker that leaves the child's process group (setsid) is out of reach of
# the group's stop signal and SIGKILL. Once orphaned to tend (PID 1 or subreaper) it
# is stopped with the group: it gets the stop signal when the main child exits, SIGKILL
# after stop_timeout if it ignores that (and so do its own children, orphaned in turn),
# and tend neither restarts nor exits while one is left.
. "$(dirname "$0")/lib.sh"

# A script run as tend's child: starts a setsid'd worker, then exits 3.
# Worker kinds: polite (exits 0 on TERM, writing "TERM" to $T/rec), stubborn (ignores
# TERM; its own child, in its group, exits on TERM writing "GC" to $T/rec; both write
# their pids to $T/w.pid and $T/gc.pid).
# In "restart" kind, the second run records whether the first one's worker is still
# there (alive/gone) in $T/second and then sleeps.
cat >"$T/child.sh" <<'SH'
#!/bin/bash
d=$1 kind=$2
if [ "$kind" = restart ] && [ -e "$d/first" ]; then
	if kill -0 "$(cat "$d/w.pid")" 2>/dev/null; then echo alive; else echo gone; fi >"$d/second"
	exec sleep 1000
fi
: >"$d/first"
case $kind in
polite|restart)
	setsid bash -c 'trap "echo TERM >>$0/rec; exit 0" TERM; echo $$ >$0/w.pid.tmp
		mv $0/w.pid.tmp $0/w.pid; while :; do sleep 0.05; done' "$d" & ;;
stubborn)
	# The grandchild says it is ready (its trap set) before the worker does.
	setsid bash -c 'bash -c "trap \"echo GC >>$0/rec; exit 0\" TERM
		echo \$\$ >$0/gc.pid.tmp; mv $0/gc.pid.tmp $0/gc.pid; while :; do sleep 0.05; done" &
		while [ ! -s $0/gc.pid ]; do sleep 0.02; done
		trap "" TERM; echo $$ >$0/w.pid.tmp
		mv $0/w.pid.tmp $0/w.pid; while :; do sleep 0.05; done' "$d" & ;;
esac
# Exit only once the worker runs (its pid file is written last).
for i in $(seq 200); do [ -s "$d/w.pid" ] && break; sleep 0.05; done
exit 3
SH
chmod +x "$T/child.sh"

reset() {
	rm -f "$T/first" "$T/second" "$T/rec" "$T/w.pid" "$T/gc.pid"
}

for mode in $MODES; do
	reset
	run_tend "$mode" --restart-policy never --stop-timeout 5s -- "$T/child.sh" "$T" polite
	check_rc "$mode: the child's exit code" 3
	check "$mode: the setsid'd worker got TERM when the child exited ($(cat "$T/rec" 2>/dev/null))" \
	    has_line "$T/rec" TERM
	check "$mode: ... and tend did not wait for stop_timeout (${ELAPSED} ms < 4500)" \
	    test "$ELAPSED" -lt 4500
	if [ "$mode" = plain ] && [ -s "$T/w.pid" ]; then
		w=$(cat "$T/w.pid")
		check "$mode: ... it is gone when tend exits" eval '! alive "$w"'
	fi

	reset
	run_tend "$mode" --restart-policy never --stop-timeout 1s -- "$T/child.sh" "$T" stubborn
	check_rc "$mode: a worker that ignores TERM: the child's exit code still" 3
	check "$mode: ... tend waited for it: stop_timeout, then SIGKILL (${ELAPSED} ms, 900..20000)" \
	    test "$ELAPSED" -ge 900 -a "$ELAPSED" -lt 20000
	check "$mode: ... its own child, in the worker's group, got TERM with it ($(cat "$T/rec" 2>/dev/null))" \
	    has_line "$T/rec" GC
	if [ "$mode" = plain ] && [ -s "$T/w.pid" ] && [ -s "$T/gc.pid" ]; then
		w=$(cat "$T/w.pid")
		gc=$(cat "$T/gc.pid")
		check "$mode: ... the worker ($w) and its own child ($gc) are gone when tend exits" \
		    eval '! alive "$w" && ! alive "$gc"'
	fi

	reset
	if start_tend "$mode" --restart-policy always --restart-backoff 0 --stop-timeout 5s -- \
	    "$T/child.sh" "$T" restart; then
		check "$mode: restart: the second child ran" wait_file "$T/second" 20
		check "$mode: ... after the first one's worker was stopped ($(cat "$T/second" 2>/dev/null))" \
		    has_line "$T/second" gone
		check "$mode: ... which got TERM" has_line "$T/rec" TERM
		kill -TERM "$TEND_PID"
		wait_tend
		check_rc "$mode: TERM to tend" 143
	else
		not_ok "$mode: restart: tend did not start"
	fi
done
check_sanitizers "strays"
finish
