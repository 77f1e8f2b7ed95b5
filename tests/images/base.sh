#!/usr/bin/env bash
# The base images docker/Dockerfile starts from, made here when missing: no
# container registry is reachable from CI, Debian's mirror is.
#
#   base.sh WORK_DIR
#
# When docker.io/library/debian:12 or :12-slim is not in Podman's image
# store, it is imported from a minbase Debian 12 made by debootstrap; the
# slim one without documentation, manual pages and translations (and dpkg
# told to leave them out, as Debian's official slim image does). The
# tarballs stay in WORK_DIR, so a store that lost the images is refilled
# without debootstrap. The mirror is the one apt uses on this machine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:?usage: base.sh WORK_DIR}
podman=$here/podman.sh
tags=(docker.io/library/debian:12 docker.io/library/debian:12-slim)
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

# The dpkg configuration of Debian's official slim images (debuerreotype).
slim_excludes='path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*'

# Makes WORK_DIR/debian-bookworm.tar and debian-bookworm-slim.tar.
make_tarballs() {
        local mirror rootfs=$work/rootfs
        mirror=$(apt_mirror)
        rm -rf "$rootfs"
        echo "base.sh: debootstrap --variant=minbase bookworm from $mirror" >&2
        if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
                tail -n 30 "$work/debootstrap.log" >&2
                die "debootstrap failed (log: $work/debootstrap.log)"
        fi
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" --numeric-owner -cf "$work/debian-bookworm.tar.tmp" .
        printf '%s\n' "$slim_excludes" >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
        find "$rootfs"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
        find "$rootfs"/usr/share/doc -mindepth 1 -type d -empty -delete
        rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian,man}/*
        find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
        tar -C "$rootfs" --numeric-owner -cf "$work/debian-bookworm-slim.tar.tmp" .
        mv "$work/debian-bookworm.tar.tmp" "$work/debian-bookworm.tar"
        mv "$work/debian-bookworm-slim.tar.tmp" "$work/debian-bookworm-slim.tar"
        rm -rf "$rootfs"
}

mkdir -p "$work"
for tag in "${tags[@]}"; do
        if "$podman" image exists "$tag"; then
                echo "base.sh: $tag present"
                continue
        fi
        tarball=$work/debian-bookworm.tar
        [ "$tag" = "${tags[1]}" ] && tarball=$work/debian-bookworm-slim.tar
        [ -s "$tarball" ] || make_tarballs
        echo "base.sh: importing $tarball as $tag" >&2
        "$podman" import --change 'CMD ["bash"]' "$tarball" "$tag" >/dev/null
        echo "base.sh: $tag ready"
done
