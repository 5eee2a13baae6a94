"""Per-frame features of the line feed, computed for a whole block of frames at once.

The feed is cut into 25 ms analysis frames (200 samples at 8 kHz, 400 at 16 kHz: the classic
DTMF block length, 40 Hz resolution). Each frame is Hann-windowed and transformed (one batched
FFT per block); only the telephone band, 300–3400 Hz, is looked at: that drops mains hum (50 or
60 Hz and its strong low harmonics) and rumble before anything is decided. Per frame:

- the power in four sub-bands of the telephone band (for per-band noise floors), and the band's
  total per channel;
- the power at the 400 Hz busy tone and the eight DTMF tones: a single-bin DFT (Goertzel) at each
  exact frequency, evaluated for the whole block as one matrix product, as a share of the band's
  power (1.0 for a pure tone), so tone detection does not depend on the level;
- the largest sample per channel, and whether the frame is digital silence.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["FRAME_S", "BAND_HZ", "SUB_BANDS_HZ", "DTMF_LOW", "DTMF_HIGH", "DTMF_KEYS", "BUSY_HZ", "Features",
           "FrameAnalyzer", "dbfs"]

FRAME_S = 0.025
BUSY_HZ = 400.0
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
#: The telephone band: what a PBX passes of a voice, and above the mains hum's strong harmonics.
BAND_HZ = (300.0, 3400.0)
#: Sub-bands with a noise floor each: a hum harmonic or coloured hiss raises one band's floor, not
#: the others', and low-frequency speech energy stands out in its own band.
SUB_BANDS_HZ = ((300.0, 700.0), (700.0, 1300.0), (1300.0, 2200.0), (2200.0, 3400.0))
_FREQS = (BUSY_HZ, *DTMF_LOW, *DTMF_HIGH)
_FLOOR_DB = -120.0
#: Frames analysed per batch: a long replayed block is cut so that the matrix products stay
#: below the size at which OpenBLAS starts threads (their spinning made it three times slower).
_BATCH_FRAMES = 128


def dbfs(power: np.ndarray) -> np.ndarray:
    """Power (mean square of samples scaled to ±1) → dB full scale (digital silence → -120)."""
    with np.errstate(divide="ignore"):
        return np.maximum(10.0 * np.log10(power), _FLOOR_DB)


@dataclass(frozen=True)
class Features:
    """Features of k frames; powers are mean squares of samples scaled to ±1 (dBFS via :func:`dbfs`)."""

    #: Power per sub-band of the channel mix, (k, 4).
    bands: np.ndarray
    #: Power in the telephone band per channel, (k, channels).
    channel_band: np.ndarray
    #: Share of the mix's band power at each frequency, (k, 9): 400 Hz, 4 low and 4 high DTMF tones.
    tone_share: np.ndarray
    #: Largest absolute sample per frame and channel, (k, channels).
    peak: np.ndarray
    #: The mix is digital silence or a constant for a quarter of the frame or more, at either end
    #: (no information about the line's noise: a flatline, or the line coming back from one).
    flat: np.ndarray


class FrameAnalyzer:
    def __init__(self, sample_rate: int) -> None:
        self.frame_len = n = round(sample_rate * FRAME_S)
        self._window = np.hanning(n + 2)[1:-1].astype(np.float32)
        freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
        in_band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
        # Parseval for a windowed one-sided spectrum: mean square = 2 Σ|X|² / (n Σw²) (DC aside).
        self._scale = 2.0 / (n * float(np.sum(self._window ** 2)))
        self._band = in_band
        self._sub = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in SUB_BANDS_HZ], axis=1).astype(np.float32)
        self._sub = self._sub[in_band]
        phase = 2.0 * np.pi * np.outer(np.arange(n), _FREQS) / sample_rate
        basis = np.hstack([np.cos(phase), np.sin(phase)]) * self._window[:, None]
        self._basis = basis.astype(np.float32)
        # Calibrate the shares on a pure busy tone: its single-bin power is then 1.0 of the band's.
        self._tone_scale = 1.0
        tone = np.sin(2.0 * np.pi * BUSY_HZ * np.arange(n) / sample_rate) * 16384.0
        self._tone_scale = 1.0 / float(self.analyze(tone.astype(np.int16)[None, :, None]).tone_share[0, 0])

    def analyze(self, frames: np.ndarray) -> Features:
        """``frames``: int16 of shape (k, frame_len, channels)."""
        if len(frames) <= _BATCH_FRAMES:
            return self._analyze(frames)
        parts = [self._analyze(frames[i:i + _BATCH_FRAMES]) for i in range(0, len(frames), _BATCH_FRAMES)]
        return Features(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Features)))

    def _analyze(self, frames: np.ndarray) -> Features:
        x = frames.astype(np.float32) * (1.0 / 32768.0)
        mix = x.mean(axis=2) if x.shape[2] > 1 else x[:, :, 0]
        spectrum = np.fft.rfft(mix * self._window, axis=1)[:, self._band]
        power = (spectrum.real ** 2 + spectrum.imag ** 2) * self._scale
        band = power.sum(axis=1)
        if x.shape[2] == 1:
            channel_band = band[:, None]
        else:
            per = np.fft.rfft(x * self._window[None, :, None], axis=1)[:, self._band, :]
            channel_band = (per.real ** 2 + per.imag ** 2).sum(axis=1) * self._scale
        proj = mix @ self._basis
        k = len(_FREQS)
        tone = proj[:, :k] ** 2 + proj[:, k:] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(band[:, None] > 0, tone * self._tone_scale / band[:, None], 0.0)
        q = self.frame_len // 4
        head, tail = mix[:, :q], mix[:, -q:]
        flat = (head.max(axis=1) == head.min(axis=1)) | (tail.max(axis=1) == tail.min(axis=1))
        return Features(bands=power @ self._sub, channel_band=channel_band, tone_share=share,
                        peak=np.abs(frames.astype(np.int32)).max(axis=1), flat=flat)
