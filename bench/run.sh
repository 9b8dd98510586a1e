#!/usr/bin/env bash
# Benchmarks of tend against the tools users would pick instead (tini, dumb-init,
# supervisord, a curl HEALTHCHECK), measured in one run on this machine. Prints a table
# of medians, min-max and ratios to tend, and writes it with the machine's description
# and the exact commands to docs/BENCHMARKS.md.
#
#   make bench                  (runs this from the build directory)
#   bench/run.sh                (from a build directory: uses ./src/tend)
#
# Environment: TEND (the binary; default ./src/tend), BENCH_OUT (the report; default
# docs/BENCHMARKS.md in the source tree, "-" for none), BENCH_IDLE_SECS (60),
# BENCH_QUICK=1 (fewer samples and a 10 s idle window, to try the script out).
# Missing peers are installed with apt-get (Debian): tini dumb-init supervisor curl
# hyperfine. Takes about 3 to 4 minutes.
set -uo pipefail

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDDIR=$PWD
TEND=${TEND:-$BUILDDIR/src/tend}
OUT=${BENCH_OUT:-$SRCDIR/docs/BENCHMARKS.md}
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

if [[ ${BENCH_QUICK:-0} = 1 ]]; then
	IDLE_SECS=${BENCH_IDLE_SECS:-10} PROBES=100 HF_RUNS=50 RESTARTS=10 SIGNALS=10
	ORPHANS=2000 ORPHAN_RUNS=1 DEADLOCK_RUNS=1
else
	IDLE_SECS=${BENCH_IDLE_SECS:-60} PROBES=500 HF_RUNS=300 RESTARTS=50 SIGNALS=30
	ORPHANS=10000 ORPHAN_RUNS=5 DEADLOCK_RUNS=3
fi
PROBE_BATCHES=5

die() {
	echo "bench: $*" >&2
	exit 1
}

say() {
	printf '\n=== %s\n' "$*" >&2
}

[[ -x $TEND ]] || die "no tend binary at $TEND (run from the build directory, or set TEND)"

# --- peers -------------------------------------------------------------------------------
# shellcheck source=contrib/deps.sh
. "$SRCDIR/contrib/deps.sh"
deps_install tini dumb-init supervisor curl hyperfine python3 procps util-linux \
	"${TEND_PKGS_APPS[@]}" || die "cannot install the peers"
for t in tini dumb-init supervisord curl hyperfine; do
	command -v "$t" >/dev/null || die "$t is missing"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/tend-bench.XXXXXX") || exit 1
BENCH_TAG=$W
export BENCH_TAG

