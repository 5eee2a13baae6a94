"""The systemd side: the unit file and sd_notify."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from callrec.systemd import notify, watchdog_interval

UNIT = Path(__file__).resolve().parents[2] / "config" / "callrec.service"


def _service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_unit_is_a_watched_hardened_notify_service():
    unit = _service()
    assert unit["Type"] == ["notify"]
    assert unit["Restart"] == ["on-failure"]
    assert int(unit["WatchdogSec"][0]) > 0
    for key, value in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                       ("IPAddressDeny", "any"), ("UMask", "0077")]:
        assert unit[key] == [value], key
    assert unit["LoadCredential"][0].startswith("vault-key:")
    assert unit["ExecStart"][0].endswith(" run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path):
    copy = tmp_path / "callrec.service"
    callrec = Path(sys.executable).with_name("callrec")
    copy.write_text(UNIT.read_text().replace("/opt/callrec-venv/bin/callrec", str(callrec)))
    proc = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_security_rates_the_unit_well_hardened(tmp_path):
    """``systemd-analyze security`` on the unit file itself (offline: no running manager needed)."""
    proc = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
                          capture_output=True, text=True)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert level is not None, proc.stdout + proc.stderr
    assert float(level.group(1)) <= 2.0, proc.stdout


def test_the_unit_lets_the_daemon_write_the_documented_metrics_path():
    """The metrics path the docs and the example config name is writable under ProtectSystem=strict."""
    root = UNIT.parents[1]
    documented = {m.group(1) for text in ((root / "docs" / "health.md").read_text(),
                                          (root / "config" / "callrec.example.toml").read_text())
                  for m in re.finditer(r'metrics_file = "([^"]+)"', text)}
    writable = [p.lstrip("-") for p in _service().get("ReadWritePaths", [""])[0].split()]
    assert documented and all(any(path.startswith(w + "/") for w in writable) for path in documented), (
        documented, writable)


def test_sd_notify_reaches_the_socket_and_is_silent_without_one(tmp_path, monkeypatch):
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify("READY=1")
        assert listener.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("WATCHDOG=1") is False


def test_watchdog_interval(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert watchdog_interval() is None
