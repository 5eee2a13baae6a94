"""The unit variant for a SIP line: callrec.service plus the drop-in config/callrec-sip-line.conf."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _values(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("["):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def _merged() -> dict[str, str]:
    """The last value of every key once the drop-in is applied (how systemd reads single-value keys)."""
    base = _values((CONFIG / "callrec.service").read_text())
    base.update(_values((CONFIG / "callrec-sip-line.conf").read_text()))
    return {k: v[-1] for k, v in base.items()}


def test_a_sip_line_gets_raw_capture_and_the_host_network_but_keeps_the_sandbox_and_sends_nothing():
    unit = _merged()
    assert unit["PrivateNetwork"] == "no"
    assert unit["AmbientCapabilities"] == "CAP_NET_RAW" and unit["CapabilityBoundingSet"] == "CAP_NET_RAW"
    assert "AF_PACKET" in unit["RestrictAddressFamilies"].split()
    assert unit["IPAddressDeny"] == "any"
    for key, value in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                       ("ProtectHome", "yes"), ("DevicePolicy", "closed"), ("RestrictNamespaces", "yes"),
                       ("SystemCallFilter", "@system-service"), ("User", "callrec")]:
        assert unit[key] == value, key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit_with_the_drop_in(tmp_path):
    callrec = Path(sys.executable).with_name("callrec")
    text = (CONFIG / "callrec.service").read_text()
    start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    (tmp_path / "callrec.service").write_text(text.replace(start.split()[0], f"ExecStart={callrec}"))
    (tmp_path / "callrec.service.d").mkdir()
    shutil.copy(CONFIG / "callrec-sip-line.conf", tmp_path / "callrec.service.d" / "sip-line.conf")
    proc = subprocess.run(["systemd-analyze", "verify", "callrec.service"], capture_output=True, text=True,
                          env={"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # The drop-in is read: a key systemd does not know would be reported.
    (tmp_path / "callrec.service.d" / "sip-line.conf").write_text("[Service]\nNoSuchKey=1\n")
    proc = subprocess.run(["systemd-analyze", "verify", "callrec.service"], capture_output=True, text=True,
                          env={"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert "NoSuchKey" in proc.stderr
