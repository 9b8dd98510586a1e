#!/bin/bash
# NOTIFY_SOCKET whose reader has stopped reading (systemd busy, a stalled proxy): its
# queue fills after a few datagrams. tend must not wait on it: its loop goes on (the
# child is restarted, TERM ends tend at once) and it says once that notifications are
# delayed or dropped. libsystemd's sd_notify() would block in sendmsg for good here.
. "$(dirname "$0")/lib.sh"

if NOTIFY_SOCKET=$T/probe.sock timeout 10 "$TEND" -- true 2>&1 |
    grep -q "built without libsystemd"; then
	skip "tend was built without libsystemd"
	finish
fi

NSOCK=$T/notify.sock
# Bind and never read: the kernel queues a handful of datagrams (net.unix.max_dgram_qlen).
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
time.sleep(120)' "$NSOCK" &
RECV=$!
poll 5 test -S "$NSOCK" || { not_ok "the receiver did not bind"; finish; }

# A child that exits every 0.2 s: a state change (one datagram) per start and stop,
# plus WATCHDOG=1 every 50 ms: the queue is full within a second.
if NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=100000 start_tend plain --restart-policy always --restart-limit-interval 1ms \
    --restart-backoff 0 -- sh -c 'sleep 0.2; exit 1'; then
	check "the full queue is reported" \
	    poll 20 grep -q "NOTIFY_SOCKET is full" "$T/err"
	n0=$(grep -c "^tend: running " "$T/err")
	sleep 2
	n1=$(grep -c "^tend: running " "$T/err")
	check "the loop goes on with the queue full: restarts continue ($n0 -> $n1 runs)" \
	    test "$n1" -gt "$n0"
	mark
	kill -TERM "$TEND_PID"
	wait_tend
	check "TERM ends tend promptly (${ELAPSED} ms < 10000)" test "$ELAPSED" -lt 10000
	check "... not by the test's timeout (exit $RC)" eval '[[ $RC != timeout* ]]'
	check "the warning is said once ($(grep -c "NOTIFY_SOCKET is full" "$T/err"))" \
	    test "$(grep -c "NOTIFY_SOCKET is full" "$T/err")" = 1
else
	not_ok "tend did not start"
fi
kill "$RECV" 2>/dev/null
wait "$RECV" 2>/dev/null
check_sanitizers "notify stall"
finish
