"""Frame-to-commit latency of the live writer while the health checks alert through a command
that hangs (``sleep 300``), against the same run with no alert command.

Both runs record the same real-time feed through the real Pipeline into a real vault, with the
daemon's check runner going every 0.5 s on its own connection and a critical finding present, so
every run of the checks has something to alert. Prints p50/p99/max of frame-to-commit for each
and the p99 ratio (goal: ~1.0, and p99 <= 1 s: a hanging alert command never delays a commit).
Run: ``/opt/cr-health/bin/python bench/bench_alerts.py [--seconds 15]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from callrec.capture import FileSource, Pipeline
from callrec.config import load_config
from callrec.daemon import HealthService
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault
from callrec.vault.ops._ledger import add_gap

SPEECH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio" / "ja_1.flac"


def run(seconds: float, alert_command: str) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        config_file = base / "callrec.toml"
        config_file.write_text(f'state_dir = "{base / "state"}"\n[asr]\nenabled = false\n[health]\n'
                               f'alert_command = "{alert_command}"\nalert_timeout_s = 5\n')
        config = load_config(config_file)
        Vault.initialise(config)[0].close()
        speech = load_speech(SPEECH, 8000)
        fb = FeedBuilder(seed=3).hiss(1)
        while fb.now_s < seconds:
            fb.speech(speech)
        feed = fb.write(base / "live.wav")
        with Vault.open(config) as health_vault, Vault.open(config) as vault:
            add_gap(health_vault, time.time() - 7200, time.time() - 7000, "flatline", "input constant")
            service = HealthService(config, health_vault)
            stop = threading.Event()

            def checks() -> None:
                while not stop.wait(0.5):
                    health_vault.query("DELETE FROM alert_state")  # alert again every run
                    service.run_checks()

            pipeline = Pipeline(config, vault, FileSource(feed, time.time(), realtime=True))
            runner = threading.Thread(target=checks)
            pipeline.start()
            runner.start()
            try:
                pipeline.join()
            finally:
                stop.set()
                runner.join()
                service.stop()
            return sorted(pipeline.commit_latencies)


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    base = run(args.seconds, "true")
    hang = run(args.seconds, "sleep 300")
    for name, lat in (("alert command 'true'", base), ("alert command 'sleep 300'", hang)):
        print(f"{name:28s} commits {len(lat):4d}  p50 {_pct(lat, 0.5):.3f} s  p99 {_pct(lat, 0.99):.3f} s"
              f"  max {lat[-1]:.3f} s")
    print(f"p99 ratio hanging/baseline: {_pct(hang, 0.99) / _pct(base, 0.99):.2f}")


if __name__ == "__main__":
    main()
