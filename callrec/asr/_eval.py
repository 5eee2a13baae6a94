"""Measuring a model on the office's own recordings: ``callrec asr eval DIR``.

DIR holds audio files (WAV or FLAC, any rate, mono or stereo mixed down) with the reference text
beside each one (``x.wav`` + ``x.txt``, UTF-8). Each file is decoded with the model exactly as the
worker decodes a call (resampled to the model's rate), and compared with its reference:

- CER, character error rate: edit distance over reference length after :func:`normalise_for_cer`
  (NFKC, so full- and half-width forms are equal; spaces and punctuation removed). An error rate
  above 1 (more wrong characters than the reference has) is shown as 1.
- WER, word error rate, for languages written with spaces: over NFKC, lower-cased words without
  punctuation.
- RTF, real-time factor: decoding time over audio duration (below 1 is faster than real time).

The totals pool the edits of all files. Nothing here touches the vault: it runs on an admin's
own files, in the admin's own process.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

from callrec.asr._engine import Engine
from callrec.asr._errors import EvalFileUnreadable, EvalSetEmpty
from callrec.asr._japanese import edit_distance, normalise_for_cer
from callrec.asr._lines import UNSPACED_LANGUAGES, join_words
from callrec.asr._models import ModelInfo
from callrec.progress import progress

__all__ = ["EvalFile", "EvalResult", "evaluate", "reference_words"]

AUDIO_SUFFIXES = (".wav", ".flac")


@dataclass(frozen=True)
class EvalFile:
    name: str
    duration_s: float
    decode_s: float
    ref_chars: int
    char_errors: int
    #: None for a language written without spaces.
    ref_words: int | None
    word_errors: int | None

    @property
    def cer(self) -> float:
        return _rate(self.char_errors, self.ref_chars)

    @property
    def wer(self) -> float | None:
        return None if self.ref_words is None else _rate(self.word_errors or 0, self.ref_words)

    @property
    def rtf(self) -> float:
        return self.decode_s / self.duration_s if self.duration_s else 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "cer": round(self.cer, 4), "wer": None if self.wer is None else round(self.wer, 4),
                "rtf": round(self.rtf, 4)}


@dataclass(frozen=True)
class EvalResult:
    model: str
    model_sha256: str
    language: str
    files: list[EvalFile]

    @property
    def total(self) -> EvalFile:
        spaced = self.files[0].ref_words is not None
        return EvalFile(
            "total",
            sum(f.duration_s for f in self.files),
            sum(f.decode_s for f in self.files),
            sum(f.ref_chars for f in self.files),
            sum(f.char_errors for f in self.files),
            sum(f.ref_words or 0 for f in self.files) if spaced else None,
            sum(f.word_errors or 0 for f in self.files) if spaced else None,
        )

    def to_json(self) -> dict:
        return {"model": self.model, "model_sha256": self.model_sha256, "language": self.language,
                "files": [f.to_json() for f in self.files], "total": self.total.to_json()}


def _rate(errors: int, length: int) -> float:
    if not length:
        return 0.0 if not errors else 1.0
    return min(1.0, errors / length)


def reference_words(text: str) -> list[str]:
    """Words of a spaced language for WER: NFKC, lower case, punctuation removed."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(c if unicodedata.category(c)[0] not in "PC" else " " for c in text)
    return kept.split()


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    try:
        data, rate = soundfile.read(path, dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise EvalFileUnreadable(path, type(exc).__name__) from None
    mono = data.mean(axis=1).astype(np.int16) if data.shape[1] > 1 else data[:, 0]
    return mono.reshape(-1, 1), rate


def _read_reference(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileUnreadable(path, type(exc).__name__) from None


def _pairs(directory: Path) -> list[tuple[Path, str]]:
    """(audio file, reference text) for every audio file with a text beside it; every file is
    checked before the model is loaded, so a bad set fails at once."""
    pairs = []
    for audio in sorted(directory.iterdir()):
        text = audio.with_suffix(".txt")
        if audio.suffix.lower() not in AUDIO_SUFFIXES or not text.is_file():
            continue
        try:
            soundfile.info(audio)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise EvalFileUnreadable(audio, type(exc).__name__) from None
        pairs.append((audio, _read_reference(text)))
    if not pairs:
        raise EvalSetEmpty(directory)
    return pairs


def evaluate(directory: Path, info: ModelInfo, language: str) -> EvalResult:
    """Decode every audio file in ``directory`` that has a reference text and score it."""
    pairs = _pairs(directory)
    engine = Engine(info)
    spaced = language not in UNSPACED_LANGUAGES
    files = []
    for audio_path, reference in progress(pairs, desc="asr eval", unit="file"):
        audio, rate = _read_mono(audio_path)
        started = time.perf_counter()
        (words,) = engine.transcribe([audio], rate, 1)
        decode_s = time.perf_counter() - started
        hypothesis = join_words(words, language)
        ref_n, hyp_n = normalise_for_cer(reference), normalise_for_cer(hypothesis)
        ref_w, hyp_w = reference_words(reference), reference_words(hypothesis)
        files.append(EvalFile(
            audio_path.name, len(audio) / rate, decode_s, len(ref_n), edit_distance(ref_n, hyp_n),
            len(ref_w) if spaced else None, edit_distance(ref_w, hyp_w) if spaced else None,
        ))
    return EvalResult(info.name, info.sha256, language, files)
