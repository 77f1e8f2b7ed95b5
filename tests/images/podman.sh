#!/usr/bin/env bash
# podman with the images tests' settings (tests/images/containers.conf):
# runtime runc and ulimits the sandbox accepts, without touching the
# machine's containers.conf. podman.sh ARGS... = podman ARGS...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF=$here/containers.conf
exec podman "$@"
