#!/usr/bin/env bash
# entrypoint.sh's container commands pick the first of docker compose,
# docker-compose, podman compose and podman-compose (or the engine
# CONTAINER_ENGINE names), always with docker/compose.env and
# docker/docker-compose.yml, and say what to do when the engine, its Compose
# or the daemon is missing. Stand-in docker, docker-compose, podman and
# podman-compose commands on a private PATH record how they are called; no
# engine is needed. check_entrypoint.sh SOURCE_DIR
# shellcheck disable=SC2016 # the stand-ins' bodies expand when they run, not here
set -u
src=$1
fail=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The few real tools entrypoint.sh needs before it looks for Docker.
mkdir -p "$scratch/tools"
for tool in dirname sed tail cat; do
        ln -s "$(command -v "$tool")" "$scratch/tools/$tool"
done

# fake NAME BEHAVIOUR: a stand-in that logs its arguments and exits with
# the status BEHAVIOUR gives for them.
fake() {
        local dir=$1 name=$2 body=$3
        mkdir -p "$dir"
        printf '#!/bin/bash\necho "%s $*" >>"%s/calls"\n%s\n' "$name" "$scratch" "$body" >"$dir/$name"
        chmod +x "$dir/$name"
}

run() { # run WHAT EXPECTED_STATUS PATTERN [VAR=VALUE...] PATH_DIRS... -- ARGS
        local what=$1 want=$2 pattern=$3 path="" vars=() out status
        shift 3
        while [ "$1" != -- ]; do
                case $1 in
                *=*) vars+=("$1") ;;
                *) path="$path:$1" ;;
                esac
                shift
        done
        shift
        rm -f "$scratch/calls"
        out=$(env -i PATH="$scratch/tools$path" "${vars[@]}" /bin/bash "$src/entrypoint.sh" "$@" 2>&1)
        status=$?
        if [ "$status" -ne "$want" ]; then
                echo "FAIL $what: exit $status, expected $want: $out"
                fail=1
        elif ! printf '%s\n%s' "$out" "$(cat "$scratch/calls" 2>/dev/null)" | grep -qE -- "$pattern"; then
                echo "FAIL $what: no /$pattern/ in: $out / calls: $(cat "$scratch/calls" 2>/dev/null)"
                fail=1
        else
                echo "ok   $what"
        fi
}

run "no engine: says so, and about --local" 1 "neither Docker nor Podman is installed" -- --build
run "no engine: --local named" 1 "entrypoint.sh --local" -- --ps

fake "$scratch/nocompose" docker 'exit 1'
run "docker without any Compose: says so" 1 "Docker Compose is missing" "$scratch/nocompose" -- --ps

fake "$scratch/nodaemon" docker '[ "$1 $2" = "compose version" ] && exit 0; exit 1'
run "daemon unreachable: says so" 1 "cannot reach the Docker daemon" "$scratch/nodaemon" -- --ps

fake "$scratch/plugin" docker 'exit 0'
run "plugin: docker compose with the env file and compose file" 0 \
        "^docker compose --env-file $src/docker/compose.env -f $src/docker/docker-compose.yml ps$" \
        "$scratch/plugin" -- --ps
run "plugin: --logs SERVICE follows that service" 0 \
        "docker compose .* logs -f --tail=200 notification_service$" "$scratch/plugin" -- --logs notification_service
run "plugin: --down passes its arguments" 0 "docker compose .* down -v$" "$scratch/plugin" -- --down -v

fake "$scratch/v1" docker '[ "$1" = compose ] && exit 1; exit 0'
fake "$scratch/v1" docker-compose 'exit 0'
run "no plugin: docker-compose with the env file and compose file" 0 \
        "^docker-compose --env-file $src/docker/compose.env -f $src/docker/docker-compose.yml ps$" \
        "$scratch/v1" -- --ps

# Podman: podman compose (Podman 4.7+), else podman-compose, which has no
# --env-file: compose.env's variables come in the environment, which wins.
fake "$scratch/podman" podman 'exit 0'
run "podman compose with the env file and compose file" 0 \
        "^podman compose --env-file $src/docker/compose.env -f $src/docker/docker-compose.yml ps$" \
        "$scratch/podman" -- --ps
fake "$scratch/podmanc" podman '[ "$1" = compose ] && exit 1; exit 0'
fake "$scratch/podmanc" podman-compose 'echo "env ORDER_HOST_PORT=$ORDER_HOST_PORT BUILDAH_FORMAT=$BUILDAH_FORMAT" >>"'"$scratch"'/calls"'
run "podman-compose with the compose file" 0 \
        "^podman-compose -p order-pipeline -f $src/docker/docker-compose.yml logs -f --tail=200 order_service$" \
        "$scratch/podmanc" -- --logs order_service
run "podman-compose: compose.env in the environment, images in docker format" 0 \
        "^env ORDER_HOST_PORT=8001 BUILDAH_FORMAT=docker$" "$scratch/podmanc" -- --ps
run "podman-compose: the environment wins over compose.env" 0 \
        "^env ORDER_HOST_PORT=9999 " ORDER_HOST_PORT=9999 "$scratch/podmanc" -- --ps
fake "$scratch/podmanonly" podman 'exit 1'
run "podman without any Compose: says so" 1 "Podman has no Compose.*podman-compose" "$scratch/podmanonly" -- --ps

# Both engines: Docker first, unless CONTAINER_ENGINE says otherwise.
run "docker and podman: docker compose" 0 "^docker compose .* ps$" "$scratch/plugin" "$scratch/podman" -- --ps
run "CONTAINER_ENGINE=podman: podman compose" 0 "^podman compose .* down$" \
        CONTAINER_ENGINE=podman "$scratch/plugin" "$scratch/podman" -- --down
run "CONTAINER_ENGINE=docker without docker: says so" 1 "Docker is not installed \\(CONTAINER_ENGINE=docker\\)" \
        CONTAINER_ENGINE=docker "$scratch/podman" -- --ps
run "CONTAINER_ENGINE=podman without podman: says so" 1 "Podman is not installed \\(CONTAINER_ENGINE=podman\\)" \
        CONTAINER_ENGINE=podman "$scratch/plugin" -- --ps
run "CONTAINER_ENGINE=lxc: refused" 1 "CONTAINER_ENGINE is 'lxc': docker or podman" \
        CONTAINER_ENGINE=lxc "$scratch/plugin" -- --ps

# --build with Podman waits on the containers' health through podman inspect.
fake "$scratch/podmanstack" podman 'case "$1 $2" in
"compose version") exit 0 ;;
"compose --env-file") case " $* " in *" ps --all -q "*) echo c0ffee ;; esac ;;
"inspect -f") echo "pipeline-order_service-1 running healthy 0" ;;
esac
exit 0'
run "--build with podman compose: up, then healthy by podman inspect" 0 \
        "^podman inspect -f .* c0ffee$" "$scratch/podmanstack" -- --build
run "--build with podman compose: the stack's URLs" 0 "The order pipeline is up" "$scratch/podmanstack" -- --build

run "unknown command: usage, exit 2" 2 "usage: ./entrypoint.sh" -- --bogus
run "--help: every command" 0 "--local-down" -- --help
exit $fail
