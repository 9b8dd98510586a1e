#!/usr/bin/env bash
# Install what the build and the tests need, build tend out of tree in build/ with
# warnings as errors, and run every test (make check).
#
#   contrib/test.sh [--sanitize] [--distcheck]
#
#   --sanitize   also build in build-san/ with ASan + UBSan and run every test again
#   --distcheck  also run `make distcheck` (the release gate) in build/
#
# Always: the libFuzzer targets are built with clang in build-fuzz/ and each runs for
# FUZZ_SECS seconds (default 10) over the seed corpus in tests/fuzz/corpus/; the soak and
# storm scripts of tests/soak/ run against build/ (each counts as one test).
#
# The last line is "N passed, M failed[, K skipped]", summed over the test-suite.log
# of every build that ran; the fuzz stage and a passing distcheck (whose tree is gone
# by then) count as one each; a stage that failed without test results (a build
# error, distcheck) counts as one failure. Exits 0 only when nothing failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=contrib/deps.sh
. contrib/deps.sh

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "$0"
}

sanitize=0
distcheck=0
for arg in "$@"; do
	case $arg in
	--sanitize)	sanitize=1 ;;
	--distcheck)	distcheck=1 ;;
	-h|--help)	usage; exit 0 ;;
	*)		echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
	esac
done

JOBS=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0
failures=()

say() {
	printf '\n=== %s\n' "$*"
}

# Add the counts of one test-suite.log to the totals.
add_counts() {
	local log=$1 key n
	for key in PASS FAIL XPASS ERROR SKIP; do
		n=$(sed -n "s/^# $key: *\([0-9][0-9]*\)\$/\1/p" "$log" | head -n 1)
		n=${n:-0}
		case $key in
		PASS)	passed=$((passed + n)) ;;
		SKIP)	skipped=$((skipped + n)) ;;
		*)	failed=$((failed + n)) ;;
		esac
	done
}

# A stage failed without test results of its own: count it as one failure.
stage_failed() {
	failures+=("$1")
	failed=$((failed + 1))
}

# Print the log of every test in $1 whose result is FAIL, XPASS or ERROR (bounded).
show_failed_logs() {
	local trs log
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		printf '\n----- %s (last 300 lines) -----\n' "${log#"$ROOT"/}"
		tail -n 300 "$log" 2>/dev/null || echo "(no log)"
	done < <(grep -l -E '^:test-result: (FAIL|XPASS|ERROR)' -r --include='*.trs' "$1" 2>/dev/null | sort)
}

# Configure in $1 with the remaining arguments, build, run make check; count the results.
build_and_check() {
	local dir=$1
	shift
	mkdir -p "$dir"
	say "configure $dir: $*"
	if ! (cd "$dir" && ../configure "$@"); then
		stage_failed "configure in $dir"
		return 1
	fi
	say "make in $dir"
	if ! make -C "$dir" -j"$JOBS"; then
		stage_failed "build in $dir"
		return 1
	fi
	# Results of an earlier run must not be counted or shown again.
	find "$dir" \( -name '*.trs' -o -name '*.log' \) ! -name config.log -type f -delete
	say "make check in $dir"
	local rc=0 before=$failed
	# CHECK_TESTS: run only these (the default: every test).
	make -C "$dir" -j"$JOBS" check ${CHECK_TESTS:+TESTS="$CHECK_TESTS"} || rc=$?
	if [[ -f $dir/test-suite.log ]]; then
		add_counts "$dir/test-suite.log"
	fi
	if ((rc != 0)); then
		show_failed_logs "$dir"
		if ((failed == before)); then
			# No failed test to blame (a check program did not build, ...).
			stage_failed "make check in $dir"
		else
			failures+=("make check in $dir")
		fi
		return 1
	fi
}

