#!/usr/bin/env bash
# The way to run, watch and test the order pipeline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

compose_file=$here/docker/docker-compose.yml
compose_env=$here/docker/compose.env
services=(order_service processing_service notification_service)

usage() {
        cat <<USAGE
usage: ./entrypoint.sh COMMAND

With Docker or Podman (docker/docker-compose.yml, settings in docker/compose.env;
the first of docker compose, docker-compose, podman compose, podman-compose;
CONTAINER_ENGINE=docker or podman to choose):
  --build [ARGS]  build the images, start the stack, wait until it is healthy and
                  print its URLs; ARGS go to 'compose up' (e.g. --scale
                  processing_service=3). Extra profiles: COMPOSE_PROFILES=tools,metrics
  --down [ARGS]   stop and remove the stack (ARGS to 'compose down'; -v drops its data)
  --logs [svc]    follow the logs of the stack, or of one service
  --ps            the stack's containers, their state and ports

Without Docker (on this machine; state, logs and pids under .local-run/):
  --local         install what is missing, build (release), start a Kafka broker and
                  the three services in the background, wait until they are ready
  --local-down    stop the services, then the broker; no process is left behind

  --test          install what is missing, build under ASan/UBSan, run every test (ctest)
  --help          this text

--local honours: LOCAL_RUN_DIR (.local-run), LOCAL_ORDER_PORT (8001),
LOCAL_PROCESSING_PORT (8002), LOCAL_NOTIFICATION_PORT (8003), LOCAL_WAIT_S (120),
PIPELINE_BIN_DIR (a build tree, e.g. build/dev, whose binaries to run instead of
building the release preset), LOCAL_KAFKA_DIST_DIR (where Kafka's jars are cached).
USAGE
}

die() { echo "entrypoint.sh: $*" >&2; exit 1; }
say() { echo "==> $*" >&2; }

run_tests() {
        scripts/install-deps.sh
        cmake --preset asan
        cmake --build --preset asan -j "$(nproc)"
        ctest --preset asan "$@"
}

# --- Docker ---------------------------------------------------------------

compose=()
engine=""

have() { command -v "$1" >/dev/null 2>&1; }

# Sets compose=(...) to the first Compose that is present: docker compose,
# docker-compose, podman compose, podman-compose (CONTAINER_ENGINE=docker or
# podman keeps to that engine's two), with this stack's file and variables,
# and engine= to docker or podman. Dies with what to do when there is none.
need_compose() {
        local want=${CONTAINER_ENGINE:-}
        case $want in
        "" | docker | podman) ;;
        *) die "CONTAINER_ENGINE is '$want': docker or podman (or unset: whichever is present)" ;;
        esac
        if [ "$want" != podman ]; then
                if have docker && docker compose version >/dev/null 2>&1; then
                        compose=(docker compose) engine=docker
                elif have docker-compose; then
                        compose=(docker-compose) engine=docker
                fi
        fi
        if [ -z "$engine" ] && [ "$want" != docker ]; then
                if have podman && podman compose version >/dev/null 2>&1; then
                        compose=(podman compose) engine=podman
                elif have podman-compose; then
                        compose=(podman-compose) engine=podman
                fi
        fi
        [ -n "$engine" ] || no_compose "$want"
        if [ "$engine" = docker ] && have docker && ! docker info >/dev/null 2>&1; then
                die "cannot reach the Docker daemon: is it running (systemctl start docker), and may
  this user use it (the docker group)? Without Docker: ./entrypoint.sh --local"
        fi
        if [ "$engine" = podman ]; then
                # Podman builds OCI images unless told otherwise, and OCI has no
                # HEALTHCHECK: the stack's health would go unseen.
                export BUILDAH_FORMAT=docker
        fi
        if [ "${compose[0]}" = podman-compose ]; then
                # podman-compose 1.0 (Debian 12) has no --env-file: the file's
                # variables go in the environment, which wins as in Compose;
                # it ignores COMPOSE_PROJECT_NAME: -p.
                compose_env_export
                compose+=(-p "$(compose_var COMPOSE_PROJECT_NAME)")
        else
                compose+=(--env-file "$compose_env")
        fi
        compose+=(-f "$compose_file")
}

