"""Commands import what they run: ``--version``, a listing, a status and a check load none of the
recorder's heavy libraries (the ASR engine, the sound card, numpy, the job scheduler, the metrics
exporter), neither run here with the data key nor sent through the daemon's socket.

What a process imported is read from its own ``sys.modules`` after ``callrec.cli.main`` returns (a
fact about behaviour, not a timing); the start-up ratios themselves are in bench/bench_cli.py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time

import pytest

from callrec.access import ACTIONS, action
from callrec.access._registry import HOMES
from callrec.config import load_config
from tests.conftest import add_os_account, open_dir, run_cli, write_config

HEAVY = ("vosk", "sounddevice", "numpy", "apscheduler", "prometheus_client", "scipy", "soxr", "soundfile")
#: A process that only talks to the socket signs and checks nothing either.
CLIENT_HEAVY = (*HEAVY, "cryptography")

PROBE = """
import sys
from callrec.cli import main
watched = set(sys.argv[1].split(","))
try:
    rc = main(sys.argv[2:])
except SystemExit as exc:
    rc = exc.code
print("IMPORTED", rc, ",".join(sorted(watched & set(sys.modules))), file=sys.stderr)
"""

COMMANDS = (["--version"], ["calls", "list"], ["calls", "list", "--json", "--from", "-1d"], ["status"],
            ["status", "--json"], ["health", "check"])


def _imported(config_file, argv: list[str], heavy: tuple[str, ...], user: str | None = None) -> tuple[int, set[str]]:
    cmd = [sys.executable, "-c", PROBE, ",".join(heavy), "--config", str(config_file), *argv]
    if user is not None:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/",
                          env={k: v for k, v in os.environ.items() if k != "CALLREC_CONFIG"})
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("IMPORTED")), None)
    assert line is not None, done.stderr
    _, rc, names = line.split(" ", 2)
    return int(rc), {n for n in names.split(",") if n}


@pytest.fixture(scope="module")
def site():
    base = open_dir("callrec-lean-")
    config_file = write_config(base)
    config_file.chmod(0o644)
    assert run_cli(config_file, "init").returncode == 0
    return config_file


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_command_run_here_loads_no_heavy_library(site, argv):
    rc, heavy = _imported(site, argv, HEAVY)
    assert rc in (0, 1, 2), rc  # health check: CRITICAL without a daemon is still a check
    assert heavy == set(), f"callrec {' '.join(argv)} imported {sorted(heavy)}"


def test_the_probe_sees_a_heavy_import(site):
    """The check can fail: a command that does load the recorder's libraries is seen to."""
    rc, heavy = _imported(site, ["asr", "--help"], ("argparse", "callrec.cli.asr"))
    assert heavy == {"argparse", "callrec.cli.asr"}


@pytest.mark.root
def test_a_command_through_the_socket_loads_no_heavy_library(site):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root to create an OS account with useradd")
    account = f"crlean{secrets.token_hex(3)}"
    add_os_account(account)
    assert run_cli(site, "users", "add", account, "--role", "ops", "--role", "maintainer").returncode == 0
    server = subprocess.Popen([sys.executable, "-m", "callrec", "--config", str(site), "serve"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    try:
        socket_path = load_config(site).socket_path
        for _ in range(200):
            if socket_path.exists():
                break
            time.sleep(0.05)
        for argv in COMMANDS:
            rc, heavy = _imported(site, argv, CLIENT_HEAVY, user=account)
            assert rc in (0, 1, 2), (argv, rc)  # health check: no capture running is CRITICAL
            assert heavy == set(), f"callrec {' '.join(argv)} through the socket imported {sorted(heavy)}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["userdel", account], check=False)


def test_every_action_is_found_in_its_home_module():
    """``action(name)`` imports only the module ``HOMES`` names: each use case must live there."""
    for name, act in ACTIONS.items():
        assert act.run.__module__ == f"callrec.access.{HOMES[name.split('.', 1)[0]]}", name
        assert action(name) is act