# Kill every process that carries our tag (all were started here), then remove $W.
cleanup() {
	local f pid
	for _ in 1 2; do
		for f in $(grep -lzxF "BENCH_TAG=$BENCH_TAG" /proc/[0-9]*/environ 2>/dev/null); do
			pid=${f#/proc/}
			pid=${pid%/environ}
			[[ $pid != "$$" ]] && kill -KILL "$pid" 2>/dev/null
		done
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

HELP=$W/benchhelp
${CC:-cc} -O2 -std=gnu11 -I"$BUILDDIR" -o "$HELP" "$SRCDIR/bench/benchhelp.c" ||
	die "cannot build bench/benchhelp.c"

ROWS=$W/rows		# bench|tool|unit|median|min|max|n|bound
CMDS=$W/cmds		# the exact commands, in order
: >"$ROWS"
: >"$CMDS"

# cmd TEXT: record a command line for the report.
cmd() {
	local s="$*"
	s=${s//"$HELP"/benchhelp}
	s=${s//"$TEND"/tend}
	s=${s//"$SRCDIR/"/}
	s=${s//"$W/"/}
	printf '%s\n' "$s" >>"$CMDS"
}

# row BENCH TOOL UNIT FILE [BOUND]: the statistics of the numbers in FILE, one a line.
row() {
	local s
	s=$(sort -g "$4" | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan|nan|nan|0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g|%.6g|%.6g|%d\n", m, v[1], v[NR], NR
		}')
	printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$s" "${5:-}" >>"$ROWS"
}

now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	NOW=$((10#$us / 1000))
}

# poll SECONDS COMMAND...: true once COMMAND is, false after SECONDS.
poll() {
	local end
	now_ms
	end=$((NOW + $1 * 1000))
	shift
	until "$@"; do
		now_ms
		((NOW < end)) || return 1
		sleep 0.01
	done
}

# cpu_ns PID: the on-CPU time of all of PID's threads, in ns (schedstat).
cpu_ns() {
	local f a sum=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r a _ <"$f" 2>/dev/null || continue
		sum=$((sum + a))
	done
	echo "$sum"
}

# cpu_ticks_ms PID: utime + stime from /proc/PID/stat, in ms.
cpu_ticks_ms() {
	local stat hz
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" '{ print ($12 + $13) * 1000 / hz }' <<<"$stat"
}

# mem_kb PID FIELD: Rss or Pss from /proc/PID/smaps_rollup, in KiB.
mem_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"
}

free_port() {
	local i hex
	for ((i = 0; i < 200; i++)); do
		PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
		printf -v hex ':%04X ' "$PORT"
		grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null || return 0
	done
	die "no free port"
}

# httpsrv NAME [ARGS...]: start the test endpoint; sets SRV_PID and SRV_PORT.
httpsrv() {
	local name=$1
	shift
	"$PY" "$SRCDIR/tests/soak/httpsrv.py" --port-file "$W/$name.port" "$@" &
	SRV_PID=$!
	poll 10 test -s "$W/$name.port" || die "the test endpoint did not start"
	SRV_PORT=$(<"$W/$name.port")
}

# stop_pid PID: TERM, then KILL after 5 s; reap if it is our child.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	poll 5 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

APP_DIR=$SRCDIR/tests/apps
T_START=$SECONDS

# --- 1. idle cost (and, in the same window, the detection latencies) -------------------
say "idle cost: $IDLE_SECS s, four supervisors of 'sleep' side by side"
httpsrv idle --count "$W/idle.count"
IDLE_SRV=$SRV_PID
IDLE_URL=http://127.0.0.1:$SRV_PORT/
cat >"$W/sv-idle.conf" <<EOF
[supervisord]
nodaemon=true
logfile=$W/sv-idle.log
pidfile=$W/sv-idle.pid
childlogdir=$W
loglevel=warn

[program:sleep]
command=sleep 100000
stdout_logfile=/dev/null
stderr_logfile=/dev/null
EOF
declare -A IDLE_PID
"$TEND" --health-url "$IDLE_URL" --health-interval 1s -- sleep 100000 2>"$W/idle-tend.err" &
IDLE_PID[tend]=$!
tini -s -- sleep 100000 &
IDLE_PID[tini]=$!
dumb-init sleep 100000 &
IDLE_PID[dumb-init]=$!
supervisord -c "$W/sv-idle.conf" >/dev/null 2>&1 &
IDLE_PID[supervisord]=$!
cmd "tend --health-url $IDLE_URL --health-interval 1s -- sleep 100000   # endpoint: $PY tests/soak/httpsrv.py"
cmd "tini -s -- sleep 100000"
cmd "dumb-init sleep 100000"
cmd "supervisord -c sv-idle.conf   # [program:sleep] command=sleep 100000"
sleep 3	# let every one start its child and settle
for t in tend tini dumb-init supervisord; do
	p=${IDLE_PID[$t]}
	kill -0 "$p" 2>/dev/null || die "$t (idle) is not running"
	mem_kb "$p" Rss >"$W/rss.$t"
	mem_kb "$p" Pss >"$W/pss.$t"
	row "idle RSS" "$t" KiB "$W/rss.$t"
	row "idle PSS" "$t" KiB "$W/pss.$t"
	cpu_ns "$p" >"$W/cpu0.$t"
	cpu_ticks_ms "$p" >"$W/tick0.$t"
done
c0=$(<"$W/idle.count")

# Detection: hang.py under tend; after each 'running' line a GET /hang at a random
# moment in the probe period wedges the app's event loop ("blocking the event loop").
HANG_I=1000 HANG_T=500 HANG_F=2
HANG_BOUND=$((HANG_I * HANG_F + HANG_T))
free_port
HANG_PORT=$PORT
stamp_hang() {
	local l
	while IFS= read -r l; do
		now_ms
		printf '%s %s\n' "$NOW" "$l"
		if [[ $l == "tend: running "* ]]; then
			(sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
			 curl -s -m 2 -o /dev/null "http://127.0.0.1:$HANG_PORT/hang") &
		fi
	done
}
mkfifo "$W/hang.fifo" || die "mkfifo"
HANGCMD=("$TEND" --health-url "http://127.0.0.1:$HANG_PORT/health"
    --startup-timeout 20s --startup-interval 100ms
    --health-interval "${HANG_I}ms" --health-timeout "${HANG_T}ms"
    --health-failure-threshold "$HANG_F" --stop-timeout 300ms
    --restart-backoff 0 --restart-limit-burst 100 --
    "$PY" -m uvicorn hang:app --app-dir "$APP_DIR" --host 127.0.0.1 --port "$HANG_PORT")
stamp_hang <"$W/hang.fifo" >"$W/hang.ts" &
HANG_STAMP=$!
HANG_AFTER=0 "${HANGCMD[@]}" 2>"$W/hang.fifo" >/dev/null &
HANG_TEND=$!
cmd "HANG_AFTER=0 ${HANGCMD[*]}   # + curl /hang at a random moment after each 'running' line"

# Deadlock: deadlock.py never finishes its startup; emergency mode skips the broken init.
DL_ST=2000 DL_SP=500 DL_BURST=2
DL_BOUND=$((DL_BURST * (DL_ST + DL_SP) + DL_ST))
deadlock_job() {
	local i pid l t0 t1
	for ((i = 1; i <= DEADLOCK_RUNS; i++)); do
		free_port
		rm -f "$W/dl.fifo"
		mkfifo "$W/dl.fifo" || return 1
		now_ms
		t0=$NOW
		"$TEND" --health-url "http://127.0.0.1:$PORT/health" \
		    --startup-timeout ${DL_ST}ms --startup-interval 100ms --stop-timeout ${DL_SP}ms \
		    --restart-backoff 0 --restart-limit-burst $DL_BURST \
		    --emergency-health-url "http://127.0.0.1:$PORT/health-emergency" -- \
		    "$PY" -m uvicorn deadlock:app --app-dir "$APP_DIR" --host 127.0.0.1 --port "$PORT" \
		    2>"$W/dl.fifo" >/dev/null &
		pid=$!
		t1=
		while IFS= read -r l; do
			if [[ -z $t1 && $l == "tend: emergency-running "* ]]; then
				now_ms
				t1=$NOW
				kill -TERM "$pid"
			fi
		done <"$W/dl.fifo"
		wait "$pid" 2>/dev/null
		[[ -n $t1 ]] && echo $((t1 - t0)) >>"$W/deadlock.ms"
	done
	return 0
}
cmd "tend --health-url http://127.0.0.1:PORT/health --startup-timeout ${DL_ST}ms --startup-interval 100ms --stop-timeout ${DL_SP}ms --restart-backoff 0 --restart-limit-burst $DL_BURST --emergency-health-url http://127.0.0.1:PORT/health-emergency -- $PY -m uvicorn deadlock:app --app-dir tests/apps --host 127.0.0.1 --port PORT   # $DEADLOCK_RUNS runs; time from start to the 'emergency-running' line"
: >"$W/deadlock.ms"
deadlock_job &
DL_JOB=$!

sleep "$IDLE_SECS"
c1=$(<"$W/idle.count")
for t in tend tini dumb-init supervisord; do
	p=${IDLE_PID[$t]}
	echo $((($(cpu_ns "$p") - $(<"$W/cpu0.$t")) / 1000)) |
	    awk '{ print $1 / 1000 }' >"$W/cpu.$t"
	awk -v a="$(<"$W/tick0.$t")" -v b="$(cpu_ticks_ms "$p")" 'BEGIN { print b - a }' \
	    >"$W/tick.$t"
	row "idle CPU over ${IDLE_SECS} s (schedstat)" "$t" ms "$W/cpu.$t"
	row "idle CPU over ${IDLE_SECS} s (utime+stime, 10 ms ticks)" "$t" ms "$W/tick.$t"
done
IDLE_PROBES=$((c1 - c0))
for t in tend tini dumb-init supervisord; do
	stop_pid "${IDLE_PID[$t]}"
done
stop_pid "$IDLE_SRV"

wait "$DL_JOB"
stop_pid "$HANG_TEND"	# hang.py ignores TERM: tend SIGKILLs it after stop_timeout
wait "$HANG_STAMP" 2>/dev/null
# Pair each wedge with the stop of the same pid.
awk '
	/ blocking the event loop \(pid [0-9]+\)/ {
		pid = $NF; gsub(/[^0-9]/, "", pid); wedge[pid] = $1
	}
	/ tend: (warn: )?stopping .*cause=hang/ {
		if (match($0, /pid=[0-9]+/)) {
			pid = substr($0, RSTART + 4, RLENGTH - 4)
			if (pid in wedge) print $1 - wedge[pid]
		}
	}' "$W/hang.ts" >"$W/hang.ms"
row "hang detected (wedge to stop)" tend ms "$W/hang.ms" "$HANG_BOUND"
row "deadlocked start to emergency-running" tend ms "$W/deadlock.ms" "$DL_BOUND"
echo "$IDLE_PROBES probes answered in the idle window" >&2

# --- 2. probe cost ---------------------------------------------------------------------
say "probe cost: $PROBES probes, tend in-process vs curl exec'd per probe"
httpsrv probe --count "$W/probe.count"
PROBE_SRV=$SRV_PID
URL=http://127.0.0.1:$SRV_PORT/
"$TEND" --health-url "$URL" --health-interval 20ms --startup-interval 20ms --health-timeout 1s \
    -- sleep 100000 2>/dev/null &
TP=$!
cmd "tend --health-url $URL --health-interval 20ms --startup-interval 20ms --health-timeout 1s -- sleep 100000   # CPU (schedstat) over $PROBES probes counted by the endpoint"
count() { local c; c=$(<"$W/probe.count") 2>/dev/null; echo "${c// /}"; }
poll 20 eval '[ "$(count)" -ge 20 ] 2>/dev/null' || die "tend does not probe"
per=$((PROBES / PROBE_BATCHES))
: >"$W/probe.tend"
for ((b = 0; b < PROBE_BATCHES; b++)); do
	c0=$(count)
	s0=$(cpu_ns "$TP")
	poll 60 eval '[ "$(count)" -ge $((c0 + per)) ]'
	c1=$(count)
	s1=$(cpu_ns "$TP")
	awk -v s="$((s1 - s0))" -v n="$((c1 - c0))" 'BEGIN { print s / n / 1000 }' >>"$W/probe.tend"
done
stop_pid "$TP"
: >"$W/probe.curl"
for ((b = 0; b < PROBE_BATCHES; b++)); do
	# `times`: the second line is the CPU time of this subshell's children (the curls).
	(for ((i = 0; i < per; i++)); do curl -fsS -o /dev/null "$URL"; done; times) |
	    sed -n 2p | awk -v n="$per" '{
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		print ((u[1] * 60 + u[2]) + (s[1] * 60 + s[2])) * 1e6 / n }' >>"$W/probe.curl"
done
cmd "curl -fsS -o /dev/null $URL   # $PROBES times; CPU time of the curl processes (bash times)"
stop_pid "$PROBE_SRV"
row "CPU per health probe (batches of $per)" tend µs "$W/probe.tend"
row "CPU per health probe (batches of $per)" "curl -fsS (HEALTHCHECK)" µs "$W/probe.curl"

# --- 3. exec overhead ------------------------------------------------------------------
say "exec overhead: hyperfine, $HF_RUNS runs each"
TRUE=$(type -P true)
TRUE=$(readlink -f "$TRUE")
hyperfine -N --warmup 30 --runs "$HF_RUNS" --export-json "$W/hf.json" \
    -n tend "$TEND --restart-policy never -- $TRUE" \
    -n tini "tini -s -- $TRUE" \
    -n dumb-init "dumb-init $TRUE" \
    -n true "$TRUE" >&2 || die "hyperfine failed"
cmd "hyperfine -N --warmup 30 --runs $HF_RUNS 'tend --restart-policy never -- $TRUE' 'tini -s -- $TRUE' 'dumb-init $TRUE' '$TRUE'"
"$PY" - "$W/hf.json" "$W" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    with open(f"{sys.argv[2]}/hf.{r['command']}", "w") as f:
        f.write("".join(f"{t * 1000}\n" for t in r["times"]))
EOF
for t in tend tini dumb-init true; do
	row "exec and wait for 'true'" "$t" ms "$W/hf.$t"
done

# --- 4. restart latency ----------------------------------------------------------------
say "restart latency: $RESTARTS restarts of a crashing child"
# gaps FILE: from each "e" (about to exit) to the next "s" (started), in ms.
gaps() {
	awk -v n="$RESTARTS" '
		$1 == "e" { e = $2 }
		$1 == "s" && e != "" && k < n { print ($2 - e) / 1e6; k++ }' "$1"
}
# starts FILE: how many starts the child recorded so far.
starts() {
	local n=0 l
	[[ -r $1 ]] && while read -r l _; do [[ $l == s ]] && n=$((n + 1)); done <"$1"
	echo "$n"
}
"$TEND" --restart-backoff 0 --restart-limit-burst 100 --restart-limit-interval 1ms \
    -- "$HELP" crash "$W/crash.tend" 2>/dev/null &
TP=$!
poll 60 eval '[ "$(starts "$W/crash.tend")" -gt "$RESTARTS" ]'
stop_pid "$TP"
cmd "tend --restart-backoff 0 --restart-limit-burst 100 --restart-limit-interval 1ms -- benchhelp crash FILE"
gaps "$W/crash.tend" >"$W/restart.tend"
cat >"$W/sv-crash.conf" <<EOF
[supervisord]
nodaemon=true
logfile=$W/sv-crash.log
pidfile=$W/sv-crash.pid
childlogdir=$W
loglevel=warn

[program:crash]
command=$HELP crash $W/crash.sv
startsecs=0
startretries=1000
autorestart=true
exitcodes=0
stdout_logfile=/dev/null
stderr_logfile=/dev/null
EOF
supervisord -c "$W/sv-crash.conf" >/dev/null 2>&1 &
SP=$!
poll $((RESTARTS * 3 + 30)) eval '[ "$(starts "$W/crash.sv")" -gt "$RESTARTS" ]'
stop_pid "$SP"
cmd "supervisord -c sv-crash.conf   # [program:crash] command=benchhelp crash FILE, startsecs=0, autorestart=true, startretries=1000"
gaps "$W/crash.sv" >"$W/restart.supervisord"
row "restart: child's exit to next exec" tend ms "$W/restart.tend"
row "restart: child's exit to next exec" supervisord ms "$W/restart.supervisord"

# --- 5. signal forwarding latency ------------------------------------------------------
say "signal forwarding: TERM to the supervisor until the child's handler runs, $SIGNALS runs"
for t in tend tini dumb-init; do
	case $t in
	tend) sup=("$TEND" --) ;;
	tini) sup=(tini -s --) ;;
	dumb-init) sup=(dumb-init) ;;
	esac
	: >"$W/sig.$t"
	for ((i = 0; i < SIGNALS; i++)); do
		rm -f "$W/term" "$W/term.ready"
		"${sup[@]}" "$HELP" wait-term "$W/term" 2>/dev/null &
		p=$!
		poll 10 test -e "$W/term.ready" || die "$t: the child did not start"
		t0=$("$HELP" send-term "$p")
		wait "$p"
		t1=$(<"$W/term")
		awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1000 }' >>"$W/sig.$t"
	done
	row "TERM to the child's handler" "$t" µs "$W/sig.$t"
done
cmd "tend -- benchhelp wait-term FILE; tini -s -- benchhelp wait-term FILE; dumb-init benchhelp wait-term FILE   # then: benchhelp send-term SUPERVISOR_PID"

# --- 6. orphan reaping as PID 1 ---------------------------------------------------------
say "orphan reaping: $ORPHANS orphans exit at once, as PID 1, $ORPHAN_RUNS runs each"
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	for ((i = 0; i < ORPHAN_RUNS; i++)); do
		for t in tend tini dumb-init; do
			case $t in
			tend) sup=("$TEND" --) ;;
			tini) sup=(tini --) ;;
			dumb-init) sup=(dumb-init) ;;
			esac
			unshare --pid --fork --mount-proc "${sup[@]}" "$HELP" orphans "$ORPHANS" \
			    2>/dev/null | awk 'NF == 3 { print $3 }' >>"$W/orphans.$t"
		done
	done
	for t in tend tini dumb-init; do
		row "reap $ORPHANS orphans as PID 1" "$t" ms "$W/orphans.$t"
	done
	cmd "unshare --pid --fork --mount-proc tend -- benchhelp orphans $ORPHANS   # also tini --, dumb-init; time from the release of the orphans to no process left but PID 1 and the child"
