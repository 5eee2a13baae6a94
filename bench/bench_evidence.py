"""Case package cost: size against its audio, proof size against history, build and check time.

A real vault gets ``--days`` of synthetic history (a short call, a transcript and a checkpoint a
day, as a quiet hotline writes them), then ``--calls`` calls of real speech (the Japanese test
fixtures, joined to ``--minutes`` each, stereo) attached to an approved case.

- size: the whole package against the bytes of its audio files (the baseline: handing over the
  FLAC files alone); the chain proof is shown on its own, with the entries it links.
- build: ``build_case_package`` against the reads alone (``read_audio`` + ``read_transcripts`` of
  the same calls, logged like any read).
- check: ``verify_package`` on the package against decoding its audio alone.

    /opt/cr-evidence/bin/python bench/bench_evidence.py [--days 90] [--calls 3] [--minutes 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from callrec.config import load_config
from callrec.evidence import build_case_package, verify_package
from callrec.evidence._verify import pcm_sha256_of
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder, _content
from callrec.vault.calls._transcripts import add_transcript
from callrec.vault.people import _cases
from callrec.vault.people._users import add_user

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
DAY = 86400.0


def _speech(minutes: float) -> np.ndarray:
    clips = [soundfile.read(FIXTURES / f"ja_{i}.flac", dtype="int16")[0] for i in (1, 2, 3)]
    one = np.concatenate(clips)
    mono = np.resize(one, int(minutes * 60 * 8000))
    return np.stack([mono, np.roll(mono, 8000 * 2)], axis=1)  # caller and staff


def _record(vault: Vault, frames: np.ndarray, started: float) -> int:
    rec = CallRecorder(vault)
    call = rec.start_call(started, 8000, frames.shape[1])
    for start in range(0, len(frames), 8000):
        rec.append(call, frames[start:start + 8000])
    rec.seal(call)
    return call


def _words(seconds: float) -> list[dict]:
    return [{"word": "保健所", "start": t, "end": t + 0.5, "conf": 0.8} for t in np.arange(0.2, seconds - 1, 1.2)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.toml").write_text(f'state_dir = "{tmp}/state"\n[capture]\nchannels = 2\n')
        config = load_config(Path(tmp) / "c.toml")
        vault, _ = Vault.initialise(config)
        add_user(vault, "root", "rev", ["reviewer"])
        add_user(vault, "root", "appr", ["approver"])
        now = time.time()
        quiet = np.zeros((1600, 1), dtype=np.int16)
        for day in range(args.days):
            call = _record(vault, quiet, now - (args.days - day) * DAY)
            add_transcript(vault, call, 0, "vosk", "m", "0" * 64, [], "")
            vault.checkpoint()
        speech = _speech(args.minutes)
        calls = [_record(vault, speech, now - 3600 + i * 600) for i in range(args.calls)]
        for call in calls:
            for channel in (0, 1):
                add_transcript(vault, call, channel, "vosk", "m", "0" * 64, _words(args.minutes * 60), "")
        case = _cases.open_case(vault, "rev", "bench", now - 7200, now)
        _cases.decide_case(vault, "appr", case, approve=True)
        for call in calls:
            _cases.attach_call(vault, "rev", case, call)

        t0 = time.perf_counter()
        for call in calls:
            _content.read_audio(vault, "rev", call, case, "export")
            _content.read_transcripts(vault, "rev", call, case)
        reads = time.perf_counter() - t0
        t0 = time.perf_counter()
        package = build_case_package(vault, "rev", case, "flac", config)
        build = time.perf_counter() - t0
        files = dict(package.files)
        entries = vault.query("SELECT count(*) FROM access_log")[0][0]
        vault.close()

    audio = sum(len(d) for n, d in files.items() if n.endswith(".flac"))
    total = sum(len(d) for d in files.values())
    proof = len(files["proof/chain.json"])
    t0 = time.perf_counter()
    for name, data in files.items():
        if name.endswith(".flac"):
            pcm_sha256_of(data)
    decode = time.perf_counter() - t0
    t0 = time.perf_counter()
    findings = verify_package(files)
    check = time.perf_counter() - t0
    assert not findings, findings
    print(f"{args.calls} call(s) x {args.minutes:g} min stereo speech, {args.days} days of history, {entries} log entries")
    print(f"size:  package {total / 1e6:.2f} MB / audio {audio / 1e6:.2f} MB = {total / audio:.3f}"
          f"  (overhead {100 * (total - audio) / audio:.1f} %; chain proof {proof / 1e3:.1f} kB)")
    print(f"build: {build:.2f} s / reads alone {reads:.2f} s = {build / reads:.1f}x")
    print(f"check: {check:.2f} s / decoding alone {decode:.2f} s = {check / decode:.1f}x")


if __name__ == "__main__":
    main()
