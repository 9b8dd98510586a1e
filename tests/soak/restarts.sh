#!/bin/bash
# Soak: 1,000 restarts of a crashing child (no backoff, a crash-loop window so short that
# tend never gives up). tend's open file descriptors and RSS must be the same after the
# last restart as after the first ten, and no zombie may be left. As PID 1 and plain.
. "$(dirname "$0")/../e2e/lib.sh"
. "$TEST_SRCDIR/soak/lib.sh"

N=${SOAK_RESTARTS:-1000}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-256}

# The child counts its starts in $T/count; at the 10th it writes $T/count.hold and waits
# for $T/count.go (so tend can be looked at), from the Nth on it writes the hold file and
# sleeps; else it exits 1 at once.
cat >"$T/child.sh" <<'EOF'
echo >>"$1"
n=$(wc -l <"$1")
if [ "$n" -eq 10 ]; then
	echo "$n" >"$1.hold"
	while [ ! -e "$1.go" ]; do sleep 0.05; done
elif [ "$n" -ge "$2" ]; then
	echo "$n" >"$1.hold"
	exec sleep 60
fi
exit 1
EOF

# The kinds of tend's fds ("pipe", "socket", "anon_inode:[signalfd]", /dev/null, ...),
# sorted: pipe and socket inode numbers change from child to child, their number not.
fd_kinds() {
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f") || continue
		echo "${l%%:\[*}"
	done | sort | uniq -c | tr -s ' ' | tr '\n' ';'
}

# hold_at N: wait for the child to hold at its Nth start (or later); sets HOLD_N.
hold_at() {
	HOLD_N=0
	HOLD_WANT=$1
	poll 120 eval '[ -s "$T/count.hold" ] && read -r HOLD_N <"$T/count.hold" &&
	    [ "$HOLD_N" -ge "$HOLD_WANT" ]'
}

for mode in $MODES; do
	rm -f "$T/count" "$T/count.hold" "$T/count.go"
	if ! start_tend "$mode" --restart-backoff 0 --restart-limit-burst 100 \
	    --restart-limit-interval 1ms -- sh "$T/child.sh" "$T/count" "$N"; then
		not_ok "$mode: tend did not start"
		abort_tend
		continue
	fi
	if ! hold_at 10; then
		not_ok "$mode: the child never reached its 10th start"
		show_tend
		abort_tend
		continue
	fi
	sleep 0.2	# let tend settle (the exit of the 9th child is handled)
	fd10=$(fd_kinds "$TEND_PID")
	rss10=$(rss_kb "$TEND_PID")
	touch "$T/count.go"	# go on crashing
	if ! hold_at "$N"; then
		not_ok "$mode: the child never reached its ${N}th start"
		show_tend
		abort_tend
		continue
	fi
	sleep 0.2
	fdN=$(fd_kinds "$TEND_PID")
	rssN=$(rss_kb "$TEND_PID")
	ok "$mode: $HOLD_N starts of the crashing child; tend did not give up"
	diag "$mode: fds after 10: $fd10"
	diag "$mode: fds after $HOLD_N: $fdN"
	check "$mode: the same open fds after $HOLD_N restarts as after 10" test "$fd10" = "$fdN"
	if grep -aq __asan_init "$TEND"; then
		# ASan keeps freed memory in quarantine: RSS grows with churn, not leaks.
		skip "$mode: RSS (${rss10} KiB after 10, ${rssN} KiB after $HOLD_N): ASan build"
	else
		check "$mode: RSS after $HOLD_N restarts ${rssN} KiB, after 10 ${rss10} KiB (+$RSS_SLACK_KB at most)" \
		    test "$rssN" -le $((rss10 + RSS_SLACK_KB))
	fi
	count_children "$TEND_PID"
	check "$mode: tend has one child ($NCHILD) and no zombie ($NZOMBIE)" \
	    test "$NCHILD" = 1 -a "$NZOMBIE" = 0
	check "$mode: tend is alive" alive "$TEND_PID"
	kill -TERM "$TEND_PID"
	wait_tend
	check_rc "$mode: TERM after the soak (the child dies of it)" 143
done

finish
