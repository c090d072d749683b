"""Imports point down the layers: the import-linter contracts in pyproject.toml hold.

    core <- pipeline/extraction (no Beam) <- the job (pipeline/), which never imports the dev stack
    core <- connectors (no NLP), core <- services, devstack and services <- cli; no cycles.

``lint-imports`` reads every import, function-local ones too, so a cycle cannot hide in a
function. The second test plants a wrong-way import in a copy of the tree and checks the
contracts catch it, so they cannot pass by matching nothing. Both take under a second.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("strikewatch", "pipeline", "connectors")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_layer_contract_is_kept():
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and " kept" in out.stdout


def test_a_wrong_way_import_breaks_a_contract(tmp_path):
    for pkg in PACKAGES:
        shutil.copytree(
            ROOT / pkg,
            tmp_path / pkg,
            ignore=lambda _d, names: [n for n in names if not (n.endswith(".py") or "." not in n)],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    models = tmp_path / "strikewatch" / "core" / "models.py"
    models.write_text(models.read_text() + "\nfrom strikewatch.services import lag  # noqa: E402 - planted\n")
    replay = tmp_path / "connectors" / "replay.py"
    replay.write_text(replay.read_text() + "\nimport spacy  # noqa: E402 - planted\n")
    out = lint_imports(tmp_path)
    assert out.returncode != 0
    assert "core imports nothing above it BROKEN" in out.stdout
    assert "ingest imports no NLP, no job, no service BROKEN" in out.stdout
    assert "strikewatch.core.models -> strikewatch.services.lag" in out.stdout
