#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz) into build-fuzz with clang and
# runs each for SECONDS (default 60), JOBS (default 2) at a time, on a scratch copy of
# its corpus (tests/fuzz/corpus/<target>, never written to), with its
# dictionary when there is one.  Fails when any target finds a crash, a
# leak, a timeout (over 1 s for one input) or RSS over 1 GiB; the input
# that did it is kept in build-fuzz/artifacts/<target>/.
#   sh scripts/fuzz.sh          # 60 s each (CI)
#   sh scripts/fuzz.sh 3600     # an hour each
#   JOBS=5 TIMEOUT=30 nice sh scripts/fuzz.sh 1800
#                               # five at a time, below other work (a
#                               # starved fuzzer would time out at 1 s)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
jobs=${JOBS:-2}
timeout=${TIMEOUT:-1}
case $secs$jobs$timeout in '' | *[!0-9]*) echo "usage: [JOBS=N] $0 [SECONDS]" >&2; exit 2 ;; esac
if ! command -v clang >/dev/null 2>&1; then
	echo "installing: clang"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends clang
fi
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBB_FUZZ=ON -DBB_WERROR=ON \
	-DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_targets
scratch=$(mktemp -d "${TMPDIR:-/tmp}/bb-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
export SECS="$secs" TIMEOUT="$timeout" SCRATCH="$scratch" ROOT="$(pwd)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One target: its corpus copied, its log kept; the tail shown on failure.
run_one='
t=$1
mkdir -p "$SCRATCH/$t" "$ROOT/build-fuzz/artifacts/$t"
cp "$ROOT/tests/fuzz/corpus/$t/"* "$SCRATCH/$t/"
dict=""
[ -f "$ROOT/tests/fuzz/$t.dict" ] && dict="-dict=$ROOT/tests/fuzz/$t.dict"
start=$(date +%s)
if "$ROOT/build-fuzz/tests/fuzz/$t" $dict -max_total_time="$SECS" -timeout="$TIMEOUT" \
	-rss_limit_mb=1024 -detect_leaks=1 -close_fd_mask=1 -print_final_stats=1 \
	-artifact_prefix="$ROOT/build-fuzz/artifacts/$t/" "$SCRATCH/$t" \
	>"$SCRATCH/$t.log" 2>&1; then
	echo "fuzz $t: ok, $(($(date +%s) - start)) s, $(grep -o "stat::number_of_executed_units: *[0-9]*" "$SCRATCH/$t.log" | grep -o "[0-9]*$") runs, slowest input $(grep -o "stat::slowest_unit_time_sec: *[0-9]*" "$SCRATCH/$t.log" | grep -o "[0-9]*$") s, peak RSS $(grep -o "stat::peak_rss_mb: *[0-9]*" "$SCRATCH/$t.log" | grep -o "[0-9]*$") MB"
else
	echo "fuzz $t: FAILED (artifacts in build-fuzz/artifacts/$t/)"
	tail -n 60 "$SCRATCH/$t.log"
	exit 1
fi
'
ls tests/fuzz/corpus | xargs -P "$jobs" -I{} sh -c "$run_one" sh {} && rc=0 || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "fuzzing failed" >&2
	exit 1
fi
echo "fuzzing: every target ran ${secs} s without a finding"
