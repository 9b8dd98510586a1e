# Helpers for the soak scripts (tests/soak/*.sh) and the fault tests
# (tests/e2e/fault_*.sh), sourced after tests/e2e/lib.sh.

SOAK_PY=/usr/bin/python3
SOAK_SRV=$TEST_SRCDIR/soak/httpsrv.py
export PYTHONDONTWRITEBYTECODE=1

# cpu_ms PID: utime + stime of PID, in ms (10 ms ticks).
cpu_ms() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($12 + $13) * 1000 / hz) }' <<<"$stat"
}

# rss_kb PID: VmRSS of PID, in KiB.
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# need_python: skip the whole script without Debian's /usr/bin/python3.
need_python() {
	if ! [ -x "$SOAK_PY" ]; then
		skip "no /usr/bin/python3"
		finish
	fi
}

# srv_start NAME ARGS...: start tests/soak/httpsrv.py (ARGS: --fault, --ok-first, ...),
# logging to $T/NAME.log; sets SRV_PID and PORT. False if it did not come up.
SRV_PID=
srv_start() {
	local name=$1
	shift
	rm -f "$T/$name.port"
	"$SOAK_PY" "$SOAK_SRV" --port-file "$T/$name.port" --log "$T/$name.log" "$@" &
	SRV_PID=$!
	wait_file "$T/$name.port" 10 || return 1
	PORT=$(<"$T/$name.port")
}

srv_stop() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=
	fi
}

# build_benchhelp: compile bench/benchhelp.c into $T/benchhelp (sets HELP); on failure,
# one failed test and the end of the script.
build_benchhelp() {
	local builddir
	builddir=$(cd "$(dirname "$TEND")/.." && pwd)
	HELP=$T/benchhelp
	if ! ${CC:-cc} -O2 -std=gnu11 -I"$builddir" -o "$HELP" \
	    "$TEST_SRCDIR/../bench/benchhelp.c"; then
		not_ok "cannot build bench/benchhelp.c"
		finish
	fi
}

# last_state: print the state of tend's last state line in $T/err (running, backoff, ...).
last_state() {
	grep -E '^tend: (warn: |error: )?[a-z-]+ from=' "$T/err" | tail -n 1 |
	    sed -E 's/^tend: (warn: |error: )?([a-z-]+) from=.*/\2/'
}

# --- valgrind (memcheck) on tend; never on its children ---------------------------------

VG_OPTS=(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	--track-fds=yes --trace-children=no --child-silent-after-fork=yes)

# need_valgrind: skip the whole script without valgrind, or when tend is built with
# ASan (valgrind cannot run it).
need_valgrind() {
	if ! command -v valgrind >/dev/null; then
		skip "no valgrind"
		finish
	fi
	if grep -aq __asan_init "$TEND" 2>/dev/null; then
		skip "tend is built with ASan; valgrind cannot run it"
		finish
	fi
}

# vg_start NAME ARGS...: tend ARGS under valgrind in the background (log $T/NAME.vg,
# stderr $T/err, stdout $T/out); sets BG and TEND_PID (the same process).
vg_start() {
	local name=$1
	shift
	rm -f "$T/$name.vg"
	"$SIGREC" exec -- valgrind "${VG_OPTS[@]}" --log-file="$T/$name.vg" "$TEND" "$@" \
	    </dev/null >"$T/out" 2>"$T/err" &
	BG=$!
	TEND_PID=$BG
}

# vg_run NAME ARGS...: tend ARGS under valgrind to the end (at most 60 s); sets RC.
vg_run() {
	local name=$1
	shift
	rm -f "$T/$name.vg"
	timeout -k 5 60 "$SIGREC" exec -- valgrind "${VG_OPTS[@]}" --log-file="$T/$name.vg" \
	    "$TEND" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
}

# vg_check NAME DESCRIPTION EXPECTED_RC: tend (run as NAME) exited EXPECTED_RC (not
# valgrind's 99), and the log shows no error, no leak, and no descriptor that tend
# opened and left open at exit.
vg_check() {
	local log=$T/$1.vg name=$2 want=$3 fds
	check_rc "$name: exit status under valgrind" "$want"
	if ! [ -s "$log" ]; then
		not_ok "$name: no valgrind log"
		return
	fi
	if grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		ok "$name: valgrind: no errors"
	else
		not_ok "$name: valgrind: $(grep 'ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== //')"
		grep -E -A12 '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|[0-9,]+ bytes in)' \
		    "$log" | head -60 | sed 's/^/#   /'
	fi
	if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' "$log"; then
		not_ok "$name: valgrind: leaks"
		grep -E 'definitely lost|indirectly lost|possibly lost' "$log" | sed 's/^/#   /'
	else
		ok "$name: valgrind: no definite or indirect leak"
	fi
	# "Open file descriptor N: ..." not followed by "<inherited from parent>".
	fds=$(awk '
		/Open (file descriptor|AF_[A-Z0-9]+ socket) [0-9]+/ { d = $0; sub(/^==[0-9]+== /, "", d); next }
		d != "" && /<inherited from parent>/ { d = ""; next }
		d != "" { print d; d = "" }' "$log")
	if [ -z "$fds" ]; then
		ok "$name: valgrind: tend closed every descriptor it opened"
	else
		not_ok "$name: valgrind: descriptors left open at exit"
		echo "$fds" | head -20 | sed 's/^/#   /'
	fi
}
