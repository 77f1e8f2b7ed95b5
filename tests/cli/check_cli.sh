#!/usr/bin/env bash
# The command line and the start-up checks every service shares:
#   check_cli.sh BINARY NAME
# --help and --version exit 0; an unknown argument exits 2; a bad
# configuration value exits 2 with one line naming the variable.
set -u
bin=$1 name=$2
fail=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

check() { # check DESCRIPTION EXPECTED_STATUS PATTERN -- command...
        local what=$1 want=$2 pattern=$3 out status lines
        shift 4
        out=$("$@" 2>&1)
        status=$?
        lines=$(printf '%s\n' "$out" | grep -c .)
        if [ "$status" -ne "$want" ]; then
                echo "FAIL $what: exit $status, expected $want: $out"
                fail=1
        elif ! printf '%s' "$out" | grep -qE -- "$pattern"; then
                echo "FAIL $what: output lacks /$pattern/: $out"
                fail=1
        elif [ "$want" -eq 2 ] && [ "$lines" -ne 1 ]; then
                echo "FAIL $what: $lines lines, expected one: $out"
                fail=1
        else
                echo "ok   $what"
        fi
}

# shellcheck disable=SC2317 # called through check()
run_env() { env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@"; }

check "--help" 0 "usage: $name" -- run_env "$bin" --help
check "--version" 0 "^$name [0-9]+\.[0-9]+\.[0-9]+" -- run_env "$bin" --version
check "unknown argument" 2 "--bogus" -- run_env "$bin" --bogus
check "LOG_LEVEL=shouting" 2 "LOG_LEVEL" -- run_env LOG_LEVEL=shouting "$bin"
check "LOG_FORMAT=loud" 2 "LOG_FORMAT" -- run_env LOG_FORMAT=loud "$bin"
check "HTTP_PORT=70000" 2 "HTTP_PORT" -- run_env HTTP_PORT=70000 "$bin"
check "HTTP_PORT=80x" 2 "HTTP_PORT" -- run_env HTTP_PORT=80x "$bin"
check "TOPIC_PARTITIONS=0" 2 "TOPIC_PARTITIONS" -- run_env TOPIC_PARTITIONS=0 "$bin"
check "KAFKA_NO_SUCH_PROPERTY=1" 2 "KAFKA_NO_SUCH_PROPERTY" -- run_env KAFKA_NO_SUCH_PROPERTY=1 "$bin"
# Every service produces with acks=all (orders, statuses, dead letters):
# a KAFKA_* variable cannot weaken that.
check "KAFKA_ACKS=1" 2 "KAFKA_ACKS" -- run_env KAFKA_ACKS=1 "$bin"
if [ "$name" = processing_service ]; then
        check "--help names DEDUPE_RETENTION" 0 "DEDUPE_RETENTION" -- run_env "$bin" --help
        check "DEDUPE_RETENTION=7x" 2 "DEDUPE_RETENTION: '7x' is not a duration" -- run_env DEDUPE_RETENTION=7x "$bin"
        check "DEDUPE_RETENTION=7 (no unit)" 2 "DEDUPE_RETENTION" -- run_env DEDUPE_RETENTION=7 "$bin"
        check "DEDUPE_RETENTION=500ms" 2 "DEDUPE_RETENTION: at least 1s" -- run_env DEDUPE_RETENTION=500ms "$bin"
        check "DEDUPE_RETENTION=400d" 2 "DEDUPE_RETENTION: '400d' is out of range" -- run_env DEDUPE_RETENTION=400d "$bin"
        check "DEDUPE_TOPIC=a/b" 2 "DEDUPE_TOPIC: 'a/b' is not a valid topic name" -- run_env DEDUPE_TOPIC=a/b "$bin"
fi
printf 'LOG_LEVEL=shouting\n' >.env
check ".env LOG_LEVEL=shouting" 2 "LOG_LEVEL" -- run_env "$bin"
exit $fail
