#!/bin/bash
# Child output under a flood (issue 5): 1,000,000 numbered lines on stdout and as many on
# stderr at the same time arrive exactly once and in order per stream; a 1 MB line with
# no newline, then exit, arrives byte for byte on both streams. Prints the throughput of
# the output path (through tend, and the same child writing straight to files or pipes).
. "$(dirname "$0")/lib.sh"

N=1000000
seq 1 "$N" >"$T/expect" || exit 99
BYTES=$(($(stat -c %s "$T/expect") * 2))
# Both streams at once; seq is fast enough that tend's path is what is measured.
WRITER=(sh -c 'seq 1 "$1" & seq 1 "$1" >&2; wait' writer "$N")

# --- a million lines per stream ------------------------------------------------------------
run_tend plain -- "${WRITER[@]}"
check_rc "flood: the writer exits 0" 0
check "flood: stdout is exactly seq 1 $N ($(wc -l <"$T/out") lines)" cmp -s "$T/out" "$T/expect"
grep -av '^tend: ' "$T/err" >"$T/err.child"
check "flood: stderr without tend's own lines is exactly seq 1 $N ($(wc -l <"$T/err.child") lines)" \
    cmp -s "$T/err.child" "$T/expect"
check "flood: tend's own lines stay whole (a 'running' and an 'exited ... code=0' line)" \
    eval 'grep -q "^tend: running from=" "$T/err" &&
        grep -qE "^tend: exited from=.* code=0$" "$T/err"'

# --- throughput: best of 3 runs per path ---------------------------------------------------
# best_ms VAR COMMAND...: the fastest of 3 runs of COMMAND (stdout/stderr set by it), in VAR.
best_ms() {
	local var=$1 i start best=
	shift
	for i in 1 2 3; do
		now_ms
		start=$NOW
		"$@"
		now_ms
		if [ -z "$best" ] || [ $((NOW - start)) -lt "$best" ]; then
			best=$((NOW - start))
		fi
	done
	[ "$best" -gt 0 ] || best=1
	printf -v "$var" '%s' "$best"
}
tend_files() {
	timeout 60 "$TEND" --log-level error -- "${WRITER[@]}" >"$T/t.out" 2>"$T/t.err"
}
tend_pipes() {
	(timeout 60 "$TEND" --log-level error -- "${WRITER[@]}" | cat >"$T/t.out") 2>&1 |
	    cat >"$T/t.err"
}
direct_files() {
	timeout 60 "${WRITER[@]}" >"$T/d.out" 2>"$T/d.err"
}
direct_pipes() {
	(timeout 60 "${WRITER[@]}" | cat >"$T/d.out") 2>&1 | cat >"$T/d.err"
}
# rate LABEL MS: one diag line with lines/s and MB/s.
rate() {
	diag "$(printf '%-24s %6d ms  %10d lines/s  %7d MB/s' "$1" "$2" \
	    $((2 * N * 1000 / $2)) $((BYTES / 1000 / $2)))"
}
best_ms ms_tf tend_files
check "throughput: through tend to files, both streams complete" \
    eval 'cmp -s "$T/t.out" "$T/expect" && cmp -s "$T/t.err" "$T/expect"'
best_ms ms_tp tend_pipes
check "throughput: through tend to pipes, both streams complete" \
    eval 'cmp -s "$T/t.out" "$T/expect" && cmp -s "$T/t.err" "$T/expect"'
best_ms ms_df direct_files
best_ms ms_dp direct_pipes
diag "throughput, $((2 * N)) lines ($BYTES bytes) on stdout+stderr, best of 3:"
rate "tend -> files" "$ms_tf"
rate "tend -> pipes (cat)" "$ms_tp"
rate "direct -> files" "$ms_df"
rate "direct -> pipes (cat)" "$ms_dp"
check "throughput: through tend the flood takes < 10 s (${ms_tf} ms, ${ms_tp} ms)" \
    test "$ms_tf" -lt 10000 -a "$ms_tp" -lt 10000

# --- a 1 MB line without a newline, then exit -----------------------------------------------
# Any byte but the newline (NUL and CR included), on both streams.
head -c 1048576 /dev/urandom | tr '\n' '\r' >"$T/big" || exit 99
run_tend plain --log-level error -- sh -c 'cat "$1"; cat "$1" >&2' writer "$T/big"
check_rc "long line: the writer exits 0" 0
check "long line: stdout is the 1 MB line, byte for byte ($(stat -c %s "$T/out") bytes)" \
    cmp -s "$T/out" "$T/big"
check "long line: stderr is the 1 MB line, byte for byte ($(stat -c %s "$T/err") bytes)" \
    cmp -s "$T/err" "$T/big"

# With tend's own lines on: they must not land inside the child's line (printable this
# time, so the lines can be told apart).
head -c 786432 /dev/urandom | base64 -w0 >"$T/big" || exit 99
run_tend plain -- sh -c 'cat "$1" >&2' writer "$T/big"
check_rc "long line, tend's lines on: the writer exits 0" 0
grep -av '^tend: ' "$T/err" | head -c 1048576 >"$T/err.child"
where=$(grep -abo 'tend: [a-z]*' "$T/err" | tr '\n' ' ')
if cmp -s "$T/err.child" "$T/big"; then
	ok "long line, tend's lines on: the child's 1 MB arrive in one piece on stderr"
else
	not_ok "long line, tend's lines on: a tend line landed inside the child's 1 MB line"
	diag "offsets of tend's lines in tend's stderr (the child's line starts after the first): $where"
fi

finish
