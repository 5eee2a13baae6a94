#!/usr/bin/env python3
"""Score the segmenter on seeded clean and bad-line feeds: one table row per feed.

Each feed (``callrec.capture.badline.day_feed``: 18 calls by default, a DTMF test call, a
flatline) runs through the real replay pipeline into a throw-away vault; the row gives calls
found, false calls, splits, merges, seconds of speech outside every call, median start/end error
(s, recording minus truth), whether the test call was recognised and flatlines reported.

    python tools/score_feeds.py [--seeds 1 2 3] [--calls 18] [--write DIR] [--detector own]

``--write DIR`` also leaves each feed as a WAV with its ``.truth.json`` beside it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from callrec.capture import FileSource, Pipeline  # noqa: E402
from callrec.capture.badline import Feed, day_feed  # noqa: E402
from callrec.capture.scoring import TABLE_HEADER, CallLog, Score, score  # noqa: E402
from callrec.capture.synth import load_speech  # noqa: E402
from callrec.config import load_config  # noqa: E402
from callrec.vault import Vault  # noqa: E402
from callrec.vault import _ledger as ledger  # noqa: E402

AUDIO = REPO / "tests" / "fixtures" / "audio"
T0 = 1785713400.0


class ScoredPipeline(Pipeline):
    """The replay pipeline, also noting where each call starts and ends for the scorer."""

    def __init__(self, *args, detector=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = CallLog(T0)
        if detector is not None:
            self.segmenter.detector = detector(self.source.sample_rate, self.config.capture)

    def call_started(self, ts, frames) -> None:
        self.log.call_started(ts, frames)
        super().call_started(ts, frames)

    def call_ended(self, ts, summary) -> None:
        self.log.call_ended(ts, summary)
        super().call_ended(ts, summary)


def run_feed(feed: Feed, workdir: Path, detector=None, extra_config: str = "") -> tuple[Score, float]:
    """Replay ``feed`` through the pipeline in a fresh vault under ``workdir``: (score, seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    wav = feed.write(workdir / "feed.wav")
    cfg = workdir / "callrec.toml"
    cfg.write_text(f'state_dir = "{workdir / "state"}"\n[asr]\nenabled = false\n{extra_config}')
    config = load_config(cfg)
    Vault.initialise(config)[0].close()
    with Vault.open(config) as vault:
        pipeline = ScoredPipeline(config, vault, FileSource(wav, T0), detector=detector)
        started = time.perf_counter()
        pipeline.run()
        took = time.perf_counter() - started
        gaps = [(g.start_ts - T0, g.end_ts - T0) for g in ledger.gaps_in(vault, T0, T0 + feed.truth.duration_s)
                if g.cause == "flatline"]
    return score(feed.truth, pipeline.log.calls, gaps), took


def feeds(seeds: list[int], calls: int):
    speech = [load_speech(AUDIO / f"ja_{i}.flac", 8000) for i in (1, 2, 3)]
    for seed in seeds:
        yield f"clean s{seed}", day_feed(speech, seed=seed, calls=calls, bad=False)
    for seed in seeds:
        for mains, law in ((50, "ulaw"), (60, "alaw")):
            yield f"bad s{seed} {mains}Hz {law}", day_feed(speech, seed=seed, calls=calls, mains_hz=mains, law=law)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--calls", type=int, default=18)
    parser.add_argument("--write", type=Path, help="keep the feeds (WAV + truth JSON) in this directory")
    args = parser.parse_args()
    logging.disable(logging.ERROR)
    print(TABLE_HEADER)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, feed) in enumerate(feeds(args.seeds, args.calls)):
            result, took = run_feed(feed, Path(tmp) / str(i))
            if args.write:
                args.write.mkdir(parents=True, exist_ok=True)
                feed.write(args.write / (name.replace(" ", "_") + ".wav"))
            print(result.row(name), f"  ({feed.truth.duration_s / 60:.0f} min, replay {took:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
