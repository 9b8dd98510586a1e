#!/bin/bash
# wait_for resolves names afresh on every try: tend runs in a private mount namespace
# whose /etc/hosts is a file of the test (bind-mounted; the real one is never touched).
# The name is unknown at first (dns), then points at an address where nothing listens
# (refused), then at the listener: tend must follow each change, with no stale address,
# and start the child only after the last one.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
NAME=tend-dep.test

if ! unshare --mount -- sh -c "mount --bind /dev/null /etc/hosts" 2>/dev/null; then
	skip "unshare --mount with a bind mount is not available (needs root)"
	finish
fi

# tend in its own mount namespace, with $T/hosts as /etc/hosts (written in place, so the
# bind mount keeps showing it).
cat >"$T/tend-ns" <<EOF
#!/bin/sh
exec unshare --mount -- sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' \\
    "$T/hosts" "$TEND" "\$@"
EOF
chmod +x "$T/tend-ns"
set_hosts() {
	printf '127.0.0.1 localhost\n%s' "$1" >"$T/hosts"
}

free_port
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
time.sleep(120)' "$PORT" &
server=$!
set_hosts ""
target="tcp://$NAME:$PORT"
if ! TEND=$T/tend-ns start_tend plain --log-level debug --restart-policy never \
    --startup-wait-for "$target" --startup-wait-timeout 40s -- \
    sh -c "grep -q '^127.0.0.1 $NAME' /etc/hosts && echo started-after-the-move"; then
	not_ok "tend did not start"
	show_tend
else
	if poll 20 grep -q "wait_for $target: dns; next try" "$T/err"; then
		ok "an unknown name: dns, and tend keeps trying"
	else
		not_ok "no dns failure logged for $target"
		show_tend
	fi
	set_hosts "127.0.0.2 $NAME"$'\n'
	if poll 20 grep -q "wait_for $target: refused; next try" "$T/err"; then
		ok "the name now resolves (to 127.0.0.2, nothing there): refused"
	else
		not_ok "the new /etc/hosts entry was not picked up"
		show_tend
	fi
	set_hosts "127.0.0.1 $NAME"$'\n'
	wait_tend
	check_rc "the name moved to the listener: tend started the child" 0
	check "the child started after the last change" has_line "$T/out" started-after-the-move
fi
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

finish
