"""Source kind ``sip``: the passive SIP/RTP tap of a mirrored port (``callrec.capture.sip``), or
a packet capture replayed through it, into the event-driven writer (:class:`CallsPipeline`)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pcapy

from callrec.capture._calls_pipeline import CallsPipeline
from callrec.capture._events import CallEvent
from callrec.capture.sip import BadPacketCapture, SipSource, SipSourceSettings
from callrec.config import Config, LineConfig
from callrec.vault import Vault

__all__ = ["LineTap", "capture_span", "open_pipeline", "open_source", "sip_settings"]

#: Packets' times read per libpcap call when a capture file's span is measured.
_SPAN_BATCH = 4096


def sip_settings(line: LineConfig) -> SipSourceSettings:
    """The tap's settings from the line: its number, and every key of the line the tap knows, by name."""
    known = {f.name for f in dataclasses.fields(SipSourceSettings)}
    values = {"number": line.number, **dataclasses.asdict(line.sip)}
    return SipSourceSettings(**{k: v for k, v in values.items() if k in known})


def capture_span(path: Path) -> tuple[float, float] | None:
    """The first and last packet times of a capture file (None when it holds no packet): the span
    a replay covers in the line's ledger, known before the replay writes anything."""
    try:
        handle = pcapy.open_offline(str(path))
    except pcapy.PcapError as exc:
        raise BadPacketCapture(path, str(exc).splitlines()[0] if str(exc) else "unreadable") from None
    span: tuple[float, float] | None = None
    try:
        while True:
            _, meta = handle.next_batch(_SPAN_BATCH)
            if not meta:
                return span
            rows = np.frombuffer(meta, dtype=np.uint32).reshape(-1, 4)
            times = rows[:, 0] + rows[:, 1] / 1e6
            lo, hi = float(times.min()), float(times.max())
            span = (lo, hi) if span is None else (min(span[0], lo), max(span[1], hi))
    except pcapy.PcapError as exc:
        raise BadPacketCapture(path, str(exc).splitlines()[0] if str(exc) else "truncated") from None
    finally:
        handle.close()


class LineTap:
    """The tap as the writer sees a signalling source: its name, whether it can be read again
    (a pcap file), its clock (wall time live; in a file, the newest packet's time, from the
    file's first packet on) and whether a file has been read to its end. ``span``: a file's first
    and last packet times."""

    def __init__(self, tap: SipSource, replay: Path | None, span: tuple[float, float] | None = None) -> None:
        self.tap = tap
        self.name = f"pcap:{replay.name}" if replay is not None else tap.name
        self.rereadable = replay is not None
        self.span = span
        self._clock = span[0] if span else 0.0
        self._started = threading.Event()

    @property
    def error(self) -> BaseException | None:
        return self.tap.error

    def now(self) -> float:
        return self._clock if self.rereadable and self._clock else time.time()

    def start(self, emit: Callable[[CallEvent], None]) -> None:
        def timed(event: CallEvent) -> None:
            ts = getattr(event, "ts", None) or getattr(event, "start", None)
            if ts is not None and ts > self._clock:
                self._clock = ts
            emit(event)

        self.tap.start(timed)
        self._started.set()

    def stop(self) -> None:
        self.tap.stop()

    def finished(self) -> bool:
        """A file read to its end (live: never)."""
        return self.rereadable and self._started.is_set() and self.tap.join(0)


def open_source(line: LineConfig, *, replay: Path | None = None) -> LineTap:
    span = capture_span(replay) if replay is not None else None
    return LineTap(SipSource(sip_settings(line), pcap_file=replay), replay, span)


def open_pipeline(config: Config, vault: Vault, line: LineConfig, source: LineTap,
                  on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> CallsPipeline:
    return CallsPipeline(config, vault, source, line, on_sealed, guest_ok=guest_ok)
