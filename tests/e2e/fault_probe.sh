#!/bin/bash
# Faults of the health endpoint (tests/soak/httpsrv.py): after two good answers it turns
# slowloris (headers at one byte a second), half-open (accepts, never reads or answers),
# resets the connection in the middle of a header, or sends a 100 MB body. tend must
# judge each probe within its timeout (timeout, reset, protocol-error), see the hang
# within interval x failure_threshold + timeout, stay small and quiet (RSS, CPU), and
# stop on TERM. A 100 MB body with no expect_body is fine: tend reads only the headers.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"
need_python

INTERVAL=300
TIMEOUT=500
THRESHOLD=2
BOUND=$((INTERVAL * THRESHOLD + TIMEOUT))
MARGIN=4000
RSS_MAX_KB=20000
grep -aq __asan_init "$TEND" && RSS_MAX_KB=60000	# ASan's shadow memory and quarantine
CPU_MAX_MS=500

# tend_on NAME ARGS...: tend probing the endpoint, over a child that ends on TERM.
tend_on() {
	local name=$1
	shift
	start_tend_ts plain --log-level debug --health-url "http://127.0.0.1:$PORT/health" \
	    --startup-interval 100ms --health-interval ${INTERVAL}ms --health-timeout ${TIMEOUT}ms \
	    --health-failure-threshold $THRESHOLD --stop-timeout 2s --restart-backoff 30s \
	    "$@" -- "$SIGREC" record -o "$T/$name.sig" -x TERM -t 60
}

# fault NAME FAULT RESULTS [ARGS...]: the endpoint turns FAULT after two good answers;
# tend must stop the child with cause=hang, the last probe one of RESULTS (a|b).
fault() {
	local name=$1 flt=$2 want=$3 took res rss cpu
	shift 3
	if ! srv_start "$name" --ok-first 2 --fault "$flt"; then
		not_ok "$name: the endpoint did not start"
		srv_stop
		return
	fi
	if ! tend_on "$name" "$@"; then
		not_ok "$name: tend did not start"
		abort_tend
		srv_stop
		return
	fi
	if ! wait_ts 10 1 '^tend: running '; then
		not_ok "$name: tend never saw the endpoint healthy"
		show_tend
		abort_tend
		srv_stop
		return
	fi
	local t_run=$TS_MS
	if ! wait_ts $(((BOUND + MARGIN) / 1000 + 5)) 1 '^tend: (warn: )?stopping .*cause=hang'; then
		not_ok "$name: no hang detected"
		show_tend
		abort_tend
		srv_stop
		return
	fi
	took=$((TS_MS - t_run))
	res=$(field probe "$TS_LINE")
	check "$name: the hang was seen $took ms after running (< $BOUND + $MARGIN)" \
	    test "$took" -lt $((BOUND + MARGIN))
	check "$name: the last probe failed with $res (expected $want)" \
	    eval '[[ $res =~ ^($want)$ ]]'
	check "$name: tend logged $THRESHOLD or more failed probes" \
	    test "$(ts_count "^tend: probe ($want) ")" -ge "$THRESHOLD"
	sleep 0.5	# the child stops; tend backs off for 30 s
	rss=$(rss_kb "$TEND_PID")
	cpu=$(cpu_ms "$TEND_PID")
	check "$name: tend's RSS is $rss KiB (< $RSS_MAX_KB)" test "${rss:-999999}" -lt $RSS_MAX_KB
	check "$name: tend used $cpu ms of CPU (< $CPU_MAX_MS)" test "${cpu:-999999}" -lt $CPU_MAX_MS
	mark
	kill -TERM "$TEND_PID"
	wait_tend_ts
	check "$name: tend stopped on TERM in $ELAPSED ms (exit $RC)" \
	    test "$ELAPSED" -lt 5000 -a "$RC" = 143
	srv_stop
}

fault slowloris slowloris timeout
fault half-open halfopen timeout
fault reset reset 'reset|protocol-error'
fault "100 MB body, expect_body" bigbody protocol-error --health-expect-body ok

# --- a 100 MB body is fine when no body is expected: tend stops reading after the headers
name="100 MB body, no expect_body"
if srv_start big --fault bigbody && tend_on big; then
	if wait_ts 10 1 '^tend: running '; then
		sleep $(((INTERVAL * 6) / 1000 + 1))
		check "$name: no hang after 6 probes" eval '! ts_find 1 "cause=hang"'
		check "$name: the probes passed" test "$(ts_count '^tend: probe ok ')" -ge 4
		sent=$(awk '{ sub("bytes_sent=", "", $3); s += $3 } END { print s + 0 }' "$T/big.log")
		n=$(wc -l <"$T/big.log")
		check "$name: the endpoint could push $sent bytes in $n answers (< 32 MiB)" \
		    test "$sent" -lt $((32 << 20))
		rss=$(rss_kb "$TEND_PID")
		cpu=$(cpu_ms "$TEND_PID")
		check "$name: tend's RSS is $rss KiB (< $RSS_MAX_KB)" test "${rss:-999999}" -lt $RSS_MAX_KB
		check "$name: tend used $cpu ms of CPU (< $CPU_MAX_MS)" test "${cpu:-999999}" -lt $CPU_MAX_MS
	else
		not_ok "$name: tend never saw the endpoint healthy"
		show_tend
	fi
	mark
	kill -TERM "$TEND_PID"
	wait_tend_ts
	check "$name: tend stopped on TERM in $ELAPSED ms (the child exits on TERM: 0)" \
	    test "$ELAPSED" -lt 5000 -a "$RC" = 0
else
	not_ok "$name: the endpoint or tend did not start"
	abort_tend
fi
srv_stop
check_sanitizers "probe faults"

finish
