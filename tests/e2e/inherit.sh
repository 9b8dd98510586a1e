#!/bin/bash
# What the child inherits: the caller's ignored signals and signal mask (and nothing of
# tend's own), stdin, cwd and environment (plus --environment); arguments after the
# command reach it untouched; tend's own lines go to stderr, never stdout.
. "$(dirname "$0")/lib.sh"

# out_is TEXT: tend's stdout is exactly TEXT (plus a final newline).
out_is() {
	[ "$(cat "$T/out")" = "$1" ]
}

# report_line LABEL FILE: the "LABEL: ..." line of a sigrec report.
report_line() {
	sed -n "s/^$1: *//p" "$2"
}

# inherit MODE LABEL SIGS EXEC-OPTION: the child's LABEL (ignored or blocked) list is
# the caller's, which holds SIGS.
inherit() {
	local mode=$1 label=$2 sigs=$3 opt=$4 want got
	EXEC_OPTS=("$opt" "$sigs")
	want=$("$SIGREC" exec "${EXEC_OPTS[@]}" -- "$SIGREC" report | sed -n "s/^$label: *//p")
	run_tend "$mode" --restart-policy never -- "$SIGREC" report
	EXEC_OPTS=()
	got=$(report_line "$label" "$T/out")
	check "$mode: caller's $label signals ($sigs = $want) are the child's (got: $got)" \
	    test -n "$want" -a "$want" = "$got"
}

mkdir -p "$T/wd" "$T/bin"
wd=$(cd "$T/wd" && pwd -P)
printf '#!/bin/sh\necho "a program named status"\n' >"$T/bin/status"
chmod 755 "$T/bin/status"

for mode in $MODES; do
	# Signals: nothing of tend's own dispositions or mask leaks into the child.
	run_tend "$mode" --restart-policy never -- "$SIGREC" report
	check "$mode: clean caller: nothing ignored in the child ($(report_line ignored "$T/out"))" \
	    test -z "$(report_line ignored "$T/out")" -a -s "$T/out"
	check "$mode: clean caller: nothing blocked in the child ($(report_line blocked "$T/out"))" \
	    test -z "$(report_line blocked "$T/out")" -a -s "$T/out"
	inherit "$mode" ignored USR1,HUP,PIPE,TTOU -i
	inherit "$mode" blocked USR2,WINCH,RTMIN+2 -b
	EXEC_OPTS=(-i USR1 -b USR2)
	run_tend "$mode" --restart-policy never -- \
	    sh -c 'exec "$SIGREC" report' 2>/dev/null
	EXEC_OPTS=()
	check "$mode: through sh too: USR1 ignored, USR2 blocked" \
	    test "$(report_line ignored "$T/out")" = 10 -a "$(report_line blocked "$T/out")" = 12

	# stdin (a pipe), cwd, environment.
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	echo hello >"$T/fifo" &
	TEND_STDIN=$T/fifo
	run_tend "$mode" --restart-policy never -- cat
	TEND_STDIN=/dev/null
	wait $!
	check "$mode: stdin (a pipe) reaches the child: echo hello | tend -- cat" out_is hello

	cd "$T/wd" || exit 99
	run_tend "$mode" --restart-policy never -- pwd -P
	cd - >/dev/null || exit 99
	check "$mode: cwd reaches the child ($(cat "$T/out"))" out_is "$wd"
	run_tend "$mode" --restart-policy never --directory "$T/wd" -- pwd -P
	check "$mode: --directory sets the child's cwd ($(cat "$T/out"))" out_is "$wd"

	FOO=bar run_tend "$mode" --restart-policy never -- sh -c 'echo "$FOO"'
	check "$mode: environment reaches the child (FOO=bar)" out_is bar
	run_tend "$mode" --restart-policy never --environment X=1 --environment Y=two -- \
	    sh -c 'echo "$X $Y"'
	check "$mode: --environment X=1 --environment Y=two reach the child" out_is "1 two"
	run_tend "$mode" --restart-policy never --program-environment X=1 -- sh -c 'echo "$X"'
	check "$mode: --program-environment X=1 reaches the child" out_is 1
	FOO=bar run_tend "$mode" --restart-policy never --environment FOO=baz -- \
	    sh -c 'echo "$FOO"'
	check "$mode: --environment FOO=baz overrides an inherited FOO=bar" out_is baz

	# Arguments after the command are the command's.
	run_tend "$mode" --restart-policy never -- printf '%s\n' -x --help -- -c
	check "$mode: tend -- printf '%s\\n' -x --help -- -c" out_is $'-x\n--help\n--\n-c'
	run_tend "$mode" --restart-policy never printf '%s\n' -x --help
	check "$mode: without --, parsing stops at the command: printf gets -x --help" \
	    out_is $'-x\n--help'
	run_tend "$mode" --restart-policy never -- sh -x -c 'exit 4'
	check_rc "$mode: tend -- sh -x -c 'exit 4'" 4
	check "$mode: ... sh -x traced to stderr" grep -q '+ exit 4' "$T/err"
	run_tend "$mode" --restart-policy never -- ls -la "$T/wd"
	check_rc "$mode: tend -- ls -la DIR" 0
	PATH=$T/bin:$PATH run_tend "$mode" --restart-policy never -- status
	check "$mode: tend -- status runs a program named status" \
	    out_is "a program named status"

	# tend's stdout belongs to the child.
	run_tend "$mode" --restart-policy never -- true
	check "$mode: a silent child: tend's stdout is empty" test ! -s "$T/out"
	check "$mode: ... and tend's own lines are on stderr" test -s "$T/err"
	run_tend "$mode" --restart-policy never -- sh -c 'echo out; echo err >&2; exit 3'
	check "$mode: stdout holds only the child's output" out_is out
	check "$mode: the child's stderr goes to stderr" grep -qx err "$T/err"
	check_rc "$mode: ... exit 3" 3
	run_tend "$mode" --restart-policy never --stop-timeout 1s -- "$T/no/such/command"
	check "$mode: not found: tend's stdout is still empty" test ! -s "$T/out"
done

finish
