#!/usr/bin/env bash
# Install what tend needs, build it in build/, and run it in the foreground on the demo
# app (contrib/demo/app.py), whose startup deadlocks like the incident's. Watch tend
# take it from the deadlock to emergency mode on its own; Ctrl-C stops it.
#
#   contrib/quickstart.sh              # the demo on 127.0.0.1:8000
#   DEMO_PORT=8001 contrib/quickstart.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=contrib/deps.sh
. contrib/deps.sh

PORT=${DEMO_PORT:-8000}
BASE=http://127.0.0.1:$PORT
FIXED_FILE=${TMPDIR:-/tmp}/tend-demo.fixed

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

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "something already listens on 127.0.0.1:$PORT: stop it or set DEMO_PORT" >&2
	exit 1
fi
rm -f "$FIXED_FILE"

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

Then, in another terminal:

  curl -i $BASE/health-emergency     # 200
  curl -i $BASE/health               # 503 "degraded"

After 1 minute of healthy emergency mode tend tries normal mode again ("recovering");
it deadlocks again and goes back to emergency mode, until you "fix" the app:

  touch $FIXED_FILE          # the next try of normal mode ends "running"

Ctrl-C stops tend and the app. The same settings as a file: contrib/demo/tend.ini
(build/src/tend -c contrib/demo/tend.ini).
=========================================================================================

EOF

export PYTHONDONTWRITEBYTECODE=1 DEMO_FIXED_FILE="$FIXED_FILE"
# Not the terminal as stdin: then tend does not hand the terminal to the app's process
# group, and Ctrl-C reaches tend, which stops the app (SIGKILL after 2s when it is stuck)
# instead of reaching only the app, which ignores SIGINT while its startup is deadlocked.
exec </dev/null
set -x
exec build/src/tend \
	--startup-timeout 5s --startup-interval 250ms \
	--health-url "$BASE/health" --health-interval 2s --health-timeout 1s \
	--stop-timeout 2s \
	--restart-backoff 1s --restart-limit-burst 2 --restart-limit-interval 2m \
	--emergency-environment EMERGENCY_MODE=1 \
	--emergency-health-url "$BASE/health-emergency" \
	--emergency-recover-after 1m \
	-- /usr/bin/python3 -m uvicorn app:app --app-dir contrib/demo \
	--host 127.0.0.1 --port "$PORT"
