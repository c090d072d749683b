"""The strikewatch command: dispatch, usage errors, and the stack subcommands on the real broker."""

import json
import subprocess
import sys

from strikewatch import cli


def test_unknown_command_is_a_usage_error(capsys):
    assert cli.main(["no-such-command"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_help_lists_every_subcommand(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.SUBCOMMANDS:
        assert name in out, name


def test_every_subcommand_points_at_a_main_function():
    import importlib

    for name, (module, func) in cli.SUBCOMMANDS.items():
        fn = getattr(importlib.import_module(module), func)
        assert callable(fn), name


def test_status_reports_a_healthy_stack_as_json(kafka_bootstrap, repo_root):
    out = subprocess.run(
        [sys.executable, "-m", "strikewatch.cli", "status"], cwd=repo_root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert st["healthy"] and st["kafka"] and all(st["topics"].values())
