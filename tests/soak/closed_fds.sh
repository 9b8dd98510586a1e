#!/bin/bash
# tend started with stdin, stdout or stderr closed (a careless parent, `>&-`): its own
# descriptors (epoll, signalfd, pipes, probe sockets) must not land on 0, 1 or 2, where
# its log lines or the child's output would be written into them. Expected: tend puts
# /dev/null on a closed standard descriptor before it opens anything.
. "$(dirname "$0")/../e2e/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"

# std_fds PID: "0:what 1:what 2:what" (the target of each standard descriptor).
std_fds() {
	local fd out=
	for fd in 0 1 2; do
		out+="$fd:$(readlink "/proc/$1/fd/$fd" 2>/dev/null || echo closed) "
	done
	echo "$out"
}

for closed in '<&-' '>&-' '2>&-' '<&- >&- 2>&-'; do
	rm -f "$T/pid"
	eval "timeout -k 5 30 \"\$SIGREC\" exec -- \"\$TEND\" --restart-policy never -- \
	    \"\$SIGREC\" record -o /dev/null -p \"\$T/pid\" -x TERM -t 20 \
	    </dev/null >\"\$T/out\" 2>\"\$T/err\" $closed &"
	BG=$!
	if ! TEND_PID=$(find_tend "$BG") || ! wait_file "$T/pid" 10; then
		not_ok "closed $closed: tend or its child did not start"
		kill -TERM "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
		continue
	fi
	fds=$(std_fds "$TEND_PID")
	check "closed $closed: tend's standard descriptors are none of its own ($fds)" \
	    eval '! [[ $fds =~ (anon_inode|pipe:|socket:) ]]'
	kill -TERM "$TEND_PID"
	wait "$BG"
	RC=$?
	check "closed $closed: TERM ends tend with the child's status 0 (exit $RC)" test "$RC" = 0
done

finish
