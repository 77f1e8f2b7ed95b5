#!/usr/bin/env bash
# The base images docker/Dockerfile starts from, made here when missing: no
# container registry is reachable from CI, Debian's mirror is.
#
#   base.sh WORK_DIR
#
# When docker.io/library/debian:12 or :12-slim is not in Podman's image
# store, a minbase Debian 12 from debootstrap is imported under both names.
# The root file system tarball stays in WORK_DIR/debian-bookworm.tar, so a
# store that lost the images is refilled without debootstrap. The mirror is
# the one apt uses on this machine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:?usage: base.sh WORK_DIR}
podman=$here/podman.sh
tags=(docker.io/library/debian:12 docker.io/library/debian:12-slim)
tarball=$work/debian-bookworm.tar

die() { echo "base.sh: $*" >&2; exit 1; }

# The Debian mirror apt uses for bookworm's main component: from the package
# lists when apt has them, else from the sources files.
apt_mirror() {
        local url
        url=$(apt-cache policy 2>/dev/null |
                awk '$3 ~ /^bookworm\/main$/ && $2 ~ /^https?:/ { print $2; exit }')
        if [ -z "$url" ]; then
                url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                        awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
        fi
        if [ -z "$url" ]; then
                url=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ && uri { print uri; exit }' \
                        /etc/apt/sources.list.d/*.sources 2>/dev/null)
        fi
        [ -n "$url" ] || die "no bookworm mirror in apt's sources (/etc/apt/sources.list*)"
        printf '%s' "$url"
}

missing=()
for tag in "${tags[@]}"; do
        "$podman" image exists "$tag" || missing+=("$tag")
done
if [ ${#missing[@]} -eq 0 ]; then
        echo "base.sh: ${tags[*]} present"
        exit 0
fi

mkdir -p "$work"
if [ ! -s "$tarball" ]; then
        mirror=$(apt_mirror)
        rootfs=$work/rootfs
        rm -rf "$rootfs"
        echo "base.sh: debootstrap --variant=minbase bookworm from $mirror" >&2
        if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
                tail -n 30 "$work/debootstrap.log" >&2
                die "debootstrap failed (log: $work/debootstrap.log)"
        fi
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
fi
echo "base.sh: importing $tarball as ${missing[*]}" >&2
id=$("$podman" import --change 'CMD ["bash"]' "$tarball" | tail -n 1)
for tag in "${missing[@]}"; do
        "$podman" tag "$id" "$tag"
done
echo "base.sh: ${tags[*]} ready"
