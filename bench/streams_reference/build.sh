#!/usr/bin/env bash
# Builds the Kafka Streams twin of processing_service into DIR:
#
#   bench/streams_reference/build.sh DIR
#
# DIR/classes and DIR/libs (Kafka Streams 3.9.1 and what it needs, from
# Maven Central; ~20 s cold, a few seconds from a warm ~/.m2). Run it as
#   java -cp 'DIR/classes:DIR/libs/*' pipeline.bench.StreamsReference
# Nothing is rebuilt when the sources have not changed since the last build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
command -v mvn >/dev/null || { echo "$0: mvn not found: run scripts/install-deps.sh" >&2; exit 1; }

stamp=$( (cat "$here/pom.xml"; find "$here/src" -type f | LC_ALL=C sort | xargs cat) | sha256sum)
[ -f "$dir/.built" ] && [ "$(cat "$dir/.built")" = "$stamp" ] && exit 0
rm -rf "$dir/classes" "$dir/libs"
mvn -q -B -f "$here/pom.xml" -Dbuild.dir="$dir" compile \
        dependency:copy-dependencies -DoutputDirectory="$dir/libs" \
        -DincludeScope=runtime >&2
echo "$stamp" >"$dir/.built"
