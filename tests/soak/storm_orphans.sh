#!/bin/bash
# Storm: a fork-bomb-like burst of 5,000 orphans. The child double-forks them, and they
# exit within milliseconds; tend (PID 1, or a subreaper) must reap every one while the
# main child runs on. Then, as PID 1, 5,000 orphans that all exit at the same moment
# (bench/benchhelp.c orphans): the child sees none left, and tend exits 0 after it.
. "$(dirname "$0")/../e2e/lib.sh"

N=${STORM_ORPHANS:-5000}
. "$TEST_SRCDIR/soak/lib.sh"
build_benchhelp

for mode in $MODES; do
	rm -f "$T/pid"
	if ! start_tend "$mode" --restart-policy never -- \
	    "$SIGREC" orphans -n "$N" -l 5 -p "$T/pid" -t 60 || ! wait_file "$T/pid" 50; then
		not_ok "$mode: tend or its child did not start, or the $N forks took > 50 s"
		show_tend
		abort_tend
		continue
	fi
	ok "$mode: the child spawned $N orphans"
	if poll 30 eval 'count_children "$TEND_PID"; [ "$NCHILD" = 1 ] && [ "$NZOMBIE" = 0 ]'; then
		ok "$mode: every orphan reaped, the main child still runs"
	else
		not_ok "$mode: after 30 s, tend still has $NCHILD children, $NZOMBIE of them zombies"
		show_tend
	fi
	check "$mode: tend is alive" alive "$TEND_PID"
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: TERM after the storm" 143
done

if [[ " $MODES " == *" pid1 "* ]]; then
	run_tend pid1 -- "$HELP" orphans "$N"
	check_rc "pid1: $N orphans released at once; the child saw them all reaped" 0
	read -r n fork_ms reap_ms <"$T/out"
	check "pid1: the child reports $n orphans (forked in $fork_ms ms, all gone $reap_ms ms after the release)" \
	    test "$n" = "$N"
fi

finish
