"""PCM ↔ rows: the hash of a call's audio and its lossless FLAC encoding.

PCM is little-endian int16, interleaved by channel. The seal hash is SHA-256 over exactly
those bytes, so it can be recomputed from the FLAC at any time (FLAC is lossless).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and libsndfile load with the first audio handled, not for a listing
    import numpy as np

__all__ = ["MAX_ROW_BYTES", "to_pcm_bytes", "from_pcm_bytes", "encode_flac", "decode_flac", "split_rows", "pcm_sha256"]

#: Upper bound of one audio row (chunks while recording, sealed FLAC after).
MAX_ROW_BYTES = 256 * 1024
_DECODE_FRAMES = 65536


def to_pcm_bytes(frames: np.ndarray) -> bytes:
    import numpy as np

    return np.ascontiguousarray(frames, dtype="<i2").tobytes()


def from_pcm_bytes(data: bytes, channels: int) -> np.ndarray:
    import numpy as np

    return np.frombuffer(data, dtype="<i2").reshape(-1, channels)


def split_rows(data: bytes, limit: int = MAX_ROW_BYTES) -> Iterator[bytes]:
    for start in range(0, len(data), limit):
        yield data[start:start + limit]


def encode_flac(blocks: Iterable[np.ndarray], sample_rate: int, channels: int) -> tuple[bytes, str, int]:
    """Encode int16 blocks to FLAC; returns (flac bytes, SHA-256 of the PCM, frames)."""
    import soundfile

    sha = hashlib.sha256()
    out = io.BytesIO()
    frames = 0
    with soundfile.SoundFile(out, "w", samplerate=sample_rate, channels=channels, format="FLAC", subtype="PCM_16") as f:
        for block in blocks:
            sha.update(to_pcm_bytes(block))
            f.write(block)
            frames += len(block)
    return out.getvalue(), sha.hexdigest(), frames


def decode_flac(data: bytes) -> Iterator[np.ndarray]:
    """int16 blocks of shape (n, channels) from a FLAC stream."""
    import soundfile

    with soundfile.SoundFile(io.BytesIO(data)) as f:
        while True:
            block = f.read(_DECODE_FRAMES, dtype="int16", always_2d=True)
            if not len(block):
                return
            yield block


def pcm_sha256(blocks: Iterable[np.ndarray]) -> str:
    sha = hashlib.sha256()
    for block in blocks:
        sha.update(to_pcm_bytes(block))
    return sha.hexdigest()
