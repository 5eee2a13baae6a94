"""The Vosk engine: one model per process, one recogniser per call and channel.

A Vosk model is thread-safe and large (hundreds of MB), so it is loaded once per process and
shared; a recogniser is not thread-safe, so each call and channel gets its own. Call audio is
resampled to the model's rate with soxr before decoding: the Japanese small model has no
``allow-upsample`` and fails on 8 kHz audio fed straight in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from importlib.metadata import version

import numpy as np
import soxr
import vosk

from callrec.asr._errors import ModelLoadFailed
from callrec.asr._models import ModelInfo, check_sizes

__all__ = ["Engine", "ENGINE_NAME", "load_model"]

ENGINE_NAME = f"vosk {version('vosk')}"
#: Frames handed to a recogniser at a time (at the model's rate): small pieces let Vosk find
#: utterance ends as it would on a live stream.
_PIECE = 4000

vosk.SetLogLevel(-1)

_lock = threading.Lock()
_loaded: dict[tuple[str, str], vosk.Model] = {}


def load_model(info: ModelInfo) -> vosk.Model:
    """The shared Vosk model for ``info``, loaded on first use."""
    key = (str(info.path), info.sha256)
    with _lock:
        model = _loaded.get(key)
        if model is None:
            check_sizes(info)
            try:
                model = vosk.Model(model_path=str(info.path))
            except Exception:
                raise ModelLoadFailed(info.name, info.path.parent) from None
            _loaded[key] = model
    return model


def _words(result_json: str) -> list[dict]:
    return [
        {"word": w["word"], "start": w["start"], "end": w["end"], "conf": w["conf"]}
        for w in json.loads(result_json).get("result", [])
    ]


class Engine:
    """Decodes call audio with one installed model."""

    def __init__(self, info: ModelInfo) -> None:
        self.info = info
        self.model = load_model(info)
        self.sample_rate = info.sample_rate

    def recognizer(self) -> vosk.KaldiRecognizer:
        rec = vosk.KaldiRecognizer(self.model, float(self.sample_rate))
        rec.SetWords(True)
        return rec

    def transcribe(self, blocks: Iterable[np.ndarray], rate: int, channels: int) -> list[list[dict]]:
        """Words (``word``, ``start``, ``end``, ``conf``; seconds from the start of the call) per
        channel, from int16 blocks of shape (n, channels) at ``rate``."""
        recognizers = [self.recognizer() for _ in range(channels)]
        words: list[list[dict]] = [[] for _ in range(channels)]
        resampler = (
            soxr.ResampleStream(rate, self.sample_rate, channels, dtype="int16", quality="HQ")
            if rate != self.sample_rate else None
        )
        for block in blocks:
            block = np.asarray(block, dtype=np.int16).reshape(-1, channels)
            if resampler is not None:
                block = resampler.resample_chunk(block)
            _feed(recognizers, block, words)
        if resampler is not None:
            _feed(recognizers, resampler.resample_chunk(np.zeros((0, channels), np.int16), last=True), words)
        for channel, rec in enumerate(recognizers):
            words[channel].extend(_words(rec.FinalResult()))
        return words


def _feed(recognizers: list[vosk.KaldiRecognizer], block: np.ndarray, words: list[list[dict]]) -> None:
    block = block.reshape(-1, len(recognizers))
    for start in range(0, len(block), _PIECE):
        piece = block[start:start + _PIECE]
        for channel, rec in enumerate(recognizers):
            if rec.AcceptWaveform(np.ascontiguousarray(piece[:, channel]).tobytes()):
                words[channel].extend(_words(rec.Result()))
