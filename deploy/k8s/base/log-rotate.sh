#!/usr/bin/env bash
# Keeps notification_service's LOG_FILE under ROTATE_BYTES in its pod: moves
# it to LOG_FILE.1 (dropping the previous .1, which Filebeat has had a whole
# file's time to read) and sends SIGHUP, on which the service reopens the
# file. Runs as the log-rotate sidecar of deploy/k8s/base/notification-service.yaml,
# in the pod's shared process namespace, as the service's uid.
set -u
: "${LOG_FILE:?}" "${ROTATE_BYTES:?}"
interval=${CHECK_SECONDS:-10}

trap 'exit 0' TERM INT

# The pid of notification_service, by its command line's first word
# (/proc/PID/cmdline is readable by all, unlike /proc/PID/exe).
service_pid() {
        local cmdline arg0
        for cmdline in /proc/[0-9]*/cmdline; do
                arg0=
                IFS= read -r -d '' arg0 <"$cmdline" 2>/dev/null
                if [ "$arg0" = /usr/local/bin/notification_service ]; then
                        cmdline=${cmdline#/proc/}
                        echo "${cmdline%/cmdline}"
                        return 0
                fi
        done
        return 1
}

while :; do
        size=$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)
        if [ "$size" -ge "$ROTATE_BYTES" ]; then
                if pid=$(service_pid); then
                        mv -f "$LOG_FILE" "$LOG_FILE.1" && kill -HUP "$pid" &&
                                echo "log-rotate: moved $LOG_FILE ($size bytes) to $LOG_FILE.1"
                else
                        echo "log-rotate: notification_service not found, not rotating" >&2
                fi
        fi
        sleep "$interval" &
        wait $!
done
