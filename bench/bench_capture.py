"""Capture pipeline benchmark: replay throughput against FLAC-encoding alone, CPU share at
real-time pace, frame-to-commit latency, and memory over short and long feeds.

Run: ``python bench/bench_capture.py [--minutes 30] [--realtime-s 60]``.

- The segmenter alone (speech detector, busy tone, DTMF, state machine; no vault) over the same
  feed and over a bad-line day (``callrec.testing.badline``), each as a multiple of FLAC-encoding
  that audio, measured in the same run: the detector's own cost, apart from the vault's commits.
  ``tools/score_feeds.py`` gives the same figure for the alternative detectors it was chosen over.
- Replay throughput is ``callrec replay``'s pipeline (segmenter, tone/DTMF detectors, vault
  writes with a commit per 4 MiB of call audio, sealing) over a feed of repeated calls, as a
  multiple of real time and of the time to just FLAC-encode the same audio with libsndfile,
  three runs, each with the number of commits it made (it must not vary between runs).
- CPU share and latency come from the same pipeline fed at real-time pace (the replay source's
  diagnostic real-time mode, which hands blocks to the bounded queue like the sound card does).
  Latency is from a block reaching the process to the commit that made it durable (p99 must be
  at most 1 s: DESIGN.md invariant 1).
- Memory: peak RSS of ``callrec replay`` processes over feeds of different lengths; flat means
  nothing holds a whole feed or call.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from callrec.capture import FileSource, Pipeline, Segmenter
from callrec.config import CaptureConfig, load_config
from callrec.testing.badline import day_feed
from callrec.testing.scoring import CallLog
from callrec.testing.synth import FeedBuilder, load_speech
from callrec.vault import Vault

RATE = 8000
AUDIO = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
START = "2026-08-03T08:30:00+09:00"
WARM_UP_S = 10.0


def pattern() -> np.ndarray:
    """About a minute of line traffic: a call with a pause ended by the busy tone, a test call."""
    ja = [load_speech(AUDIO / f"ja_{i}.flac", RATE) for i in (1, 2, 3)]
    feed = FeedBuilder(seed=3).hiss(5).speech(ja[0]).hiss(0.5).speech(ja[1]).hiss(10).speech(ja[2])
    feed.hiss(1).busy_tone(3).hiss(8).dtmf("*0*0#").speech(ja[0]).hiss(1).busy_tone(3).hiss(10)
    return feed.build()


def write_feed(path: Path, minutes: float, unit: np.ndarray) -> float:
    """Repeat ``unit`` for ``minutes`` into a WAV, streaming (never the whole feed in memory)."""
    total = int(minutes * 60 * RATE)
    with soundfile.SoundFile(str(path), "w", RATE, 1, subtype="PCM_16", format="WAV") as f:
        done = 0
        while done < total:
            part = unit[: total - done]
            f.write(part)
            done += len(part)
    return total / RATE


def flac_only(path: Path) -> float:
    started = time.perf_counter()
    with soundfile.SoundFile(str(path)) as src, soundfile.SoundFile(io.BytesIO(), "w", RATE, 1, format="FLAC",
                                                                    subtype="PCM_16") as out:
        for block in src.blocks(blocksize=RATE * 10, dtype="int16"):
            out.write(block)
    return time.perf_counter() - started


def flac_cpu(audio: np.ndarray) -> float:
    """CPU seconds to FLAC-encode ``audio`` in 1 s blocks."""
    started = time.process_time()
    with soundfile.SoundFile(io.BytesIO(), "w", RATE, 1, format="FLAC", subtype="PCM_16") as out:
        for i in range(0, len(audio), RATE):
            out.write(audio[i:i + RATE])
    return time.process_time() - started


def segmenter_cpu(audio: np.ndarray, block_s: float) -> tuple[float, int]:
    """CPU seconds of the segmenter alone over ``audio`` in blocks of ``block_s``, calls found."""
    log = CallLog()
    segmenter = Segmenter(CaptureConfig(), RATE, 1, log)
    n = round(block_s * RATE)
    started = time.process_time()
    for i in range(0, len(audio), n):
        segmenter.process(audio[i:i + n], i / RATE)
    segmenter.finish()
    return time.process_time() - started, len(log.calls)


def read_feed(path: Path) -> np.ndarray:
    return soundfile.read(str(path), dtype="int16", always_2d=True)[0]


def new_config(root: Path):
    root.mkdir(parents=True)
    path = root / "callrec.toml"
    path.write_text(f'state_dir = "{root / "state"}"\n[asr]\nenabled = false\n')
    config = load_config(path)
    Vault.initialise(config)[0].close()
    return config


def replay_in_process(config, feed: Path, realtime: bool = False, seconds: float | None = None,
                      warm_up_s: float = 0.0) -> tuple[float, float, Pipeline]:
    """(wall seconds, CPU seconds of this process, the pipeline); ``pipeline.commits``: how many.
    With ``warm_up_s`` the clocks start that long after the pipeline: a daemon runs for months, so
    its one-time costs (imports on first use, FFT plans, the first pages read) are not its pace."""
    with Vault.open(config) as vault:
        commits = []
        vault.transaction = lambda transaction=vault.transaction: (commits.append(1), transaction())[1]
        pipeline = Pipeline(config, vault, FileSource(feed, 1785713400.0, realtime=realtime))
        pipeline.commits = commits
        pipeline.start()
        pipeline.join(warm_up_s)
        wall, cpu = time.perf_counter(), time.process_time()
        if seconds is not None:
            pipeline.join(seconds)
            pipeline.stop()
        pipeline.join()
        return time.perf_counter() - wall, time.process_time() - cpu, pipeline


def peak_rss_mib(config, feed: Path) -> float:
    """The replay process's own peak RSS: ``VmHWM`` from its /proc status, read by itself as it ends
    (``ru_maxrss`` would report the bench's own peak, which a child inherits at fork)."""
    code = ("import sys; from callrec.cli import main; rc = main(sys.argv[1:]); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])")
    out = subprocess.run([sys.executable, "-c", code, "--config", str(config.source), "replay", str(feed),
                          "--start", START, "--no-asr"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the replayed feed")
    parser.add_argument("--realtime-s", type=float, default=60.0, help="length of the real-time run")
    args = parser.parse_args()
    unit = pattern()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        feed = tmp / "feed.wav"
        seconds = write_feed(feed, args.minutes, unit)

        flac_s = flac_only(feed)
        audio = read_feed(feed)
        probe = FileSource(feed, 0.0)
        replay_block_s = probe.block_s
        probe.stop()
        flac_cpu_s = flac_cpu(audio)
        for block_s, what in ((replay_block_s, "as replay reads"), (0.1, "as live capture hands over")):
            seg_cpu, found = segmenter_cpu(audio, block_s)
            print(f"segmenter alone  : {seg_cpu / flac_cpu_s:8.2f} x FLAC-encoding the same audio (CPU; {found} calls;"
                  f" {block_s:g} s blocks, {what})")
        for run in range(3):
            flac_s = flac_only(feed)
            wall, cpu, pipeline = replay_in_process(new_config(tmp / f"fast{run}"), feed)
            if run == 0:
                print(f"feed: {seconds / 60:.0f} min of 8 kHz mono, {len(pipeline.sealed)} calls")
            print(f"run {run + 1}: FLAC encode only {seconds / flac_s:6.0f} x real time; replay pipeline "
                  f"{seconds / wall:5.0f} x real time, {wall / flac_s:.2f}x FLAC encoding (wall), "
                  f"{cpu / flac_cpu(audio):.2f}x (CPU), {len(pipeline.commits)} commits")

        wall, cpu, pipeline = replay_in_process(new_config(tmp / "live"), feed, realtime=True, seconds=args.realtime_s,
                                                warm_up_s=WARM_UP_S)
        lat = np.array(pipeline.commit_latencies)
        print(f"real-time pace   : {cpu / wall * 100:.1f}% of one core over {wall:.0f} s after {WARM_UP_S:g} s of"
              f" warm-up ({len(pipeline.sealed)} calls sealed)")
        print(f"frame-to-commit  : p50 {np.percentile(lat, 50):.3f} s, p99 {np.percentile(lat, 99):.3f} s, "
              f"max {lat.max():.3f} s over {len(lat)} commits (limit 1 s)")

        short, long = tmp / "short.wav", tmp / "long.wav"
        short_s = write_feed(short, 10, unit)
        long_s = write_feed(long, 120, unit)
        print(f"peak RSS replay  : {short_s / 60:.0f} min feed {peak_rss_mib(new_config(tmp / 'm1'), short):.0f} MiB, "
              f"{long_s / 60:.0f} min feed {peak_rss_mib(new_config(tmp / 'm2'), long):.0f} MiB")

    # Last: rendering a bad-line day takes memory (children report their own VmHWM, not this peak).
    ja = [load_speech(AUDIO / f"ja_{i}.flac", RATE) for i in (1, 2, 3)]
    bad = day_feed(ja, seed=1).audio
    seg_cpu, found = segmenter_cpu(bad, replay_block_s)
    print(f"segmenter, bad line: {seg_cpu / flac_cpu(bad):6.2f} x FLAC-encoding the same audio (CPU; "
          f"{len(bad) / RATE / 60:.0f} min, {found} calls)")


if __name__ == "__main__":
    main()
