#!/usr/bin/env bash
# Benchmark of order_service: a private Kafka broker, the release build of
# the service, and wrk posting distinct orders over 64 keep-alive
# connections for a bounded time. Prints req/s, p50/p99 latency and the
# service's peak RSS (VmHWM), then stops everything it started.
#
#   bench/order_service.sh [seconds]       (default 20; env CONNECTIONS=64, THREADS=2)
#
# Each request is answered only after the broker acknowledged the record
# (acks=all), so this measures the whole path: HTTP, validation, produce,
# replication ack, delivery report, reply.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=${1:-20}
connections=${CONNECTIONS:-64}
wrk_threads=${THREADS:-2}
build=$root/build/release
dist=$root/build/bench/kafka-dist
state=$(mktemp -d /tmp/order-bench.XXXXXX)
svc_pid=

cleanup() {
        if [ -n "$svc_pid" ] && kill -0 "$svc_pid" 2>/dev/null; then
                kill -TERM "$svc_pid"
                wait "$svc_pid" || true
        fi
        "$root/tests/kafka/broker.sh" clean "$state/kafka" >/dev/null 2>&1 || true
        rm -rf "$state"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
echo "building the release preset" >&2
cmake --preset release >/dev/null
cmake --build --preset release --target order_service -j2 >/dev/null
"$root/tests/kafka/broker.sh" fetch "$dist"
bootstrap=$("$root/tests/kafka/broker.sh" start "$state/kafka" "$dist" | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

KAFKA_BOOTSTRAP_SERVERS=$bootstrap HTTP_PORT=$port ORDERS_TOPIC=bench-orders \
        TOPIC_PARTITIONS=${TOPIC_PARTITIONS:-6} LOG_LEVEL=warn \
        "$build/order_service/order_service" 2>"$state/service.log" &
svc_pid=$!
for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
        kill -0 "$svc_pid" || { cat "$state/service.log" >&2; exit 1; }
        sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "service not ready" >&2; exit 1; }

echo "warm-up (3 s), then ${duration} s at $connections connections" >&2
BENCH_RUN=warm wrk -t"$wrk_threads" -c"$connections" -d3s -s "$root/bench/order_service.lua" \
        "http://127.0.0.1:$port" >/dev/null
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
broker_pid=$(cat "$state/kafka/pid")
svc_cpu0=$(cpu_ticks "$svc_pid"); broker_cpu0=$(cpu_ticks "$broker_pid")
result=$(BENCH_RUN=$$ wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --timeout 10s \
        -s "$root/bench/order_service.lua" "http://127.0.0.1:$port" | tail -1)
svc_cpu=$(( $(cpu_ticks "$svc_pid") - svc_cpu0 ))
broker_cpu=$(( $(cpu_ticks "$broker_pid") - broker_cpu0 ))
hz=$(getconf CLK_TCK)
hwm=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$svc_pid/status")
accepted=$(curl -s "http://127.0.0.1:$port/metrics" |
        awk '/^http_requests_total\{route="\/orders",code="202"\}/ {print $2}')

echo "order_service: $result"
requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$result")
echo "order_service: cpu_s service=$(awk -v t="$svc_cpu" -v hz="$hz" 'BEGIN{printf "%.1f", t/hz}') broker=$(awk -v t="$broker_cpu" -v hz="$hz" 'BEGIN{printf "%.1f", t/hz}') service_cpu_us_per_order=$(awk -v t="$svc_cpu" -v hz="$hz" -v n="$requests" 'BEGIN{printf "%.0f", n ? t/hz*1e6/n : 0}')"
echo "order_service: peak_rss=$hwm accepted_202_total=${accepted:-0} cores=$(nproc) load_avg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
