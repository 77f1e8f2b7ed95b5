#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft) on 127.0.0.1 for the tests.
#
#   broker.sh fetch DIST          fetch Kafka's jars from Maven Central into DIST (once; cached)
#   broker.sh start STATE DIST [PORT]
#                                 start a broker whose files live in STATE; prints its bootstrap
#                                 address. A STATE used before keeps its ports and data (a restart).
#                                 With PORT it listens on 127.0.0.1:PORT (and fails at once, saying
#                                 so, when that port is taken); without, on a free port.
#   broker.sh start-sasl STATE DIST
#                                 the same broker with a second listener, SASL_SSL (SCRAM-SHA-512
#                                 over TLS); prints that listener's address. STATE also gets
#                                 tls/ca.pem (the CA to trust), sasl/username and sasl/password
#                                 (a user made when the storage is formatted, random password).
#   broker.sh stop STATE          stop it (SIGTERM, then SIGKILL after 30 s); data is kept
#   broker.sh kill STATE          SIGKILL it at once (fault tests)
#   broker.sh clean STATE         stop it and remove its data; server.log is kept
#   broker.sh status STATE        exit 0 when it answers metadata requests
#
# STATE gets: bootstrap (host:port), pid, server.properties, server.log, data/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start_timeout_s=${KAFKA_START_TIMEOUT_S:-90}