# Dies saying what is missing for engine $1 (docker, podman, or "" for any).
no_compose() {
        local without="Without a container engine: ./entrypoint.sh --local"
        if [ "$1" != podman ] && have docker; then
                die "Docker Compose is missing: install the Compose plugin (docker compose) or
  docker-compose (Debian: apt-get install docker-compose). $without"
        elif [ "$1" != docker ] && have podman; then
                die "Podman has no Compose: install podman-compose (Debian: apt-get install
  podman-compose), or use Podman 4.7+ with 'podman compose'. $without"
        elif [ "$1" = docker ]; then
                die "Docker is not installed (CONTAINER_ENGINE=docker). Install Docker Engine with the
  Compose plugin (https://docs.docker.com/engine/install/), or on Debian: apt-get install docker.io
  docker-compose. $without"
        elif [ "$1" = podman ]; then
                die "Podman is not installed (CONTAINER_ENGINE=podman). On Debian: apt-get install
  podman podman-compose. $without"
        fi
        die "neither Docker nor Podman is installed. Install Docker Engine with the Compose plugin
  (https://docs.docker.com/engine/install/; Debian: apt-get install docker.io docker-compose), or
  Podman (Debian: apt-get install podman podman-compose; docs/deploy.md). $without"
}

# Exports each variable of docker/compose.env that the environment does not set.
compose_env_export() {
        local name value
        while IFS='=' read -r name value; do
                case $name in '' | \#*) continue ;; esac
                [ -n "${!name:-}" ] || export "$name=$value"
        done <"$compose_env"
}

# The ids of the stack's containers, stopped ones included.
compose_ids() {
        if [ "${compose[0]}" = podman-compose ]; then
                "${compose[@]}" ps -q # already with -a; 1.0 has no --all
        else
                "${compose[@]}" ps --all -q
        fi
}

# The value of VAR in docker/compose.env (the environment wins, as in Compose).
compose_var() {
        local name=$1 value
        value=${!name:-}
        if [ -z "$value" ]; then
                value=$(sed -n "s/^$name=//p" "$compose_env" | tail -n 1)
        fi
        printf '%s' "$value"
}

# Waits (bounded) until every container of the stack is healthy, or running
# when it has no health check, and the one-shot setup has exited 0.
wait_stack() {
        local wait_s=${STACK_WAIT_S:-600} deadline pending id line name state health code cli=$engine
        # docker-compose may talk to Podman's Docker API socket (DOCKER_HOST)
        # on a machine without the docker command: podman sees the same containers.
        have "$cli" || cli=podman
        have "$cli" || die "cannot watch the stack's health: no $engine command"
        deadline=$((SECONDS + wait_s))
        say "waiting for the stack to be healthy (up to ${wait_s}s; Elasticsearch and Kibana are slow to start)"
        while :; do
                pending=()
                while read -r id; do
                        [ -n "$id" ] || continue
                        line=$("$cli" inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}}' "$id")
                        read -r name state health code <<<"$line"
                        name=${name#/}
                        case "$state/$health" in
                        running/healthy | running/none) ;;
                        exited/*)
                                if [ "$code" -ne 0 ]; then
                                        "${compose[@]}" logs --tail=40 >&2 || true
                                        die "container $name exited with status $code (logs above)"
                                fi ;;
                        *) pending+=("$name:$state/$health") ;;
                        esac
                done < <(compose_ids)
                [ ${#pending[@]} -eq 0 ] && return 0
                if [ "$SECONDS" -ge "$deadline" ]; then
                        "${compose[@]}" ps >&2 || true
                        die "not healthy after ${wait_s}s: ${pending[*]} (./entrypoint.sh --logs SERVICE)"
                fi
                sleep 5
        done
}

stack_build() {
        local bind
        need_compose
        say "building the images and starting the stack (${compose[*]})"
        "${compose[@]}" build
        if ! "${compose[@]}" up -d "$@"; then
                "${compose[@]}" ps >&2 || true
                die "the stack did not start (see above; ./entrypoint.sh --logs SERVICE)"
        fi
        wait_stack
        bind=$(compose_var BIND_ADDRESS)
        [ "$bind" = 0.0.0.0 ] && bind=localhost
        cat <<EOF

The order pipeline is up.
  Order API            http://$bind:$(compose_var ORDER_HOST_PORT)/orders   (/healthz /readyz /metrics)
  processing_service   health and metrics on a port of $(compose_var PROCESSING_HOST_PORTS) (see: ./entrypoint.sh --ps)
  notification_service http://$bind:$(compose_var NOTIFICATION_HOST_PORT)/metrics
  Kafka (from the host) $bind:$(compose_var KAFKA_HOST_PORT)
  Elasticsearch        http://$bind:$(compose_var ELASTICSEARCH_HOST_PORT)   (security off: development only)
  Kibana               http://$bind:$(compose_var KIBANA_HOST_PORT)/app/dashboards#/view/order-notifications-dashboard
  Kafka UI             http://$bind:$(compose_var KAFKA_UI_HOST_PORT)   (profile tools)
  Prometheus, Grafana  http://$bind:$(compose_var PROMETHEUS_HOST_PORT), http://$bind:$(compose_var GRAFANA_HOST_PORT)   (profile metrics)

Submit an order:
  curl -si http://$bind:$(compose_var ORDER_HOST_PORT)/orders -H 'Content-Type: application/json' \\
       -d '{"order_id":"12345","user_id":"user789","item":"laptop","quantity":2}'
Then find it in Kibana (query: order.id : "12345") or: ./entrypoint.sh --logs notification_service
EOF
}

# --- Without Docker -------------------------------------------------------

run_dir=${LOCAL_RUN_DIR:-$here/.local-run}

local_port() {
        case $1 in
        order_service) echo "${LOCAL_ORDER_PORT:-8001}" ;;
        processing_service) echo "${LOCAL_PROCESSING_PORT:-8002}" ;;
        notification_service) echo "${LOCAL_NOTIFICATION_PORT:-8003}" ;;
        esac
}

pid_alive() { # pid_alive PIDFILE
        [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Prints the absolute path of service $1's executable: from PIPELINE_BIN_DIR
# when set (a build tree, or a directory with the three executables; a
# relative path is from the repository root), else from the release build.
local_binary() {
        local svc=$1 dir=${PIPELINE_BIN_DIR:-$here/build/release} f
        for f in "$dir/$svc/$svc" "$dir/$svc"; do
                [ -x "$f" ] && { echo "$(cd "$(dirname "$f")" && pwd)/${f##*/}"; return 0; }
        done
        die "no executable $svc in $dir"
}

