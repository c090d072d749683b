#!/usr/bin/env bash
# Regenerate the hash-pinned lock files from pyproject.toml (run after changing dependencies):
#   scripts/lock.sh            # writes requirements.lock (runtime: the Docker images) and
#                              # requirements-dev.lock (runtime + dev: scripts/setup.sh, CI)
# pip-compile (pip-tools, in a venv of its own under ~/.cache/strikewatch, not the project's)
# resolves for this machine's Python 3.11 on Linux x86_64, as the images and CI are, and
# writes the sha256 of every file of each pinned version; the build backend (setuptools,
# wheel) is pinned too (--all-build-deps), so `pip install --no-build-isolation` uses it.
# Installs then run `pip install --require-hashes -r <lock>`: a changed or substituted file fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
TOOLS=${STRIKEWATCH_PIP_TOOLS_VENV:-$HOME/.cache/strikewatch/pip-tools}
# pip-tools 7.7 needs a pip newer than the 25.3 of requirements-pip.lock (AttributeError:
# cmdoptions.check_release_control_exclusive); 7.6.2 works with it.
if [ ! -x "$TOOLS/bin/pip-compile" ] || ! "$TOOLS/bin/pip-compile" --version | grep -q " 7.6.2"; then
  "$PY" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install -q 'pip-tools==7.6.2'
fi
# The resolver is pip's: with the interpreter's pip 23.2 it left out an extra's own
# requirement (lxml[html_clean] -> lxml-html-clean, from justext), which pip 25.3 installs.
"$TOOLS/bin/python" -m pip install -q --require-hashes -r requirements-pip.lock
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps --no-emit-index-url
        --no-emit-trusted-host --no-emit-find-links --annotation-style=line)
CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$TOOLS/bin/pip-compile" "${common[@]}" -o requirements.lock pyproject.toml
CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$TOOLS/bin/pip-compile" "${common[@]}" --extra dev -o requirements-dev.lock pyproject.toml
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) packages) and requirements-dev.lock ($(grep -c '==' requirements-dev.lock) packages)"
