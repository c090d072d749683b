#!/bin/sh
# Start the metrics exporter of the SDK worker pool (aggregates the metrics files the
# worker subprocesses write to $PROMETHEUS_MULTIPROC_DIR), then become Beam's boot.
set -eu
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
python -c "
import os, signal
from strikewatch.core.metrics import serve
serve(int(os.environ.get('STRIKEWATCH_WORKER_METRICS_PORT', '9102')), '0.0.0.0', multiproc_dir=os.environ['PROMETHEUS_MULTIPROC_DIR'])
signal.pause()
" &
exec /opt/apache/beam/boot "$@"
