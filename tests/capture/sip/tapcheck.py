"""Helpers the SIP tap's tests share: run a source, group its events per call, compare audio."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from callrec.capture import CallAudio, CallEnd, CallStart, TapFinding, TapGap


@dataclass
class Seen:
    start: CallStart
    chunks: list[CallAudio] = field(default_factory=list)
    end: CallEnd | None = None

    @property
    def audio(self) -> np.ndarray:
        if not self.chunks:
            return np.zeros((0, 2), np.int16)
        return np.concatenate([c.frames for c in self.chunks])


@dataclass
class Outcome:
    calls: list[Seen]
    gaps: list[TapGap]
    findings: list[TapFinding]


def group(events: list) -> Outcome:
    """Calls in order of their CallStart; also checks the per-call event order and audio continuity."""
    calls: dict[str, Seen] = {}
    gaps, findings = [], []
    for event in events:
        if isinstance(event, CallStart):
            assert event.key not in calls, "a key was started twice"
            calls[event.key] = Seen(event)
        elif isinstance(event, CallAudio):
            seen = calls[event.key]
            assert seen.end is None, "audio after the call's end"
            expected_ts = seen.start.ts + sum(len(c.frames) for c in seen.chunks) / 8000
            assert abs(event.ts - expected_ts) < 1e-6, "audio chunks are not contiguous"
            assert event.frames.dtype == np.int16 and event.frames.shape[1] == 2
            seen.chunks.append(event)
        elif isinstance(event, CallEnd):
            assert calls[event.key].end is None, "a call ended twice"
            calls[event.key].end = event
        elif isinstance(event, TapGap):
            gaps.append(event)
        elif isinstance(event, TapFinding):
            findings.append(event)
    for seen in calls.values():
        assert seen.end is not None, "a call never ended"
    return Outcome(list(calls.values()), gaps, findings)


def find_offset(channel: np.ndarray, sent: np.ndarray, packet: int = 0) -> int:
    """Where ``sent`` begins inside ``channel``, found by its ``packet``-th 160 samples, or -1."""
    block = sent[packet * 160 : (packet + 1) * 160]
    for pos in range(0, max(0, len(channel) - len(block)) + 1):
        if np.array_equal(channel[pos : pos + 160], block):
            return pos - packet * 160
    return -1


def assert_carries(channel: np.ndarray, sent: np.ndarray, tolerance_samples: int = 0) -> int:
    """``channel`` holds ``sent`` sample for sample, after some leading silence; returns the offset."""
    pos = find_offset(channel, sent)
    assert pos >= 0, "the sent audio's first packet is not in the channel"
    got = channel[pos : pos + len(sent)]
    assert len(got) >= len(sent) - tolerance_samples, f"channel ends early: {len(got)} of {len(sent)} samples"
    n = min(len(got), len(sent))
    mismatch = np.flatnonzero(got[:n] != sent[:n])
    assert mismatch.size == 0, f"{mismatch.size} samples differ, first at {mismatch[:5]}"
    return pos
