#!/bin/bash
# Every catchable signal sent to tend reaches the child: 1..31 but KILL, STOP and CHLD,
# plus SIGRTMIN..SIGRTMAX. tend never stops on TSTP/TTIN/TTOU. TERM, INT and QUIT (stop
# requests) are tested last, one run each. --forward group reaches a grandchild in the
# child's process group; --forward child (the default) does not.
. "$(dirname "$0")/lib.sh"

report=$("$SIGREC" report)
rtmin=$(echo "$report" | sed -n 's/^rtmin: //p')
rtmax=$(echo "$report" | sed -n 's/^rtmax: //p')
diag "real-time signals: $rtmin..$rtmax"

signals=
for ((s = 1; s <= 31; s++)); do
	case $s in 2 | 3 | 9 | 15 | 17 | 19) continue ;; esac	# INT QUIT KILL TERM CHLD STOP
	signals="$signals $s"
done
for ((s = rtmin; s <= rtmax; s++)); do
	signals="$signals $s"
done

# forward_all MODE: send every signal in $signals, one at a time, each confirmed.
forward_all() {
	local mode=$1 s missing='' stops='' dups extra wait nmiss=0
	rm -f "$T/rec" "$T/pid"
	if ! start_tend "$mode" --restart-policy never --stop-timeout 2s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -x TERM; then
		not_ok "$mode: tend did not start"
		show_tend
		abort_tend
		return
	fi
	if ! wait_file "$T/pid"; then
		not_ok "$mode: the child did not start"
		show_tend
		abort_tend
		return
	fi
	# 5 s for each signal, 0.3 s once three went missing (a broken tend fails fast).
	wait=5000
	for s in $signals; do
		kill -"$s" "$TEND_PID" 2>/dev/null
		if ! poll_ms "$wait" has_line "$T/rec" "$s"; then
			missing="$missing $s"
			nmiss=$((nmiss + 1))
			[ "$nmiss" -lt 3 ] || wait=300
		fi
		case $s in
		20 | 21 | 22)
			sleep 0.05
			stopped "$TEND_PID" && stops="$stops $s" && kill -CONT "$TEND_PID"
			;;
		esac
		alive "$TEND_PID" || break
	done
	if alive "$TEND_PID"; then
		ok "$mode: tend survives every signal (ABRT, SEGV, BUS, FPE, ILL, ... included)"
	else
		not_ok "$mode: tend died after signal $s (state: $(proc_state "$TEND_PID"))"
		show_tend
	fi
	if [ -z "$missing" ]; then
		ok "$mode: all $(echo $signals | wc -w) signals reached the child"
	else
		not_ok "$mode: signals that did not reach the child:$missing"
		show_tend
	fi
	if [ -z "$stops" ]; then
		ok "$mode: tend did not stop on TSTP/TTIN/TTOU"
	else
		not_ok "$mode: tend stopped on:$stops"
	fi
	dups=$(sort "$T/rec" | uniq -d | tr '\n' ' ')
	extra=$(grep -vxF -f <(echo $signals | tr ' ' '\n') "$T/rec" | tr '\n' ' ')
	check "$mode: each signal arrived once (twice: ${dups:-none})" test -z "$dups"
	check "$mode: no signal the test did not send (extra: ${extra:-none})" test -z "$extra"

	kill -TERM "$TEND_PID"
	wait_tend
	check "$mode: TERM to tend reaches the child as TERM (the stop signal)" \
	    has_line "$T/rec" 15
	check_rc "$mode: the child exits 0 on TERM, so does tend" 0
}

# stop_request MODE SIGNAL NUMBER: INT or QUIT to tend reaches the child as itself.
stop_request() {
	local mode=$1 name=$2 num=$3
	rm -f "$T/rec" "$T/pid"
	if ! start_tend "$mode" --restart-policy never --stop-timeout 2s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -x "$name" || ! wait_file "$T/pid"; then
		not_ok "$mode: tend or its child did not start"
		show_tend
		abort_tend
		return
	fi
	kill -"$name" "$TEND_PID"
	wait_tend
	check "$mode: $name to tend reaches the child as $name (got: $(tr '\n' ' ' <"$T/rec"))" \
	    has_line "$T/rec" "$num"
	check_rc "$mode: the child exits 0 on $name, so does tend" 0
}

# group MODE: --forward group reaches the grandchild; the default does not.
group() {
	local mode=$1 s missing='' wait=5000
	rm -f "$T/rec" "$T/pid" "$T/gc" "$T/gc.pid"
	if ! start_tend "$mode" --restart-policy never --forward group --stop-timeout 1s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -g "$T/gc" -x TERM ||
	    ! wait_file "$T/pid"; then
		not_ok "$mode: tend or its child did not start"
		show_tend
		abort_tend
		return
	fi
	for s in 10 1 28 20 $((rtmin + 1)); do
		kill -"$s" "$TEND_PID"
		poll_ms "$wait" has_line "$T/rec" "$s" || missing="$missing child:$s"
		poll_ms "$wait" has_line "$T/gc" "$s" || missing="$missing grandchild:$s"
		[ -z "$missing" ] || wait=300
	done
	if [ -z "$missing" ]; then
		ok "$mode: --forward group: USR1 HUP WINCH TSTP RTMIN+1 reach child and grandchild"
	else
		not_ok "$mode: --forward group: missing:$missing"
		show_tend
	fi
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: --forward group run ends on TERM" 0

	rm -f "$T/rec" "$T/pid" "$T/gc" "$T/gc.pid"
	if ! start_tend "$mode" --restart-policy never --stop-timeout 1s -- \
	    "$SIGREC" record -o "$T/rec" -p "$T/pid" -g "$T/gc" -x TERM ||
	    ! wait_file "$T/pid"; then
		not_ok "$mode: tend or its child did not start"
		show_tend
		abort_tend
		return
	fi
	kill -USR1 "$TEND_PID"
	wait_line "$T/rec" 10 5
	sleep 0.3
	check "$mode: default --forward child: the child gets USR1" has_line "$T/rec" 10
	check "$mode: default --forward child: the grandchild does not" \
	    test ! -s "$T/gc"
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: --forward child run ends on TERM" 0
}

for mode in $MODES; do
	forward_all "$mode"
	group "$mode"
	stop_request "$mode" INT 2
	stop_request "$mode" QUIT 3
done

finish
