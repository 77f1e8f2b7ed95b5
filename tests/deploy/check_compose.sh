#!/usr/bin/env bash
# docker/docker-compose.yml is valid, with docker/compose.env, for every
# profile combination: check_compose.sh SOURCE_DIR
# Uses docker-compose (v1, Debian's, from scripts/install-deps.sh), or the
# Compose plugin when that is all there is; neither needs a Docker daemon.
set -u
src=$1
if command -v docker-compose >/dev/null 2>&1; then
        compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
else
        echo "FAIL neither docker-compose nor the Compose plugin is installed (scripts/install-deps.sh)"
        exit 1
fi
base=("${compose[@]}")
compose+=(--env-file "$src/docker/compose.env" -f "$src/docker/docker-compose.yml")
fail=0
# (Which services each profile holds is checked by check_static.py: v1's
# "config --services" lists every service whatever the profile.)
check() { # check NAME compose-args...
        local what=$1 out
        shift
        if out=$("${compose[@]}" "$@" config -q 2>&1); then
                echo "ok   $what"
        else
                echo "FAIL $what: $out"
                fail=1
        fi
}
check "default profile"
check "profile tools" --profile tools
check "profile metrics" --profile metrics
check "all profiles" --profile tools --profile metrics

# Without the variables file the stack refuses to start and says why.
if out=$("${base[@]}" -f "$src/docker/docker-compose.yml" config -q 2>&1); then
        echo "FAIL config without docker/compose.env passed"
        fail=1
elif ! printf '%s' "$out" | grep -q "docker/compose.env"; then
        echo "FAIL config without docker/compose.env: unclear error: $out"
        fail=1
else
        echo "ok   config without docker/compose.env names it"
fi
exit $fail
