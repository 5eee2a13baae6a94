"""Source kind ``sip``: the passive SIP/RTP tap of a mirrored port (``callrec.capture.sip``), or
a packet capture replayed through it, into the event-driven writer (:class:`CallsPipeline`)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

from callrec.capture._calls_pipeline import CallsPipeline
from callrec.capture._events import CallEvent
from callrec.capture.sip import SipSource, SipSourceSettings
from callrec.config import Config, LineConfig
from callrec.vault import Vault

__all__ = ["LineTap", "open_pipeline", "open_source", "sip_settings"]


def sip_settings(line: LineConfig) -> SipSourceSettings:
    """The tap's settings from the line: its number, and every key of the line the tap knows, by name."""
    known = {f.name for f in dataclasses.fields(SipSourceSettings)}
    values = {"number": line.number, **dataclasses.asdict(line.sip)}
    return SipSourceSettings(**{k: v for k, v in values.items() if k in known})


class LineTap:
    """The tap as the writer sees a signalling source: its name, whether it can be read again
    (a pcap file), its clock (wall time live; the newest packet's time in a file) and whether a
    file has been read to its end."""

    def __init__(self, tap: SipSource, replay: Path | None) -> None:
        self.tap = tap
        self.name = f"pcap:{replay.name}" if replay is not None else tap.name
        self.rereadable = replay is not None
        self._clock = 0.0
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
    return LineTap(SipSource(sip_settings(line), pcap_file=replay), replay)


def open_pipeline(config: Config, vault: Vault, line: LineConfig, source: LineTap,
                  on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> CallsPipeline:
    return CallsPipeline(config, vault, source, line, on_sealed, guest_ok=guest_ok)
