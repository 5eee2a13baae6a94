"""Packets in, call events out: the decoding and health bookkeeping shared by live capture and
pcap replay. Everything is driven by the caller's clock (``ts``/``now``), so a replayed file
runs on its packets' own timestamps."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

from callrec.capture._events import CallEvent, TapFinding, TapGap
from callrec.capture.sip._calls import CallTracker
from callrec.capture.sip._frames import TCP, UDP, Datagram, FrameDecoder
from callrec.capture.sip._settings import SipSourceSettings
from callrec.capture.sip._sipmsg import looks_like_sip, parse_sip

__all__ = ["Tap", "TICK_S"]

log = logging.getLogger(__name__)

#: How often timeouts and audio flushes are looked at, in the clock's seconds.
TICK_S = 0.1
#: One finding of a kind per this long, not one per packet.
_FINDING_EVERY_S = 3600.0


class Tap:
    def __init__(self, settings: SipSourceSettings, emit: Callable[[CallEvent], None], linktype: int) -> None:
        self._settings = settings
        self._emit = emit
        self._decoder = FrameDecoder(linktype)
        self.tracker = CallTracker(settings, emit)
        self._sip_ports = frozenset(settings.sip_ports)
        self._tls_ports = frozenset(p + 1 for p in settings.sip_ports)
        self._findings: dict[str, float] = {}
        self._last_packet: float | None = None
        self._silent_since: float | None = None
        self._next_tick = 0.0
        #: The clock: the latest packet's or tick's time (wall time live, the capture's own replaying).
        self.now = 0.0
        self.counts = {"packets": 0, "sip": 0, "rtp": 0, "other": 0, "malformed": 0}

    def begin(self, now: float) -> None:
        """Live capture starts: silence is counted from here even before the first packet."""
        self._last_packet = now

    def packet(self, ts: float, buf: bytes, off: int, caplen: int) -> None:
        if ts >= self._next_tick:
            self.tick(ts)
        self.counts["packets"] += 1
        self._last_packet = self.now = ts
        if self._silent_since is not None:
            self._emit(TapGap("tap_silent", self._silent_since, ts))
            self._silent_since = None
        try:
            dg = self._decoder.decode(buf, off, caplen, ts)
            if dg is None:
                self.counts["other"] += 1
            elif dg.proto == UDP:
                self._udp(ts, dg)
            elif dg.proto == TCP:
                self._tcp(ts, dg)
        except (ValueError, IndexError, KeyError, struct.error) as exc:
            # one malformed packet on a mirror must not end the capture of every call on it
            self.counts["malformed"] += 1
            if self.counts["malformed"] == 1:
                log.warning("SIP tap: a malformed packet was skipped (%s); more are only counted", type(exc).__name__)

    def _udp(self, ts: float, dg: Datagram) -> None:
        if self.tracker.rtp(ts, dg):
            self.counts["rtp"] += 1
            return
        payload = dg.payload
        if (dg.dport in self._sip_ports or dg.sport in self._sip_ports) or looks_like_sip(payload):
            msg = parse_sip(payload)
            if msg is not None:
                self.counts["sip"] += 1
                self.tracker.sip(ts, msg)
                return
        self.counts["other"] += 1

    def _tcp(self, ts: float, dg: Datagram) -> None:
        if not dg.payload:
            return
        ports = (dg.sport, dg.dport)
        if any(p in self._tls_ports for p in ports):
            self._finding(ts, "sip_tls", "SIP over TLS crosses the mirror: calls signalled in it cannot be tapped passively")
        elif any(p in self._sip_ports for p in ports) and looks_like_sip(dg.payload):
            msg = parse_sip(dg.payload)
            if msg is not None and self.tracker.classify(msg) is not None:
                self._finding(ts, "sip_tcp", "the line's calls are signalled over TCP: a passive tap cannot follow them, they are not recorded")

    def _finding(self, ts: float, check: str, message: str) -> None:
        last = self._findings.get(check)
        if last is None or ts - last >= _FINDING_EVERY_S:
            self._findings[check] = ts
            self._emit(TapFinding(check, "critical", ts, message))

    def tick(self, now: float) -> None:
        self._next_tick = now + TICK_S
        self.now = max(self.now, now)
        self.tracker.tick(now)
        last = self._last_packet
        if last is not None and self._silent_since is None and now - last > self._settings.tap_idle_s:
            self._silent_since = last
            self._emit(TapGap("tap_silent", last, None))

    def close(self, now: float) -> None:
        self.tracker.close(now)
        if self._silent_since is not None:
            self._emit(TapGap("tap_silent", self._silent_since, now))
            self._silent_since = None
