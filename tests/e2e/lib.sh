# Shared helpers for the end-to-end tests of tend (sourced by the bash scripts here).
#
# make check gives TEND (the binary), SIGREC (the helper child, see sigrec.c) and
# TEST_SRCDIR. Each script prints TAP-like lines ("ok N - ...", "not ok N - ...") and
# ends with `finish`: exit 0 if all passed, 1 if one failed, 77 if everything skipped.
#
# Every tend run goes through `sigrec exec`, which resets signal dispositions and the
# mask (a shell's background jobs ignore INT and QUIT), and through `timeout`, so no run
# outlives TEND_TIMEOUT (60 s). Every process a test starts carries E2E_TAG in its
# environment, and the EXIT trap kills whatever still carries it (orphans included).

set -u

: "${TEND:?TEND must name the tend binary (run through make check)}"
: "${SIGREC:?SIGREC must name tests/e2e/sigrec (run through make check)}"

E2E_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/tend-e2e-$E2E_NAME.XXXXXX") || exit 99
E2E_TAG=$T
export E2E_TAG
ulimit -c 0 2>/dev/null		# children killed by SEGV/ABRT leave no core files

ntest=0
nfail=0
nskip=0
RC=
BG=
TEND_PID=
ELAPSED=0

# Kill every process that carries our tag (twice: a kill can orphan more).
e2e_cleanup() {
	local round f pid
	for round in 1 2; do
		for f in $(grep -lzxF "E2E_TAG=$E2E_TAG" /proc/[0-9]*/environ 2>/dev/null); do
			pid=${f#/proc/}
			pid=${pid%/environ}
			[ "$pid" != $$ ] && kill -KILL "$pid" 2>/dev/null
		done
	done
	free_ports_release
	rm -rf "$T"
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- reporting --------------------------------------------------------------------------

ok() {
	ntest=$((ntest + 1))
	echo "ok $ntest - $*"
}

not_ok() {
	ntest=$((ntest + 1))
	nfail=$((nfail + 1))
	echo "not ok $ntest - $*"
}

skip() {
	ntest=$((ntest + 1))
	nskip=$((nskip + 1))
	echo "ok $ntest - # SKIP $*"
}

diag() {
	echo "# $*"
}

# Show what tend printed (on failures).
show_tend() {
	local f
	for f in out err; do
		[ -s "$T/$f" ] || continue
		echo "# --- tend std$f (exit $RC) ---"
		head -c 4000 "$T/$f" | sed 's/^/#   /'
	done
}

# check DESCRIPTION COMMAND...: one test; on failure, show tend's output.
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
		show_tend
	fi
}

# check_rc DESCRIPTION EXPECTED: tend's exit status (RC) is EXPECTED.
check_rc() {
	if [ "$RC" = "$2" ]; then
		ok "$1 (exit $RC)"
	else
		not_ok "$1: tend exited $RC, expected $2"
		show_tend
	fi
}

finish() {
	echo "1..$ntest"
	if [ "$nfail" -gt 0 ]; then
		echo "# $nfail of $ntest failed"
		exit 1
	fi
	if [ "$ntest" -eq "$nskip" ]; then
		exit 77
	fi
	exit 0
}

# --- modes: as PID 1 in a new PID namespace, or plain (tend is then a subreaper) --------

if unshare --pid --fork --mount-proc true >/dev/null 2>&1; then
	MODES="plain pid1"
else
	MODES="plain"
	diag "unshare --pid --fork --mount-proc does not work here: PID-1 runs skipped"
	skip "PID-1 runs (unshare unavailable)"
fi

# Set the array PRE to what runs tend in MODE.
mode_prefix() {
	case $1 in
	pid1) PRE=(unshare --pid --fork --mount-proc) ;;
	*) PRE=() ;;
	esac
}

# EXEC_OPTS: options for `sigrec exec` (e.g. -i USR1 to start tend with USR1 ignored).
EXEC_OPTS=()
# TEND_STDIN: what tend reads on stdin.
TEND_STDIN=/dev/null
# TEND_TIMEOUT: seconds before timeout(1) stops a run.
TEND_TIMEOUT=60

# --- time -------------------------------------------------------------------------------

