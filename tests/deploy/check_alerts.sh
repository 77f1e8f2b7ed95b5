#!/usr/bin/env bash
# The Prometheus set-up of the metrics profile: prometheus.yml and the rules
# it loads are valid (promtool check config, check rules), and every alert
# fires on the series that should raise it and not on its near misses
# (promtool test rules alerts_test.yml). check_alerts.sh SOURCE_DIR
set -u
src=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v promtool >/dev/null || { echo "FAIL promtool is not installed (scripts/install-deps.sh: prometheus)"; exit 1; }
fail=0
for step in "check config $src/docker/prometheus/prometheus.yml" \
            "check rules $src/docker/prometheus/alerts.yml" \
            "test rules $here/alerts_test.yml"; do
        # shellcheck disable=SC2086 # each step is promtool's words
        if out=$(promtool $step 2>&1); then
                echo "ok   promtool $step"
        else
                printf 'FAIL promtool %s:\n%s\n' "$step" "$out"
                fail=1
        fi
done
exit $fail
