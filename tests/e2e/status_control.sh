#!/bin/bash
# The control socket ([status] control) and tend's client commands against a real tend
# running a real uvicorn app (tests/apps/recover.py, healthy in normal mode since its
# FIXED_FILE exists): `tend status [--json | --check]`, `tend restart`,
# `tend emergency on|off`; how the client finds the socket (flag, environment, -c FILE);
# the socket's mode; stale and live sockets at start; what the client says and how it
# exits when tend is not there, not healthy or silent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"
need_uvicorn

CTL=$T/tend.sock
free_port || { not_ok "no free port"; finish; }
app_cmd recover
: >"$T/fixed"
APPARGS=(--health-url "http://127.0.0.1:$PORT/health" --health-interval 300ms
    --health-timeout 1s --startup-timeout 20s --startup-interval 100ms --stop-timeout 2s
    --emergency-environment EMERGENCY_MODE=1
    --emergency-health-url "http://127.0.0.1:$PORT/health-emergency"
    --emergency-recover-after 10m)

# --- without a tend ---------------------------------------------------------------------
tc status --status-control "$T/none.sock"
check "no tend: status exits 1 ($CRC)" test "$CRC" = 1
check "... with a message naming the socket ($(head -1 "$T/cerr"))" \
    grep -q "cannot reach tend at $T/none.sock" "$T/cerr"
tc status --check --status-control "$T/none.sock"
check "no tend: status --check exits 1 ($CRC)" test "$CRC" = 1
tc emergency maybe --status-control "$CTL"
check "emergency maybe: usage error, exit 2 ($CRC)" test "$CRC" = 2
tc status --bogus --status-control "$CTL"
check "status --bogus: usage error, exit 2 ($CRC)" test "$CRC" = 2
tc status --json --check --status-control "$CTL"
check "status --json --check: usage error, exit 2 ($CRC)" test "$CRC" = 2
tc -- status
check "tend -- status runs a program named status: not found, 127 ($CRC)" test "$CRC" = 127

# --- a running tend ----------------------------------------------------------------------
if ! FIXED_FILE=$T/fixed start_tend plain --status-control "$CTL" "${APPARGS[@]}" -- \
    "${APP[@]}"; then
	not_ok "tend did not start"
	finish
fi
healthy() {
	tc status --check --status-control "$CTL"
	[ "$CRC" = 0 ]
}
check "status --check turns 0 once the app is healthy" poll 30 healthy
check "status --check prints one line ($(cat "$T/cout"))" grep -qx 'healthy: running' "$T/cout"
check "the socket is mode 600, owned by tend's user ($(stat -c '%a %u' "$CTL"))" \
    test "$(stat -c '%a %u' "$CTL")" = "600 $(id -u)"

tc status --status-control "$CTL"
check "status: exit 0, a summary ($(head -1 "$T/cout"))" \
    eval '[ "$CRC" = 0 ] && grep -q "^state: *running (healthy)$" "$T/cout" &&
        grep -q "^mode: *normal$" "$T/cout" && grep -q "^probes: *ok 200" "$T/cout"'
tc status --json --status-control "$CTL"
cp "$T/cout" "$T/s1.json"
CHILD=$(json_field "$T/s1.json" 'j["pid"]')
check "status --json: JSON, running, pid $CHILD alive" \
    eval '[ "$CRC" = 0 ] && [ "$(json_field "$T/s1.json" "j[\"state\"]")" = running ] && alive "$CHILD"'

# Where the client finds the socket.
TEND_STATUS_CONTROL=$CTL tc status --check
check "TEND_STATUS_CONTROL names the socket ($CRC)" test "$CRC" = 0
printf '[status]\ncontrol = %s\n' "$CTL" >"$T/cli.ini"
tc -c "$T/cli.ini" status --check
check "tend -c FILE status --check: [status] control from the file ($CRC)" test "$CRC" = 0
tc status --check -c "$T/cli.ini"
check "tend status --check -c FILE ($CRC)" test "$CRC" = 0
TEND_STATUS_CONTROL=$T/none.sock tc --status-control "$CTL" status --check
check "--status-control wins over TEND_STATUS_CONTROL ($CRC)" test "$CRC" = 0
tc --stop-timeout 3s --status-control="$CTL" status --check
check "tend's other options before the word are skipped ($CRC)" test "$CRC" = 0

# A second tend on the same control socket refuses to start (run by hand: run_tend would
# take over the first one's output files).
timeout 20 "$TEND" --status-control "$CTL" -- true >"$T/out2" 2>"$T/err2"
rc=$?
check "a second tend on a live control socket: exit 78 ($rc)" test "$rc" = 78
check "... and says why" grep -q "another process" "$T/err2"
tc status --check --status-control "$CTL"
check "... and the first one still answers ($CRC)" test "$CRC" = 0

