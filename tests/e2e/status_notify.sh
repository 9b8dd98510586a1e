#!/bin/bash
# systemd notifications (sd_notify) with a datagram socket of the test's own as
# NOTIFY_SOCKET and WATCHDOG_USEC set. Start (slow_start.py): EXTEND_TIMEOUT_USEC while
# starting, READY=1 only after the first passing probe (seconds after the spawn), once.
# Hang (hang.py wedged by GET /hang): the WATCHDOG=1 pings stop while probes fail, long
# before tend stops the child; none while the new child starts; they resume once it
# passes; READY=1 is not sent again. Stop: STOPPING=1 on TERM. MAINPID is never sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"
need_uvicorn

NSOCK=$T/notify.sock
LOG=$T/notify.log
RECV=

# Receive datagrams on $NSOCK; one line per message line: "MS<TAB>N<TAB>LINE" (MS:
# CLOCK_MONOTONIC in ms, N: datagram number).
start_receiver() {
	rm -f "$NSOCK" "$LOG"
	: >"$LOG"
	$PY - "$NSOCK" "$LOG" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
n = 0
with open(sys.argv[2], "a") as out:
    while True:
        data = s.recv(65536)
        n += 1
        ms = int(time.monotonic() * 1000)
        for line in data.decode(errors="replace").split("\n"):
            out.write(f"{ms}\t{n}\t{line}\n")
        out.flush()
PYEOF
	RECV=$!
	poll 10 test -S "$NSOCK"
}

stop_receiver() {
	kill "$RECV" 2>/dev/null
	wait "$RECV" 2>/dev/null
	RECV=
}

