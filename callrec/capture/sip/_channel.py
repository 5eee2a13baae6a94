"""One direction of a call's audio: RTP packets placed on the call's timeline by RTP timestamp.

Packets are held raw until flushed, then decoded in one table lookup per chunk, so the per-packet
cost is a header unpack and a list append. Duplicates (a mirror port copying both directions, or
the same packet seen on two VLANs) are dropped by (SSRC, sequence number); gaps in the sequence
are counted as loss and come out as silence. Comfort noise and RFC 4733 events are kept out of
the audio; the events' digits are collected. G.711 is decoded with our own tables, G.722 with
libg722 (the PyPI ``G722`` package: ITU bit-exact, maintained).
"""

from __future__ import annotations

import struct

import G722
import numpy as np

from callrec.capture.sip._g711 import ALAW, ULAW

__all__ = ["Channel", "RATE", "parse_rtp"]

RATE = 8000
_rtp = struct.Struct("!BBHII").unpack_from
_event = struct.Struct("!BBH").unpack_from
#: An RTP timestamp further than this from where the packet's arrival puts it starts a new
#: anchor (new SSRC, a sender that restarted its clock, media resumed after hold).
_REANCHOR_SAMPLES = RATE
_DTMF_DIGITS = "0123456789*#ABCD"
_TABLES = {"pcmu": ULAW, "pcma": ALAW}
#: G.722 at 64 kbit/s decoded straight to 8 kHz: one sample per byte, like G.711, so a wideband
#: call lands on the same 8 kHz timeline (its RTP clock is 8 kHz too, RFC 3551 §4.5.2).
_G722_BITRATE = 64000
_DECODED = (*_TABLES, "g722")
#: Sequence numbers remembered per stream for duplicate detection.
_SEEN_WINDOW = 512


def parse_rtp(payload: bytes) -> tuple[int, int, int, int, bool, bytes] | None:
    """(payload type, sequence, timestamp, SSRC, marker, media bytes) of an RTP v2 packet, else ``None``."""
    if len(payload) < 12:
        return None
    first, second, seq, ts, ssrc = _rtp(payload, 0)
    if first >> 6 != 2:
        return None
    at = 12 + (first & 0x0F) * 4
    if first & 0x10:
        if len(payload) < at + 4:
            return None
        at += 4 + 4 * struct.unpack_from("!H", payload, at + 2)[0]
    end = len(payload) - (payload[-1] if first & 0x20 else 0)
    if at > end:
        return None
    return second & 0x7F, seq, ts, ssrc, bool(second & 0x80), payload[at:end]


class _Stream:
    """Sequence bookkeeping for one SSRC."""

    __slots__ = ("first", "highest", "received", "seen", "anchor_pos", "anchor_ts")

    def __init__(self, seq: int, anchor_pos: int, anchor_ts: int) -> None:
        self.first = seq
        self.highest = seq
        self.received = 0
        self.seen: set[int] = set()
        self.anchor_pos = anchor_pos
        self.anchor_ts = anchor_ts

    def extend(self, seq: int) -> int:
        delta = (seq - self.highest) & 0xFFFF
        ext = self.highest + delta if delta < 0x8000 else self.highest - (0x10000 - delta)
        if ext > self.highest:
            self.highest = ext
        return ext

    def remember(self, ext: int) -> bool:
        """False when this sequence number was already seen (a duplicate)."""
        if ext in self.seen:
            return False
        self.seen.add(ext)
        if len(self.seen) > 2 * _SEEN_WINDOW:
            floor = self.highest - _SEEN_WINDOW
            self.seen = {s for s in self.seen if s > floor}
        self.received += 1
        return True

    @property
    def expected(self) -> int:
        return self.highest - self.first + 1


