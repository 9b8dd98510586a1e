#!/bin/bash
# /dev/full as tend's stdout (and stderr): writes fail with ENOSPC. tend must say so
# (once, not per line), keep draining the child's output so the child never blocks on a
# full pipe, keep supervising it without spinning, and still pass the exit status on.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"

LINES=20000	# about 200 KB: more than a pipe holds

# The child: $LINES lines on stdout, then a marker file, then it sleeps.
cat >"$T/chatty.sh" <<'EOF'
i=0
while [ $i -lt "$2" ]; do
	echo "line $i of the child's stdout"
	i=$((i + 1))
done
touch "$1"
exec sleep 60
EOF

for mode in $MODES; do
	# --- stdout is /dev/full (through a symlink: start_tend writes to $T/out) ---------
	rm -f "$T/out" "$T/done"
	ln -s /dev/full "$T/out"
	if ! start_tend "$mode" -- sh "$T/chatty.sh" "$T/done" "$LINES"; then
		not_ok "$mode: tend did not start"
		abort_tend
		rm -f "$T/out"
		continue
	fi
	check "$mode, stdout /dev/full: the child wrote its $LINES lines and went on (not blocked)" \
	    poll 20 test -e "$T/done"
	cpu0=$(cpu_ms "$TEND_PID")
	sleep 2
	cpu1=$(cpu_ms "$TEND_PID")
	check "$mode, stdout /dev/full: tend is alive" alive "$TEND_PID"
	check "$mode, stdout /dev/full: tend does not spin ($((cpu1 - cpu0)) ms of CPU in 2 s)" \
	    test $((cpu1 - cpu0)) -lt 200
	count_children "$TEND_PID"
	check "$mode, stdout /dev/full: the child still runs under tend ($NCHILD child)" \
	    test "$NCHILD" = 1
	check "$mode, stdout /dev/full: tend said it cannot write to its stdout" \
	    grep -qiE 'stdout.*(No space left|ENOSPC)|(No space left|ENOSPC).*stdout' "$T/err"
	check "$mode, stdout /dev/full: ... without a line per dropped line ($(wc -l <"$T/err") lines)" \
	    test "$(wc -l <"$T/err")" -lt 20
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode, stdout /dev/full: TERM (the child dies of it)" 143
	rm -f "$T/out"

	# --- stdout and stderr both /dev/full: the exit status still comes through --------
	mode_prefix "$mode"
	timeout -k 5 30 "$SIGREC" exec -- "${PRE[@]}" "$TEND" --restart-policy never -- \
	    sh -c 'i=0; while [ $i -lt 5000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i + 1)); done; exit 7' \
	    </dev/null >/dev/full 2>/dev/full
	RC=$?
	check_rc "$mode, stdout and stderr /dev/full: the child's exit status" 7
done

finish
