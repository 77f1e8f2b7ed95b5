#!/usr/bin/env bash
# kustomize build of one overlay of deploy/k8s into a file the other k8s
# tests read: build_overlay.sh KUSTOMIZE OVERLAY_DIR OUT_FILE
set -euo pipefail
kustomize=$1 overlay=$2 out=$3
mkdir -p "$(dirname "$out")"
"$kustomize" build "$overlay" >"$out.tmp"
# An overlay that builds to nothing is a broken overlay.
grep -q '^kind: Deployment$' "$out.tmp" || { echo "FAIL $overlay built no Deployment" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "ok   $overlay: $(grep -c '^kind:' "$out") resources in $out"
