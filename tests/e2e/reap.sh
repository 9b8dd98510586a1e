#!/bin/bash
# Zombies are reaped: 2000 orphaned grandchildren that exit leave no zombie behind, as
# PID 1 and as a subreaper, while the main child still runs. Orphans are re-parented to
# tend as a subreaper, and not with --no-subreaper.
. "$(dirname "$0")/lib.sh"

N=2000

# storm MODE: the main child spawns $N orphans, then sleeps; no zombie may stay.
storm() {
	local mode=$1 child
	rm -f "$T/pid"
	if ! start_tend "$mode" --restart-policy never -- \
	    "$SIGREC" orphans -n "$N" -l 20 -p "$T/pid" -t 60 || ! wait_file "$T/pid" 50; then
		not_ok "$mode: tend or its child did not start, or the $N forks took > 50 s"
		show_tend
		abort_tend
		return
	fi
	ok "$mode: the child spawned $N orphans"
	# The orphans exit 20 ms after their birth: all must be reaped, the child not.
	if poll 20 eval 'count_children "$TEND_PID"; [ "$NCHILD" = 1 ] && [ "$NZOMBIE" = 0 ]'; then
		ok "$mode: zero zombies left under tend, the main child still runs"
	else
		not_ok "$mode: after 20 s, tend still has $NCHILD children, $NZOMBIE of them zombies"
		show_tend
	fi
	if [ "$mode" = plain ]; then
		child=$(read_pid "$T/pid")
		check "$mode: the main child ($child) is alive" alive "$child"
	fi
	check "$mode: tend is alive" alive "$TEND_PID"
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: TERM after the storm" 143
}

# The number of live sigrec processes this script started.
count_sigrecs() {
	local f comm n=0
	for f in $(grep -lzxF "E2E_TAG=$E2E_TAG" /proc/[0-9]*/environ 2>/dev/null); do
		read -r comm <"${f%/environ}/comm" 2>/dev/null && [ "$comm" = sigrec ] &&
		    n=$((n + 1))
	done
	echo "$n"
}

# adopt EXPECT ARGS...: orphans that live 8 s are tend's children, unless --no-subreaper
# (8 s: they must still be there when counted, however slowly this machine runs).
adopt() {
	local expect=$1
	shift
	rm -f "$T/pid"
	if ! start_tend plain --restart-policy never "$@" -- \
	    "$SIGREC" orphans -n 20 -l 8000 -p "$T/pid" -t 60 || ! wait_file "$T/pid"; then
		not_ok "plain ${*:-(subreaper)}: tend or its child did not start"
		show_tend
		abort_tend
		return
	fi
	count_children "$TEND_PID"
	if [ "$expect" = adopted ]; then
		check "plain: subreaper: the live orphans are tend's children ($NCHILD)" \
		    test "$NCHILD" -ge 11
		poll 30 eval 'count_children "$TEND_PID"; [ "$NCHILD" = 1 ] && [ "$NZOMBIE" = 0 ]'
		check "plain: subreaper: once they exit, all are reaped ($NCHILD children, $NZOMBIE zombies)" \
		    test "$NCHILD" = 1 -a "$NZOMBIE" = 0
	else
		check "plain --no-subreaper: the orphans are not tend's children ($NCHILD)" \
		    test "$NCHILD" = 1 -a "$NZOMBIE" = 0
		check "plain --no-subreaper: ... yet they live ($(count_sigrecs) sigrec processes)" \
		    test "$(count_sigrecs)" -ge 11
	fi
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "plain ${*:-(subreaper)}: TERM ends the run" 143
}

for mode in $MODES; do
	storm "$mode"
done
adopt adopted
adopt orphaned --no-subreaper

finish
