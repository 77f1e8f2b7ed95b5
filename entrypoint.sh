#!/usr/bin/env bash
# The way to run, watch and test the order pipeline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

usage() {
        cat <<USAGE
usage: ./entrypoint.sh COMMAND

  --test        install what is missing, build under ASan/UBSan, run every test (ctest)
  --build       build the images and start the stack with Docker Compose
  --down        stop the stack
  --logs [svc]  follow the logs of the stack, or of one service
  --help        this text
USAGE
}

run_tests() {
        scripts/install-deps.sh
        cmake --preset asan
        cmake --build --preset asan -j "$(nproc)"
        ctest --preset asan "$@"
}

case "${1:---help}" in
--test) shift; run_tests "$@" ;;
--help | -h) usage ;;
--build | --down | --logs)
        echo "entrypoint.sh: $1 needs the Docker stack (docker/), which is not written yet" >&2
        exit 1 ;;
*) usage >&2; exit 2 ;;
esac
