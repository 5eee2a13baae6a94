"""G.711 decoding through 256-entry tables (``audioop`` left the standard library in 3.13).

The tables follow ITU-T G.711's reference expansion (µ-law to ±32124, A-law to ±32256).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ULAW", "ALAW", "decode"]


def _ulaw(byte: int) -> int:
    u = ~byte & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = ((((u & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return -magnitude if u & 0x80 else magnitude


def _alaw(byte: int) -> int:
    a = byte ^ 0x55
    segment = (a & 0x70) >> 4
    magnitude = (a & 0x0F) << 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if a & 0x80 else -magnitude


ULAW = np.array([_ulaw(b) for b in range(256)], dtype=np.int16)
ALAW = np.array([_alaw(b) for b in range(256)], dtype=np.int16)


def decode(payload: bytes, table: np.ndarray) -> np.ndarray:
    """int16 samples of one G.711 payload (one byte per sample)."""
    return table[np.frombuffer(payload, dtype=np.uint8)]