summary() {
	say "summary"
	if ((${#failures[@]})); then
		printf 'failed: %s\n' "${failures[@]}"
	fi
	local line="$passed passed, $failed failed"
	((skipped == 0)) || line+=", $skipped skipped"
	echo "$line"
	((failed == 0 && ${#failures[@]} == 0))
}

deps_install "${TEND_PKGS_BUILD[@]}" "${TEND_PKGS_APPS[@]}" "${TEND_PKGS_TEST[@]}"

if [[ -f config.status ]]; then
	echo "the source tree is configured in place: run 'make distclean' here first" >&2
	exit 1
fi

say "autogen"
./autogen.sh

ok=1
build_and_check build --enable-werror || ok=0

say "fuzz: each target for ${FUZZ_SECS:-10} s (tests/soak/fuzz.sh)"
rc=0
FUZZ_BUILDDIR="$ROOT/build-fuzz" tests/soak/fuzz.sh "${FUZZ_SECS:-10}" || rc=$?
case $rc in
0)	passed=$((passed + 1)) ;;
77)	skipped=$((skipped + 1)) ;;
*)	stage_failed "fuzzing"; ok=0 ;;
esac

# The README's first command, as a user runs it (on build/, stopping after `tend status`).
say "quickstart: QUICKSTART_EXIT=1 contrib/quickstart.sh"
if [[ -x build/src/tend ]] && QUICKSTART_EXIT=1 DEMO_PORT=$((20000 + RANDOM % 5000)) \
    DEMO_STATUS_PORT=$((25000 + RANDOM % 5000)) contrib/quickstart.sh </dev/null; then
	passed=$((passed + 1))
else
	stage_failed "quickstart"
fi

# Without libsystemd (--with-libsystemd=no must build, warning-free, and behave): the
# unit tests and the status/notify scripts, the parts that differ.
CHECK_TESTS="$(cd build && make -s print-unit-tests) tests/e2e/status_notify.sh tests/e2e/status_control.sh tests/e2e/status_http.sh" \
    build_and_check build-nosd --enable-werror --with-libsystemd=no || ok=0

# The soak and storm scripts (about a minute; make soak runs them with fuzzing and the
# fault tests, which ran above).
say "soak: tests/soak/*.sh against build/ (make soak with SOAK_FAST=1)"
rc=0
soak_out="tend was not built"
[[ -x build/src/tend ]] && { soak_out=$(SOAK_FAST=1 make -s -C build soak 2>&1) || rc=$?; }
[[ -x build/src/tend ]] || rc=1
printf '%s\n' "$soak_out"
# run.sh's last line; when it failed, make's "*** [soak] Error 1" comes after it.
soak_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' <<<"$soak_out" |
    tail -n 1 || true)
if [[ $soak_line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
	skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
	if ((rc != 0)); then
		failures+=("soak")
		for log in build/soak-*.log; do
			grep -q '^not ok' "$log" 2>/dev/null || continue
			printf '\n----- %s (last 100 lines) -----\n' "$log"
			tail -n 100 "$log"
		done
		ok=0
	fi
elif ((rc != 0)); then
	stage_failed "soak"
	ok=0
fi

if ((sanitize)); then
	# The sanitizer build even when plain tests failed: its reports help find why.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	# Criterion 2.4's runner leaks small blocks (in criterion_run_all_tests, not in a
	# test) when it runs a suite's tests in parallel workers, which LeakSanitizer then
	# reports; one worker at a time it does not. The tests themselves are unchanged.
	export CRITERION_JOBS=1
	build_and_check build-san --enable-werror --enable-sanitizers || ok=0
fi

if ((distcheck)); then
	if ((ok)); then
		say "make distcheck in build"
		if make -C build -j"$JOBS" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror; then
			# Its tree (and test-suite.log) is gone on success: one passed stage.
			passed=$((passed + 1))
		else
			# Its tests' results, when it got that far (its tree is left on failure).
			before=$failed
			for log in build/tend-*/_build/sub/test-suite.log; do
				[[ -f $log ]] || continue
				add_counts "$log"
				show_failed_logs "${log%/test-suite.log}"
			done
			if ((failed == before)); then
				stage_failed "make distcheck"
			else
				failures+=("make distcheck")
			fi
		fi
	else
		echo "make distcheck skipped: a build or the tests above failed"
		failures+=("make distcheck (skipped)")
	fi
fi

summary
