#!/bin/bash
# tend's stdout cannot be written (issue 5): /dev/full (ENOSPC) or a pipe whose reader
# left (EPIPE). tend warns (once, not per line), keeps supervising, keeps draining the
# child's pipe so the child is never blocked (it finishes all its writes) and exits with
# the child's code; the child's stderr still arrives.
. "$(dirname "$0")/lib.sh"

# 200,000 lines, a pause, 1,000 more, then a line on stderr and exit 3.
CHILD=(sh -c 'seq 1 200000; sleep 0.3; seq 1 1000; echo done >&2; exit 3')

# run_to OUT ARGS...: run tend (plain) with stdout to OUT; RC, ELAPSED, $T/err.
run_to() {
	local out=$1 start
	shift
	now_ms
	start=$NOW
	timeout -k 5 60 "$SIGREC" exec -- "$TEND" "$@" </dev/null >"$out" 2>"$T/err"
	RC=$?
	now_ms
	ELAPSED=$((NOW - start))
	sanitizer_check
}

# checks LABEL: what both cases share.
checks() {
	local n
	check_rc "$1: tend exits with the child's code" 3
	check "$1: a warning says tend's stdout cannot be written" \
	    grep -q "^tend: warn: .*stdout" "$T/err"
	n=$(grep -c "^tend: warn: " "$T/err")
	check "$1: warnings are few, not one per line ($n)" test "$n" -ge 1 -a "$n" -le 3
	check "$1: the child finished its writes: its last line (stderr) arrived" \
	    has_line "$T/err" "done"
	check "$1: tend logged the child's exit with code=3" \
	    grep -qE "^tend: exited .*cause=exit:3 .*code=3$" "$T/err"
	check "$1: not blocked (${ELAPSED} ms < 10000)" test "$ELAPSED" -lt 10000
}

if [ -w /dev/full ] && ! echo x 2>/dev/null >/dev/full; then
	run_to /dev/full --restart-policy never -- "${CHILD[@]}"
	checks "/dev/full"
	check "/dev/full: the error is ENOSPC" grep -q "^tend: warn: .*No space left" "$T/err"
else
	skip "/dev/full is missing or accepts writes here"
fi

# The reader reads one line and leaves: tend must not die of SIGPIPE.
now_ms
start=$NOW
timeout -k 5 60 "$SIGREC" exec -- "$TEND" --restart-policy never -- "${CHILD[@]}" \
    </dev/null 2>"$T/err" | head -n 1 >"$T/out"
RC=${PIPESTATUS[0]}
now_ms
ELAPSED=$((NOW - start))
sanitizer_check
checks "reader gone"
check "reader gone: the reader got the first line" has_line "$T/out" 1
check "reader gone: the error is EPIPE" grep -q "^tend: warn: .*Broken pipe" "$T/err"

finish
