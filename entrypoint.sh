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

Dev mode, each in its own terminal (README "Dev mode"):
  --kafka         a Kafka broker on 127.0.0.1:9092 in the foreground (data in
                  .local-run/dev-kafka) until Ctrl-C
  --run SERVICE   build the dev preset (incremental) and run SERVICE in the
                  foreground in its folder, so SERVICE/.env applies (made from
                  .env.example when missing)
  --watch SERVICE as --run, and rebuild and restart it when a source of it or
                  of libshared changes (inotifywait)
  Logs on a terminal are pretty (time, level, message, key=value); LOG_FORMAT=json
  gives the JSON lines. Notification lines are JSON always.

  --test          install what is missing, build under ASan/UBSan, run every test (ctest)
  --help          this text

--local honours: LOCAL_RUN_DIR (.local-run), LOCAL_ORDER_PORT (8001),
LOCAL_PROCESSING_PORT (8002), LOCAL_NOTIFICATION_PORT (8003), LOCAL_WAIT_S (120),
PIPELINE_BIN_DIR (a build tree, e.g. build/dev, whose binaries to run instead of
building the release preset), LOCAL_KAFKA_DIST_DIR (where Kafka's jars are cached).
--kafka honours DEV_KAFKA_PORT (9092), LOCAL_RUN_DIR and LOCAL_KAFKA_DIST_DIR; --run
and --watch PIPELINE_BIN_DIR (a build tree to run, and for --watch to rebuild in,
instead of build/dev); the services read their variables (HTTP_PORT, LOG_LEVEL,
LOG_FORMAT, ...) from the environment, then from SERVICE/.env.
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

# Stops process $1 (service $2): SIGTERM, SIGKILL after 30 s; returns once
# it is gone.
stop_process() {
        local pid=$1 deadline=$((SECONDS + 30))
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                        echo "entrypoint.sh: $2 ignored SIGTERM for 30s: SIGKILL" >&2
                        kill -KILL "$pid" 2>/dev/null || true
                fi
                sleep 0.1
        done
}

# Stops the services, then the broker.
local_down() {
        local svc pidfile pid
        for svc in notification_service processing_service order_service; do
                pidfile=$run_dir/pids/$svc.pid
                if pid_alive "$pidfile"; then
                        pid=$(cat "$pidfile")
                        say "stopping $svc (pid $pid)"
                        stop_process "$pid" "$svc"
                fi
                rm -f "$pidfile"
        done
        if [ -d "$run_dir/kafka" ]; then
                say "stopping Kafka"
                tests/kafka/broker.sh stop "$run_dir/kafka"
        fi
}

# --- Dev mode: each service in its own terminal ---------------------------

# Runs a broker on 127.0.0.1:DEV_KAFKA_PORT (9092, what every .env.example
# names) until Ctrl-C or SIGTERM, which stop it cleanly; its log follows on
# the terminal. Data stays in $run_dir/dev-kafka for the next run.
dev_kafka() {
        local port=${DEV_KAFKA_PORT:-9092} dist=${LOCAL_KAFKA_DIST_DIR:-$run_dir/kafka-dist}
        local state=$run_dir/dev-kafka
        dev_kafka_state=$state
        pid_alive "$state/pid" &&
                die "a broker of $state already runs (pid $(cat "$state/pid")): another --kafka? Stop it with Ctrl-C there, or: tests/kafka/broker.sh stop $state"
        if ! command -v java >/dev/null || ! command -v mvn >/dev/null || ! command -v kcat >/dev/null; then
                scripts/install-deps.sh
        fi
        tests/kafka/broker.sh fetch "$dist"
        # From here on every way out stops the broker; a signal is the
        # normal way out.
        trap dev_kafka_stop EXIT
        trap 'exit 0' INT TERM
        say "starting Kafka on 127.0.0.1:$port (data and server.log in $state)"
        tests/kafka/broker.sh start "$state" "$dist" "$port" >/dev/null ||
                die "Kafka did not start (above). Another port: DEV_KAFKA_PORT=9093 ./entrypoint.sh --kafka, and KAFKA_BOOTSTRAP_SERVERS=localhost:9093 in each service's .env"
        say "Kafka is ready on 127.0.0.1:$port; Ctrl-C stops it. Its log:"
        # tail ends when the broker does; 'wait' returns at once on a signal.
        tail -n 0 -F --pid="$(cat "$state/pid")" "$state/server.log" &
        dev_tail_pid=$!
        wait "$dev_tail_pid" || true
        dev_tail_pid=
        die "Kafka exited on its own; see $state/server.log"
}

# For the EXIT trap, which runs outside dev_kafka.
dev_kafka_state=''
dev_tail_pid=''

dev_kafka_stop() {
        [ -z "$dev_tail_pid" ] || kill "$dev_tail_pid" 2>/dev/null || true
        if pid_alive "$dev_kafka_state/pid"; then
                say "stopping Kafka"
                tests/kafka/broker.sh stop "$dev_kafka_state"
        fi
}

# Checks that $1 names a service; exits 2 with the usage otherwise.
dev_service() {
        local svc
        for svc in "${services[@]}"; do
                [ "${1:-}" = "$svc" ] && return 0
        done
        echo "entrypoint.sh: name a service: ${services[*]}" >&2
        exit 2
}

# Makes $1/.env from $1/.env.example when there is none, and says so.
dev_dotenv() {
        [ -f "$here/$1/.env" ] && return 0
        cp "$here/$1/.env.example" "$here/$1/.env"
        say "made $1/.env from $1/.env.example: edit it to change a setting (the environment wins)"
}

# The build tree of dev mode: PIPELINE_BIN_DIR, else build/dev (configured
# here the first time, after installing what is missing).
dev_build_dir() {
        if [ -n "${PIPELINE_BIN_DIR:-}" ]; then
                (cd "$here" && cd "$PIPELINE_BIN_DIR" && pwd)
                return
        fi
        if [ ! -f "$here/build/dev/CMakeCache.txt" ]; then
                scripts/install-deps.sh >&2
                cmake --preset dev >/dev/null
        fi
        echo "$here/build/dev"
}

# Builds service $1 in build tree $2 (incremental). Returns the build's status.
dev_build() {
        say "building $1 in $2"
        cmake --build "$2" --target "$1" -j "$(nproc)"
}

# Runs service $1 in the foreground in its own folder, so that its .env
# applies; exec: Ctrl-C and SIGTERM reach the service itself. With
# PIPELINE_BIN_DIR its binaries run as they are, else the dev preset's,
# built first.
dev_run() {
        local svc=${1:-} dir binary
        dev_service "$svc"
        dir=$(dev_build_dir)
        [ -n "${PIPELINE_BIN_DIR:-}" ] || dev_build "$svc" "$dir" || die "the build of $svc failed (above)"
        binary=$(PIPELINE_BIN_DIR=$dir local_binary "$svc")
        dev_dotenv "$svc"
        cd "$here/$svc"
        say "running $svc in $svc/ (Ctrl-C stops it)"
        exec "$binary"
}

dev_watch_pid=''
dev_inotify_pid=''

# Starts service $2 (binary $1) in the background, in its folder.
dev_watch_start() {
        (cd "$here/$2" && exec "$1") &
        dev_watch_pid=$!
        say "started $2 (pid $dev_watch_pid)"
}

# Stops the watched service, if it runs, and reaps it.
dev_watch_stop() {
        [ -n "$dev_watch_pid" ] || return 0
        stop_process "$dev_watch_pid" "pid $dev_watch_pid"
        wait "$dev_watch_pid" 2>/dev/null || true
        dev_watch_pid=
}

# Whether a changed path is one the service is built or configured from.
dev_is_source() {
        case ${1##*/} in
        *.c | *.h | CMakeLists.txt | *.cmake | .env) return 0 ;;
        esac
        return 1
}

# Builds (in PIPELINE_BIN_DIR's tree or the dev preset's) and runs service
# $1; after each change to a source of it or of libshared (or to its .env),
# once the burst of changes is over, builds again and restarts it. A failed
# build leaves the running service as it is and waits for the next change.
dev_watch() {
        local svc=${1:-} dir binary events path relevant burst_end status
        dev_service "$svc"
        command -v inotifywait >/dev/null ||
                die "inotifywait is missing: scripts/install-deps.sh installs it (Debian: inotify-tools)"
        dir=$(dev_build_dir)
        [ -f "$dir/CMakeCache.txt" ] || die "--watch builds: PIPELINE_BIN_DIR=$dir is not a CMake build tree"
        dev_dotenv "$svc"
        # Watching starts before the first build: no change is missed.
        exec {events}< <(exec inotifywait -m -r -q -e close_write,attrib,create,delete,moved_to \
                --format '%w%f' "$here/libshared" "$here/$svc")
        dev_inotify_pid=$!
        trap 'dev_watch_stop; kill "$dev_inotify_pid" 2>/dev/null || true' EXIT
        trap 'exit 0' INT TERM
        if dev_build "$svc" "$dir"; then
                binary=$(PIPELINE_BIN_DIR=$dir local_binary "$svc")
                dev_watch_start "$binary" "$svc"
        else
                say "the build failed (above): waiting for a change"
        fi
        say "watching libshared/ and $svc/; Ctrl-C stops"
        while :; do
                if ! read -r -t 1 -u "$events" path; then
                        kill -0 "$dev_inotify_pid" 2>/dev/null || die "inotifywait stopped"
                        if [ -n "$dev_watch_pid" ] && ! kill -0 "$dev_watch_pid" 2>/dev/null; then
                                status=0
                                wait "$dev_watch_pid" || status=$?
                                dev_watch_pid=
                                say "$svc exited with status $status: waiting for a change"
                        fi
                        continue
                fi
                # A burst (a save, a checkout) ends after 0.3 s without an
                # event, or after 5 s at most.
                relevant=
                burst_end=$((SECONDS + 5))
                while :; do
                        dev_is_source "$path" && relevant=$path
                        [ "$SECONDS" -lt "$burst_end" ] || break
                        read -r -t 0.3 -u "$events" path || break
                done
                [ -n "$relevant" ] || continue
                say "${relevant#"$here"/} changed: rebuilding $svc"
                if dev_build "$svc" "$dir"; then
                        binary=$(PIPELINE_BIN_DIR=$dir local_binary "$svc")
                        dev_watch_stop
                        dev_watch_start "$binary" "$svc"
                elif [ -n "$dev_watch_pid" ]; then
                        say "the build failed (above): $svc keeps running its previous build; waiting for a change"
                else
                        say "the build failed (above): waiting for a change"
                fi
        done
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
--kafka) dev_kafka ;;
--run) shift; dev_run "$@" ;;
--watch) shift; dev_watch "$@" ;;
*) usage >&2; exit 2 ;;
esac