# --- restart --------------------------------------------------------------------------
tc restart --status-control "$CTL"
check "restart: exit 0 ($(cat "$T/cout"))" eval '[ "$CRC" = 0 ] && grep -q "^ok: restart" "$T/cout"'
new_child() {
	tc status --json --status-control "$CTL"
	cp "$T/cout" "$T/s2.json"
	[ "$(json_field "$T/s2.json" 'j["state"]')" = running ] &&
	    [ "$(json_field "$T/s2.json" 'j["pid"]')" != "$CHILD" ]
}
check "a new child runs after the restart" poll 30 new_child
check "restarts by cause: operator 1, last failure none" \
    test "$(json_field "$T/s2.json" 'j["restarts"]["operator"], j["last_failure"]')" = "1 None"
CHILD=$(json_field "$T/s2.json" 'j["pid"]')

# --- emergency on / off -------------------------------------------------------------------
tc emergency on --status-control "$CTL"
check "emergency on: exit 0 ($(cat "$T/cout"))" eval '[ "$CRC" = 0 ] && grep -q "^ok: emergency on" "$T/cout"'
# state_is FILE "STATE MODE FORCED": tend status --json says so (kept in $T/FILE).
state_is() {
	tc status --json --status-control "$CTL"
	cp "$T/cout" "$T/$1"
	[ "$(json_field "$T/$1" 'j["state"], j["mode"], j["forced"]')" = "$2" ]
}
check "the app runs in emergency mode, forced" \
    poll 30 state_is s3.json "emergency-running emergency True"
check "... started with EMERGENCY_MODE=1 (its line says mode=emergency)" \
    test "$(app_lines '^recover: mode=emergency')" -ge 1
tc status --check --status-control "$CTL"
check "status --check in emergency-running: healthy, 0 ($(cat "$T/cout"))" test "$CRC" = 0
tc emergency on --status-control "$CTL"
check "emergency on again: 0, already forced" \
    eval '[ "$CRC" = 0 ] && grep -q "already forced" "$T/cout"'
tc emergency off --status-control "$CTL"
check "emergency off: exit 0 ($(cat "$T/cout"))" eval '[ "$CRC" = 0 ] && grep -q "^ok: emergency off" "$T/cout"'
check "back to normal mode, running" poll 30 state_is s4.json "running normal False"
tc emergency off --status-control "$CTL"
check "emergency off again: 0, not forced" eval '[ "$CRC" = 0 ] && grep -q "not forced" "$T/cout"'

kill -TERM "$TEND_PID"
wait_tend
check "tend exits on TERM (exit $RC)" test -n "$RC"
check "the socket file is removed at exit" test ! -e "$CTL"

# --- not healthy, stale sockets, a file in the way, a silent server -------------------------
$PY -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$CTL"
check "a stale socket file is left by a dead process" test -S "$CTL"
# deadlock.py never gets healthy: status --check says so.
app_cmd deadlock
if start_tend plain --status-control "$CTL" --health-url "http://127.0.0.1:$PORT/health" \
    --startup-timeout 30s --stop-timeout 1s -- "${APP[@]}"; then
	up() {
		tc status --check --status-control "$CTL"
		[ "$CRC" = 1 ] && grep -q '^unhealthy: starting' "$T/cout"
	}
	check "tend replaced the stale socket; status --check: 1, unhealthy: starting" poll 15 up
	kill -TERM "$TEND_PID"
	wait_tend
else
	not_ok "tend did not start over a stale socket"
	show_tend
fi
: >"$T/file"
run_tend plain --status-control "$T/file" -- true
check_rc "a regular file at the control path" 78
check "... is left alone and named" eval 'test -f "$T/file" && grep -q "not a socket" "$T/err"'

# A server that accepts and never answers: the client gives up after its 5 s.
# ($T/silent.up once it listens: the socket file exists from bind on, before that.)
$PY - "$T/silent.sock" "$T/silent.up" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
open(sys.argv[2], "w").close()
c, _ = s.accept()
time.sleep(20)
PYEOF
SILENT=$!
poll 10 test -e "$T/silent.up"
now_ms
t0=$NOW
tc status --status-control "$T/silent.sock"
now_ms
check "a silent server: exit 1 after about 5 s ($((NOW - t0)) ms, $(head -1 "$T/cerr"))" \
    eval '[ "$CRC" = 1 ] && [ $((NOW - t0)) -ge 4000 ] && [ $((NOW - t0)) -lt 12000 ] &&
        grep -q "no answer" "$T/cerr"'
kill "$SILENT" 2>/dev/null
wait "$SILENT" 2>/dev/null
check_sanitizers "control socket"
finish
