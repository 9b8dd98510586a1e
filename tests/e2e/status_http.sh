#!/bin/bash
# The status endpoint ([status] listen) against a real tend running a real uvicorn app
# (tests/apps/hang.py, healthy unless asked to hang): /healthz, /readyz, /status (JSON),
# /metrics (Prometheus text), HEAD; malformed and oversized requests get 400, 405, 413,
# 414, 431, 505 and do not disturb tend; slow clients (more of them than the connection
# bound) are cut off after the per-connection timeout while probes keep passing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"
need_uvicorn

status_ports || { not_ok "no free ports"; finish; }
app_cmd hang
if ! HANG_AFTER=0 start_tend plain --status-listen "127.0.0.1:$SPORT" \
    --health-url "http://127.0.0.1:$PORT/health" --health-interval 300ms \
    --health-timeout 3s --health-failure-threshold 2 --startup-timeout 30s \
    --stop-timeout 1s -- "${APP[@]}"; then
	not_ok "tend did not start"
	finish
fi

ready() {
	st_get /readyz
	[ "$CODE" = 200 ]
}
check "/readyz turns 200 once the app is healthy" poll 30 ready
check "/readyz says the state ($(cat "$T/body"))" grep -qx 'ready: running' "$T/body"
check "/readyz is text/plain, Connection: close" \
    eval 'grep -qi "^content-type: text/plain" "$T/hdr" && grep -qi "^connection: close" "$T/hdr"'

st_get /healthz
check "/healthz: 200 ok ($CODE)" eval '[ "$CODE" = 200 ] && grep -qx ok "$T/body"'

st_get /status
cp "$T/body" "$T/status.json"
CHILD=$(json_field "$T/status.json" 'j["pid"]')
check "/status: 200, JSON, state running ($CODE)" \
    eval '[ "$CODE" = 200 ] && [ "$(json_field "$T/status.json" "j[\"state\"]")" = running ]'
check "/status: application/json" grep -qi '^content-type: application/json' "$T/hdr"
check "/status: the child's pid ($CHILD) is alive, mode normal, healthy" \
    eval 'alive "$CHILD" && [ "$(json_field "$T/status.json" "j[\"mode\"], j[\"healthy\"]")" = "normal True" ]'
check "/status: the last probes, newest first, with status 200 and a latency" \
    eval '[ "$(json_field "$T/status.json" "j[\"probes\"][0][\"result\"], j[\"probes\"][0][\"http_status\"], j[\"probes\"][0][\"latency_ms\"] >= 0")" = "ok 200 True" ]'
check "/status: uptimes, restarts by cause, no failure yet, no backoff" \
    eval '[ "$(json_field "$T/status.json" "j[\"uptime_seconds\"] > 0, j[\"child_uptime_seconds\"] > 0, j[\"restarts\"][\"hang\"], j[\"last_failure\"], j[\"backoff_seconds\"], j[\"emergency\"], j[\"forced\"]")" = "True True 0 None None False False" ]'

st_get /metrics
check "/metrics: 200 and the Prometheus text type ($CODE)" \
    eval '[ "$CODE" = 200 ] && grep -qi "^content-type: text/plain; version=0.0.4" "$T/hdr"'
check "/metrics: tend_state{state=\"running\"} 1" grep -qx 'tend_state{state="running"} 1' "$T/body"
check "/metrics: probe histogram with a count" \
    grep -qE '^tend_probe_duration_seconds_count [1-9][0-9]*$' "$T/body"
check "/metrics: every sample line parses" $PY -c '
import re, sys
ok = re.compile(r"^tend_[a-z_]+(\{[a-z_]+=\"[^\"]*\"\})? (\d+(\.\d+)?)$")
lines = [l for l in open(sys.argv[1]).read().splitlines() if not l.startswith("#")]
bad = [l for l in lines if not ok.match(l)]
sys.exit(1 if bad or len(lines) < 20 else 0)' "$T/body"
for m in tend_restarts_total tend_probe_failures_total tend_child_uptime_seconds \
    tend_emergency_mode; do
	check "/metrics: has $m" grep -q "^$m" "$T/body"
done

code=$(raw_http 'HEAD /status HTTP/1.0\r\n\r\n')
check "HEAD /status: 200, a Content-Length, no body ($code)" eval '[ "$code" = 200 ] &&
    grep -q "^Content-Length: [1-9]" "$T/raw" && $PY -c "import sys; d = open(sys.argv[1], \"rb\").read(); sys.exit(not d.endswith(b\"\\r\\n\\r\\n\"))" "$T/raw"'
