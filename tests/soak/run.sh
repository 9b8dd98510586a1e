#!/bin/bash
# `make soak`: the reliability suite. Runs every script in tests/soak/ (soak, storms,
# valgrind, fuzzing) and the fault tests tests/e2e/fault_*.sh (also part of make check),
# each with its output in soak-NAME.log in the current directory. The last line is
# "N passed, M failed[, K skipped]"; exits 0 only when nothing failed.
#
# Environment: TEND, SIGREC, TEST_SRCDIR (make soak sets them), SOAK_FUZZ_SECS (seconds
# per fuzz target, default 20), SOAK_ONLY (a name, e.g. storm_signals: run just that),
# SOAK_FAST=1 (only tests/soak/*.sh: no fuzzing and no fault tests, which contrib/test.sh
# runs in stages of their own).
set -u

: "${TEND:?TEND must name the tend binary (run through make soak)}"
: "${SIGREC:?SIGREC must name tests/e2e/sigrec (run through make soak)}"
: "${TEST_SRCDIR:?TEST_SRCDIR must name the tests directory (run through make soak)}"
export TEND SIGREC TEST_SRCDIR

scripts=()
for f in "$TEST_SRCDIR"/soak/*.sh "$TEST_SRCDIR"/e2e/fault_*.sh; do
	case ${f##*/} in
	lib.sh | run.sh | fuzz.sh) continue ;;
	fault_*) [ -n "${SOAK_FAST:-}" ] && continue ;;
	esac
	scripts+=("$f")
done
[ -n "${SOAK_FAST:-}" ] || scripts+=("$TEST_SRCDIR/soak/fuzz.sh")

passed=0
failed=0
skipped=0
failures=()
for f in "${scripts[@]}"; do
	name=${f##*/}
	name=${name%.sh}
	[ -n "${SOAK_ONLY:-}" ] && [ "$SOAK_ONLY" != "$name" ] && continue
	start=$SECONDS
	if [ "$name" = fuzz ]; then
		bash "$f" "${SOAK_FUZZ_SECS:-20}" >"soak-$name.log" 2>&1
	else
		bash "$f" >"soak-$name.log" 2>&1
	fi
	rc=$?
	took=$((SECONDS - start))
	case $rc in
	0) result=PASS; passed=$((passed + 1)) ;;
	77) result=SKIP; skipped=$((skipped + 1)) ;;
	*) result=FAIL; failed=$((failed + 1)); failures+=("$name") ;;
	esac
	printf '%s: %s (%d s)\n' "$result" "$name" "$took"
	if [ "$result" = FAIL ]; then
		grep -E '^not ok|^#' "soak-$name.log" | head -40 | sed 's/^/    /'
	fi
done

line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line+=", $skipped skipped"
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]} (see soak-NAME.log)"
echo "$line"
[ "$failed" -eq 0 ]
