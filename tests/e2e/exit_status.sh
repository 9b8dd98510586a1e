#!/bin/bash
# Exit status: codes 0..255 pass through, 128+N for a child killed by signal N, and with
# the default policy (on-failure) a clean exit ends tend with 0. As PID 1 and not.
. "$(dirname "$0")/lib.sh"

for mode in $MODES; do
	# All 256 codes; one line per mismatch, one test per mode.
	bad=
	for ((i = 0; i < 256; i++)); do
		run_tend "$mode" --restart-policy never -- sh -c "exit $i"
		if [ "$RC" != "$i" ]; then
			bad="$bad $i->$RC"
			[ "${#bad}" -lt 200 ] || break
		fi
	done
	if [ -z "$bad" ]; then
		ok "$mode: exit codes 0..255 pass through"
	else
		not_ok "$mode: exit codes that did not pass through (code->tend's):$bad"
		show_tend
	fi

	for sig in KILL:9 SEGV:11 TERM:15 ABRT:6 HUP:1 INT:2 USR1:10; do
		name=${sig%:*}
		num=${sig#*:}
		run_tend "$mode" --restart-policy never -- sh -c "kill -$name \$\$; sleep 30"
		check_rc "$mode: child killed by $name gives 128+$num" $((128 + num))
	done

	# Without --restart-policy: on-failure, and a clean exit is not a failure.
	run_tend "$mode" -- sh -c 'exit 0'
	check_rc "$mode: default policy, child exits 0: tend exits 0" 0
	run_tend "$mode" -- true
	check_rc "$mode: default policy, 'true': tend exits 0" 0
done

finish
