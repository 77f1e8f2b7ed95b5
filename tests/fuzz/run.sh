#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz/fuzz_*.c) under ASan and UBSan.
#
#   run.sh build BUILD            configure (clang) and build them in BUILD
#   run.sh run BUILD NAME SECONDS run target NAME for SECONDS: first its
#                                 checked-in seeds (tests/fuzz/corpus/NAME,
#                                 crash regressions included), then new
#                                 inputs, kept in BUILD/corpus/NAME; prints
#                                 the execs/s; exit 1 on a crash, whose input
#                                 is left in BUILD/crashes/
#   run.sh list                   the target names
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
targets=(order status dotenv body ecs_line)

die() { echo "fuzz: $*" >&2; exit 1; }

cmd_build() {
        local build=$1
        command -v clang >/dev/null || die "clang not found: run scripts/install-deps.sh"
        cmake -S "$here/clang" -B "$build" -DCMAKE_C_COMPILER=clang \
                -DCMAKE_BUILD_TYPE=Debug >/dev/null
        cmake --build "$build" -j2 >/dev/null
}

cmd_run() {
        local build=$1 name=$2 seconds=$3 log rc=0
        [ -x "$build/fuzz_$name" ] || die "no $build/fuzz_$name: run '$0 build $build'"
        mkdir -p "$build/corpus/$name" "$build/crashes"
        log="$build/fuzz_$name.log"
        # Seeds first, read-only: new inputs go to the build tree's corpus.
        "$build/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
                -timeout=10 -max_len=8192 -print_final_stats=1 \
                -artifact_prefix="$build/crashes/${name}-" \
                "$build/corpus/$name" "$here/corpus/$name" >"$log" 2>&1 || rc=$?
        local runs secs
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        if [ "$rc" -ne 0 ]; then
                tail -n 40 "$log" >&2
                die "$name: crashed (exit $rc); input in $build/crashes/, log $log"
        fi
        echo "fuzz_$name: ${runs:-?} runs in ${seconds}s, ${secs:-?} execs/s, no crash"
}

case ${1:-} in
build) [ $# -eq 2 ] || die "usage: $0 build BUILD"; cmd_build "$2" ;;
run) [ $# -eq 4 ] || die "usage: $0 run BUILD NAME SECONDS"; cmd_run "$2" "$3" "$4" ;;
list) printf '%s\n' "${targets[@]}" ;;
*) die "usage: $0 build BUILD | run BUILD NAME SECONDS | list" ;;
esac
