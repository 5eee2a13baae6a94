"""The command line behaves like the tools operators know: options anywhere, suggestions, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from callrec.cli import build_parser
from tests.conftest import run_cli, write_config


def _subcommands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, child in action.choices.items():
                yield (*prefix, name), child
                yield from _subcommands(child, (*prefix, name))


def test_every_command_and_subcommand_has_a_description():
    missing = [" ".join(path) for path, p in _subcommands(build_parser()) if not p.description]
    assert missing == []


def test_every_command_accepts_config_after_itself():
    missing = [" ".join(path) for path, p in _subcommands(build_parser()) if "--config" not in p._option_string_actions]
    assert missing == []


def test_config_and_json_after_the_subcommand(config_file, tmp_path):
    assert run_cli(config_file, "init").returncode == 0
    cmd = [sys.executable, "-m", "callrec", "calls", "list", "--from", "2020-01-01", "--to", "2100-01-01",
           "--config", str(config_file)]
    result = subprocess.run([*cmd, "--json"], capture_output=True, text=True, cwd=tmp_path,
                            env={k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    between = subprocess.run([sys.executable, "-m", "callrec", "calls", "--json", "list", "--config", str(config_file)],
                             capture_output=True, text=True, cwd=tmp_path)
    assert between.returncode == 0, between.stderr
    assert json.loads(between.stdout) == []


@pytest.mark.parametrize(("argv", "suggestion"), [(("cals", "list"), "calls"), (("calls", "lst"), "list"),
                                                  (("helth", "check"), "health")])
def test_a_typo_suggests_the_right_name(config_file, argv, suggestion):
    result = run_cli(config_file, *argv)
    assert result.returncode == 2
    assert f"did you mean '{suggestion}'?" in result.stderr
    assert result.stderr.count("error") == 1 and result.stderr.count("\n") == 1


def test_abbreviated_options_are_not_expanded(config_file):
    result = run_cli(config_file, "calls", "list", "--conf", str(config_file))
    assert result.returncode == 2
    assert "unrecognized arguments: --conf" in result.stderr


def test_top_level_help_has_examples():
    result = subprocess.run([sys.executable, "-m", "callrec", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "examples:" in result.stdout and "callrec calls list" in result.stdout


def test_bash_completion_offers_commands(tmp_path):
    env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": "callrec cal", "COMP_POINT": "11", "_ARGCOMPLETE_IFS": " "}
    result = subprocess.run(["bash", "-c", f"{sys.executable} -m callrec 8>&1 1>/dev/null"], env=env,
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert "calls" in result.stdout.split(), result.stderr


def test_days_by_name_and_defaults(tmp_path):
    config_file = write_config(tmp_path, '[health]\nin_service_since = "2026-01-01T00:00:00+09:00"\n')
    assert run_cli(config_file, "init").returncode == 0
    report = run_cli(config_file, "health", "report", "--date", "yesterday", "--json")
    assert report.returncode == 0, report.stderr
    default = run_cli(config_file, "health", "report", "--json")
    assert json.loads(default.stdout)["date"] == json.loads(report.stdout)["date"]
    empty = run_cli(config_file, "calls", "list")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.startswith("no calls in ")
    reversed_ = run_cli(config_file, "calls", "list", "--from", "today", "--to", "-3d")
    assert reversed_.returncode == 2 and "after --to" in reversed_.stderr