else
	echo "unshare --pid does not work here: orphan reaping skipped" >&2
fi

ELAPSED=$((SECONDS - T_START))

# --- the report --------------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
{
	echo "nproc|$(nproc)"
	echo "kernel|$(uname -r) ($(uname -m))"
	echo "CPU|${cpu:-unknown}"
	echo "memory|$mem"
	echo "OS|${os:-unknown}"
	echo "tend|$("$TEND" --version 2>&1 | head -n 1)"
	echo "tini|$(tini --version 2>&1 | head -n 1)"
	echo "dumb-init|$(dumb-init --version 2>&1 | head -n 1)"
	echo "supervisord|$(supervisord --version 2>&1 | head -n 1)"
	echo "curl|$(curl --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
	echo "hyperfine|$(hyperfine --version 2>&1 | head -n 1)"
	echo "python|$("$PY" --version 2>&1)"
	echo "date|$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "wall time|$ELAPSED s"
} >"$W/machine"

for f in sv-idle.conf sv-crash.conf; do
	printf '; %s\n' "$f"
	sed "s|$HELP|benchhelp|g; s|$W/||g; s|$W|.|g" "$W/$f"
	echo
done >"$W/confs"
"$PY" "$SRCDIR/bench/report.py" "$ROWS" "$W/machine" "$CMDS" "$W/confs" \
    "idle_secs=$IDLE_SECS" "idle_probes=$IDLE_PROBES" "probes=$PROBES" \
    "hang=${HANG_I}ms,${HANG_T}ms,${HANG_F}" "deadlock=${DL_ST}ms,${DL_SP}ms,${DL_BURST}" \
    "quick=${BENCH_QUICK:-0}" >"$W/report.md" || die "cannot write the report"
sed -n '/^<!-- table -->$/,/^<!-- end table -->$/p' "$W/report.md" | sed '1d;$d'
if [[ $OUT != - ]]; then
	mkdir -p "$(dirname "$OUT")"
	cp "$W/report.md" "$OUT"
	echo "written: $OUT ($ELAPSED s)" >&2
fi
