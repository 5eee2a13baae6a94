"""The writer of a signalling line: call events in, several concurrent calls sealed, a ledger kept.

A signalling source (the SIP/RTP tap, a pcap replayed) knows its calls: it emits, per call, one
:class:`CallStart`, its :class:`CallAudio` and one :class:`CallEnd` (see ``_events.py``), and the
tap's own health as :class:`TapGap` and :class:`TapFinding`. There is no segmenter: this writer
records every call of the line at once, each under its own id, and

- commits every call's audio within ``FLUSH_S`` of its arrival (DESIGN.md invariant 1), or, for a
  re-readable source (a pcap replayed as fast as it reads), per ``REPLAY_COMMIT_BYTES`` and seal;
- seals each call on its ``CallEnd`` with the end reason and the source's flags; a call whose
  RFC 4733 digits hold the configured test pattern is a test call (kind ``test``);
- keeps the line's ledger: its capture session and heartbeats, the tap's gaps, and audio it had
  to drop because the writer fell behind as ``overflow`` (the source never waits: DESIGN.md
  invariant 2);
- stores the tap's findings (no number in them: digits runs are masked again here);
- on start seals as ``interrupted`` the calls of this line a crash left recording, and on stop
  seals the calls in progress (end ``source_stopped``).

The source calls :meth:`CallsPipeline.emit` from its own thread; nothing there waits for the vault.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from callrec.capture._events import CallAudio, CallEnd, CallEvent, CallStart, TapFinding, TapGap
from callrec.capture._pipeline import FLUSH_S, REPLAY_COMMIT_BYTES, CaptureBusy, _capture_lock, _lock_path
from callrec.capture._writer import WriterThread
from callrec.config import Config, LineConfig
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder
from callrec.vault.ops import add_gap, add_tap_finding, close_gap, close_session, heartbeat, open_gap, open_session
from callrec.vault.people import CallNumbers

__all__ = ["CallsPipeline", "SignallingSource"]

log = logging.getLogger(__name__)

_POLL_S = 0.2
#: The queue's bound counts frames at the telephone rate.
_RATE = 8000
#: A number-like run of digits (with separators) in a tap's message is masked before storing.
_DIGITS = re.compile(r"\+?\d[\d\s().-]{4,}\d")


class SignallingSource(Protocol):
    """What a signalling source offers the writer (the SIP tap live or over a pcap file)."""

    #: Names the capture session (e.g. ``sip:eth1`` or ``pcap:FILE``); never holds a number.
    name: str
    #: A file replayed as fast as it reads: commits may be batched (a crashed replay is re-run).
    rereadable: bool

    def now(self) -> float:
        """The source's clock: wall time live, the last packet's time when reading a file."""

    def start(self, emit: Callable[[CallEvent], None]) -> None: ...

    def stop(self) -> None: ...

    # Optional: ``finished() -> bool``, a file read to its end (the writer then seals and stops);
    # ``error``, what stopped the source (raised by :meth:`CallsPipeline.join`).


@dataclass
class _Open:
    """A call in progress: the recorder's id, and what the seal needs."""

    call_id: int
    started_ts: float
    rate: int
    frames: int = 0


def _mask(message: str) -> str:
    return _DIGITS.sub("[number]", message)


