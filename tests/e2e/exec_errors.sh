#!/bin/bash
# 126 when the command is not executable, 127 when it is not found, each with a message
# naming the command; 2 for a bad command line (with usage), 78 for a bad value.
. "$(dirname "$0")/lib.sh"

noexec=$T/not-executable.sh
printf '#!/bin/sh\necho ran\n' >"$noexec"
chmod 644 "$noexec"
mkdir "$T/a-directory"
missing=tend-e2e-no-such-command

# stderr_names WORD: tend's stderr mentions WORD.
stderr_names() {
	grep -qF -- "$1" "$T/err"
}

for mode in $MODES; do
	run_tend "$mode" --restart-policy never -- "$noexec"
	check_rc "$mode: command without x bit" 126
	check "$mode: the 126 message names the command" stderr_names "$noexec"
	check "$mode: the command did not run" test ! -s "$T/out"

	run_tend "$mode" --restart-policy never -- "$T/a-directory"
	check_rc "$mode: command is a directory" 126

	run_tend "$mode" --restart-policy never -- "$T/no/such/file"
	check_rc "$mode: command path does not exist" 127
	check "$mode: the 127 message names the command" stderr_names "$T/no/such/file"

	run_tend "$mode" --restart-policy never -- "$missing" arg
	check_rc "$mode: command not found in PATH" 127
	check "$mode: the PATH 127 message names the command" stderr_names "$missing"

	# With the default policy (on-failure) a command that cannot run is not retried.
	TEND_TIMEOUT=30
	run_tend "$mode" -- "$missing"
	check_rc "$mode: default policy, command not found" 127
	run_tend "$mode" -- "$noexec"
	check_rc "$mode: default policy, command not executable" 126
	TEND_TIMEOUT=60
done

# The command line (not mode dependent).
run_tend plain --no-such-flag -- true
check_rc "unknown flag" 2
check "unknown flag: usage on stderr" grep -qi usage "$T/err"
check "unknown flag: the message names the flag" stderr_names no-such-flag
check "unknown flag: nothing on stdout" test ! -s "$T/out"

run_tend plain --restart-policy
check "flag without its value: exit 2 or 78 (got $RC)" test "$RC" = 2 -o "$RC" = 78

run_tend plain
check "no command at all: exit 2 or 78 with a message (got $RC)" \
    test \( "$RC" = 2 -o "$RC" = 78 \) -a -s "$T/err"

# stderr_names_key KEY: the message names --KEY or the key KEY (dashes or underscores).
stderr_names_key() {
	grep -qE -- "${1//-/[-_]}" "$T/err"
}
for bad in "--stop-timeout 5" "--stop-timeout soon" "--stop-signal NOPE" \
    "--restart-policy sometimes" "--forward nowhere"; do
	set -- $bad
	run_tend plain "$1" "$2" -- true
	check_rc "bad value: $bad" 78
	check "bad value: $bad: the message names ${1#--}" stderr_names_key "${1#--}"
done

run_tend plain --help
check_rc "--help" 0
check "--help prints something" test -s "$T/out" -o -s "$T/err"

finish
