#!/usr/bin/env bash
# Install what tend needs, build it in build/, and run it on the demo app
# (contrib/demo/app.py), whose startup deadlocks like the incident's. tend takes it from
# the deadlock to emergency mode on its own; this script waits for that (asking tend
# with `tend status --check`), prints `tend status`, says what to try, and then waits
# for tend: Ctrl-C stops tend and the app.
#
#   contrib/quickstart.sh                                # the app on 127.0.0.1:8000
#   DEMO_PORT=8001 DEMO_STATUS_PORT=9001 contrib/quickstart.sh
#   QUICKSTART_EXIT=1 contrib/quickstart.sh   # stop after `tend status` (0: it worked)
#                                             # (contrib/test.sh runs it so)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=contrib/deps.sh
. contrib/deps.sh

PORT=${DEMO_PORT:-8000}
STATUS_PORT=${DEMO_STATUS_PORT:-9000}
BASE=http://127.0.0.1:$PORT
WAIT_S=90		# longest wait for emergency-running (it takes about 15 s)

deps_install "${TEND_PKGS_BUILD[@]}" "${TEND_PKGS_APPS[@]}"
if ! /usr/bin/python3 -c 'import fastapi, uvicorn' 2>/dev/null; then
	echo "Debian's /usr/bin/python3 cannot import fastapi and uvicorn:" \
		"apt-get install python3-fastapi python3-uvicorn" >&2
	exit 1
fi

if [[ -f config.status ]]; then
	echo "the source tree is configured in place: run 'make distclean' here first" >&2
	exit 1
fi
if [[ ! -f build/Makefile ]]; then
	./autogen.sh
	mkdir -p build
	(cd build && ../configure -q)
fi
make -C build -s -j"$(nproc 2>/dev/null || echo 2)"

for p in "$PORT" "$STATUS_PORT"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "something already listens on 127.0.0.1:$p:" \
			"stop it or set DEMO_PORT / DEMO_STATUS_PORT" >&2
		exit 1
	fi
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/tend-demo.XXXXXX")
SOCK=$DIR/tend.sock
FIXED_FILE=$DIR/fixed
TEND=build/src/tend
# The client commands find the running tend through this (or --status-control PATH).
export TEND_STATUS_CONTROL=$SOCK
tend_pid=

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	if [[ -n $tend_pid ]] && kill -0 "$tend_pid" 2>/dev/null; then
		kill -TERM "$tend_pid" 2>/dev/null || true
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
# tend runs in a session of its own (setsid), so it gets one copy of each signal: ours.
stopping=
forward() {
	stopping=$1
	if [[ -n $tend_pid ]]; then
		kill -"$1" "$tend_pid" 2>/dev/null || true
	fi
}

say() {
	if [[ -t 1 ]]; then
		printf '\n\033[1m=== %s\033[0m\n' "$*"
	else
		printf '\n=== %s\n' "$*"
	fi
}

cat <<EOF

