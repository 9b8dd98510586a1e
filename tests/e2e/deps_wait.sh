#!/bin/bash
# [startup] wait_for: a tcp:// target that comes up after 2 s, an http:// target that
# answers 503 before 200, targets that never come (exit 69 after wait_timeout, both
# named, progress lines meanwhile), TERM during the wait (exit 143 at once), and
# wait_each_start (a wait before every spawn, not only the first).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3

# server.py tcp PORT DELAY FILE: after DELAY s, bind 127.0.0.1:PORT, create FILE, then
# listen (never accept): FILE exists before any connection can succeed. server.py http
# PORT FILE: serve HTTP at once, 503 until FILE exists, then 204.
cat >"$T/server.py" <<'EOF'
import http.server, os, socket, sys, time

kind, port = sys.argv[1], int(sys.argv[2])
if kind == "tcp":
    time.sleep(float(sys.argv[3]))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    open(sys.argv[4], "w").close()
    s.listen(64)
    time.sleep(120)
else:
    ready = sys.argv[3]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(204 if os.path.exists(ready) else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
EOF

# Stop the servers started for one test.
SERVERS=
stop_servers() {
	local p
	for p in $SERVERS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SERVERS=
}

# A tcp target that comes up 2 s after tend started: the child runs after it, not before.
for mode in $MODES; do
	free_port
	rm -f "$T/up"
	"$PY" "$T/server.py" tcp "$PORT" 2 "$T/up" &
	SERVERS=$!
	run_tend "$mode" --restart-policy never --startup-wait-for "tcp://127.0.0.1:$PORT" -- \
	    sh -c "test -e '$T/up' && echo started-after-up"
	stop_servers
	check_rc "$mode: late tcp target, then the child" 0
	check "$mode: the child started after the target was up" has_line "$T/out" started-after-up
	check "$mode: tend waited for it ($ELAPSED ms)" test "$ELAPSED" -ge 1800
	check "$mode: the log says what it waits for" \
	    grep -q "waiting for tcp://127.0.0.1:$PORT (wait_timeout 1m)" "$T/err"
	check "$mode: the log says when it is over" grep -q 'every target answered' "$T/err"
done

# An http target answering 503 until tend has logged a 503 (and 1 s more), then 204: 503
# is no answer.
free_port
rm -f "$T/ready"
"$PY" "$T/server.py" http "$PORT" "$T/ready" &
SERVERS=$!
(poll 30 grep -q ": status 503; next try" "$T/err"; sleep 1; touch "$T/ready") &
run_tend plain --log-level debug --restart-policy never \
    --startup-wait-for "http://127.0.0.1:$PORT/ready" -- \
    sh -c "test -e '$T/ready' && echo started-after-ready"
stop_servers
check_rc "http target: 503, then 204, then the child" 0
check "http target: the child started after the 204" has_line "$T/out" started-after-ready
check "http target: the 503s were seen and retried" \
    grep -q "wait_for http://127.0.0.1:$PORT/ready: status 503; next try" "$T/err"

# Targets that never come: exit 69 after wait_timeout, both named; progress every 5 s.
free_port
never_tcp=$PORT
free_port
"$PY" "$T/server.py" http "$PORT" "$T/never-ready" &
SERVERS=$!
# The http target must answer (503) from tend's first try on, not be refused.
poll 10 eval 'http_get /health | grep -q "^HTTP/1.0 503"' ||
    diag "never: the http target is not answering yet"
run_tend plain --startup-wait-for "tcp://127.0.0.1:$never_tcp" \
    --startup-wait-for "http://127.0.0.1:$PORT/health" --startup-wait-timeout 6s -- \
    touch "$T/ran"
stop_servers
check_rc "never: tend gives up" 69
check "never: after wait_timeout ($ELAPSED ms)" test "$ELAPSED" -ge 5800 -a "$ELAPSED" -lt 20000
missing="tcp://127.0.0.1:$never_tcp (refused), http://127.0.0.1:$PORT/health (status 503)"
check "never: the message names both targets and why" \
    grep -qF "never answered: $missing" "$T/err"
check "never: a progress line came meanwhile" grep -qF "waiting for $missing" "$T/err"
check "never: the child never ran" test ! -e "$T/ran"

# TERM during the wait: tend stops at once with 128+15.
for mode in $MODES; do
	free_port
	if ! start_tend "$mode" --startup-wait-for "tcp://127.0.0.1:$PORT" \
	    --startup-wait-timeout 0 -- touch "$T/ran"; then
		not_ok "$mode: tend did not start"
		continue
	fi
	poll 10 grep -q 'waiting for' "$T/err"
	sleep 0.5
	mark
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: TERM during the wait" 143
	check "$mode: tend stopped at once ($ELAPSED ms)" test "$ELAPSED" -lt 5000
	check "$mode: the child never ran" test ! -e "$T/ran"
done

# wait_each_start: a wait before each of the three spawns of a crash loop; without it,
# one wait only.
free_port
"$PY" "$T/server.py" tcp "$PORT" 0 "$T/up2" &
SERVERS=$!
poll 10 test -e "$T/up2"
for each in yes no; do
	run_tend plain --startup-wait-for "tcp://127.0.0.1:$PORT" \
	    --startup-wait-each-start "$each" --restart-backoff 100ms --restart-limit-burst 3 \
	    -- sh -c 'echo spawned; exit 1'
	waits=$(grep -c 'every target answered' "$T/err")
	spawns=$(grep -c '^spawned$' "$T/out")
	want=1
	[ "$each" = yes ] && want=3
	check "wait_each_start=$each: $spawns spawns, $waits waits (want 3 and $want)" \
	    test "$RC" = 69 -a "$spawns" = 3 -a "$waits" = "$want"
done
stop_servers

finish
