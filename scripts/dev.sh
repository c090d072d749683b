#!/usr/bin/env bash
# The two commands of the README:
#   scripts/dev.sh run    install everything, start the local stack and run the main job
#   scripts/dev.sh test   install everything, check style (scripts/lint.sh), run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
case "${1:-}" in
  run)
    shift
    replay=()
    [ -d ../shared/data/articles ] && replay=(--replay ../shared/data/articles)
    exec .venv/bin/strikewatch run "${replay[@]}" "$@"
    ;;
  test)
    shift
    bash scripts/lint.sh  # a violation fails the run (.ci/run) before the ~15 min of tests
    exec .venv/bin/python -m pytest -q "$@"
    ;;
  *) echo "usage: scripts/dev.sh run|test [args]" >&2; exit 2 ;;
esac
