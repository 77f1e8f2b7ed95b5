#!/usr/bin/env bash
# entrypoint.sh's Docker commands pick the Compose plugin or docker-compose,
# always with docker/compose.env and docker/docker-compose.yml, and say what
# to do when Docker, Compose or the daemon is missing. Stand-in docker and
# docker-compose commands on a private PATH record how they are called; no
# Docker is needed. check_entrypoint.sh SOURCE_DIR
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

run() { # run WHAT EXPECTED_STATUS PATTERN PATH_DIRS... -- ARGS
        local what=$1 want=$2 pattern=$3 path="" out status
        shift 3
        while [ "$1" != -- ]; do path="$path:$1"; shift; done
        shift
        rm -f "$scratch/calls"
        out=$(env -i PATH="$scratch/tools$path" /bin/bash "$src/entrypoint.sh" "$@" 2>&1)
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

run "no docker: says so, and about --local" 1 "Docker is not installed.*" -- --build
run "no docker: --local named" 1 "entrypoint.sh --local" -- --ps

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

run "unknown command: usage, exit 2" 2 "usage: ./entrypoint.sh" -- --bogus
run "--help: every command" 0 "--local-down" -- --help
exit $fail
