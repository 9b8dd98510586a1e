#!/bin/bash
# [listen] socket: what the child gets (the socket at fd 3 or --listen-fd, inheritable,
# {fd} replaced, LISTEN_FDS and LISTEN_PID = the child's own pid), unix sockets (a stale
# file replaced, removed at exit, served by uvicorn), IPv6, a port in use (exit 78),
# systemd socket activation passed on, and stray LISTEN_* kept from the child.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
APPS=$TEST_SRCDIR/apps
export PYTHONDONTWRITEBYTECODE=1

# The child: describes fd argv[1] and the LISTEN_* variables, one "key value" a line.
cat >"$T/inspect.py" <<'EOF'
import fcntl, os, socket, sys

fd = int(sys.argv[1].rsplit("=", 1)[-1])	# N or --fd=N
print("argv_fd", fd)
for k in ("LISTEN_FDS", "LISTEN_FDNAMES"):
    print(k, os.environ.get(k, "-"))
pid = os.environ.get("LISTEN_PID")
print("LISTEN_PID", "-" if pid is None else "self" if pid == str(os.getpid()) else pid)
try:
    s = socket.socket(fileno=os.dup(fd))
    print("family", s.family.name)
    print("listening", s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    name = s.getsockname()
    print("addr", f"{name[0]}:{name[1]}" if isinstance(name, tuple) else name)
    print("cloexec", fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
except OSError as e:
    print("fd_error", e.errno)
EOF

# has KEY VALUE: the child printed that line.
has() {
	has_line "$T/out" "$1 $2"
}

# expect DESC KEY VALUE...: one test, all pairs must be there.
expect() {
	local desc=$1 miss=
	shift
	while [ $# -ge 2 ]; do
		has "$1" "$2" || miss="$miss $1=$2"
		shift 2
	done
	if [ -z "$miss" ]; then
		ok "$desc"
	else
		not_ok "$desc: missing$miss"
		show_tend
	fi
}

for mode in $MODES; do
	free_port
	run_tend "$mode" --restart-policy never --listen-socket "tcp://127.0.0.1:$PORT" -- \
	    "$PY" "$T/inspect.py" '{fd}'
	check_rc "$mode: child with the socket" 0
	desc="the socket at fd 3, listening, inheritable; {fd} = 3; LISTEN_FDS=1"
	expect "$mode: $desc, LISTEN_PID = the child" \
	    argv_fd 3 family AF_INET listening 1 addr "127.0.0.1:$PORT" cloexec 0 \
	    LISTEN_FDS 1 LISTEN_PID self LISTEN_FDNAMES -
done

free_port
run_tend plain --restart-policy never --listen-socket "tcp://127.0.0.1:$PORT" --listen-fd 5 \
    -- "$PY" "$T/inspect.py" '{fd}'
expect "--listen-fd 5: the socket at 5, {fd} = 5, no LISTEN_* (the protocol wants fd 3)" \
    argv_fd 5 addr "127.0.0.1:$PORT" listening 1 cloexec 0 LISTEN_FDS - LISTEN_PID -

# The same through the configuration file, with the command there too.
free_port
cat >"$T/tend.ini" <<EOF
[program]
command = $PY $T/inspect.py --fd={fd}
[listen]
socket = tcp://127.0.0.1:$PORT
fd = 4
[restart]
policy = never
EOF
run_tend plain -c "$T/tend.ini"
expect "config file: [listen] socket and fd, {fd} inside a word" argv_fd 4 listening 1 \
    addr "127.0.0.1:$PORT"

# IPv6 literal, where the host has IPv6.
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	free_port
	run_tend plain --restart-policy never --listen-socket "tcp://[::1]:$PORT" -- \
	    "$PY" "$T/inspect.py" '{fd}'
	expect "IPv6: tcp://[::1]:$PORT" family AF_INET6 addr "::1:$PORT" listening 1
else
	skip "no IPv6 loopback here"
fi

# A port in use: exit 78, the message names the key, the child never runs.
free_port
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close(); time.sleep(60)' "$PORT" "$T/held" &
holder=$!
poll 10 test -e "$T/held"
run_tend plain --listen-socket "tcp://127.0.0.1:$PORT" -- touch "$T/ran"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check_rc "port in use: tend exits 78" 78
check "port in use: the message names [listen] socket and the reason" \
    grep -q "\[listen\] socket = tcp://127.0.0.1:$PORT: cannot listen: Address already in use" \
    "$T/err"
check "port in use: the child never ran" test ! -e "$T/ran"

# unix: a stale socket file is replaced; uvicorn serves on it; the file goes at exit.
sock=$T/app.sock
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
check "unix: a stale socket file is there before tend" test -S "$sock"
if "$PY" -c 'import uvicorn, starlette' 2>/dev/null; then
	EXIT_AFTER=100000 start_tend plain --listen-socket "unix:$sock" -- \
	    "$PY" -m uvicorn crash:app --app-dir "$APPS" --fd '{fd}' --no-access-log
	answer=
	for ((i = 0; i < 100; i++)); do
		answer=$(curl -s --max-time 5 --unix-socket "$sock" http://tend/) && break
		sleep 0.1
	done
	check "unix: uvicorn answers on the socket tend bound ($answer)" \
	    grep -q '^crash mode=normal' <<<"$answer"
	check "unix: the log says the stale file was removed" \
	    grep -q 'removed a stale socket file' "$T/err"
	kill -TERM "$TEND_PID"
	wait_tend
	check "unix: the socket file is removed when tend exits" test ! -e "$sock"
else
	skip "uvicorn is not importable with $PY"
fi

# A live unix socket: another process listens there: exit 78, its file left alone.
"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()
open(sys.argv[2], "w").close(); time.sleep(60)' "$sock" "$T/held2" &
holder=$!
poll 10 test -e "$T/held2"
run_tend plain --listen-socket "unix:$sock" -- true
check_rc "unix socket in use: tend exits 78" 78
check "unix socket in use: the other listener's file is left" test -S "$sock"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
rm -f "$sock"

# tend socket-activated: systemd's socket is passed on, [listen] socket is not bound.
if command -v systemd-socket-activate >/dev/null; then
	free_port
	sa_port=$PORT
	free_port
	# run_tend cannot put systemd-socket-activate in front of tend: do it by hand.
	timeout -k 5 30 systemd-socket-activate -l "127.0.0.1:$sa_port" --fdname=web -- \
	    "$TEND" --restart-policy never --listen-socket "tcp://127.0.0.1:$PORT" -- \
	    "$PY" "$T/inspect.py" '{fd}' </dev/null >"$T/out" 2>"$T/err" &
	sa=$!
	# The activator waits for a connection before it starts tend (poll: it may be slow
	# to listen on a busy machine).
	poll 20 "$PY" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' "$sa_port" 2>/dev/null
	wait "$sa"
	RC=$?
	check_rc "socket-activated tend runs the child" 0
	desc="the activator's socket at fd 3; LISTEN_FDS=1, LISTEN_FDNAMES=web"
	expect "socket-activated: $desc, LISTEN_PID = the child" \
	    addr "127.0.0.1:$sa_port" listening 1 cloexec 0 LISTEN_FDS 1 LISTEN_FDNAMES web \
	    LISTEN_PID self
	check "socket-activated: the log says so" \
	    grep -q 'socket-activated: passing on 1 socket at fd 3 instead of binding' "$T/err"
else
	skip "systemd-socket-activate is not installed"
fi

# LISTEN_* in tend's environment, meant for someone else: the child never sees them.
run_tend plain --restart-policy never -- env
RC_ENV=$RC
LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=x run_tend plain --restart-policy never -- env
check "stray LISTEN_* are kept from the child (and no socket is passed)" \
    test "$RC" = 0 -a "$RC_ENV" = 0 -a -z "$(grep '^LISTEN_' "$T/out")"

finish