local_up() {
        local kafka_dist=${LOCAL_KAFKA_DIST_DIR:-$run_dir/kafka-dist} wait_s=${LOCAL_WAIT_S:-120}
        local bootstrap svc port deadline pending
        local -A binary

        for svc in "${services[@]}"; do
                pid_alive "$run_dir/pids/$svc.pid" &&
                        die "$svc of a previous --local run is still running: ./entrypoint.sh --local-down first"
        done
        say "installing what is missing (scripts/install-deps.sh)"
        scripts/install-deps.sh
        if [ -z "${PIPELINE_BIN_DIR:-}" ]; then
                say "building the release preset"
                cmake --preset release >/dev/null
                cmake --build --preset release -j "$(nproc)"
        fi
        for svc in "${services[@]}"; do
                binary[$svc]=$(local_binary "$svc")
        done
        mkdir -p "$run_dir/logs" "$run_dir/pids"
        run_dir=$(cd "$run_dir" && pwd)

        say "starting Kafka (tests/kafka/broker.sh; state in $run_dir/kafka)"
        tests/kafka/broker.sh fetch "$kafka_dist"
        bootstrap=$(tests/kafka/broker.sh start "$run_dir/kafka" "$kafka_dist" | tail -n 1)

        for svc in "${services[@]}"; do
                port=$(local_port "$svc")
                say "starting $svc on 127.0.0.1:$port (log: $run_dir/logs/$svc.log)"
                # cwd is the run directory, which has no .env: a developer's
                # ./.env does not leak into this run. setsid: the service
                # outlives this script, in a session of its own.
                (
                        cd "$run_dir"
                        export KAFKA_BOOTSTRAP_SERVERS="$bootstrap" HTTP_PORT="$port"
                        if [ "$svc" = notification_service ]; then
                                export NOTIFICATION_LOG_FILE="$run_dir/notifications.ndjson"
                        fi
                        setsid "${binary[$svc]}" </dev/null >>"$run_dir/logs/$svc.log" 2>&1 &
                        echo $! >"$run_dir/pids/$svc.pid"
                )
        done

        deadline=$((SECONDS + wait_s))
        while :; do
                pending=()
                for svc in "${services[@]}"; do
                        if ! pid_alive "$run_dir/pids/$svc.pid"; then
                                tail -n 20 "$run_dir/logs/$svc.log" >&2 || true
                                local_down
                                die "$svc exited during start (log above: $run_dir/logs/$svc.log)"
                        fi
                        curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:$(local_port "$svc")/readyz" ||
                                pending+=("$svc")
                done
                [ ${#pending[@]} -eq 0 ] && break
                if [ "$SECONDS" -ge "$deadline" ]; then
                        echo "entrypoint.sh: not ready after ${wait_s}s: ${pending[*]}; they keep running," \
                                "see $run_dir/logs/ and stop them with ./entrypoint.sh --local-down" >&2
                        exit 1
                fi
                sleep 0.5
        done

        cat <<EOF

The order pipeline runs on this machine (stop it with ./entrypoint.sh --local-down).
  Kafka                $bootstrap
  Order API            http://127.0.0.1:$(local_port order_service)/orders
  processing_service   http://127.0.0.1:$(local_port processing_service)/metrics
  notification_service http://127.0.0.1:$(local_port notification_service)/metrics
  Logs and pids        $run_dir/logs/  $run_dir/pids/

Submit an order:
  curl -si http://127.0.0.1:$(local_port order_service)/orders -H 'Content-Type: application/json' \\
       -d '{"order_id":"12345","user_id":"user789","item":"laptop","quantity":2}'
Its notification (an ECS JSON line) appears in:
  $run_dir/notifications.ndjson
EOF
}

# Stops the services (SIGTERM, SIGKILL after 30 s), then the broker.
local_down() {
        local svc pidfile pid deadline
        for svc in notification_service processing_service order_service; do
                pidfile=$run_dir/pids/$svc.pid
                if pid_alive "$pidfile"; then
                        pid=$(cat "$pidfile")
                        say "stopping $svc (pid $pid)"
                        kill -TERM "$pid" 2>/dev/null || true
                        deadline=$((SECONDS + 30))
                        while kill -0 "$pid" 2>/dev/null; do
                                if [ "$SECONDS" -ge "$deadline" ]; then
                                        echo "entrypoint.sh: $svc ignored SIGTERM for 30s: SIGKILL" >&2
                                        kill -KILL "$pid" 2>/dev/null || true
                                fi
                                sleep 0.1
                        done
                fi
                rm -f "$pidfile"
        done
        if [ -d "$run_dir/kafka" ]; then
                say "stopping Kafka"
                tests/kafka/broker.sh stop "$run_dir/kafka"
        fi
}

case "${1:---help}" in
--test) shift; run_tests "$@" ;;
--help | -h) usage ;;
--build) shift; stack_build "$@" ;;
--down) shift; need_compose; "${compose[@]}" down "$@" ;;
--logs) shift; need_compose; "${compose[@]}" logs -f --tail=200 "$@" ;;
--ps) need_compose; "${compose[@]}" ps ;;
--local) local_up ;;
--local-down) local_down ;;
*) usage >&2; exit 2 ;;
esac
