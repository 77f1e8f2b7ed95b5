#!/usr/bin/env bash
# Scaling of processing_service in one consumer group (release build, a
# private broker), the local test of docs/scaling.md:
#
#   bench/scale_processing.sh [--orders 600000] [--instances 1,2,3] [--txn-max-ms 20]
#
# For each instance count: fresh topics (6 partitions), a preloaded backlog,
# that many instances in one group, and records/s in total and per instance
# from the moment every instance holds partitions until all statuses are
# committed (bench/scale_processing.py). Everything it starts is stopped on
# exit, Ctrl-C included.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$root/build/scale-bench
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

PYTHONPATH=$root/bench:$root/tests/pylib "$work/venv/bin/python" "$root/bench/scale_processing.py" \
        --bootstrap "$bootstrap" \
        --binary "$root/build/release/processing_service/processing_service" \
        --logs "$work" --broker-pid "$(cat "$broker_state/pid")" \
        --broker-data "$broker_state/data" "$@"
