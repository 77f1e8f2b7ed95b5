#!/usr/bin/env bash
# One-shot set-up of the stack's Elasticsearch and Kibana (the "setup"
# container of docker/docker-compose.yml; also usable by hand against any
# development stack):
#   - the index template of the order-notifications data stream
#     (elk/index-template.json), before Filebeat writes its first line;
#   - the Kibana data view, saved searches and dashboard
#     (elk/kibana-objects.ndjson), through the saved objects import API.
# Waits for both with a bounded loop; exits non-zero when either fails, so
# Filebeat (depends_on: service_completed_successfully) does not start.
#
#   ELASTICSEARCH_URL=http://localhost:9200 KIBANA_URL=http://localhost:5601 elk/setup.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
es=${ELASTICSEARCH_URL:-http://localhost:9200}
kibana=${KIBANA_URL:-http://localhost:5601}
wait_s=${SETUP_WAIT_S:-300}

log() { printf 'setup: %s\n' "$*" >&2; }

wait_for() { # wait_for WHAT URL GREP_PATTERN
        local what=$1 url=$2 pattern=$3 deadline=$((SECONDS + wait_s))
        until curl -fsS --max-time 5 "$url" 2>/dev/null | grep -q "$pattern"; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                        log "$what not ready at $url after ${wait_s}s"
                        return 1
                fi
                sleep 2
        done
        log "$what is ready"
}

wait_for Elasticsearch "$es/_cluster/health" '"status":"\(green\|yellow\)"'
log "installing index template order-notifications"
out=$(curl -sS --max-time 30 -X PUT "$es/_index_template/order-notifications" \
        -H 'Content-Type: application/json' --data-binary "@$here/index-template.json")
case $out in
*'"acknowledged":true'*) ;;
*) log "index template refused: $out"; exit 1 ;;
esac

wait_for Kibana "$kibana/api/status" '"level":"available"'
log "importing Kibana saved objects"
out=$(curl -sS --max-time 60 -X POST "$kibana/api/saved_objects/_import?overwrite=true" \
        -H 'kbn-xsrf: true' --form "file=@$here/kibana-objects.ndjson")
case $out in
*'"success":true'*) ;;
*) log "Kibana import failed: $out"; exit 1 ;;
esac
log "done: dashboard \"Order pipeline: notifications\" at $kibana/app/dashboards#/view/order-notifications-dashboard"
