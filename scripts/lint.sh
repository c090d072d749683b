#!/usr/bin/env bash
# The style gate: `scripts/dev.sh test` (hence .ci/run) runs it before the tests, and fails on a violation.
#   scripts/lint.sh                  all of it: ruff check, ruff format --check, mypy (strict set), lint-imports
#   scripts/lint.sh mypy imports     only those steps (ruff, format, mypy, imports); pre-commit calls them so
#   scripts/lint.sh commit-msg FILE  a commit message: subject of at most 72 characters, then a blank line
#   LINT_SKIP_FORMAT=1 scripts/lint.sh   without what `ruff format .` settles (format --check, E501); only
#                                    for checking a branch before the tree's one formatting commit
# Rules and the strict set live in pyproject.toml ([tool.ruff], [tool.mypy], [tool.importlinter]).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

# mypy's strict set, as files (pyproject's [[tool.mypy.overrides]] lists the modules): the future core and
# the filter, at either their present path or their strikewatch/core/ one.
strict_files() {
  local f
  for f in strikewatch/{,core/}{errors,filters,models,settings,topics}.py; do
    [ -f "$f" ] && echo "$f"
  done
}

step_ruff() {
  if [ "${LINT_SKIP_FORMAT:-0}" = 1 ]; then
    "$bin/ruff" check --extend-ignore E501 .
  else
    "$bin/ruff" check .
  fi
}

step_format() {
  if [ "${LINT_SKIP_FORMAT:-0}" = 1 ]; then
    echo "lint: ruff format --check skipped (LINT_SKIP_FORMAT=1)" >&2
  else
    "$bin/ruff" format --check .
  fi
}

step_mypy() {
  local files
  mapfile -t files < <(strict_files)
  "$bin/mypy" "${files[@]}"
}

step_imports() {
  if grep -q '^\[tool\.importlinter\]' pyproject.toml 2>/dev/null || [ -f .importlinter ]; then
    "$bin/lint-imports"
  else
    echo "lint: no import-linter contracts yet, lint-imports skipped" >&2
  fi
}

step_commit_msg() {
  local subject second
  subject=$(sed -n 1p "$1")
  second=$(sed -n 2p "$1")
  case "$subject" in
    "Merge "*|"fixup! "*|"squash! "*) return 0 ;;
  esac
  if [ "${#subject}" -gt 72 ]; then
    echo "commit message: subject is ${#subject} characters, at most 72: put the why and the numbers in the body" >&2
    return 1
  fi
  if [ -n "$second" ] && [[ "$second" != \#* ]]; then
    echo "commit message: a blank line goes between the subject and the body" >&2
    return 1
  fi
}

if [ "${1:-}" = commit-msg ]; then
  step_commit_msg "${2:?usage: scripts/lint.sh commit-msg FILE}"
  exit
fi
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(ruff format mypy imports)
failed=()
for s in "${steps[@]}"; do
  case "$s" in
    ruff|format|mypy|imports) echo "lint: $s" >&2; "step_$s" || failed+=("$s") ;;
    *) echo "usage: scripts/lint.sh [ruff|format|mypy|imports ...] | commit-msg FILE" >&2; exit 2 ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
