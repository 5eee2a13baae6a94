"""Wall-time gain of ``[asr] workers = 2`` against one worker, in the same run.

Two sealed calls of synthesised Korean speech (espeak-ng, 8 kHz) in a real vault, drained by
``TranscriptionWorker.drain()`` with the real Korean model (loaded once, shared by all workers):

- baseline: one worker, the two calls one after the other;
- parallel: two workers, the two calls at once.

Prints the median of N alternating runs of each and the ratio parallel / baseline (1.0 = no
gain, 0.5 = the ideal on two idle cores). The machine is shared, so run it when it is quiet.

    python bench/bench_workers.py [--seconds 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_asr import KO_MODEL, speech  # noqa: E402

from callrec.asr import TranscriptionWorker, import_model, load_model  # noqa: E402
from callrec.config import load_config  # noqa: E402
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder


def drain_two_calls(tmp: Path, models: Path, audio, workers: int, run: int) -> float:
    state = tmp / f"run-{workers}-{run}"
    state.mkdir()
    (state / "callrec.toml").write_text(
        f'state_dir = "{state}"\nmodels_dir = "{models}"\n[asr]\nlanguage = "ko"\nworkers = {workers}\n')
    config = load_config(state / "callrec.toml")
    vault, _ = Vault.initialise(config)
    recorder = CallRecorder(vault)
    for _ in range(2):
        call_id = recorder.start_call(time.time() - 60, 8000, 1)
        recorder.append(call_id, audio.reshape(-1, 1))
        recorder.seal(call_id)
    worker = TranscriptionWorker(config)
    started = time.perf_counter()
    worker.drain()
    elapsed = time.perf_counter() - started
    worker.stop()
    vault.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        audio = speech(args.seconds, 8000, tmp)
        (tmp / "m.toml").write_text(f'state_dir = "{tmp / "m"}"\n[asr]\nlanguage = "ko"\n')
        info = import_model(load_config(tmp / "m.toml"), KO_MODEL, name="ko")
        load_model(info)
        times: dict[int, list[float]] = {1: [], 2: []}
        for run in range(args.runs):
            for workers in (1, 2):
                times[workers].append(drain_two_calls(tmp, info.path.parent, audio, workers, run))
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(f"two {args.seconds:.0f} s calls: 1 worker {one:.2f} s, 2 workers {two:.2f} s "
              f"(median of {args.runs}); ratio {two / one:.2f} (gain {one / two:.2f}x)")


if __name__ == "__main__":
    main()
