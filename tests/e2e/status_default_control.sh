#!/bin/bash
# As PID 1 with no control socket configured, tend listens on the client's default path
# (/run/tend.sock, mode 0600), so `tend status --check` works as a HEALTHCHECK without
# settings; not as PID 1 it does not. Each run gets a private /run (a tmpfs in a mount
# namespace of its own), so no other tend and nothing of the host is in the way.
. "$(dirname "$0")/lib.sh"

if ! unshare --mount sh -c 'mount -t tmpfs tmpfs /run' >/dev/null 2>&1; then
	skip "cannot mount a private /run (unshare --mount)"
	finish
fi

# The child asks the tend it runs under, through the default path.
CHILD='sleep 0.3; "$1" status --check >"$2" 2>&1; echo "rc=$?" >>"$2";
	ls -l /run/tend.sock >>"$2" 2>&1; exit 0'

for mode in $MODES; do
	case $mode in
	pid1) ns=(unshare --pid --fork --mount-proc) ;;
	*) ns=(unshare --mount) ;;
	esac
	rm -f "$T/check"
	timeout -k 5 "$TEND_TIMEOUT" "$SIGREC" exec -- "${ns[@]}" \
	    sh -c 'mount -t tmpfs tmpfs /run && exec "$@"' sh \
	    "$TEND" --restart-policy never -- sh -c "$CHILD" child "$TEND" "$T/check" \
	    </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	sanitizer_check
	check_rc "$mode: tend ran the child" 0
	if [ "$mode" = pid1 ]; then
		check "$mode: tend status --check through /run/tend.sock: healthy ($(tr '\n' ' ' <"$T/check"))" \
		    eval 'grep -qx "healthy: running" "$T/check" && grep -qx "rc=0" "$T/check"'
		check "$mode: the socket is tend's alone (mode 0600)" \
		    grep -q '^srw------- ' "$T/check"
	else
		check "$mode: not PID 1: no default control socket ($(tr '\n' ' ' <"$T/check"))" \
		    eval 'grep -qx "rc=1" "$T/check" && ! grep -q "^srw" "$T/check"'
	fi
done
check_sanitizers "default control socket"
finish