die() { echo "broker.sh: $*" >&2; exit 1; }

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Whether a listener could bind 127.0.0.1:$1 (SO_REUSEADDR, as Kafka's).
port_is_free() {
        python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

is_running() {
        local state=$1 pid
        [ -f "$state/pid" ] || return 1
        pid=$(cat "$state/pid")
        kill -0 "$pid" 2>/dev/null
}

# A random KRaft cluster id: 16 bytes in URL-safe base64. One that starts
# with '-' would be read as an option, so (as Kafka's Uuid.randomUuid does)
# draw again.
cluster_id() {
        python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

answers_metadata() {
        kcat -b "$(cat "$1/bootstrap")" -L -m 2 >/dev/null 2>&1
}

cmd_fetch() {
        local dist=$1
        [ -f "$dist/.complete" ] && return 0
        command -v mvn >/dev/null || die "mvn not found: run scripts/install-deps.sh"
        mkdir -p "$dist"
        # Maven resolves a relative -DoutputDirectory against the pom's folder.
        dist=$(cd "$dist" && pwd)
        echo "fetching Apache Kafka from Maven Central into $dist" >&2
        mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
                -DoutputDirectory="$dist/libs" -DincludeScope=runtime >&2
        touch "$dist/.complete"
}

write_properties() { # write_properties STATE [PORT]
        local state=$1 port=${2:-} ctl
        [ -n "$port" ] || port=$(free_port)
        ctl=$(free_port)
        while [ "$ctl" = "$port" ]; do ctl=$(free_port); done
        cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
PROPS
        echo "127.0.0.1:$port" >"$state/bootstrap"
}

cmd_start() {
        local state=$1 dist=$2 port=${3:-} pid deadline
        [ -f "$dist/.complete" ] || die "no Kafka in $dist: run '$0 fetch $dist' first"
        if [ -n "$port" ] && ! { [[ $port =~ ^[1-9][0-9]{0,4}$ ]] && [ "$port" -le 65535 ]; }; then
                die "port '$port' is not a number from 1 to 65535"
        fi
        mkdir -p "$state"
        state=$(cd "$state" && pwd)
        if is_running "$state"; then
                answers_metadata "$state" && { cat "$state/bootstrap"; return 0; }
                die "a broker of $state is running but does not answer"
        fi
        if [ -n "$port" ]; then
                port_is_free "$port" ||
                        die "127.0.0.1:$port is in use (another broker?); see who holds it: ss -ltnp 'sport = :$port'"
                # The data stays: only the listeners move.
                [ "$(cat "$state/bootstrap" 2>/dev/null)" = "127.0.0.1:$port" ] ||
                        write_properties "$state" "$port"
        fi
        [ -f "$state/server.properties" ] || write_properties "$state"
        if [ ! -f "$state/data/meta.properties" ]; then
                java -cp "$dist/libs/*" -Dkafka.logs.dir="$state" \
                        -Dlog4j.configuration="file:$here/log4j.properties" \
                        kafka.tools.StorageTool format -t "$(cluster_id)" \
                        -c "$state/server.properties" "${format_args[@]}" >>"$state/server.log" 2>&1 ||
                        die "formatting $state/data failed; see $state/server.log"
        fi
        # setsid and closed descriptors: the broker must outlive this script
        # and must not hold CTest's output pipe open.
        setsid java -Xms256m -Xmx1g -XX:+UseG1GC \
                -Dkafka.logs.dir="$state" \
                -Dlog4j.configuration="file:$here/log4j.properties" \
                -cp "$dist/libs/*" kafka.Kafka "$state/server.properties" \
                </dev/null >>"$state/server.log" 2>&1 &
        pid=$!
        echo "$pid" >"$state/pid"
        deadline=$((SECONDS + start_timeout_s))
        until answers_metadata "$state"; do
                if ! kill -0 "$pid" 2>/dev/null; then
                        tail -n 30 "$state/server.log" >&2 || true
                        die "broker exited during start; log: $state/server.log"
                fi
                [ "$SECONDS" -lt "$deadline" ] ||
                        die "broker not ready after ${start_timeout_s}s; log: $state/server.log"
                sleep 0.2
        done
        cat "$state/bootstrap"
}

# More arguments for 'kafka-storage format' (start-sasl's SCRAM user).
format_args=()

# A CA and a broker certificate for 127.0.0.1, made here so that no key is
# checked in; Kafka reads the key and chain from one PEM file.
make_tls() {
        local tls=$1/tls
        mkdir -p "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=pipeline-test-ca \
                -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
                -keyout "$tls/broker.key" -out "$tls/broker.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/san.ext"
        openssl x509 -req -days 7 -in "$tls/broker.csr" -CA "$tls/ca.pem" \
                -CAkey "$tls/ca.key" -CAcreateserial -extfile "$tls/san.ext" \
                -out "$tls/broker.crt" 2>/dev/null
        cat "$tls/broker.key" "$tls/broker.crt" >"$tls/broker.pem"
}

# Add the SASL_SSL listener to a fresh server.properties; its address goes
# to bootstrap_sasl. The PLAINTEXT listener stays for the fixture's checks.
add_sasl_listener() {
        local state=$1 sport
        sport=$(free_port)
        sed -i -e "s|^listeners=PLAINTEXT://\([^,]*\),|listeners=PLAINTEXT://\1,SASL_SSL://127.0.0.1:$sport,|" \
                -e "s|^advertised.listeners=.*|&,SASL_SSL://127.0.0.1:$sport|" \
                -e "s|^listener.security.protocol.map=.*|&,SASL_SSL:SASL_SSL|" \
                "$state/server.properties"
        cat >>"$state/server.properties" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$state/tls/broker.pem
PROPS
        echo "127.0.0.1:$sport" >"$state/bootstrap_sasl"
}

cmd_start_sasl() {
        local state=$1 dist=$2 user=pipeline password
        mkdir -p "$state"
        state=$(cd "$state" && pwd)
        if [ ! -f "$state/bootstrap_sasl" ] || [ ! -f "$state/data/meta.properties" ]; then
                is_running "$state" && die "a broker of $state runs without SASL_SSL"
                rm -rf "$state/data" "$state/tls" "$state/sasl"
                make_tls "$state" || die "openssl could not make the certificates"
                write_properties "$state"
                add_sasl_listener "$state"
                mkdir -p "$state/sasl"
                password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
                echo "$user" >"$state/sasl/username"
                echo "$password" >"$state/sasl/password"
                format_args=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
        fi
        cmd_start "$state" "$dist" >/dev/null
        cat "$state/bootstrap_sasl"
}

cmd_stop() {
        local state=$1 signal=${2:-TERM} pid deadline
        is_running "$state" || { rm -f "$state/pid"; return 0; }
        pid=$(cat "$state/pid")
        kill -"$signal" "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                        kill -KILL "$pid" 2>/dev/null || true
                fi
                sleep 0.1
        done
        rm -f "$state/pid"
}

cmd_clean() {
        local state=$1
        cmd_stop "$state"
        rm -rf "$state/data" "$state/server.properties" "$state/bootstrap" \
                "$state/bootstrap_sasl" "$state/tls" "$state/sasl"
}

[ $# -ge 2 ] || die "usage: $0 fetch DIST | start STATE DIST [PORT] | stop|kill|clean|status STATE"
case $1 in
fetch) cmd_fetch "$2" ;;
start-sasl) [ $# -ge 3 ] || die "usage: $0 start-sasl STATE DIST"; cmd_start_sasl "$2" "$3" ;;
start) [ $# -ge 3 ] || die "usage: $0 start STATE DIST [PORT]"; cmd_start "$2" "$3" "${4:-}" ;;
stop) cmd_stop "$2" ;;
kill) cmd_stop "$2" KILL ;;
clean) cmd_clean "$2" ;;
status) is_running "$2" && answers_metadata "$2" ;;
*) die "unknown command '$1'" ;;
esac
