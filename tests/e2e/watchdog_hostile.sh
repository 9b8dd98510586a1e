#!/bin/bash
# Hostile health endpoints: a raw socket server (Python, socket module) answers the first
# two probes properly, then (a) accepts and never answers, (b) answers garbage, (c) sends
# a status line and a 10 MB header line, (d) sends a valid header and a 10 MB body while
# --health-expect-body makes tend read it, (e) resets the connection (SO_LINGER 0).
# The child is a plain `sleep 1000`. Each hostile answer is a failed probe of the right
# kind (--log-level debug shows them): tend finds a hang, restarts the child, then the
# startup deadline passes; tend stays responsive (little CPU, TERM ends it at once with
# 143 from the sleep) and does not crash.
. "$(dirname "$0")/lib.sh"

cat >"$T/hostile.py" <<'PY'
import socket, struct, sys, threading, time

mode, port, ok_first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
BIG = 10 * 1024 * 1024
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
held = []


def serve(c, n):
    try:
        c.settimeout(5)
        try:
            c.recv(4096)
        except OSError:
            pass
        if n <= ok_first:
            c.sendall(OK)
        elif mode == "silent":
            held.append(c)      # never answer, never close
            return
        elif mode == "garbage":
            c.sendall(b"\x00\xff\x13garbage, not HTTP at all\r\n\r\n")
            time.sleep(1)
        elif mode == "bighead":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Junk: ")
            c.sendall(b"a" * BIG)
        elif mode == "bigbody":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG)
            c.sendall(b"x" * BIG)
        elif mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    except OSError:
        c.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("listening", flush=True)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
PY

# hostile MODE EXPECTED [TEND ARGS...]: run the scenario against the server in MODE;
# EXPECTED is the probe result tend must log for the hostile answers.
hostile() {
	local mode=$1 want=$2 srv
	shift 2
	free_port
	rm -f "$T/srv.out"
	/usr/bin/python3 "$T/hostile.py" "$mode" "$PORT" 2 >"$T/srv.out" 2>&1 &
	srv=$!
	if ! wait_line "$T/srv.out" listening 10; then
		not_ok "$mode: the hostile server did not start ($(head -c 300 "$T/srv.out"))"
		kill -KILL "$srv" 2>/dev/null
		return
	fi
	if ! start_tend_ts plain --log-level debug --health-url "http://127.0.0.1:$PORT/health" \
	    --startup-timeout 2s --startup-interval 200ms --health-interval 300ms \
	    --health-timeout 500ms --health-failure-threshold 3 --stop-timeout 1s \
	    --restart-backoff 200ms --restart-limit-burst 20 "$@" -- sleep 1000; then
		not_ok "$mode: tend did not start"
		abort_tend
		kill -KILL "$srv" 2>/dev/null
		return
	fi
	if wait_ts 20 1 '^tend: (warn: )?stopping .*cause=hang' &&
	    hang=$TS_LINE && wait_ts 20 1 '^tend: (warn: )?stopping .*cause=startup-timeout'; then
		st=$TS_LINE
		check "$mode: running, then a hang with probe=$want ($hang)" \
		    eval '[ "$(field probe "$hang")" = "$want" ] && [ "$(field from "$hang")" = unhealthy ] &&
		        ts_find 1 "^tend: running "'
		check "$mode: restarted, then startup-timeout with probe=$want ($st)" \
		    eval '[ "$(field probe "$st")" = "$want" ] && [ "$(field attempt "$st")" = 2 ]'
		check "$mode: $(ts_count "^tend: probe $want ") probes logged as '$want' (>= 4)" \
		    test "$(ts_count "^tend: probe $want ")" -ge 4
		local stat ticks ms
		stat=$(cat "/proc/$TEND_PID/stat" 2>/dev/null)
		stat=${stat##*) }
		read -r _ _ _ _ _ _ _ _ _ _ _ ut st_ _ <<<"$stat"
		ticks=$((ut + st_))
		now_ms
		ms=$((NOW - TS0))
		check "$mode: tend used little CPU ($((ticks * 10)) ms in $ms ms)" \
		    test $((ticks * 10)) -lt $((ms / 2))
		mark
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check_rc "$mode: TERM to tend ends it (sleep dies of TERM, or no child)" 143
		check "$mode: ... promptly (${ELAPSED} ms)" test "$ELAPSED" -lt 5000
	else
		not_ok "$mode: tend did not reach hang and startup-timeout within 40 s"
		show_tend
		abort_tend
	fi
	check "$mode: tend did not crash" eval '! grep -q "^tend: .*\(assert\|abort\)" "$T/err"'
	check_sanitizers "$mode"
	kill -KILL "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
}

hostile silent timeout
hostile garbage protocol-error
hostile bighead protocol-error
hostile bigbody protocol-error --health-expect-body ok
hostile reset reset

# Control: without expect_body tend reads only the status line and headers, so a valid
# header followed by a 10 MB body passes (the bigbody failure above comes from reading
# the body, bounded to 64 KiB).
free_port
/usr/bin/python3 "$T/hostile.py" bigbody "$PORT" 0 >"$T/srv.out" 2>&1 &
srv=$!
if wait_line "$T/srv.out" listening 10 &&
    start_tend_ts plain --log-level debug --health-url "http://127.0.0.1:$PORT/health" \
    --startup-timeout 2s --startup-interval 200ms --health-interval 300ms \
    --health-timeout 500ms -- sleep 1000; then
	if wait_ts 10 4 '^tend: probe ok '; then
		ok "bigbody without expect_body: probes pass ($TS_LINE)"
		check "bigbody without expect_body: running, no stop" \
		    eval 'ts_find 1 "^tend: running " && [ "$(ts_count "^tend: (warn: )?stopping ")" = 0 ]'
	else
		not_ok "bigbody without expect_body: no 4 passing probes"
		show_tend
	fi
	kill -TERM "$TEND_PID"
	wait_tend_ts
	check_rc "bigbody without expect_body: TERM to tend" 143
	check_sanitizers "bigbody without expect_body"
else
	not_ok "bigbody without expect_body: server or tend did not start"
	abort_tend
fi
kill -KILL "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

finish
