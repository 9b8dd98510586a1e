#!/bin/bash
# The reload guard with real uvicorn (issue 5): --reload forbid (the default) refuses
# uvicorn's reload options and UVICORN_RELOAD=true with exit 78 and a message saying how
# to allow them; strip removes them (with their values) and warns, and uvicorn then runs
# without a reloader (checked in the process tree); --dev allows --reload, prefixes the
# child's lines and still watches for reload loops.
. "$(dirname "$0")/lib.sh"
need_uvicorn

free_port
reload_app_cmd || exit 99

# --- forbid (default): refused before anything runs ----------------------------------------
run_tend plain -- "${RAPP[@]}"
check_rc "forbid: uvicorn --reload --reload-dir is refused" 78
msg=$(grep -m1 '^tend: error: ' "$T/err")
check "forbid: the message names the options (--reload, --reload-dir $T/w)" \
    eval '[[ $msg == *"--reload"* && $msg == *"--reload-dir $T/w"* ]]'
check "forbid: the message says how to allow it (reload = strip|allow, --reload strip|allow)" \
    eval '[[ $msg == *"reload = strip"* && $msg == *"reload = allow"* &&
        $msg == *"--reload strip|allow"* ]]'
check "forbid: uvicorn never ran (stdout empty, no uvicorn line on stderr)" \
    eval '[ ! -s "$T/out" ] && ! grep -q "INFO:" "$T/err"'

# Each option alone, in both spellings (no globbing of *.py here).
set -f
for opt in --reload --reload=true "--reload-dir $T/w" "--reload-dir=$T/w" \
    "--reload-include *.py" "--reload-exclude x.py" "--reload-delay 0.5" "--reload-delay=0.5"; do
	# shellcheck disable=SC2086
	run_tend plain -- /usr/bin/python3 -m uvicorn reload_app:app --app-dir "$T/w" $opt
	check_rc "forbid: '$opt' alone is refused" 78
done
set +f

# The environment, tend's own or given with --environment.
UVICORN_RELOAD=true run_tend plain -- /usr/bin/python3 -m uvicorn reload_app:app \
    --app-dir "$T/w" --port "$PORT"
check_rc "forbid: UVICORN_RELOAD=true in the environment is refused" 78
check "forbid: the message names UVICORN_RELOAD" grep -q '^tend: error: .*UVICORN_RELOAD' "$T/err"
run_tend plain --environment UVICORN_RELOAD=yes -- /usr/bin/python3 -m uvicorn \
    reload_app:app --app-dir "$T/w" --port "$PORT"
check_rc "forbid: --environment UVICORN_RELOAD=yes is refused" 78
UVICORN_RELOAD=false run_tend plain -- sh -c 'exit 0'
check_rc "forbid: UVICORN_RELOAD=false is no reload: the child runs" 0
run_tend plain -- sh -c 'exit 0' --reloaded --reload-dirx
check_rc "forbid: look-alike words (--reloaded, --reload-dirx) are not reload options" 0

# --- strip: uvicorn runs without a reloader ------------------------------------------------
if UVICORN_RELOAD=true start_tend_ts plain --reload strip --environment STRIP_RUN=1 \
    --health-url "http://127.0.0.1:$PORT/" --startup-interval 100ms --stop-timeout 5s \
    -- "${RAPP[@]}" --reload-delay 0.5; then
	if wait_ts 20 1 '^tend: running '; then
		pid=$(field pid "$TS_LINE")
		warn=$(grep -m1 '^tend: warn: reload = strip' "$T/err")
		check "strip: a warning names each removed option with its value ($warn)" \
		    eval '[[ $warn == *"--reload,"* && $warn == *"--reload-dir $T/w"* &&
		        $warn == *"--reload-delay 0.5"* && $warn == *UVICORN_RELOAD* ]]'
		kids=$(ps -o pid=,comm= --ppid "$TEND_PID" | awk '{ printf "%s(%s) ", $2, $1 }')
		check "strip: tend has one child, python3 ($kids)" \
		    eval '[ "$(ps -o comm= --ppid "$TEND_PID")" = python3 ]'
		gkids=$(ps -o pid=,args= --ppid "$pid")
		check "strip: the child has no children: no reloader/server split (${gkids:-none})" \
		    test -z "$gkids"
		argv=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		check "strip: the child's argv has no reload option ($argv)" \
		    eval '[ -n "$argv" ] && [[ $argv != *--reload* ]] && [[ $argv == *"--port $PORT"* ]]'
		check "strip: UVICORN_RELOAD is not in the child's environment" \
		    eval 'grep -qzx STRIP_RUN=1 "/proc/$pid/environ" &&
		        ! grep -qz "^UVICORN_RELOAD=" "/proc/$pid/environ"'
		# A change in the directory --reload-dir named does nothing now.
		echo "# changed" >>"$T/w/reload_app.py"
		sleep 1.5
		check "strip: uvicorn started no reloader and did not reload" \
		    eval '! grep -qE "Started reloader process|Reloading" "$T/err" &&
		        grep -q "Started server process \[$pid\]" "$T/err"'
		check "strip: the server answers" eval 'http_get / | grep -q "ok mode=normal"'
		kill -TERM "$TEND_PID"
		wait_tend_ts
		check "strip: TERM ends tend (exit $RC: 0 or 143)" eval '[ "$RC" = 0 ] || [ "$RC" = 143 ]'
		# (a process killed at the very end may need a moment to be gone)
		poll 5 eval '[ -z "$(env_pids STRIP_RUN=1)" ]'
		left=$(env_pids STRIP_RUN=1)
		check "strip: nothing of the run is left (${left:-none})" test -z "$left"
	else
		not_ok "strip: uvicorn was not running within 20 s"
		show_tend
		abort_tend
	fi
	check_sanitizers "strip"
else
	not_ok "strip: tend did not start"
	abort_tend
fi

# --- --dev: --reload accepted, lines prefixed, loops still watched -------------------------
# count 1: the reloader's own start line is a loop, so the watching shows at once.
reload_app_cmd || exit 99
run_tend plain --dev --reload-loop-count 1 --reload-loop-action stop --stop-timeout 5s \
    --environment DEV_RUN=1 -- "${RAPP[@]}"
poll 5 eval '[ -z "$(env_pids DEV_RUN=1)" ]'
left=$(env_pids DEV_RUN=1)
check_rc "dev: --reload accepted; the reloader's start line is a loop with count 1: stop" 69
check "dev: tend's info line says reload stays on and is watched" \
    grep -q '^tend> reload = allow: .*--reload.*watches' "$T/err"
check "dev: uvicorn's lines are prefixed 'python3[PID]: '" \
    grep -qE '^python3\[[0-9]+\]: INFO: +Started reloader process' "$T/err"
check "dev: the loop was detected and the child stopped with cause=reload-loop" \
    eval 'grep -q "^tend> reload loop" "$T/err" &&
        grep -q "^tend> stopping .*cause=reload-loop" "$T/err"'
check "dev: nothing of the run is left (${left:-none})" test -z "$left"
check_sanitizers "dev"

finish