class CallsPipeline(WriterThread):
    def __init__(self, config: Config, vault: Vault, source: SignallingSource, line: LineConfig,
                 on_sealed: Callable[[int], None] | None = None, *, guest_ok: bool = False) -> None:
        self.config = config
        self.vault = vault
        self.source = source
        self.line = line
        self.thread_name = f"capture-{line.name}"
        self.guest_ok = guest_ok
        self.on_sealed = on_sealed or (lambda call_id: None)
        self.recorder = CallRecorder(vault)
        self.sealed: list[int] = []
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.last_progress = time.monotonic()
        self.last_event_ts: float | None = None
        #: Seconds from an audio event reaching :meth:`emit` to the commit that made it durable.
        self.commit_latencies: deque[float] = deque(maxlen=100_000)
        self.calls_in: int = 0
        self._open: dict[str, _Open] = {}
        self._gaps: dict[str, int] = {}
        self._events: deque[tuple[float, CallEvent]] = deque()
        self._audio_frames = 0
        #: Calls between their start and end as the source emitted them (bounds the queue).
        self._emitted_open = 0
        self._dropped: tuple[float, float] | None = None
        self._draining = False
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: int | None = None
        self._lock_file = None
        #: (received, taken) of the oldest uncommitted audio: the commit is due once the writer has
        #: held it ``FLUSH_S`` (a backlog is then committed in big batches, not an event at a time);
        #: the latency reported counts from when the source handed it over.
        self._oldest_unflushed: tuple[float, float] | None = None
        self._unflushed_bytes = 0
        self._last_heartbeat = 0.0

    # -- the source's side: never waits ------------------------------------------------------

    def emit(self, event: CallEvent) -> None:
        """Hand an event over (any thread). Audio beyond ``[capture] queue_s`` per call in progress
        waiting is dropped and becomes an ``overflow`` gap; call and tap events are always kept."""
        with self._wake:
            if isinstance(event, CallAudio):
                n = len(event.frames)
                if self._audio_frames + n > self.line.capture.queue_s * _RATE * max(1, self._emitted_open):
                    start = self._dropped[0] if self._dropped else event.ts
                    self._dropped = (start, event.ts + n / _RATE)
                    return
                self._audio_frames += n
            elif isinstance(event, CallStart):
                self._emitted_open += 1
            elif isinstance(event, CallEnd):
                self._emitted_open = max(0, self._emitted_open - 1)
            self._events.append((time.monotonic(), event))
            self._wake.notify()

    def _take(self) -> tuple[float, CallEvent] | None:
        with self._wake:
            if not self._events and not self._draining:
                self._wake.wait(_POLL_S)
            if not self._events:
                return None
            received, event = self._events.popleft()
            if isinstance(event, CallAudio):
                self._audio_frames -= len(event.frames)
            return received, event

    def _take_dropped(self) -> tuple[float, float] | None:
        with self._wake:
            dropped, self._dropped = self._dropped, None
            return dropped

    # -- running ---------------------------------------------------------------------------

    def stop(self) -> None:
        super().stop()
        with self._wake:
            self._wake.notify()

    def line_state(self) -> dict:
        """For the status file: times and counts only, never a number."""
        state = ("tap_silent" if "tap_silent" in self._gaps else "device_lost" if "device_lost" in self._gaps
                 else "capturing" if self.started.is_set() else "starting")
        with self._wake:
            depth = len(self._events)
        return {"line": self.line.name, "source": self.source.name, "device_state": state,
                "last_frame": self.last_event_ts, "input_dbfs": None, "queue_depth": depth, "queue_capacity": 0,
                "calls_in_progress": len(self._open)}

    def _begin(self) -> None:
        self._lock_file = _capture_lock(self.config, self.line.name)
        if self._lock_file is None and not self.guest_ok:
            raise CaptureBusy(_lock_path(self.config, self.line.name))
        guest = self._lock_file is None
        if not guest:
            for call_id in self.recorder.recover_interrupted(self.line.name):
                log.warning("line %s: call %d was left unfinished by a crash: sealed as interrupted",
                            self.line.name, call_id)
                self._sealed(call_id)
        self._session = open_session(self.vault, self.source.name, self.source.now(), guest=guest,
                                     line=self.line.name)
        self._last_heartbeat = time.monotonic()

    def run(self) -> None:
        """The writer loop, in the calling thread, until the source ends or :meth:`stop`."""
        self._begin()
        finished = getattr(self.source, "finished", lambda: False)
        try:
            self.source.start(self.emit)  # a source that cannot start still closes the session it began
            self.started.set()
            while not self._stop.is_set():
                done = finished()  # before the take: a source that has finished emitted everything already
                item = self._take()
                self.last_progress = time.monotonic()
                if item is None and done:
                    break
                if item is not None:
                    self._handle(*item)
                self._after_event()
        finally:
            self.source.stop()
            while (item := self._take_nowait()) is not None:
                self._handle(*item)
            self._finish()
        failed = getattr(self.source, "error", None)
        if failed is not None:
            raise failed

    def _take_nowait(self) -> tuple[float, CallEvent] | None:
        with self._wake:
            self._draining = True
        return self._take()

    def _after_event(self) -> None:
        dropped = self._take_dropped()
        if dropped is not None:
            log.warning("line %s: capture queue overflow: %.1f s of call audio dropped", self.line.name,
                        dropped[1] - dropped[0])
            add_gap(self.vault, dropped[0], dropped[1], "overflow", line=self.line.name)
        self._maybe_flush()
        self._maybe_heartbeat()

    def _finish(self) -> None:
        now = self.source.now()
        for key in list(self._open):
            self._seal(key, CallEnd(key, now, "source_stopped"))
        for gap_id in self._gaps.values():
            close_gap(self.vault, gap_id, now)
        self._gaps.clear()
        if self._session is not None:
            close_session(self.vault, self._session, now, "stopped")
        if self._lock_file is not None:
            self._lock_file.close()

    # -- events ----------------------------------------------------------------------------

    def _handle(self, received: float, event: CallEvent) -> None:
        self.last_event_ts = getattr(event, "ts", None) or self.last_event_ts
        if isinstance(event, CallAudio):
            self._audio(received, event)
        elif isinstance(event, CallStart):
            self._start(event)
        elif isinstance(event, CallEnd):
            self._end(event)
        elif isinstance(event, TapGap):
            self._gap(event)
        elif isinstance(event, TapFinding):
            add_tap_finding(self.vault, self.line.name, event.ts, event.check, event.severity, _mask(event.message))

    def _start(self, event: CallStart) -> None:
        if event.key in self._open:  # a source that reuses a key before ending the call: end the old one
            self._seal(event.key, CallEnd(event.key, event.ts, "source_stopped", ("key_reused",)))
        numbers = CallNumbers(event.direction, event.remote_number, event.local_number)
        call_id = self.recorder.start_call(event.ts, event.sample_rate, event.channels, deferred=self.source.rereadable,
                                           line=self.line.name, numbers=numbers)
        self._open[event.key] = _Open(call_id, event.ts, event.sample_rate)
        self.calls_in += 1
        if not self.source.rereadable:
            log.info("line %s: call %d started (%s)", self.line.name, call_id, event.direction)

    def _audio(self, received: float, event: CallAudio) -> None:
        call = self._open.get(event.key)
        if call is None:
            return  # audio of a call this writer never saw start (e.g. after a source restart)
        self.recorder.append(call.call_id, event.frames)
        call.frames += len(event.frames)
        self._unflushed_bytes += event.frames.nbytes
        if self._oldest_unflushed is None:
            self._oldest_unflushed = (received, time.monotonic())

    def _end(self, event: CallEnd) -> None:
        if event.key in self._open:
            self._seal(event.key, event)

    def _kind(self, event: CallEnd) -> str:
        return "test" if self.line.capture.test_dtmf in event.dtmf else "call"

    def _flags(self, call: _Open, event: CallEnd) -> list[str]:
        flags = set(event.flags)
        if call.frames / call.rate < self.line.capture.short_call_s:
            flags.add("short")
        if not call.frames:
            flags.add("silent")
        return sorted(flags)

    def _seal(self, key: str, event: CallEnd) -> None:
        call = self._open.pop(key)
        levels = {"end": event.reason, "loss_share": round(event.loss_share, 4)}
        self.recorder.seal(call.call_id, max(event.ts, call.started_ts), kind=self._kind(event),
                           flags=self._flags(call, event), levels=levels)
        call_id = self.recorder.stored_id(call.call_id)
        log.info("line %s: call %d sealed (ended by %s)", self.line.name, call_id, event.reason)
        if not self._open:
            self._oldest_unflushed, self._unflushed_bytes = None, 0
        self._sealed(call_id)

    def _gap(self, event: TapGap) -> None:
        if event.end is None:
            if event.cause not in self._gaps:
                log.error("line %s: tap lost the line (%s)", self.line.name, event.cause)
                self._gaps[event.cause] = open_gap(self.vault, event.start, event.cause, line=self.line.name)
        elif event.cause in self._gaps:
            log.warning("line %s: tap back (%s over)", self.line.name, event.cause)
            close_gap(self.vault, self._gaps.pop(event.cause), event.end)
        else:
            add_gap(self.vault, event.start, event.end, event.cause, line=self.line.name)

    def _sealed(self, call_id: int) -> None:
        self.sealed.append(call_id)
        self.on_sealed(call_id)

    # -- durability --------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        if self._oldest_unflushed is None:
            return
        if self.source.rereadable:
            due = self._unflushed_bytes >= REPLAY_COMMIT_BYTES
        else:
            due = time.monotonic() - self._oldest_unflushed[1] >= FLUSH_S
        if due:
            self.recorder.flush()
            self.commit_latencies.append(time.monotonic() - self._oldest_unflushed[0])
            self._oldest_unflushed, self._unflushed_bytes = None, 0

    def _maybe_heartbeat(self) -> None:
        if self._session is not None and time.monotonic() - self._last_heartbeat >= self.line.capture.heartbeat_s:
            heartbeat(self.vault, self._session, self.source.now())
            self._last_heartbeat = time.monotonic()

