#!/usr/bin/env bash
# Run every libFuzzer target (tests/fuzz) for longer than the test suite
# does, one after the other, and print each one's execs/s.
#   scripts/fuzz.sh [SECONDS_EACH]     (default 300)
# Targets are built with clang in build/fuzz; new inputs collect in
# build/fuzz/corpus/NAME, a crash's input in build/fuzz/crashes/. Add a
# crash's input to tests/fuzz/corpus/NAME once it is fixed: every run
# replays those first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-300}
build=$root/build/fuzz
run=$root/tests/fuzz/run.sh
"$run" build "$build"
status=0
for name in $("$run" list); do
        "$run" run "$build" "$name" "$seconds" || status=1
done
exit $status
