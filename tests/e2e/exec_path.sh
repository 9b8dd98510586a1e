#!/bin/bash
# The command is looked up in the child's PATH: a PATH given with [program] environment
# (--environment) finds a command that tend's own PATH does not; without it, 127.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin"
printf '#!/bin/sh\necho "found in PATH: $PATH"\n' >"$T/bin/tend-test-cmd"
chmod +x "$T/bin/tend-test-cmd"

for mode in $MODES; do
	run_tend "$mode" --restart-policy never --environment "PATH=$T/bin:/usr/bin:/bin" -- \
	    tend-test-cmd
	check_rc "$mode: a PATH in [program] environment finds the command" 0
	check "$mode: ... and the command ran with it" grep -q "^found in PATH: $T/bin:" "$T/out"
	run_tend "$mode" --restart-policy never -- tend-test-cmd
	check_rc "$mode: tend's own PATH does not have it" 127
done
check_sanitizers "exec path"
finish
