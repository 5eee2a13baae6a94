#!/usr/bin/env python3
"""Write a small Korean reference set for ``callrec asr eval``: espeak-ng speech and its source text.

    python3 tools/make_eval_set.py OUT_DIR [--rate 16000] [--snr-db 10]

Each sentence becomes ``ko_N.wav`` (mono 16-bit at ``--rate``) and ``ko_N.txt`` (the text that
was spoken). With ``--snr-db`` white noise is added at that signal-to-noise ratio, to stand in for
a noisy telephone line. The tests use it to check that ``asr eval`` ranks clean wideband audio
above noisy 8 kHz audio; the closing numbers of issue 12 come from it. espeak-ng is the only
offline Korean voice here (tools/install.sh --test installs it): it is robotic, so the error rates
are high in absolute terms and only comparisons between runs mean anything.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import soxr

SENTENCES = (
    "안녕하세요. 오늘은 날씨가 좋습니다.",
    "병원에 가야 합니다. 열이 나고 기침을 합니다.",
    "전화번호를 알려 주세요. 감사합니다.",
    "어제부터 열이 나고 기침이 멈추지 않습니다.",
)
ESPEAK_ARGS = ("-v", "ko", "-s", "170")
#: Fixed seed: the same set every time.
_SEED = 12


def speak(text: str) -> tuple[np.ndarray, int]:
    """espeak-ng's Korean voice as float samples in [-1, 1] at its own rate."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", *ESPEAK_ARGS, "-w", str(wav), text], check=True)
        data, rate = soundfile.read(wav, dtype="float32")
    return data, rate


def degrade(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the speech's own power (measured where it is not silent)."""
    voiced = audio[np.abs(audio) > 0.01 * np.abs(audio).max()]
    power = float(np.mean(voiced ** 2))
    noise = rng.standard_normal(len(audio)) * np.sqrt(power / 10 ** (snr_db / 10))
    return audio + noise


def make_set(out: Path, rate: int = 16000, snr_db: float | None = None) -> list[Path]:
    """Write the set into ``out``; returns the audio files."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(_SEED)
    written = []
    for n, text in enumerate(SENTENCES, 1):
        audio, own_rate = speak(text)
        audio = soxr.resample(audio, own_rate, rate)
        pad = np.zeros(rate // 2, np.float32)
        audio = np.concatenate([pad, audio, pad])
        if snr_db is not None:
            audio = degrade(audio, snr_db, rng)
        audio = audio / max(1.0, float(np.abs(audio).max()) / 0.9)
        path = out / f"ko_{n}.wav"
        soundfile.write(path, (audio * 32767).astype(np.int16), rate, subtype="PCM_16")
        path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--snr-db", type=float, help="add white noise at this signal-to-noise ratio")
    args = parser.parse_args()
    for path in make_set(args.out, args.rate, args.snr_db):
        print(path)


if __name__ == "__main__":
    main()