=== tend demo ===========================================================================
tend runs the demo app (contrib/demo/app.py). Its startup deadlocks: two init tasks
take two asyncio locks in opposite order, so uvicorn never opens port $PORT, and without
tend the container would sit there "up" for ever. tend's own lines start with "tend:"
(on stderr, between the app's lines); watch the states they name:

  tend: starting ...                     the app is spawned; tend probes /health
                                         every 250ms (connection refused: nothing
                                         listens while the startup hangs)
  tend: warn: stopping ... cause=startup-timeout
                                         no passing probe within 5s; the stuck app
                                         ignores SIGTERM, so SIGKILL follows after 2s
  tend: backoff ... delay=...            about 1s, then starting again (attempt=2)
  tend: emergency-starting ... mode=emergency
                                         2 failures are a crash loop: restarted with
                                         EMERGENCY_MODE=1, probing /health-emergency
  tend: emergency-running ...            the app serves, degraded (about 15s in)

This script asks tend ($TEND status --check) until it reports emergency-running,
then prints $TEND status.
=========================================================================================

EOF

export PYTHONDONTWRITEBYTECODE=1 DEMO_FIXED_FILE="$FIXED_FILE"
cmd=("$TEND"
	--startup-timeout 5s --startup-interval 250ms
	--health-url "$BASE/health" --health-interval 2s --health-timeout 1s
	--stop-timeout 2s
	--restart-backoff 1s --restart-limit-burst 2 --restart-limit-interval 2m
	--emergency-environment EMERGENCY_MODE=1
	--emergency-health-url "$BASE/health-emergency"
	--emergency-recover-after 1m
	--status-listen "127.0.0.1:$STATUS_PORT" --status-control "$SOCK"
	-- /usr/bin/python3 -m uvicorn app:app --app-dir contrib/demo
	--host 127.0.0.1 --port "$PORT")
echo "+ ${cmd[*]}"
# In the background, its log on this terminal. The app's stdin is not the terminal, so
# tend keeps the signals: a deadlocked uvicorn ignores SIGINT, tend does not. Bash starts
# background commands with SIGINT and SIGQUIT ignored, which tend would keep: env resets
# them.
trap 'forward INT' INT
trap 'forward TERM' TERM HUP
trap 'forward QUIT' QUIT
setsid env --default-signal=INT,QUIT "${cmd[@]}" </dev/null &
tend_pid=$!
[[ -z $stopping ]] || forward "$stopping"	# a signal came before $! was known

# Until emergency-running, or tend ends, or a signal came (Ctrl-C), or WAIT_S passed.
# (Ctrl-C also ends the sleep: "|| true", so that set -e does not end the script.)
answer=
for ((i = 0; i < WAIT_S * 2; i++)); do
	if [[ -n $stopping ]] || ! kill -0 "$tend_pid" 2>/dev/null; then
		break
	fi
	answer=$("$TEND" status --check 2>/dev/null || true)
	[[ $answer == "healthy: emergency-running" ]] && break
	sleep 0.5 || true
done
if [[ -z $stopping ]] && kill -0 "$tend_pid" 2>/dev/null; then
	if [[ $answer == "healthy: emergency-running" ]]; then
		say "tend brought the app from the deadlock to emergency mode: $TEND status"
	else
		say "no emergency-running after ${WAIT_S}s (last answer: ${answer:-none}): $TEND status"
	fi
	"$TEND" status || true
	if [[ -n ${QUICKSTART_EXIT:-} ]]; then
		kill -TERM "$tend_pid" 2>/dev/null || true
		while kill -0 "$tend_pid" 2>/dev/null; do
			wait "$tend_pid" || true
		done
		tend_pid=
		[[ $answer == "healthy: emergency-running" ]] && say "quickstart: ok" && exit 0
		say "quickstart: tend did not reach emergency-running"
		exit 1
	fi
	cat <<EOF

=== Try it, in another terminal (in $PWD) ===
  export TEND_STATUS_CONTROL=$SOCK   # how tend's client commands find this tend
  $TEND status --json            # what tend status printed above, and more
  $TEND status --check; echo \$?  # 0 while the app is healthy (a Docker HEALTHCHECK)
  curl -s 127.0.0.1:$STATUS_PORT/readyz      # tend's endpoint; also /healthz /status /metrics
  curl -i $BASE/health-emergency   # 200: the app serves, degraded
  curl -i $BASE/health             # 503 "degraded"

After 1 minute of healthy emergency mode tend tries normal mode again ("recovering");
it deadlocks again and goes back to emergency mode (the next try 2 minutes later, then
4, ...), until the app is "fixed":

  touch $FIXED_FILE   # the next normal start of the app works
  $TEND emergency off            # try normal mode now, instead of in a minute: "running"
  $TEND emergency on             # back to emergency mode, and stay there until "off"
  $TEND restart                  # a restart in the current mode (cause operator)

Ctrl-C here, or kill -TERM $tend_pid (tend), stops tend and the app. The same settings as a
file: contrib/demo/tend.ini (build/src/tend -c contrib/demo/tend.ini).
===

EOF
fi

# Wait for tend; a trapped signal interrupts the wait, and is forwarded, so wait again.
while kill -0 "$tend_pid" 2>/dev/null; do
	wait "$tend_pid" || true
done
rc=0
wait "$tend_pid" || rc=$?
tend_pid=
say "tend exited with status $rc"
exit "$rc"