# nth N REGEX: set MS, DG (datagram number) and LINE from the Nth logged line matching
# REGEX; false if fewer.
nth() {
	local l
	l=$(awk -F'\t' -v n="$1" -v re="$2" '$3 ~ re && ++k == n { print; exit }' "$LOG")
	[ -n "$l" ] || return 1
	MS=${l%%$'\t'*}
	LINE=${l##*$'\t'}
	DG=${l#*$'\t'}
	DG=${DG%%$'\t'*}
}

# count REGEX [FROM_MS [TO_MS]]: lines matching REGEX, optionally within a time range.
count() {
	awk -F'\t' -v re="$1" -v a="${2:-0}" -v b="${3:-99999999999999}" \
	    '$3 ~ re && $1 >= a && $1 <= b { k++ } END { print k + 0 }' "$LOG"
}

# count_dg REGEX FROM TO: lines matching REGEX in datagrams strictly between FROM and TO
# (datagram numbers: exact order, where two messages in the same millisecond tie).
count_dg() {
	awk -F'\t' -v re="$1" -v a="$2" -v b="$3" \
	    '$3 ~ re && $2 > a && $2 < b { k++ } END { print k + 0 }' "$LOG"
}

# count_from_dg REGEX FROM: lines matching REGEX in datagrams after FROM.
count_from_dg() {
	count_dg "$1" "$2" 99999999999999
}

# last_before REGEX MS: the time of the last line matching REGEX before MS (0: none).
last_before() {
	awk -F'\t' -v re="$1" -v t="$2" '$3 ~ re && $1 < t { m = $1 } END { print m + 0 }' "$LOG"
}

show_log() {
	sed 's/^/#   /' "$LOG" | head -80
}

# --- built without libsystemd: nothing is sent, and tend says so once ---------------------
if NOTIFY_SOCKET=$T/probe.sock timeout 10 "$TEND" -- true 2>&1 |
    grep -q "built without libsystemd"; then
	start_receiver
	NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=200000 run_tend plain --restart-policy never -- \
	    sh -c 'sleep 1; exit 4'
	check_rc "without libsystemd: the child runs as usual" 4
	check "without libsystemd: the warning is said once" \
	    test "$(grep -c "NOTIFY_SOCKET is set but tend was built without libsystemd" "$T/err")" = 1
	stop_receiver
	check "without libsystemd: no datagram reaches NOTIFY_SOCKET ($(wc -l <"$LOG") lines)" \
	    test ! -s "$LOG"
	finish
fi

# --- start and stop, with a slow starting app --------------------------------------------
free_port || { not_ok "no free port"; finish; }
app_cmd slow_start
start_receiver
if ! STARTUP_DELAY=3 NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=2000000 start_tend plain \
    --health-url "http://127.0.0.1:$PORT/health" --health-interval 300ms \
    --startup-timeout 20s --startup-interval 200ms --stop-timeout 2s -- "${APP[@]}"; then
	not_ok "start: tend did not start"
	finish
fi
check "start: READY=1 arrives" poll 30 nth 1 '^READY=1$'
T_READY=$MS
DG_READY=$DG
# Two pings after READY (one a second; up to 10 s on a loaded machine), then the stop.
poll 10 eval '[ "$(count_from_dg "^WATCHDOG=1$" "$DG_READY")" -ge 2 ]'
mark
kill -TERM "$TEND_PID"
wait_tend
poll 10 nth 1 '^STOPPING=1$'	# the receiver may lag behind tend's last datagram
stop_receiver

nth 1 '^STATUS=starting' && T_START=$MS && DG_START=$DG
check "start: the first message is STATUS=starting... with EXTEND_TIMEOUT_USEC" \
    eval 'nth 1 "." && [ "$LINE" = "STATUS=starting, no restarts" ] && nth 1 "^EXTEND_TIMEOUT_USEC=" && [ "$DG" = "$DG_START" ]'
ext=${LINE#EXTEND_TIMEOUT_USEC=}
check "start: the extension covers the 20 s startup deadline ($ext us)" test "$ext" -ge 20000000
n=$(count_dg '^EXTEND_TIMEOUT_USEC=' 0 "$DG_READY")
check "start: EXTEND_TIMEOUT_USEC re-sent while starting ($n times before READY)" test "$n" -ge 2
check "start: READY=1 only after the first passing probe, $((T_READY - T_START)) ms after the spawn (app: 3 s)" \
    test $((T_READY - T_START)) -ge 2000
check "start: READY=1 comes with STATUS=running" \
    eval 'nth 1 "^STATUS=running" && [ "$DG" = "$DG_READY" ]'
check "start: no EXTEND_TIMEOUT_USEC after READY ($(count_from_dg '^EXTEND' "$DG_READY"))" \
    test "$(count_from_dg '^EXTEND' "$DG_READY")" = 0
n=$(count_from_dg '^WATCHDOG=1$' "$DG_READY")
check "start: WATCHDOG=1 every second while healthy ($n after READY)" test "$n" -ge 2
check "stop: STOPPING=1 after TERM, with STATUS=stopping" \
    eval 'nth 1 "^STOPPING=1$" && [ "$DG" -gt "$DG_READY" ] && d=$DG && nth 1 "^STATUS=stopping" && [ "$DG" = "$d" ]'
check "READY=1 once, no MAINPID" \
    eval '[ "$(count "^READY=1$")" = 1 ] && [ "$(count "^MAINPID")" = 0 ]'
[ "$nfail" -gt 0 ] && show_log
show_log | grep -v WATCHDOG | head -30

# --- hang, restart, stop ----------------------------------------------------------------------
free_port || { not_ok "no free port"; finish; }
app_cmd hang
start_receiver
if ! HANG_AFTER=0 NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=1000000 start_tend plain \
    --health-url "http://127.0.0.1:$PORT/health" --health-interval 200ms \
    --health-timeout 300ms --health-failure-threshold 10 --startup-timeout 20s \
    --stop-timeout 500ms --restart-backoff 200ms -- "${APP[@]}"; then
	not_ok "hang: tend did not start"
	finish
fi
check "hang: READY=1 arrives" poll 30 nth 1 '^READY=1$'
T_READY=$MS
DG_READY=$DG
# Two pings while healthy (every 500 ms; up to 10 s on a loaded machine), then the wedge.
poll 10 eval '[ "$(count_from_dg "^WATCHDOG=1$" "$DG_READY")" -ge 2 ]'

check "hang: GET /hang wedges the app" eval 'http_get /hang | head -1 | grep -q " 200"'
check "hang: tend stops it (STATUS=stopping)" poll 30 nth 1 '^STATUS=stopping'
T_STOP=$MS
DG_STOP=$DG
check "hang: ... and it runs again (a second STATUS=running)" poll 30 nth 2 '^STATUS=running'
T_RUN2=$MS
DG_RUN2=$DG
# A ping once the new child passes (every 500 ms; up to 10 s on a loaded machine).
poll 10 eval '[ "$(count_from_dg "^WATCHDOG=1$" "$DG_RUN2")" -ge 1 ]'
kill -TERM "$TEND_PID"
wait_tend
poll 10 nth 1 '^STOPPING=1$'	# the receiver may lag behind tend's last datagram
stop_receiver

n=$(count_dg '^WATCHDOG=1$' "$DG_READY" "$DG_STOP")
check "hang: WATCHDOG=1 while healthy ($n between READY and the stop)" test "$n" -ge 2
t_last=$(last_before '^WATCHDOG=1$' "$T_STOP")
check "hang: pings stopped while probes failed: the last one $((T_STOP - t_last)) ms before the stop (>= 1000)" \
    test $((T_STOP - t_last)) -ge 1000
# By datagram number: the first ping after the new child runs may share its millisecond.
n=$(count_dg '^WATCHDOG=1$' "$DG_STOP" "$DG_RUN2")
check "hang: no ping while the new child starts ($n)" test "$n" = 0
n=$(count_from_dg '^WATCHDOG=1$' "$DG_RUN2")
check "hang: pings resume once it passes a probe ($n)" test "$n" -ge 1
check "hang: the stop names the cause in STATUS=" \
    eval 'nth 1 "^STATUS=stopping" && [[ $LINE == *"1 restart, last: hang"* ]]'
check "hang: READY=1 once; STOPPING=1 at the end" \
    eval '[ "$(count "^READY=1$")" = 1 ] && nth 1 "^STOPPING=1$" && [ "$DG" -gt "$DG_RUN2" ]'
[ "$nfail" -gt 0 ] && show_log
show_log | grep -v WATCHDOG | head -30
check_sanitizers "sd_notify"
finish
