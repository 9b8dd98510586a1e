#!/bin/bash
# Prefixed child lines (issue 5): --log-prefix yes gives "NAME[PID]: line" on each
# stream (NAME: the basename of argv[0]), "NAME[PID]+ " before the continuation chunks
# of a long line, with every byte kept; no and auto (not a terminal here) leave lines
# unchanged; --dev prefixes too.
. "$(dirname "$0")/lib.sh"

# The child: its pid in a file, a line per stream, a line with no newline at the end.
CHILD=(sh -c 'echo $$ >"$1"; echo "hello out"; echo "hello err" >&2; printf "no newline"' child)

for mode in $MODES; do
	for how in "--log-prefix yes" "--dev"; do
		rm -f "$T/pid"
		# shellcheck disable=SC2086
		run_tend "$mode" $how -- "${CHILD[@]}" "$T/pid"
		pid=$(cat "$T/pid" 2>/dev/null)
		check_rc "$mode, $how: the child exits 0" 0
		check "$mode, $how: stdout is 'sh[$pid]: hello out' then 'sh[$pid]: no newline'" \
		    eval '[ -n "$pid" ] && [ "$(cat "$T/out")" = "sh[$pid]: hello out
sh[$pid]: no newline" ]'
		check "$mode, $how: stderr has 'sh[$pid]: hello err'" \
		    has_line "$T/err" "sh[$pid]: hello err"
	done

	for how in "--log-prefix no" "--log-prefix auto" ""; do
		# shellcheck disable=SC2086
		run_tend "$mode" $how -- "${CHILD[@]}" "$T/pid"
		check "$mode, ${how:-default}: lines unchanged on both streams (not a terminal)" \
		    eval '[ "$(cat "$T/out")" = "hello out
no newline" ] && has_line "$T/err" "hello err"'
	done
done

# argv[0] with a directory: only its basename.
rm -f "$T/pid"
run_tend plain --log-prefix yes -- /bin/sh -c 'echo $$ >"$1"; echo x' child "$T/pid"
pid=$(cat "$T/pid" 2>/dev/null)
check "prefix: argv[0] /bin/sh gives 'sh[$pid]: '" has_line "$T/out" "sh[$pid]: x"

# A 40,000-byte line: chunks of 16384, continuations marked with '+', every byte kept.
head -c 30000 /dev/urandom | base64 -w0 >"$T/long" || exit 99
rm -f "$T/pid"
run_tend plain --log-prefix yes -- sh -c 'echo $$ >"$1"; cat "$2"; echo; echo after' child \
    "$T/pid" "$T/long"
pid=$(cat "$T/pid" 2>/dev/null)
check "long: 4 lines: a first chunk, 2 continuations, the next line ($(wc -l <"$T/out"))" \
    eval '[ "$(wc -l <"$T/out")" = 4 ] &&
        [ "$(grep -c "^sh\[$pid\]: " "$T/out")" = 2 ] &&
        [ "$(grep -c "^sh\[$pid\]+ " "$T/out")" = 2 ] &&
        [ "$(sed -n 4p "$T/out")" = "sh[$pid]: after" ]'
head -n 3 "$T/out" | sed -E 's/^sh\[[0-9]+\][:+] //' | tr -d '\n' >"$T/joined"
check "long: the chunks without their prefixes give the line back, byte for byte" \
    cmp -s "$T/joined" "$T/long"
check "long: the first two chunks carry 16384 bytes each" \
    eval '[ "$(sed -n 1p "$T/out" | sed -E "s/^[^ ]+ //" | tr -d "\n" | wc -c)" = 16384 ] &&
        [ "$(sed -n 2p "$T/out" | sed -E "s/^[^ ]+ //" | tr -d "\n" | wc -c)" = 16384 ]'

finish
