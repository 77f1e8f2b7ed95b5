#!/usr/bin/env bash
# yamllint on every YAML file of deploy/k8s (tests/k8s/yamllint.yml) and on
# the built overlays, and shellcheck on the shell scripts of deploy/k8s and
# tests/k8s: check_lint.sh SOURCE_DIR YAMLLINT BUILT_YAML...
set -u
src=$1 yamllint=$2
shift 2
rc=0
mapfile -t yamls < <(find "$src/deploy/k8s" -name '*.yaml' -o -name '*.yml' | sort)
[ ${#yamls[@]} -ge 10 ] || { echo "FAIL found only ${#yamls[@]} YAML files under deploy/k8s"; exit 1; }
"$yamllint" --strict -c "$src/tests/k8s/yamllint.yml" "${yamls[@]}" "$@" || rc=1
mapfile -t scripts < <(find "$src/deploy/k8s" "$src/tests/k8s" -name '*.sh' | sort)
shellcheck -S style "${scripts[@]}" || rc=1
[ $rc -eq 0 ] && echo "ok   ${#yamls[@]} YAML files + $# built overlays, ${#scripts[@]} scripts clean"
exit $rc
