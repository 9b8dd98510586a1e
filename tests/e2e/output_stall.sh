#!/bin/bash
# A stalled log reader (issue 5): tend's stdout is a pipe nobody reads for 5 s while the
# child writes 2,000,000 numbered lines. The child blocks (backpressure: its write count
# stops growing), tend's memory stays bounded, its loop keeps probing a health URL
# (time-stamped debug lines on stderr, which is read), no hang is declared, and once the
# reader starts every line arrives, in order.
. "$(dirname "$0")/lib.sh"

N=2000000
STALL_MS=5000
seq 1 "$N" >"$T/expect" || exit 99
TOTAL=$(stat -c %s "$T/expect")

# A tiny HTTP server for the probes (any GET / answers 200).
free_port
mkdir -p "$T/www" && echo ok >"$T/www/index.html"
(cd "$T/www" && exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$PORT") \
    >/dev/null 2>&1 &
HS=$!
if ! poll 10 eval 'http_get / | grep -q "^ok"'; then
	not_ok "the probe server (python3 -m http.server) did not start"
	finish
fi

# wchar PID: bytes the process has written so far.
wchar() {
	awk '$1 == "wchar:" { print $2 }' "/proc/$1/io" 2>/dev/null
}
# rss_kb PID
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

rm -f "$T/errfifo" "$T/go"
mkfifo "$T/errfifo" || exit 99
e2e_stamp <"$T/errfifo" 3>"$T/err" >"$T/ts" &
STAMP_PID=$!
now_ms
TS0=$NOW
(
	timeout -k 5 60 "$SIGREC" exec -- "$TEND" --log-level debug \
	    --health-url "http://127.0.0.1:$PORT/" --startup-interval 100ms \
	    --health-interval 200ms --health-timeout 2s -- seq 1 "$N" \
	    </dev/null 2>"$T/errfifo" |
	    { while [ ! -e "$T/go" ]; do sleep 0.05; done; cat >"$T/out"; }
	echo "${PIPESTATUS[0]}" >"$T/rc"
) &
BG=$!
TEND_PID=$(find_tend "$BG")
child=
[ -n "$TEND_PID" ] && poll 10 eval 'child=$(ps -o pid= --ppid "$TEND_PID" | tr -d " "); [ -n "$child" ]'
if [ -z "$TEND_PID" ] || [ -z "$child" ]; then
	not_ok "tend or its child did not start"
	touch "$T/go"
	wait "$BG"
	finish
fi

# Watch during the stall: tend's memory, and the child's writes: w1 once they stopped
# growing (two samples 0.25 s apart agree, from 1 s in; on a busy machine the child may
# need longer to fill the queue and the pipe), w2 at least 2 s later, at the end of the
# stall (STALL_MS in, or later for a late w1; 5 s more at most).
sleep 1
w1=
t1=
wprev=$(wchar "$child")
max_rss=0
while :; do
	r=$(rss_kb "$TEND_PID")
	[ -n "$r" ] && [ "$r" -gt "$max_rss" ] && max_rss=$r
	now_ms
	if [ -z "$w1" ]; then
		w=$(wchar "$child")
		if [ -n "$w" ] && [ "$w" = "$wprev" ]; then
			w1=$w
			t1=$NOW
		fi
		wprev=$w
	fi
	[ -n "$w1" ] && [ $((NOW - TS0)) -ge "$STALL_MS" ] && [ $((NOW - t1)) -ge 2000 ] && break
	[ $((NOW - TS0)) -ge $((STALL_MS + 5000)) ] && break
	sleep 0.25
done
w2=$(wchar "$child")
state=$(proc_state "$child")
now_ms
GO=$NOW
touch "$T/go"
wait "$BG"
RC=$(cat "$T/rc" 2>/dev/null)
poll 10 eval '! kill -0 "$STAMP_PID" 2>/dev/null'
kill "$HS" 2>/dev/null
wait "$HS" 2>/dev/null

check "stall: tend and the child were alive through the stall (child state $state)" \
    test -n "$state"
check "stall: the child blocked: wrote ${w1:-?} then ${w2:-?} bytes (>= 2 s apart) of $TOTAL" \
    eval '[ -n "$w1" ] && [ "$w1" = "$w2" ] && [ "$w2" -lt "$TOTAL" ]'
check "stall: tend's memory stayed bounded (max VmRSS ${max_rss} kB < 50 MB)" \
    test "$max_rss" -gt 0 -a "$max_rss" -lt 51200
# Probes while stalled: from 1 s in to the end of the stall.
probes=$(awk -v a=$((TS0 + 1000)) -v b="$GO" '$1 >= a && $1 <= b && / tend: probe ok /' "$T/ts" | wc -l)
late=$(awk -v a=$((GO - 1000)) -v b="$GO" '$1 >= a && $1 <= b && / tend: probe ok /' "$T/ts" | wc -l)
check "stall: probes kept passing ($probes passed between 1 s and $((GO - TS0)) ms, every 200 ms)" \
    test "$probes" -ge 5
check "stall: and in the last second of the stall ($late)" test "$late" -ge 1
check "stall: no failed probe, no hang, no restart" \
    eval '! grep "^tend: probe " "$T/err" | grep -qv "^tend: probe ok " &&
        ! grep -qE "^tend: (warn: |error: |unhealthy|stopping|backoff)" "$T/err"'
check "stall: tend exited with the child's 0 (${RC:-none})" test "$RC" = 0
check "stall: every line arrived, in order ($(wc -l <"$T/out") of $N)" cmp -s "$T/out" "$T/expect"
check_sanitizers "stall"

finish
