#!/usr/bin/env bash
# Builds the three runtime images from the unchanged docker/Dockerfile, as
# `./entrypoint.sh --build` does, with Podman and no registry:
#
#   build.sh SOURCE_DIR TAG
#
# Images: localhost/order-pipeline/<service>:TAG. --network host: the build
# stage's apt-get reaches Debian's mirror; --pull=never: the base images are
# local (base.sh); --format docker keeps HEALTHCHECK, which OCI drops.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${1:?usage: build.sh SOURCE_DIR TAG}
tag=${2:?usage: build.sh SOURCE_DIR TAG}

for svc in order_service processing_service notification_service; do
        image=localhost/order-pipeline/$svc:$tag
        old=$("$here/podman.sh" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
        echo "build.sh: $svc" >&2
        "$here/podman.sh" build --network host --pull=never --format docker \
                -f "$src/docker/Dockerfile" --target "$svc" -t "$image" "$src"
        # The image this tag named before, now untagged: removed, so that
        # rebuilds do not pile up in the store (kept if something uses it).
        if [ -n "$old" ] && [ "$old" != "$("$here/podman.sh" image inspect --format '{{.Id}}' "$image")" ]; then
                "$here/podman.sh" rmi "$old" >/dev/null 2>&1 || true
        fi
done
