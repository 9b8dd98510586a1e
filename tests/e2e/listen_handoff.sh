#!/bin/bash
# Socket hand-off across restarts, with real uvicorn. A client sends requests one after
# another (bounded: 5000 requests or 40 s) while the child is killed with SIGKILL three
# times and restarted by tend. With [listen] socket (uvicorn --fd {fd}) no connection is
# refused; without it (uvicorn binds the port itself) some are: the same test shows
# both, so it can fail. Counts and the longest request are reported as diagnostics.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
APPS=$TEST_SRCDIR/apps
export PYTHONDONTWRITEBYTECODE=1
export EXIT_AFTER=100000	# crash.py never exits by itself here: the test kills it

if ! "$PY" -c 'import uvicorn, starlette' 2>/dev/null; then
	skip "uvicorn and starlette are not importable with $PY"
	finish
fi

# The client: one request at a time; prints "requests ok refused other worst_ms kinds".
cat >"$T/client.py" <<'EOF'
import collections, os, socket, sys, time

host, port, stop, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
MAX_REQUESTS, MAX_SECONDS = 5000, 40
n = ok = refused = other = 0
worst = 0.0
kinds = collections.Counter()
start = time.monotonic()
while n < MAX_REQUESTS and time.monotonic() - start < MAX_SECONDS \
        and not os.path.exists(stop):
    n += 1
    t = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=15) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        if data.startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            other += 1
            kinds["empty" if not data else "bad-answer"] += 1
    except ConnectionRefusedError:
        refused += 1
    except OSError as e:
        other += 1
        kinds[type(e).__name__] += 1
    worst = max(worst, time.monotonic() - t)
    time.sleep(0.005)
kind_text = ",".join(f"{k}:{v}" for k, v in sorted(kinds.items())) or "none"
with open(out, "w") as f:
    f.write(f"{n} {ok} {refused} {other} {worst * 1000:.0f} {kind_text}\n")
EOF

# Pids announced by the app ("crash: mode=normal pid=N"), one a line.
announced() {
	sed -n 's/.*crash: mode=normal pid=\([0-9]*\).*/\1/p' "$T/out"
}

nannounced_is() {
	[ "$(announced | wc -l)" -ge "$1" ]
}

# run_case NAME TEND-ARGS... -- APP-ARGS: start tend, the client, kill the child three
# times; sets N OK REFUSED OTHER WORST KINDS and RESTARTS (spawns seen after the first).
run_case() {
	local name=$1 k pid
	shift
	rm -f "$T/stop" "$T/res"
	RESTARTS=0
	if ! start_tend plain --restart-backoff 100ms --restart-limit-burst 20 "$@"; then
		not_ok "$name: tend did not start"
		show_tend
		return 1
	fi
	if ! poll 20 nannounced_is 1; then
		not_ok "$name: the app did not start"
		show_tend
		abort_tend
		return 1
	fi
	sleep 1	# uvicorn binds its own port only after the startup line
	"$PY" "$T/client.py" 127.0.0.1 "$PORT" "$T/stop" "$T/res" &
	local client=$!
	sleep 0.5
	for k in 1 2 3; do
		pid=$(announced | tail -n 1)
		kill -KILL "$pid" 2>/dev/null
		poll 20 nannounced_is $((k + 1)) || break
		RESTARTS=$k
		sleep 1
	done
	touch "$T/stop"
	wait "$client"
	kill -TERM "$TEND_PID" 2>/dev/null
	wait_tend
	read -r N OK REFUSED OTHER WORST KINDS <"$T/res" || N=
	if [ -z "$N" ]; then
		not_ok "$name: the client reported nothing"
		return 1
	fi
	diag "$name: $N requests, $OK ok, $REFUSED refused, $OTHER other errors ($KINDS)," \
	    "longest request ${WORST} ms, restarts $RESTARTS"
	return 0
}

free_port
if run_case "hand-off" --listen-socket "tcp://127.0.0.1:$PORT" -- \
    "$PY" -m uvicorn crash:app --app-dir "$APPS" --fd '{fd}' --no-access-log; then
	check "hand-off: the child was killed and restarted 3 times" test "$RESTARTS" = 3
	check "hand-off: no connection refused ($REFUSED)" test "$REFUSED" = 0
	check "hand-off: at most one failed request per kill ($OTHER: $KINDS)" \
	    test "$OTHER" -le 3
	check "hand-off: requests were answered ($OK ok)" test "$OK" -ge 20
	check "hand-off: tend ended cleanly on TERM (exit $RC)" test "$RC" = 0 -o "$RC" = 143
fi

free_port
if run_case "no hand-off" -- \
    "$PY" -m uvicorn crash:app --app-dir "$APPS" --host 127.0.0.1 --port "$PORT" \
    --no-access-log; then
	check "no hand-off: the child was killed and restarted 3 times" test "$RESTARTS" = 3
	check "no hand-off: connections were refused ($REFUSED), so the test can fail" \
	    test "$REFUSED" -gt 0
fi

finish
