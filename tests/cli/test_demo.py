"""The README's demo command: the bundled feed through the whole pipeline into ./var/demo."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_records_the_bundled_calls_and_can_run_again(tmp_path):
    def demo():
        return subprocess.run([sys.executable, "-m", "callrec", "demo"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)

    first = demo()
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "var" / "demo" / "vault.db").exists()
    assert "3 call(s) sealed, 1 of them test call(s)" in first.stdout
    listed = [line for line in first.stdout.splitlines() if line.strip().startswith(("1 ", "2 ", "3 "))]
    assert [line.split()[3] for line in listed] == ["call", "test", "call"]
    assert "ok: integrity, access-log chain" in first.stdout
    again = demo()
    assert again.returncode == 0, again.stderr
    assert "replay" not in again.stdout, "the demo replayed the feed twice into one vault"
    assert again.stdout.count("  sealed  ") == first.stdout.count("  sealed  ")