class Channel:
    """Audio of one direction from ``origin`` (epoch seconds) on, in samples at 8 kHz."""

    def __init__(self, origin: float, digits: list[str]) -> None:
        self.origin = origin
        self.streams: dict[int, _Stream] = {}
        self.chunks: list[tuple[int, str, bytes]] = []
        self.packets = 0
        self.late = 0
        #: Sample position just past the latest audio placed, and when that audio arrived.
        self.end = 0
        self.last_arrival = float("-inf")
        #: Shared by both channels of a call, so the digits keep their order of arrival.
        self.digits = digits
        self._events: set[tuple[int, int]] = set()
        self.unsupported = False
        self._g722: G722.G722 | None = None

    def feed(self, arrival: float, rtp: tuple, codec: str) -> None:
        pt, seq, ts, ssrc, _marker, media = rtp
        arrival_pos = int((arrival - self.origin) * RATE)
        stream = self.streams.get(ssrc)
        if stream is None:
            stream = self.streams[ssrc] = _Stream(seq, arrival_pos, ts)
        if not stream.remember(stream.extend(seq)):
            return
        self.packets += 1
        if codec == "telephone-event":
            self._event(ssrc, ts, media)
            return
        pos = stream.anchor_pos + _signed32(ts - stream.anchor_ts)
        if abs(pos - arrival_pos) > _REANCHOR_SAMPLES:
            stream.anchor_pos, stream.anchor_ts, pos = arrival_pos, ts, arrival_pos
        if codec in _DECODED:
            self.chunks.append((pos, codec, media))
            self.end = max(self.end, pos + len(media))
            self.last_arrival = arrival
        elif codec not in ("cn", ""):
            # kept as silence, which still has to flow on to the consumer as the call goes on
            self.unsupported = True
            self.end = max(self.end, pos)
            self.last_arrival = arrival

    def _event(self, ssrc: int, ts: int, media: bytes) -> None:
        if len(media) < 4 or (ssrc, ts) in self._events:
            return
        self._events.add((ssrc, ts))
        event = media[0]
        if event < len(_DTMF_DIGITS):
            self.digits.append(_DTMF_DIGITS[event])

    def take(self, start: int, stop: int, out: np.ndarray) -> None:
        """Write the audio of samples [start, stop) into ``out`` (zeros where nothing arrived);
        chunks before ``stop`` are consumed, late ones (before ``start``) counted and dropped."""
        keep, due = [], []
        for chunk in self.chunks:
            pos, codec, media = chunk
            if pos >= stop:
                keep.append(chunk)
            elif pos + len(media) <= start:
                self.late += 1
            elif pos + len(media) > stop:  # split: the tail waits (G.722's decoder must see each byte once)
                due.append((pos, codec, media[: stop - pos]))
                keep.append((stop, codec, media[stop - pos :]))
            else:
                due.append(chunk)
        self.chunks = keep
        for codec in {c for _, c, _ in due}:
            chunks = sorted((d for d in due if d[1] == codec), key=lambda d: d[0])
            _write(chunks, self._decode(codec, b"".join(media for _, _, media in chunks)), start, stop, out)

    def _decode(self, codec: str, joined: bytes) -> np.ndarray:
        """G.711 in one table lookup; G.722 through one ADPCM decoder per channel, fed in order."""
        if codec != "g722":
            return _TABLES[codec][np.frombuffer(joined, dtype=np.uint8)]
        if self._g722 is None:
            self._g722 = G722.G722(RATE, _G722_BITRATE)
        return np.frombuffer(self._g722.decode(joined), dtype=np.int16)

    def loss(self) -> tuple[int, int]:
        """(expected packets, lost packets) over every SSRC; late packets count as lost."""
        expected = sum(s.expected for s in self.streams.values())
        received = sum(s.received for s in self.streams.values())
        return expected, max(0, expected - received) + self.late


def _write(due: list, samples: np.ndarray, start: int, stop: int, out: np.ndarray) -> None:
    """Place each due chunk's decoded samples (``samples`` holds them back to back, in order)."""
    at = 0
    for pos, _, media in due:
        lo, hi = max(pos, start), min(pos + len(media), stop)
        out[lo - start : hi - start] = samples[at + lo - pos : at + hi - pos]
        at += len(media)


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value
