#!/usr/bin/env bash
# Air-gapped install, step 1 (on a machine with registry access): pre-stage every
# wheel, jar, binary and Debian package strikewatch needs into DIR. Copy DIR to the
# air-gapped machine and run `scripts/setup.sh --offline DIR` there: nothing is
# downloaded, and the stack then starts with no network at all.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mkdir -p "${1:?usage: stage_offline.sh DIR}" && cd "$1" && pwd)
mkdir -p "$OUT/wheels" "$OUT/jars" "$OUT/flink-jars" "$OUT/bin" "$OUT/debs"
# The locked wheels, hash-checked (the build backend setuptools/wheel is in the lock too).
python3 -m pip download -q -d "$OUT/wheels" --require-hashes -r requirements-pip.lock
python3 -m pip download -q -d "$OUT/wheels" --require-hashes -r requirements-dev.lock
mvn -q -B -f deploy/jars/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$OUT/jars"
mvn -q -B -f deploy/jars/flink-job-server.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$OUT/flink-jars"
GOBIN="$OUT/bin" go install github.com/apache/beam/sdks/v2/go/cmd/prism@v2.77.0
(cd "$OUT/debs" && apt-get download openjdk-17-jre-headless maven golang-go prometheus docker-compose 2>/dev/null || echo "apt-get download failed: stage Debian packages by hand" >&2)
echo "staged into $OUT"