# Set NOW to the wall clock in milliseconds (no fork).
now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	NOW=$((10#$us / 1000))
}

# poll SECONDS COMMAND...: true as soon as COMMAND is, false after SECONDS.
poll() {
	local secs=$1
	shift
	poll_ms $((secs * 1000)) "$@"
}

# poll_ms MILLISECONDS COMMAND...
poll_ms() {
	local deadline
	now_ms
	deadline=$((NOW + $1))
	shift
	while :; do
		"$@" && return 0
		now_ms
		[ "$NOW" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# --- files ------------------------------------------------------------------------------

# has_line FILE LINE: FILE has LINE as a whole line (no fork).
has_line() {
	local l
	[ -r "$1" ] || return 1
	while IFS= read -r l; do
		[ "$l" = "$2" ] && return 0
	done <"$1"
	return 1
}

# wait_line FILE LINE [SECONDS]
wait_line() {
	poll "${3:-10}" has_line "$1" "$2"
}

# wait_file FILE [SECONDS]: FILE exists and is not empty.
wait_file() {
	poll "${2:-10}" test -s "$1"
}

# --- processes --------------------------------------------------------------------------

# Print the state letter of PID (R, S, T, Z, ...); false if it is gone.
proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$stat" ] || return 1
	stat=${stat##*) }
	echo "${stat%% *}"
}

# alive PID: exists and is neither a zombie nor dead.
alive() {
	local s
	s=$(proc_state "$1") || return 1
	[ "$s" != Z ] && [ "$s" != X ]
}

# stopped PID: in job-control stop (T) or traced (t).
stopped() {
	local s
	s=$(proc_state "$1") || return 1
	[ "$s" = T ] || [ "$s" = t ]
}

# The first process named tend below ROOT (host PID), waiting up to 10 s for it.
find_tend() {
	local i pid
	for ((i = 0; i < 500; i++)); do
		pid=$(ps -e -o pid=,ppid=,comm= | awk -v root="$1" '
			{ par[$1] = $2; name[$1] = $3 }
			END {
				for (p in par) {
					if (name[p] != "tend" || name[par[p]] == "tend")
						continue
					q = p
					for (n = 0; n < 64 && (q in par) && q != root; n++)
						q = par[q]
					if (q == root) { print p; exit }
				}
			}')
		if [ -n "$pid" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# Count the children of PID, and those of them that are zombies: sets NCHILD, NZOMBIE.
count_children() {
	local counts
	counts=$(ps -e -o ppid=,stat= | awk -v p="$1" '
		$1 == p { n++; if ($2 ~ /^Z/) z++ }
		END { printf "%d %d\n", n, z }')
	NCHILD=${counts% *}
	NZOMBIE=${counts#* }
}

# --- running tend -----------------------------------------------------------------------

# A sanitizer build reports to stderr: every such report fails the test.
sanitizer_check() {
	if grep -qE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' "$T/err"; then
		not_ok "sanitizer report from tend (or its child)"
		show_tend
	fi
}

# When timeout(1) ended the run, RC becomes "timeout(N)": no exit code check can pass.
# timed_out MS: MS is how long the run took.
timed_out() {
	if [ "$1" -ge $((TEND_TIMEOUT * 1000 - 500)) ]; then
		diag "tend (or its child) was stopped by the $TEND_TIMEOUT s timeout"
		RC="timeout($RC)"
	fi
}

# run_tend MODE ARGS...: run tend to the end; sets RC and ELAPSED (ms); output in
# $T/out and $T/err.
run_tend() {
	local mode=$1 start
	shift
	mode_prefix "$mode"
	now_ms
	start=$NOW
	timeout -k 5 "$TEND_TIMEOUT" "$SIGREC" exec "${EXEC_OPTS[@]}" -- "${PRE[@]}" "$TEND" "$@" \
	    <"$TEND_STDIN" >"$T/out" 2>"$T/err"
	RC=$?
	now_ms
	ELAPSED=$((NOW - start))
	timed_out "$ELAPSED"
	sanitizer_check
	return 0
}

# start_tend MODE ARGS...: start tend in the background; sets BG (the timeout process)
# and TEND_PID (tend's PID as seen from here). False if tend never showed up.
start_tend() {
	local mode=$1
	shift
	mode_prefix "$mode"
	now_ms
	START=$NOW
	MARK=$NOW
	timeout -k 5 "$TEND_TIMEOUT" "$SIGREC" exec "${EXEC_OPTS[@]}" -- "${PRE[@]}" "$TEND" "$@" \
	    <"$TEND_STDIN" >"$T/out" 2>"$T/err" &
	BG=$!
	TEND_PID=$(find_tend "$BG") && return 0
	TEND_PID=
	return 1
}

# wait_tend: wait for the background tend to end; sets RC and ELAPSED (ms since the
# last call to mark, or since start_tend).
MARK=0
START=0
mark() {
	now_ms
	MARK=$NOW
}
wait_tend() {
	wait "$BG"
	RC=$?
	now_ms
	ELAPSED=$((NOW - MARK))
	timed_out $((NOW - START))
	sanitizer_check
	BG=
	return 0
}

# Stop a background tend the hard way (after a failed check), so the next test starts
# clean.
abort_tend() {
	if [ -n "$BG" ]; then
		[ -n "$TEND_PID" ] && kill -KILL "$TEND_PID" 2>/dev/null
		kill -TERM "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
		BG=
	fi
}

# The child's pidfile says "pid pgid": read the pid.
read_pid() {
	local pid rest
	read -r pid rest <"$1" || return 1
	echo "$pid"
}

# --- ports, time-stamped stderr, sanitizer reports (added for the watchdog tests) -------

# Set PORT to a random free TCP port (no local socket uses it, tcp or tcp6), reserved for
# this script until it exits. The ports are taken below the kernel's ephemeral range
# (ip_local_port_range, usually 32768-60999), so no outgoing connection (a probe, curl, a
# connect to a port nothing listens on yet) can have it as its local port meanwhile; and
# a symlink ${TMPDIR:-/tmp}/tend-e2e-ports/PORT -> our PID reserves it against the other
# e2e scripts that make check -j runs at the same time (and against a second free_port
# here). Links of dead scripts are removed as they are found.
E2E_PORTS=${TMPDIR:-/tmp}/tend-e2e-ports
E2E_MYPORTS=
free_port() {
	local i hex lo=20000 hi=32767 eph owner
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
	[ "$eph" -gt $((lo + 2000)) ] 2>/dev/null && hi=$((eph - 1))
	mkdir -p "$E2E_PORTS" 2>/dev/null && chmod 1777 "$E2E_PORTS" 2>/dev/null
	for ((i = 0; i < 400; i++)); do
		PORT=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		printf -v hex ':%04X ' "$PORT"
		grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
		[[ " $E2E_MYPORTS " == *" $PORT "* ]] && continue
		if [ -w "$E2E_PORTS" ]; then
			if ! ln -s "$$" "$E2E_PORTS/$PORT" 2>/dev/null; then
				# Taken: by a live script, or left by a dead one (freed for later).
				owner=$(readlink "$E2E_PORTS/$PORT" 2>/dev/null)
				[ -n "$owner" ] && ! [ -d "/proc/$owner" ] && rm -f "$E2E_PORTS/$PORT"
				continue
			fi
		fi
		E2E_MYPORTS="$E2E_MYPORTS $PORT"
		return 0
	done
	return 1
}

# Give back the ports free_port reserved (from the EXIT trap).
free_ports_release() {
	local p
	for p in $E2E_MYPORTS; do
		[ "$(readlink "$E2E_PORTS/$p" 2>/dev/null)" = "$$" ] && rm -f "$E2E_PORTS/$p"
	done
	E2E_MYPORTS=
}

# Copy stdin to fd 3 unchanged and to stdout with each line prefixed by the wall clock
# in milliseconds (the time the line arrived).
e2e_stamp() {
	local l
	while IFS= read -r l || [ -n "$l" ]; do
		now_ms
		printf '%s\n' "$l" >&3
		printf '%s %s\n' "$NOW" "$l"
	done
}

# start_tend_ts MODE ARGS...: start_tend, but tend's stderr (and so the child's, which
# inherits it) goes through e2e_stamp: raw in $T/err, stamped in $T/ts. Sets TS0 (ms,
# just before the start), STAMP_PID, BG and TEND_PID. False if tend never showed up.
STAMP_PID=
start_tend_ts() {
	local mode=$1
	shift
	mode_prefix "$mode"
	rm -f "$T/errfifo"
	mkfifo "$T/errfifo" || return 1
	: >"$T/ts"
	e2e_stamp <"$T/errfifo" 3>"$T/err" >"$T/ts" &
	STAMP_PID=$!
	now_ms
	TS0=$NOW
	START=$NOW
	MARK=$NOW
	timeout -k 5 "$TEND_TIMEOUT" "$SIGREC" exec "${EXEC_OPTS[@]}" -- "${PRE[@]}" "$TEND" "$@" \
	    <"$TEND_STDIN" >"$T/out" 2>"$T/errfifo" &
	BG=$!
	TEND_PID=$(find_tend "$BG") && return 0
	TEND_PID=
	return 1
}

# wait_tend_ts: wait_tend, then wait (up to 10 s) until every line reached $T/ts.
wait_tend_ts() {
	wait_tend
	if [ -n "$STAMP_PID" ]; then
		poll 10 eval '! kill -0 "$STAMP_PID" 2>/dev/null'
		wait "$STAMP_PID" 2>/dev/null
		STAMP_PID=
	fi
}

# ts_find N REGEX: set TS_MS and TS_LINE from the Nth line of $T/ts whose text (without
# the time stamp) matches the extended REGEX; false if there are fewer than N.
ts_find() {
	local n=$1 re=$2 ms l
	TS_MS=
	TS_LINE=
	[ -r "$T/ts" ] || return 1
	while IFS= read -r l; do
		ms=${l%% *}
		l=${l#* }
		[[ $l =~ $re ]] || continue
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			TS_MS=$ms
			TS_LINE=$l
			return 0
		fi
	done <"$T/ts"
	return 1
}

# ts_count REGEX: print how many lines of $T/ts match REGEX.
ts_count() {
	local re=$1 l n=0
	if [ -r "$T/ts" ]; then
		while IFS= read -r l; do
			[[ ${l#* } =~ $re ]] && n=$((n + 1))
		done <"$T/ts"
	fi
	echo "$n"
}

# wait_ts SECONDS N REGEX: wait until $T/ts has N lines matching REGEX (sets TS_MS, TS_LINE).
wait_ts() {
	poll "$1" ts_find "$2" "$3"
}

# field NAME LINE: print the value of NAME=VALUE in a tend log line.
field() {
	local re="(^| )$1=([^ ]*)"
	[[ $2 =~ $re ]] || return 1
	echo "${BASH_REMATCH[2]}"
}

# secs_ms 1.234s: print 1234 (tend's since_spawn/delay durations in milliseconds).
secs_ms() {
	local s=${1%s} int frac
	int=${s%%.*}
	frac=000
	[ "$int" != "$s" ] && frac=${s#*.}000
	echo $((10#$int * 1000 + 10#${frac:0:3}))
}

# check_sanitizers WHAT: one test: tend's stderr ($T/err) has no ASan/UBSan/LSan report.
check_sanitizers() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer' \
	    "$T/err" 2>/dev/null; then
		not_ok "$1: sanitizer report in tend's stderr"
		grep -E -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/err" |
		    head -40 | sed 's/^/#   /'
	else
		ok "$1: no sanitizer report"
	fi
}

# need_uvicorn: exit 77 (skip) unless Debian's /usr/bin/python3 has uvicorn and starlette.
need_uvicorn() {
	if ! /usr/bin/python3 -c 'import uvicorn, starlette' >/dev/null 2>&1; then
		skip "/usr/bin/python3 lacks uvicorn or starlette"
		finish
	fi
	export PYTHONDONTWRITEBYTECODE=1
}

# app_cmd MODULE: set the array APP to the command running tests/apps/MODULE.py on PORT.
app_cmd() {
	APP=(/usr/bin/python3 -m uvicorn "$1:app" --app-dir "$TEST_SRCDIR/apps"
	    --host 127.0.0.1 --port "$PORT")
}

# http_get PATH: print the answer (status line, headers, body) of 127.0.0.1:$PORT to
# GET PATH, within 5 s.
http_get() {
	timeout 5 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&5
		cat <&5' http_get "$PORT" "$1" 2>/dev/null
}

# --- processes by environment, uvicorn --reload (added for the output/reload tests) -----

# env_pids KEY=VALUE: print the PIDs of the live processes whose environment holds the
# entry KEY=VALUE (a zombie's environment reads empty: zombies are not listed).
env_pids() {
	local f pid
	for f in $(grep -lzxF "$1" /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		echo "${pid%/environ}"
	done
}

# reload_app_cmd: copy tests/apps/reload_app.py into $T/w (fresh) and set the array RAPP
# to uvicorn serving it on PORT with --reload watching $T/w.
reload_app_cmd() {
	rm -rf "$T/w"
	mkdir -p "$T/w" && cp "$TEST_SRCDIR/apps/reload_app.py" "$T/w/" || return 1
	RAPP=(/usr/bin/python3 -m uvicorn reload_app:app --app-dir "$T/w" --host 127.0.0.1
	    --port "$PORT" --reload --reload-dir "$T/w")
}

# PY=/usr/bin/python3 and a pty to run tend under, or skip the whole script.
need_pty() {
	PY=/usr/bin/python3
	if ! [ -x "$PY" ]; then
		skip "no $PY for the pty"
		finish
	fi
	if ! "$PY" -c 'import os; os.close(os.openpty()[0])' 2>/dev/null; then
		skip "cannot open a pty here"
		finish
	fi
}
