#!/usr/bin/env bash
# Install every build, run and test dependency from Debian's packages.
# Idempotent: installs only what is missing, and runs apt-get update only then.
#   scripts/install-deps.sh            everything (build, run, test, bench)
#   scripts/install-deps.sh --runtime  only what the services need to run
set -euo pipefail

# libssl-dev at run time too: civetweb 1.15 dlopen()s "libcrypto.so" for
# HTTPS (and "libssl.so", which order_service brings: civetweb_tls_compat.c).
runtime=(librdkafka1 libcivetweb1 liblog4c3 libjansson4 libcurl4 libssl3 libssl-dev)
build=(build-essential cmake ninja-build pkg-config git
       librdkafka-dev libcivetweb-dev liblog4c-dev libjansson-dev libcurl4-openssl-dev libssl-dev)
test=(libcmocka-dev openjdk-17-jre-headless maven kcat curl jq python3 python3-venv python3-pip python3-yaml
      shellcheck docker-compose wrk procps inotify-tools prometheus
      podman runc debootstrap clang)
# Go builds the pinned kustomize of the k8s tests (tests/k8s); any go will do,
# Debian 12's 1.19 included, so golang-go only when there is none.
command -v go >/dev/null || test+=(golang-go)

case "${1:-}" in
--runtime) wanted=("${runtime[@]}") ;;
"") wanted=("${runtime[@]}" "${build[@]}" "${test[@]}") ;;
*) echo "usage: $0 [--runtime]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
                missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
