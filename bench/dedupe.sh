#!/usr/bin/env bash
# The dedupe store of processing_service (release build, a private broker):
#
#   bench/dedupe.sh [--orders 200000] [--rounds 3] [--entries 1000000]
#
# Catch-up over --orders preloaded orders with the store off
# (DEDUPE_RETENTION=0) and on, alternating for --rounds rounds in the same
# run; then an instance restores a changelog of --entries order_ids: the
# restore time and the store's bytes, per million. Everything it starts is
# stopped on exit, Ctrl-C included.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$root/build/dedupe-bench
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

"$work/venv/bin/python" "$root/bench/dedupe.py" \
        --bootstrap "$bootstrap" \
        --binary "$root/build/release/processing_service/processing_service" \
        --logs "$work" "$@"
