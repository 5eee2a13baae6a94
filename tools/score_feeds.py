#!/usr/bin/env python3
"""Score the segmenter on seeded clean and bad-line feeds: one table row per feed.

Each feed (``callrec.testing.badline.day_feed``: 18 calls by default, a DTMF test call, a
flatline) runs through the real replay pipeline into a throw-away vault; the row gives calls
found, false calls, splits, merges, seconds of speech outside every call, median start/end error
(s, recording minus truth), whether the test call was recognised, flatlines reported, the
largest overrun past a call's real end (``over``), test calls holding real speech (``t-held``)
and merges of calls more than ``end_silence_s`` apart (``far``).

    python tools/score_feeds.py [--seeds 1 2 3] [--calls 18] [--feeds clean bad xtalk] [--write DIR]
                                [--detector own webrtc silero]

Feeds: ``clean``, ``bad`` (bad line: 50 Hz µ-law and 60 Hz A-law per seed) and ``xtalk`` (the
bad line with another line's faint conversation in idle stretches and right after calls, the
test call ended without a busy tone and closely followed by the next call; 50 Hz A-law and
60 Hz µ-law per seed).

``--write DIR`` also leaves each feed as a WAV with its ``.truth.json`` beside it.

``--detector`` picks the speech detector inside the same segmenter (same start/end rules, same
busy-tone and DTMF detectors): ``own`` (the segmenter's band-floor detector), ``webrtc`` (WebRTC
VAD from ``webrtcvad-wheels``, aggressiveness 2, 10 ms frames) or ``silero`` (Silero VAD v5,
the ONNX model bundled in the ``silero-vad`` wheel, run with ``onnxruntime``; probability ≥ 0.5).
Neither is a dependency of callrec: install them to measure (``pip install webrtcvad-wheels
onnxruntime`` and ``pip install --no-deps silero-vad``; its torch wrapper is not used). After
the table, each detector's cost: the segmenter over the feed on its own (no vault), as a
multiple of FLAC-encoding the same audio with soundfile, measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from callrec.capture import FileSource, Pipeline, Segmenter  # noqa: E402
from callrec.config import CaptureConfig, load_config  # noqa: E402
from callrec.testing.badline import Feed, day_feed  # noqa: E402
from callrec.testing.scoring import TABLE_HEADER, CallLog, Score, score  # noqa: E402
from callrec.testing.synth import load_speech  # noqa: E402
from callrec.vault import Vault
from callrec.vault.ops import _ledger as ledger  # noqa: E402

AUDIO = REPO / "tests" / "fixtures" / "audio"
T0 = 1785713400.0


class _Regrid:
    """Runs a detector on its own chunk size over the stream of 25 ms frames and answers per
    frame: speech when at least half its samples lie in chunks called speech (samples not yet in
    a whole chunk take the latest decision)."""

    def __init__(self, chunk: int, classify) -> None:
        self.chunk = chunk
        self.classify = classify
        self._buf = np.zeros(0, np.int16)
        self._last = False

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        k, n = frames.shape[:2]
        mono = frames.mean(axis=2).astype(np.int16).reshape(-1) if frames.shape[2] > 1 else frames[:, :, 0].reshape(-1)
        data = np.concatenate([self._buf, mono])
        whole = len(data) // self.chunk
        decisions = self.classify(data[: whole * self.chunk].reshape(whole, self.chunk)) if whole else np.zeros(0, bool)
        per_sample = np.repeat(decisions, self.chunk)
        held = len(self._buf)
        self._buf = data[whole * self.chunk:]
        # Samples of these frames: the buffered ones were already in earlier frames.
        mine = per_sample[held:] if held <= len(per_sample) else np.zeros(0, bool)
        fill = np.full(k * n - len(mine), decisions[-1] if len(decisions) else self._last)
        if len(decisions):
            self._last = bool(decisions[-1])
        return np.concatenate([mine, fill])[: k * n].reshape(k, n).mean(axis=1) >= 0.5


def webrtc(rate: int, config: CaptureConfig):
    import webrtcvad

    vad = webrtcvad.Vad(2)
    return _Regrid(rate // 100, lambda chunks: np.array([vad.is_speech(c.tobytes(), rate) for c in chunks], bool))


class _Silero:
    """Silero VAD v5 from the ONNX file inside the silero-vad wheel (no download, no torch)."""

    def __init__(self, rate: int) -> None:
        import onnxruntime

        where = importlib.util.find_spec("silero_vad").submodule_search_locations[0]
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = opts.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(Path(where) / "data" / "silero_vad.onnx"), opts,
                                                    providers=["CPUExecutionProvider"])
        self.rate = rate
        self.context = np.zeros((1, 32 if rate == 8000 else 64), np.float32)
        self.state = np.zeros((2, 1, 128), np.float32)

    def __call__(self, chunks: np.ndarray) -> np.ndarray:
        out = np.zeros(len(chunks), bool)
        sr = np.array(self.rate, np.int64)
        for i, chunk in enumerate(chunks):
            x = np.concatenate([self.context, chunk[None, :].astype(np.float32) / 32768.0], axis=1)
            prob, self.state = self.session.run(None, {"input": x, "state": self.state, "sr": sr})
            self.context = x[:, -self.context.shape[1]:]
            out[i] = prob[0, 0] >= 0.5
        return out


def silero(rate: int, config: CaptureConfig):
    return _Regrid(256 if rate == 8000 else 512, _Silero(rate))


DETECTORS = {"own": None, "webrtc": webrtc, "silero": silero}


def cost(audio: np.ndarray, rate: int, detector) -> tuple[float, float]:
    """The segmenter alone over ``audio``: (CPU time as a multiple of FLAC-encoding the same
    audio, both in 1 s blocks as replay reads; share of one core at real-time pace in the 0.1 s blocks
    the sound card delivers, in %)."""
    started = time.process_time()
    with soundfile.SoundFile(io.BytesIO(), "w", rate, audio.shape[1], format="FLAC", subtype="PCM_16") as out:
        for i in range(0, len(audio), rate):
            out.write(audio[i:i + rate])
    flac = time.process_time() - started
    took = []
    for block in (rate, rate // 10):
        config = CaptureConfig()
        segmenter = Segmenter(config, rate, audio.shape[1], CallLog())
        if detector is not None:
            segmenter.detector = detector(rate, config)
        started = time.process_time()
        for i in range(0, len(audio), block):
            segmenter.process(audio[i:i + block], i / rate)
        segmenter.finish()
        took.append(time.process_time() - started)
    return took[0] / flac, took[1] / (len(audio) / rate) * 100


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
    return score(feed.truth, pipeline.log.calls, gaps, config.capture.end_silence_s), took


FEEDS = ("clean", "bad", "xtalk")


def feeds(seeds: list[int], calls: int, kinds: tuple[str, ...] = FEEDS):
    speech = [load_speech(AUDIO / f"ja_{i}.flac", 8000) for i in (1, 2, 3)]
    if "clean" in kinds:
        for seed in seeds:
            yield f"clean s{seed}", day_feed(speech, seed=seed, calls=calls, bad=False)
    if "bad" in kinds:
        for seed in seeds:
            for mains, law in ((50, "ulaw"), (60, "alaw")):
                yield f"bad s{seed} {mains}Hz {law}", day_feed(speech, seed=seed, calls=calls, mains_hz=mains, law=law)
    if "xtalk" in kinds:
        for seed in seeds:
            for mains, law in ((50, "alaw"), (60, "ulaw")):
                yield f"xtalk s{seed} {mains}Hz {law}", day_feed(speech, seed=seed, calls=calls, mains_hz=mains,
                                                                 law=law, crosstalk=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--calls", type=int, default=18)
    parser.add_argument("--feeds", nargs="+", choices=FEEDS, default=list(FEEDS))
    parser.add_argument("--write", type=Path, help="keep the feeds (WAV + truth JSON) in this directory")
    parser.add_argument("--detector", nargs="+", choices=sorted(DETECTORS), default=["own"])
    args = parser.parse_args()
    logging.disable(logging.ERROR)
    costs: dict[str, list[tuple[float, float]]] = {d: [] for d in args.detector}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.detector:
            print(f"\ndetector: {name}\n{TABLE_HEADER}")
            for i, (feed_name, feed) in enumerate(feeds(args.seeds, args.calls, tuple(args.feeds))):
                result, took = run_feed(feed, Path(tmp) / f"{name}{i}", DETECTORS[name])
                costs[name].append(cost(feed.audio, feed.truth.rate, DETECTORS[name]))
                if args.write:
                    args.write.mkdir(parents=True, exist_ok=True)
                    feed.write(args.write / (feed_name.replace(" ", "_") + ".wav"))
                print(result.row(feed_name), f"  ({feed.truth.duration_s / 60:.0f} min)", flush=True)
    print("\ncost of the segmenter with each detector (median over feeds):")
    print(f"  {'detector':<8} {'x FLAC-encode':>13} {'% of a core live':>17}")
    for name, values in costs.items():
        ratio, core = np.median(np.array(values), axis=0)
        print(f"  {name:<8} {ratio:12.2f}x {core:16.3f}%")


if __name__ == "__main__":
    main()
