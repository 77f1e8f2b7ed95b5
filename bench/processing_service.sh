#!/usr/bin/env bash
# Benchmark of processing_service alone (release build, a private broker):
#
#   bench/processing_service.sh [--orders 100000] [--rate 2000] [--seconds 10]
#                               [extra VAR=value settings for the service...]
#
# Catch-up: preloads --orders orders, starts the service, and measures the
# rate until notifications hold them all, committed. Latency: then produces
# at --rate orders/s for --seconds and reports, per order, notification
# timestamp - order timestamp (what the stage adds) and the time until a
# read_committed reader sees the status (what a consumer waits), p50/p99.
#
#   bench/processing_service.sh --dedupe [--orders 200000] [--rounds 3]
#                               [--entries 1000000]
#
# The dedupe store instead (bench/dedupe.py): catch-up over --orders orders
# with the store off (DEDUPE_RETENTION=0) and on, alternating for --rounds
# rounds in one run; then the restore time and the store's bytes for a
# changelog of --entries order_ids.
# Everything it starts is stopped on exit, Ctrl-C included.
set -euo pipefail

bench=processing_service.py
if [ "${1:-}" = --dedupe ]; then
        bench=dedupe.py
        shift
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$root/build/processing-bench
broker_state=$work/broker
mkdir -p "$work"

cmake --preset release -S "$root" >/dev/null
cmake --build --preset release -j2 --target processing_service >/dev/null

"$root/tests/pyenv.sh" "$work/venv" "$root/tests/requirements.txt"
dist=$root/build/asan/kafka-dist
[ -f "$dist/.complete" ] || { dist=$work/kafka-dist; "$root/tests/kafka/broker.sh" fetch "$dist"; }

cleanup() { "$root/tests/kafka/broker.sh" clean "$broker_state" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
bootstrap=$("$root/tests/kafka/broker.sh" start "$broker_state" "$dist" | tail -n 1)
BENCH_BROKER_PID=$(cat "$broker_state/pid")
export BENCH_BROKER_PID

"$work/venv/bin/python" "$root/bench/$bench" \
        --bootstrap "$bootstrap" \
        --binary "$root/build/release/processing_service/processing_service" \
        --logs "$work" "$@"
