#!/usr/bin/env bash
# Installs everything strikewatch needs on a fresh Debian machine, idempotently:
#   - Debian packages: Java 17 (Kafka), Go (Prism), Maven, Prometheus (promtool, tests),
#     docker-compose (validates docker-compose.yml in tests; no Docker engine needed),
#     PostgreSQL (the incident store), Chromium (web app tests), wrk (API benchmark)
#   - .venv with the project and its dependencies, from the hash-pinned requirements-dev.lock
#     (pip --require-hashes; scripts/lock.sh regenerates the lock from pyproject.toml)
#   - .stack/jars: the Kafka broker jars from Maven Central (deploy/jars/pom.xml)
#   - .stack/flink-jars: Beam's Flink job server classpath (deploy/jars/flink-job-server.pom.xml)
#   - .stack/bin/prism: Beam's Prism runner, `go install`ed at the Beam version
# Usage: scripts/setup.sh [--offline DIR]   (DIR made by scripts/stage_offline.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BEAM_VERSION=2.77.0
STACK=${STRIKEWATCH_STACK_DIR:-$ROOT/.stack}
OFFLINE=""
if [ "${1:-}" = "--offline" ]; then OFFLINE=$(cd "$2" && pwd); fi
say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------
need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v go >/dev/null || need+=(golang-go)
command -v promtool >/dev/null || need+=(prometheus)
command -v docker-compose >/dev/null || need+=(docker-compose)  # compose-file validator for tests (no engine needed)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)  # the incident store (strikewatch up runs it)
[ -x /usr/bin/chromium ] || need+=(chromium)  # the web app's browser tests (headless)
command -v wrk >/dev/null || need+=(wrk)  # bench/bench_api.py's load generator
if [ ${#need[@]} -gt 0 ]; then
  if [ -n "$OFFLINE" ]; then
    say "missing ${need[*]}: install them from $OFFLINE/debs"; dpkg -i "$OFFLINE"/debs/*.deb
  elif [ "$(id -u)" = 0 ]; then
    say "apt-get install ${need[*]}"
    apt-get update -qq >/dev/null
    # policy-rc.d: the prometheus and postgresql packages must not start system services here.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  else
    say "missing ${need[*]}; run as root or: sudo apt-get install ${need[*]}"; exit 1
  fi
fi

# --- Python ------------------------------------------------------------------------
# The virtualenv lives outside the clone (like ~/.m2 and the Go module cache) and is
# shared by every clone on the machine: its dependencies are 1.2 GB (Beam, spaCy,
# pyarrow, onnxruntime; 6 GB while torch was one) and this registry sends nothing pip
# can cache, so a fresh venv per clone would re-download them each time. It is rebuilt when the
# dependency list in pyproject.toml or the lock changes; .venv in the clone links to it,
# and the project itself is (re)installed editable from this clone on every run.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
want=$( (sed -n '/^dependencies = \[/,/^\]/p;/^dev = /p' pyproject.toml; cat requirements-dev.lock requirements-pip.lock) | sha256sum | cut -c1-16)
VENV=${STRIKEWATCH_VENV:-$HOME/.cache/strikewatch/venv-$want}
if [ -d .venv ] && [ ! -L .venv ]; then rm -rf .venv; fi
if [ ! -f "$VENV/.deps-installed" ]; then
  say "creating $VENV and installing dependencies (pip)"
  rm -rf "$VENV"; mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  # The interpreter's own pip (23.2 on these machines) takes an extra's requirement
  # ("smart-open[http]>=5.2.1", from weasel) as unpinned once a newer release than the
  # lock's exists, and --require-hashes then refuses the whole lock (seen 2026-12-02,
  # smart-open 9.0.4); pip 25.3 matches it to the pinned smart-open==9.0.2.
  if [ -n "$OFFLINE" ]; then
    "$VENV/bin/python" -m pip install -q --no-index --find-links "$OFFLINE/wheels" --require-hashes -r requirements-pip.lock
  else
    "$VENV/bin/python" -m pip install -q --require-hashes -r requirements-pip.lock
  fi
  # Every package pinned, every file checked against its sha256 in the lock.
  if [ -n "$OFFLINE" ]; then
    "$VENV/bin/python" -m pip install -q --no-index --find-links "$OFFLINE/wheels" --require-hashes -r requirements-dev.lock
  else
    "$VENV/bin/python" -m pip install -q --require-hashes -r requirements-dev.lock
  fi
  touch "$VENV/.deps-installed"
fi
ln -sfn "$VENV" .venv
# Editable install of this clone (no dependency resolution: seconds).
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . ${OFFLINE:+--no-index}
# The geocoder's GeoNames cache (~/.cache/strikewatch/geo): built once per machine
# (~20 s), then every process loads it in ~0.4 s.
"$VENV/bin/python" -m pipeline.extraction.geo >/dev/null

# --- Kafka jars ----------------------------------------------------------------------
mkdir -p "$STACK/jars" "$STACK/bin"
jstamp="$STACK/jars/.pom-sha"
jwant=$(sha256sum deploy/jars/pom.xml | cut -c1-16)
if [ "$(cat "$jstamp" 2>/dev/null)" != "$jwant" ]; then
  if [ -n "$OFFLINE" ]; then
    cp "$OFFLINE"/jars/*.jar "$STACK/jars/"
  else
    say "mvn dependency:copy-dependencies (Kafka broker jars)"
    rm -f "$STACK"/jars/*.jar
    mvn -q -B -f deploy/jars/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$STACK/jars"
  fi
  echo "$jwant" > "$jstamp"
fi

# --- Flink job server (local Flink, strikewatch/devstack/flink.py) ---------------------------------
fstamp="$STACK/flink-jars/.pom-sha"
fwant=$(sha256sum deploy/jars/flink-job-server.pom.xml | cut -c1-16)
if [ "$(cat "$fstamp" 2>/dev/null)" != "$fwant" ]; then
  mkdir -p "$STACK/flink-jars"
  if [ -n "$OFFLINE" ]; then
    cp "$OFFLINE"/flink-jars/*.jar "$STACK/flink-jars/"
  else
    say "mvn dependency:copy-dependencies (Beam's Flink job server)"
    rm -f "$STACK"/flink-jars/*.jar
    mvn -q -B -f deploy/jars/flink-job-server.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$STACK/flink-jars"
  fi
  echo "$fwant" > "$fstamp"
fi

# --- Prism ---------------------------------------------------------------------------
if [ ! -x "$STACK/bin/prism" ]; then
  if [ -n "$OFFLINE" ]; then
    cp "$OFFLINE/bin/prism" "$STACK/bin/prism"
  else
    say "go install prism@v$BEAM_VERSION"
    GOBIN="$STACK/bin" GOFLAGS=-mod=mod go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$BEAM_VERSION"
  fi
fi
say "ready: .venv, $STACK/jars, $STACK/flink-jars, $STACK/bin/prism"
