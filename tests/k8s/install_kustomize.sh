#!/usr/bin/env bash
# Install the pinned kustomize into a build tree: install_kustomize.sh BINDIR
# From the Go module proxy, built with the go on PATH (Debian 12's golang-go,
# 1.19, from scripts/install-deps.sh, is enough): v5.0.3 is the last release
# whose modules need no newer Go. Skipped when BINDIR already has that version.
set -euo pipefail
version=v5.0.3
bindir=$1
stamp=$bindir/kustomize.version
if [ -x "$bindir/kustomize" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
        exit 0
fi
go=$(command -v go || true)
[ -n "$go" ] || { echo "install_kustomize: no go on PATH (scripts/install-deps.sh installs golang-go)" >&2; exit 1; }
mkdir -p "$bindir"
# GOTOOLCHAIN=local: build with this go, never download another one.
GOTOOLCHAIN=local GOBIN=$(cd "$bindir" && pwd) GOFLAGS=-modcacherw \
        "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$version"
echo "$version" >"$stamp"
echo "install_kustomize: kustomize $version in $bindir ($("$go" version))"