st_get /nope
check "unknown path: 404 ($CODE)" test "$CODE" = 404

# --- malformed and oversized requests -------------------------------------------------
long=$(head -c 3000 /dev/zero | tr '\0' a)
big=$(head -c 9000 /dev/zero | tr '\0' b)
while IFS='|' read -r want desc req; do
	got=$(raw_http "$req")
	check "$desc: $want ($got)" test "$got" = "$want"
done <<EOF2
400|garbage|GARBAGE\r\n\r\n
400|binary junk|\x00\x01\x02\xff\r\n\r\n
400|HTTP/1.1 without Host|GET /status HTTP/1.1\r\n\r\n
400|folded header|GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n
400|half a head, then the client's close|GET /status HTTP/1.1\r\nHo
405|POST|POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab
405|DELETE|DELETE /status HTTP/1.0\r\n\r\n
413|GET with a body|GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789
413|chunked body|GET /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
414|request line of 3000 bytes|GET /$long HTTP/1.1\r\nHost: x\r\n\r\n
431|9000 bytes of headers|GET /status HTTP/1.1\r\nHost: x\r\nX-Big: $big\r\n\r\n
505|HTTP/2.0|GET /status HTTP/2.0\r\nHost: x\r\n\r\n
200|bare LF line ends|GET /healthz HTTP/1.0\n\n
EOF2

st_get /status
cp "$T/body" "$T/status2.json"
check "after the bad requests: same child, still running, no restart" \
    eval '[ "$(json_field "$T/status2.json" "j[\"pid\"], j[\"state\"], j[\"restarts_total\"]")" = "$CHILD running 0" ]'

# --- slow clients ------------------------------------------------------------------------
# 40 connections (the bound is 32) each dribbling a header byte every 200 ms: past the
# bound tend closes the oldest unfinished one for each new one, and cuts off the rest
# after the 5 s per-connection timeout. A prompt client is served meanwhile.
failures() {
	st_get /metrics
	awk '/^tend_probe_failures_total/ { n += $2 } END { print n + 0 }' "$T/body"
}
before=$(json_field "$T/status2.json" 'j["probes_total"]')
fail_before=$(failures)
$PY - "$SPORT" >"$T/slow" <<'PYEOF' &
import socket, sys, threading, time
port = int(sys.argv[1])
res = []
def slow():
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /status HTTP/1.1\r\n")
        while time.monotonic() - t0 < 20:
            s.sendall(b"X")
            time.sleep(0.2)
    except OSError:
        pass
    res.append(time.monotonic() - t0)
ts = [threading.Thread(target=slow) for _ in range(40)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(res), round(min(res), 1), round(max(res), 1))
PYEOF
SLOW=$!
sleep 2
now_ms
t0=$NOW
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$SPORT/healthz")
now_ms
check "while 40 slow clients hold the endpoint, /healthz is answered ($CODE in $((NOW - t0)) ms)" \
    test "$CODE" = 200
wait "$SLOW"
read -r nslow tmin tmax <"$T/slow"
check "every slow client was cut off ($nslow, first after $tmin s, last after $tmax s)" \
    eval '[ "$nslow" = 40 ] && $PY -c "import sys; sys.exit(not ($tmax <= 16))"'
st_get /status
cp "$T/body" "$T/status3.json"
after=$(json_field "$T/status3.json" 'j["probes_total"]')
check "probes went on meanwhile ($before -> $after probes, every 300 ms)" \
    test "$after" -ge $((before + 8))
check "... and all passed: same child, running, no restart" \
    eval '[ "$(json_field "$T/status3.json" "j[\"pid\"], j[\"state\"], j[\"restarts_total\"], sum(1 for p in j[\"probes\"] if p[\"result\"] != \"ok\")")" = "$CHILD running 0 0" ]'
check "tend logged no unhealthy or stopping state" \
    eval '! grep -qE "^tend: (warn: )?(unhealthy|stopping)" "$T/err"'
st_get /metrics
fail_after=$(failures)
check "tend_probe_failures_total did not move ($fail_before -> $fail_after)" \
    test "$fail_before" = "$fail_after"

mark
kill -TERM "$TEND_PID"
wait_tend
check "TERM ends tend (exit $RC)" test -n "$RC"
check "the endpoint is closed after exit" eval '! curl -s --max-time 2 "http://127.0.0.1:$SPORT/healthz" >/dev/null'
check_sanitizers "status endpoint"
finish
