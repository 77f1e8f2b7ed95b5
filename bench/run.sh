#!/usr/bin/env bash
# The pipeline benchmark in one command:
#
#   bench/run.sh [--reference | --reference-only] [--rates 1000,5000,10000]
#                [--duration 20] [--connections 96] [--no-saturation] [--quick]
#   bench/run.sh --streams-reference [--catchup-orders 500000] [--commit-ms 100,20]
#                [--rates 2000,5000] [--duration 20]
#
#   bench/run.sh --compare 'before:TXN_MIN_MS=20' --compare 'after:TXN_MIN_MS=0'
#                [--repeat 2] [--catchup-orders 500000] [--rates 2000,5000]
#
# --compare restarts processing_service and notification_service with each
# variant's settings (interleaved, --repeat rounds): catch-up and end to
# end, with the stage histograms of bench/stages.py, into compare.json.
# --streams-reference measures processing_service against its Kafka Streams
# twin (bench/streams_reference, built with Maven into build/bench/) on the
# same broker: catch-up of the preloaded orders, CPU, RSS, and end to end
# through order_service and notification_service (bench/streams_reference.py).
#
# Builds the release preset (services and bench/loadgen), makes the bench's
# venv (build/bench/venv: matplotlib, confluent-kafka, requests and, for the
# reference, FastAPI/uvicorn), fetches Kafka once, then runs
# bench/pipeline_bench.py: a private broker under build/bench/, the three
# services, loadgen at each rate and at saturation. Figures are printed and
# written to bench/results/ (REPORT.md, results.json, latency.png, cpu.png;
# per-request CSVs in bench/results/raw/, not committed).
# Every process it starts is stopped on exit, Ctrl-C included.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/release
work=$root/build/bench
venv=$work/venv
out=${BENCH_OUT:-$root/bench/results}
args=()
streams=
while [ $# -gt 0 ]; do
        case $1 in
        --quick) args+=(--rates "500,1000" --duration 5 --warmup 2 --broker-warmup 10) ;;
        --out) out=$2; shift ;;
        --streams-reference) streams=1; args+=("$1") ;;
        *) args+=("$1") ;;
        esac
        shift
done

cd "$root" # the presets are found from the source directory
# The release preset leaves bench/ out (the image build has no bench/):
# the load generator is asked for here.
cmake --preset release -DPIPELINE_BENCH=ON >/dev/null
cmake --build --preset release -j2 >/dev/null

mkdir -p "$work"
req_stamp=$venv/.requirements
cat "$root/bench/requirements.txt" "$root/bench/reference/requirements.txt" >"$work/requirements.all"
if ! cmp -s "$req_stamp" "$work/requirements.all"; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$work/requirements.all"
        cp "$work/requirements.all" "$req_stamp"
fi
"$root/tests/kafka/broker.sh" fetch "$work/kafka-dist"
if [ -n "$streams" ]; then
        "$root/bench/streams_reference/build.sh" "$work/streams-twin"
        args+=(--streams-twin-dir "$work/streams-twin")
fi

export PIPELINE_SOURCE_DIR=$root
export PIPELINE_BUILD_DIR=$build
export PIPELINE_TEST_STATE_DIR=$work/state
export PIPELINE_KAFKA_DIST_DIR=$work/kafka-dist
export PIPELINE_BROKER_SH=$root/tests/kafka/broker.sh
export PIPELINE_ORDER_SERVICE=$build/order_service/order_service
export PIPELINE_PROCESSING_SERVICE=$build/processing_service/processing_service
export PIPELINE_NOTIFICATION_SERVICE=$build/notification_service/notification_service
export PYTHONPATH=$root/tests/pylib:$root/bench
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$out" "$PIPELINE_TEST_STATE_DIR"

# The driver stops what it started; this trap is the backstop (the broker
# outlives its starter by design, so stop it by its state directory too).
child=
cleanup() {
        trap - EXIT INT TERM
        if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
                kill -TERM "$child" 2>/dev/null || true
                wait "$child" 2>/dev/null || true
        fi
        "$root/tests/kafka/broker.sh" clean "$PIPELINE_TEST_STATE_DIR/brokers/bench" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

"$venv/bin/python" "$root/bench/pipeline_bench.py" \
        --loadgen "$build/bench/loadgen/loadgen" \
        --reference-app "$root/bench/reference/app.py" \
        --out "$out" "${args[@]}" &
child=$!
wait "$child"
