# Helpers for the status tests (status_*.sh), sourced after lib.sh: the endpoint's port,
# raw HTTP requests, JSON fields, tend's client commands.
# shellcheck shell=bash

PY=/usr/bin/python3

# Set SPORT (tend's status endpoint) and PORT (the app) to two different free ports.
status_ports() {
	free_port || return 1
	SPORT=$PORT
	while free_port && [ "$PORT" = "$SPORT" ]; do :; done
}

# st_get PATH [METHOD]: request http://127.0.0.1:$SPORT/PATH with curl (5 s at most);
# sets CODE, the body in $T/body, the headers in $T/hdr.
st_get() {
	local m=${2:-GET} opt=()
	[ "$m" = HEAD ] && opt=(-I)
	CODE=$(curl -s -X "$m" "${opt[@]}" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	    --max-time 5 "http://127.0.0.1:$SPORT$1" 2>/dev/null) || CODE=000
}

# raw_http BYTES: send BYTES (Python escapes) to the status port and close the sending
# side; print the status code of the answer (000: none within 5 s). The whole answer is
# left in $T/raw.
raw_http() {
	$PY - "$SPORT" "$1" "$T/raw" <<'PYEOF'
import socket, sys
data = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
got = b""
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
except OSError:
    pass
open(sys.argv[3], "wb").write(got)
parts = got.split(b"\r\n", 1)[0].split()
print(parts[1].decode() if len(parts) > 1 and parts[0].startswith(b"HTTP/1.") else "000")
PYEOF
}

# json_field FILE EXPR: print the Python expression EXPR over the JSON in FILE as `j`.
json_field() {
	$PY -c '
import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2" 2>/dev/null
}

# tc ARGS...: run tend's client (5 s client timeout + margin); sets CRC, output in
# $T/cout and $T/cerr.
tc() {
	timeout 15 "$TEND" "$@" >"$T/cout" 2>"$T/cerr"
	CRC=$?
}

# app_lines PATTERN: how many lines of the children's stdout ($T/out) match PATTERN.
app_lines() {
	grep -c -E "$1" "$T/out" 2>/dev/null
}
