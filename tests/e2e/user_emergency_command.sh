#!/bin/bash
# Two behaviours only config parsing covered before: [program] user drops the child's
# privileges (uid, gid, supplementary groups) and [emergency] command replaces the
# command in emergency mode (with [emergency] environment). Also: without a health url
# the switch to emergency mode names its cause on the emergency-running line.
# As PID 1 and plain.
. "$(dirname "$0")/lib.sh"

for mode in $MODES; do
	if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
		run_tend "$mode" --restart-policy never --user nobody -- \
		    sh -c 'id -u; id -g; id -G'
		check_rc "$mode: --user nobody: the child exits 0" 0
		want="$(id -u nobody) $(id -g nobody) $(id -G nobody)"
		check "$mode: --user nobody: uid, gid, groups are nobody's ($(tr '\n' ' ' <"$T/out"))" \
		    test "$(tr '\n' ' ' <"$T/out" | sed 's/ $//')" = "$want"
		run_tend "$mode" --restart-policy never --user 65534:65533 -- sh -c 'id -g; id -G'
		check "$mode: --user 65534:65533: gid and groups are 65533 ($(tr '\n' ' ' <"$T/out"))" \
		    test "$(tr '\n' ' ' <"$T/out")" = "65533 65533 "
	else
		skip "$mode: --user needs root and a 'nobody' user"
	fi

	cat >"$T/em.ini" <<INI
[program]
command = sh -c 'echo normal; exit 3'
[restart]
backoff = 0
limit_burst = 2
[emergency]
environment = EM_VAR=set
command = sh -c 'echo "emergency command EM_VAR=\$EM_VAR"; exit 0'
INI
	run_tend "$mode" -c "$T/em.ini"
	check_rc "$mode: emergency command: exits 0 after the crash loop" 0
	check "$mode: emergency command: two normal runs, then the emergency command" \
	    test "$(tr '\n' ' ' <"$T/out")" = "normal normal emergency command EM_VAR=set "
	check "$mode: emergency command: the switch names its cause (cause=exit:3)" \
	    grep -qE '^tend: emergency-(starting|running) .*mode=emergency .*cause=exit:3' "$T/err"
done

finish
