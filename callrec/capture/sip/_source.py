"""The SIP/RTP tap as a capture source: ``SipSource(settings).start(emit)`` on a mirrored
interface, or ``SipSource(settings, pcap_file=path).run(emit)`` to replay a capture as fast as it
reads, on the packets' own clock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from callrec.capture._events import CallEvent, TapGap
from callrec.capture.sip._capture import Capture, CaptureLost, interface_present, open_file, open_live
from callrec.capture.sip._errors import BadSipSettings
from callrec.capture.sip._numbers import normalise_number
from callrec.capture.sip._settings import DIRECTIONS, SipSourceSettings
from callrec.capture.sip._tap import TICK_S, Tap

__all__ = ["SipSource"]

log = logging.getLogger(__name__)

#: How often kernel drop counters and the interface's presence are read.
_HEALTH_EVERY_S = 1.0
#: How often a lost interface is looked for again.
_REOPEN_EVERY_S = 1.0


class SipSource:
    def __init__(self, settings: SipSourceSettings, *, pcap_file: Path | None = None) -> None:
        _check(settings, live=pcap_file is None)
        self.settings = settings
        self.pcap_file = Path(pcap_file) if pcap_file is not None else None
        self.name = f"sip:{self.pcap_file.name}" if self.pcap_file else f"sip:{settings.interface}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._capture: Capture | None = None
        self._tap: Tap | None = None
        self.error: BaseException | None = None

    # -- public -----------------------------------------------------------------------------

    def start(self, emit: Callable[[CallEvent], None]) -> None:
        """Open the interface (or file) now, so a bad name fails here, then feed ``emit`` from
        a thread of its own until :meth:`stop` (or the file's end)."""
        self._capture = open_file(self.pcap_file) if self.pcap_file else open_live(self.settings)
        self._thread = threading.Thread(target=self._guarded, args=(emit,), name=self.name, daemon=True)
        self._thread.start()

    def run(self, emit: Callable[[CallEvent], None]) -> None:
        """Feed ``emit`` on this thread: a file to its end as fast as it reads, live until :meth:`stop`."""
        self._capture = open_file(self.pcap_file) if self.pcap_file else open_live(self.settings)
        self._loop(emit)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread :meth:`start` began; True once it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def now(self) -> float:
        """The source's clock (UNIX seconds): wall time live, the packets' own time replaying."""
        if self.pcap_file is None:
            return time.time()
        return self._tap.now if self._tap is not None else 0.0

    def stats(self) -> dict[str, int]:
        """Counters only (packets, SIP messages, calls recorded and ignored): never a number."""
        tap = self._tap
        if tap is None:
            return {}
        return {**tap.counts, "calls_recorded": tap.tracker.recorded, "calls_ignored": tap.tracker.ignored,
                "calls_active": tap.tracker.active}

    # -- loop -------------------------------------------------------------------------------

    def _guarded(self, emit: Callable[[CallEvent], None]) -> None:
        try:
            self._loop(emit)
        except BaseException as exc:  # reported to the supervisor through .error, never lost
            self.error = exc
            log.error("SIP tap %s stopped: %s", self.name, type(exc).__name__)
            raise

    def _loop(self, emit: Callable[[CallEvent], None]) -> None:
        capture = self._capture
        assert capture is not None
        tap = self._tap = Tap(self.settings, emit, capture.linktype)
        if self.pcap_file:
            last = _replay(capture, tap, self._stopping)
            tap.close(last)
            capture.close()
            return
        tap.begin(time.time())
        self._live(tap, emit)

    def _live(self, tap: Tap, emit: Callable[[CallEvent], None]) -> None:
        while not self._stopping.is_set():
            try:
                self._read_live(tap, emit)
            except CaptureLost:
                lost = time.time()
                log.warning("SIP tap %s: interface lost", self.name)
                emit(TapGap("device_lost", lost, None))
                back = self._reopen(tap)
                emit(TapGap("device_lost", lost, time.time()))
                if not back:
                    break
        tap.close(time.time())
        if self._capture is not None:
            self._capture.close()

    def _read_live(self, tap: Tap, emit: Callable[[CallEvent], None]) -> None:
        capture = self._capture
        assert capture is not None
        dropped = capture.dropped()
        checked = time.time()
        next_tick = checked + TICK_S
        for batch in capture.batches():
            for ts, buf, off, caplen in batch:
                tap.packet(ts, buf, off, caplen)
            now = time.time()
            # wall time moves the calls' clock only when nothing is waiting: after a stall the
            # kernel hands its queue over block by block, and those packets are not late; while
            # packets flow, their own timestamps tick the clock inside tap.packet()
            if not batch and now >= next_tick:
                tap.tick(now)
                next_tick = now + TICK_S
            if now - checked >= _HEALTH_EVERY_S:
                if not interface_present(self.settings.interface):
                    raise CaptureLost("interface gone")
                total = capture.dropped()
                if total > dropped:
                    emit(TapGap("overflow", checked, now))
                dropped, checked = total, now
            if self._stopping.is_set():
                return

    def _reopen(self, tap: Tap) -> bool:
        if self._capture is not None:
            self._capture.close()
            self._capture = None
        while not self._stopping.wait(_REOPEN_EVERY_S):
            tap.tick(time.time())
            if not interface_present(self.settings.interface):
                continue
            try:
                self._capture = open_live(self.settings)
            except Exception:  # the interface is back but not yet usable: try again
                continue
            log.info("SIP tap %s: interface back", self.name)
            return True
        return False


def _replay(capture: Capture, tap: Tap, stopping: threading.Event) -> float:
    last = 0.0
    for batch in capture.batches():
        if not batch:
            break
        for ts, buf, off, caplen in batch:
            tap.packet(ts, buf, off, caplen)
            last = ts
        if stopping.is_set():
            break
    tap.tick(last)
    return last


def _check(settings: SipSourceSettings, live: bool) -> None:
    if normalise_number(settings.number, settings.country_code, settings.international_prefix) is None:
        raise BadSipSettings("number is missing or not a phone number: give the line's number as digits (with an optional leading +, dashes or spaces)")
    if not settings.country_code.isdigit():
        raise BadSipSettings("country_code must be digits without '+', e.g. \"81\"")
    if not settings.directions or any(d not in DIRECTIONS for d in settings.directions):
        raise BadSipSettings("directions must name \"in\", \"out\" or both")
    if live and not settings.interface:
        raise BadSipSettings("interface is missing: name the mirrored network interface (see 'ip link')")
    for name in ("rtp_timeout_s", "hold_timeout_s", "ring_timeout_s", "tap_idle_s"):
        value = getattr(settings, name)
        if not isinstance(value, int | float) or value <= 0:
            raise BadSipSettings(f"{name} must be a positive number of seconds")
    if not settings.sip_ports or any(not isinstance(p, int) or not 0 < p < 65535 for p in settings.sip_ports):
        raise BadSipSettings("sip_ports must list UDP/TCP port numbers, e.g. [5060]")
    if not isinstance(settings.buffer_bytes, int) or settings.buffer_bytes < 65536:
        raise BadSipSettings("buffer_bytes must be at least 65536 (the kernel's capture buffer)")
