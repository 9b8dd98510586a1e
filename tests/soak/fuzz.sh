#!/bin/bash
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang in a build directory of
# their own, replay the seed corpus kept in the tree, then fuzz each target for a while.
#
#   tests/soak/fuzz.sh [SECONDS]        (default 20 per target; 0: replay the seeds only)
#
# Environment: FUZZ_BUILDDIR (default ./fuzz-build, reused between runs), CC (clang).
# New inputs go to a scratch directory, never into the tree: the scratch directory comes
# first on libFuzzer's command line. A crash leaves its input in the scratch directory
# (kept, and named in the output). Prints TAP-like lines; exits 1 if a target failed,
# 77 if clang cannot build them.
set -u

SECS=${1:-${FUZZ_SECS:-20}}
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${FUZZ_BUILDDIR:-$PWD/fuzz-build}
CC=${CC:-clang}
case $CC in *clang*) ;; *) CC=clang ;; esac
JOBS=$(nproc 2>/dev/null || echo 2)

ntest=0
nfail=0
ok() { ntest=$((ntest + 1)); echo "ok $ntest - $*"; }
not_ok() { ntest=$((ntest + 1)); nfail=$((nfail + 1)); echo "not ok $ntest - $*"; }

if ! command -v "$CC" >/dev/null; then
	echo "ok 1 - # SKIP no clang"
	exit 77
fi

mkdir -p "$BUILD" || exit 1
if ! [ -f "$BUILD/Makefile" ]; then
	echo "# configure in $BUILD: CC=$CC --enable-fuzzing"
	if ! (cd "$BUILD" && "$SRCDIR/configure" -q CC="$CC" --enable-fuzzing) >"$BUILD/configure.out" 2>&1; then
		tail -n 20 "$BUILD/configure.out" | sed 's/^/#   /'
		not_ok "configure --enable-fuzzing with $CC"
		exit 1
	fi
fi
# The targets are the fuzz programs the Makefile knows (noinst_PROGRAMS).
printf 'print-fuzz-targets:\n\t@echo $(noinst_PROGRAMS)\n' >"$BUILD/print-fuzz.mk"
paths=()
for p in $(make -s -C "$BUILD" -f Makefile -f print-fuzz.mk print-fuzz-targets 2>/dev/null); do
	case $p in tests/fuzz/fuzz_*) paths+=("$p") ;; esac
done
if [ ${#paths[@]} -eq 0 ]; then
	not_ok "no fuzz programs in $BUILD/Makefile (configured without --enable-fuzzing?)"
	exit 1
fi
targets=("${paths[@]##*/}")
for f in "$SRCDIR"/tests/fuzz/fuzz_*.c; do
	f=${f##*/}
	[[ " ${targets[*]} " == *" ${f%.c} "* ]] ||
	    echo "# note: tests/fuzz/$f is not a program in Makefile.am: not built"
done
if ! make -s -C "$BUILD" -j"$JOBS" "${paths[@]}" >"$BUILD/make.out" 2>&1; then
	tail -n 30 "$BUILD/make.out" | sed 's/^/#   /'
	not_ok "build the fuzz targets (${targets[*]})"
	exit 1
fi
ok "built ${targets[*]} with $CC"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tend-fuzz.XXXXXX") || exit 1
keep=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${targets[@]}"; do
	bin=$BUILD/tests/fuzz/$t
	corpus=$SRCDIR/tests/fuzz/corpus/${t#fuzz_}
	new=$SCRATCH/$t
	mkdir -p "$new"
	[ -d "$corpus" ] || corpus=$new	# no seeds in the tree: start from nothing
	nseed=$(find "$corpus" -type f | wc -l)
	# Every seed once: a seed that fails is a regression.
	if "$bin" -runs=0 -artifact_prefix="$new/" "$corpus" >"$new.replay.log" 2>&1; then
		ok "$t: replays its $nseed seeds"
	else
		not_ok "$t: a seed fails (log: $new.replay.log)"
		tail -n 30 "$new.replay.log" | sed 's/^/#   /'
		keep=1
		continue
	fi
	[ "$SECS" -gt 0 ] || continue
	if "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$new/" "$new" "$corpus" >"$new.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$new.log")
		ok "$t: $SECS s, ${runs:-?} runs, no crash ($(find "$new" -type f | wc -l) new inputs in scratch)"
	else
		not_ok "$t: crashed after fuzzing (inputs and log kept in $new)"
		grep -E -m1 -A25 'ERROR: |runtime error:|deadly signal' "$new.log" | sed 's/^/#   /'
		ls "$new"/crash-* "$new"/leak-* "$new"/timeout-* "$new"/oom-* 2>/dev/null | sed 's/^/#   artifact: /'
		keep=1
	fi
done

if [ "$keep" = 0 ]; then
	rm -rf "$SCRATCH"
else
	echo "# kept: $SCRATCH"
fi
echo "1..$ntest"
[ "$nfail" -eq 0 ]
