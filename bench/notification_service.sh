#!/usr/bin/env bash
# Catch-up speed of notification_service: how fast it turns a backlog of
# status records on 'notifications' into ECS lines (stdout to /dev/null, the
# lines to NOTIFICATION_LOG_FILE), from a cold start of a new group.
#
#   bench/notification_service.sh [RECORDS] [PARTITIONS]
#
# Uses the release build (built when missing) and a private single-node
# broker started with tests/kafka/broker.sh, unless KAFKA_BOOTSTRAP_SERVERS
# is set. Needs kcat. Prints the figures; asserts nothing.
set -euo pipefail

records=${1:-100000}
partitions=${2:-6}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build/release}
bin=$build/notification_service/notification_service
work=$(mktemp -d /tmp/bench-notification.XXXXXX)
svc_pid=''
broker_state=''

cleanup() {
        [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null
        [ -n "$broker_state" ] && "$src/tests/kafka/broker.sh" clean "$broker_state" >/dev/null 2>&1
        rm -rf "$work"
}
trap cleanup EXIT

command -v kcat >/dev/null || { echo "kcat is needed (apt-get install kcat)" >&2; exit 1; }
if [ ! -x "$bin" ]; then
        (cd "$src" && cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null)
fi

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
        dist=
        for d in "$build" "$src/build/asan" "$src/build/dev"; do
                [ -d "$d/kafka-dist" ] && { dist=$d/kafka-dist; break; }
        done
        if [ -z "$dist" ]; then
                dist=$build/kafka-dist
                "$src/tests/kafka/broker.sh" fetch "$dist" >/dev/null
        fi
        broker_state=$work/broker
        mkdir -p "$broker_state"
        KAFKA_BOOTSTRAP_SERVERS=$("$src/tests/kafka/broker.sh" start "$broker_state" "$dist" | tail -1)
fi
export KAFKA_BOOTSTRAP_SERVERS
topic=bench-notifications-$$
port=$((20000 + $$ % 20000))

run_service() { # run_service GROUP: start in the background, set svc_pid
        (cd "$work" && NOTIFICATIONS_TOPIC=$topic KAFKA_GROUP_ID=$1 HTTP_PORT=$port \
                TOPIC_PARTITIONS=$partitions NOTIFICATION_LOG_FILE=$work/lines.log \
                LOG_LEVEL=warn exec "$bin" >/dev/null 2>"$work/stderr.log") &
        svc_pid=$!
}

wait_ready() {
        for _ in $(seq 600); do
                curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
                sleep 0.1
        done
        echo "service not ready; stderr:" >&2; tail "$work/stderr.log" >&2; exit 1
}

# 1. Let the service create the topics, then stop it.
run_service bench-setup-$$
wait_ready
kill "$svc_pid"; wait "$svc_pid" || true; svc_pid=
rm -f "$work/lines.log"

# 2. The backlog, through kcat (key TAB value per line).
t0=$(date +%s.%N)
awk -v n="$records" 'BEGIN { for (i = 0; i < n; i++)
        printf "b-%d\t{\"order_id\":\"b-%d\",\"user_id\":\"user%d\",\"item\":\"laptop\",\"quantity\":%d,\"status\":\"%s\",\"reason\":%s,\"processed_at\":\"2026-11-23T07:00:00.123Z\"}\n",
               i, i, i % 1000, i % 100 + 1, i % 7 ? "confirmed" : "rejected", i % 7 ? "null" : "\"quantity_limit\"" }' |
        kcat -P -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$topic" -K $'\t' -X acks=all -X linger.ms=20
t1=$(date +%s.%N)

# 3. Catch up from a cold start of a new group.
touch "$work/lines.log"
run_service bench-$$
start=$(date +%s.%N)
first=
while :; do
        n=$(wc -l < "$work/lines.log")
        [ -z "$first" ] && [ "$n" -gt 0 ] && first=$(date +%s.%N) && first_n=$n
        [ "$n" -ge "$records" ] && break
        kill -0 "$svc_pid" 2>/dev/null || { echo "service died:" >&2; tail "$work/stderr.log" >&2; exit 1; }
        sleep 0.05
done
end=$(date +%s.%N)

awk -v n="$records" -v p="$partitions" -v t0="$t0" -v t1="$t1" -v s="$start" \
    -v f="$first" -v fn="$first_n" -v e="$end" -v bytes="$(wc -c < "$work/lines.log")" 'BEGIN {
        printf "notification_service catch-up, %d records on %d partitions (release build)\n", n, p
        printf "  backlog produced in      %.2f s\n", t1 - t0
        printf "  start to first line      %.2f s (group join, fetch)\n", f - s
        printf "  first to last line       %.2f s\n", e - f
        printf "  lines/s (first to last)  %.0f\n", (n - fn) / (e - f > 0 ? e - f : 1e-9)
        printf "  lines/s (from start)     %.0f\n", n / (e - s)
        printf "  average line             %.0f bytes\n", bytes / n
}'
