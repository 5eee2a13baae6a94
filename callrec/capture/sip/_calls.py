"""Call tracking: which SIP dialogs are the line's calls, where their RTP flows, and when they end.

A call is created by an initial INVITE (no To tag) that names the line's number: in the
Request-URI, To, Diversion or History-Info for an incoming call, in From or P-Asserted-Identity
for an outgoing one. Every other INVITE only bumps a counter; nothing of it is kept. The SDP in
any message of the dialog tells where its sender receives RTP, so packets *to* that address are
the other side's voice: channel 0 is the caller, channel 1 the callee. A re-INVITE or UPDATE
moves or holds the media; RTP arriving from an address the SDP did not name (NAT) is learned.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import numpy as np

from callrec.capture._events import CallAudio, CallEnd, CallEvent, CallStart, TapFinding
from callrec.capture.sip._channel import RATE, Channel, parse_rtp
from callrec.capture.sip._frames import Datagram
from callrec.capture.sip._numbers import normalise_number, uri_number
from callrec.capture.sip._sdp import STATIC_CODECS, AudioMedia, parse_sdp
from callrec.capture.sip._settings import SipSourceSettings
from callrec.capture.sip._sipmsg import SipMessage, header_tag, header_uri, split_values

__all__ = ["CallTracker", "FLUSH_S", "REORDER_S"]

#: Audio is handed on at least this often per call (the consumer commits within 1 s).
FLUSH_S = 0.5
#: RTP is held this long for packets arriving out of order before the timeline is cut.
REORDER_S = 0.2
#: A retransmitted initial INVITE of an ended call within this long is not a new call (Timer B).
_RETRANSMIT_S = 64.0
#: A direction whose latest audio came within this long of the other's is still sending.
_SENDING_S = 0.5
#: Responses that ask the caller to retry the same INVITE with credentials.
_AUTH_CHALLENGES = (401, 407)


class _Call:
    def __init__(self, key: str, call_id: str, tag: str, cseq: int, ts: float, direction: str,
                 local: str, remote: str | None) -> None:
        self.key = key
        self.call_id = call_id
        self.caller_tag = tag
        self.cseq = cseq
        self.offered = ts
        self.direction = direction
        self.local = local
        self.remote = remote
        self.answered: float | None = None
        self.channels: list[Channel] = []
        self.sdp: dict[int, AudioMedia] = {}
        self.codecs: dict[int, str] = dict(STATIC_CODECS)
        self.last_activity = ts
        self.last_flush = ts
        self.emitted = 0
        self.flags: set[str] = set()
        #: RFC 4733 digits of both directions, in the order they arrived.
        self.digits: list[str] = []

    @property
    def holding(self) -> bool:
        return any(media.holding for media in self.sdp.values())

    def sender_side(self, msg: SipMessage) -> int:
        """0 when the caller sent ``msg``, 1 when the callee did."""
        from_caller = header_tag(msg.header("from")) == self.caller_tag
        if msg.method:
            return 0 if from_caller else 1
        return 1 if from_caller else 0


class CallTracker:
    def __init__(self, settings: SipSourceSettings, emit: Callable[[CallEvent], None]) -> None:
        self._settings = settings
        self._emit = emit
        self._number = normalise_number(settings.number, settings.country_code, settings.international_prefix)
        self._calls: dict[str, _Call] = {}
        self._media: dict[tuple[bytes, int], tuple[_Call, int]] = {}
        self._media_ports: dict[int, tuple[_Call, int]] = {}
        self._ended: dict[tuple[str, str, int], float] = {}
        self._serial = itertools.count(1)
        #: Calls seen for other numbers (or directions not recorded): a count, nothing else.
        self.ignored = 0
        self.recorded = 0

    @property
    def active(self) -> int:
        return len(self._calls)

    # -- SIP --------------------------------------------------------------------------------

    def sip(self, ts: float, msg: SipMessage) -> None:
        call_id = msg.header("call-id")
        if not call_id:
            return
        call = self._calls.get(call_id)
        if msg.method == "INVITE" and not header_tag(msg.header("to")):
            if call is None:
                self._offer(ts, msg, call_id)
            return
        if call is None:
            return
        call.last_activity = max(call.last_activity, ts)
        self._learn_sdp(ts, call, msg)
        if msg.method:
            self._request(ts, call, msg)
        else:
            self._response(ts, call, msg)

    def classify(self, msg: SipMessage) -> tuple[str, str | None] | None:
        """(direction, the other party's number) when ``msg`` concerns the line, else ``None``."""
        if self._number is None:
            return None
        incoming = [msg.uri, header_uri(msg.header("to"))]
        incoming += [header_uri(v) for v in split_values(msg.all("diversion") + msg.all("history-info"))]
        if self._names_line(incoming):
            return "in", self._party([header_uri(msg.header("p-asserted-identity")), header_uri(msg.header("from"))])
        outgoing = [header_uri(msg.header("from"))]
        outgoing += [header_uri(v) for v in split_values(msg.all("p-asserted-identity"))]
        if self._names_line(outgoing):
            return "out", self._party([msg.uri, header_uri(msg.header("to"))])
        return None

    def _names_line(self, uris: list[str | None]) -> bool:
        return any(self._normal(uri_number(uri)) == self._number for uri in uris if uri)

    def _party(self, uris: list[str | None]) -> str | None:
        """The first of ``uris`` that holds a number (a withheld ``anonymous`` From gives ``None``)."""
        for uri in uris:
            number = self._normal(uri_number(uri))
            if number:
                return number
        return None

    def _normal(self, raw: str | None) -> str | None:
        return normalise_number(raw, self._settings.country_code, self._settings.international_prefix)

    def _offer(self, ts: float, msg: SipMessage, call_id: str) -> None:
        tag = header_tag(msg.header("from"))
        cseq = msg.cseq[0]
        if (call_id, tag, cseq) in self._ended:
            return
        seen = self.classify(msg)
        if seen is None or seen[0] not in self._settings.directions:
            self.ignored += 1
            return
        digest = hashlib.sha256(f"{call_id}\0{tag}".encode()).hexdigest()[:12]
        call = _Call(f"sip-{digest}-{next(self._serial)}", call_id, tag, cseq, ts, seen[0], self._number or "", seen[1])
        self._calls[call_id] = call
        self.recorded += 1
        self._learn_sdp(ts, call, msg)

    def _request(self, ts: float, call: _Call, msg: SipMessage) -> None:
        if msg.method == "BYE":
            self._end(call, ts, "bye")
        elif msg.method == "CANCEL" and call.answered is None:
            self._end(call, ts, "cancel")

    def _response(self, ts: float, call: _Call, msg: SipMessage) -> None:
        cseq, method = msg.cseq
        if method != "INVITE" or call.answered is not None or msg.status is None:
            return
        if 200 <= msg.status < 300:
            self._answer(ts, call)
        elif msg.status >= 300 and msg.status not in _AUTH_CHALLENGES:
            self._end(call, ts, "rejected")

    def _answer(self, ts: float, call: _Call) -> None:
        call.answered = ts
        call.last_activity = ts
        call.last_flush = ts
        call.channels = [Channel(ts, call.digits), Channel(ts, call.digits)]
        self._emit(CallStart(call.key, ts, call.direction, call.remote, call.local, RATE, 2))

    def _learn_sdp(self, ts: float, call: _Call, msg: SipMessage) -> None:
        body = msg.sdp()
        media = parse_sdp(body) if body else None
        if media is None:
            return
        side = call.sender_side(msg)
        call.sdp[side] = media
        call.codecs.update(media.codecs)
        entry = (call, 1 - side)
        self._media[(media.addr, media.port)] = entry
        self._media_ports[media.port] = entry
        call.last_activity = max(call.last_activity, ts)
        if media.secure and "srtp" not in call.flags:
            call.flags.add("srtp")
            self._emit(TapFinding("sip_srtp", "critical", ts, "a call on the line is encrypted (SRTP, RTP/SAVP): a passive tap cannot record its audio"))

    # -- RTP --------------------------------------------------------------------------------

    def rtp(self, ts: float, dg: Datagram) -> bool:
        """Place one UDP datagram if it is media of a tracked call; False when it is not."""
        entry = self._media.get((dg.dst, dg.dport)) or self._behind_nat(dg)
        if entry is None:
            return False
        call, channel = entry
        call.last_activity = ts
        back = (dg.src, dg.sport)
        if back not in self._media:
            self._media[back] = (call, 1 - channel)
        if not call.channels:
            return True
        rtp = parse_rtp(dg.payload)
        if rtp is not None:
            call.channels[channel].feed(ts, rtp, call.codecs.get(rtp[0], ""))
        return True

    def _behind_nat(self, dg: Datagram) -> tuple[_Call, int] | None:
        """RTP to an SDP's port on another address (the receiver is behind NAT) is the call's
        when it comes from exactly where the sender's own SDP said it receives (symmetric RTP);
        a port number alone could be another call's."""
        entry = self._media_ports.get(dg.dport)
        if entry is None:
            return None
        call, channel = entry
        sender = call.sdp.get(channel)
        if sender is None or (dg.src, dg.sport) != (sender.addr, sender.port) or parse_rtp(dg.payload) is None:
            return None
        self._media[(dg.dst, dg.dport)] = entry
        return entry

    # -- time -------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        for call in list(self._calls.values()):
            if call.answered is None:
                if now - call.last_activity > self._settings.ring_timeout_s:
                    self._end(call, call.last_activity, "signalling_timeout")
                continue
            timeout = self._settings.hold_timeout_s if call.holding else self._settings.rtp_timeout_s
            if now - call.last_activity > timeout:
                self._end(call, call.last_activity, "rtp_timeout", pad=False)
            elif now - call.last_flush >= FLUSH_S:
                self._flush(call, int((now - call.answered - REORDER_S) * RATE))
                call.last_flush = now
        for key, ended in list(self._ended.items()):
            if now - ended > _RETRANSMIT_S:
                del self._ended[key]

    def close(self, now: float) -> None:
        """End every call still open (the source stops)."""
        for call in list(self._calls.values()):
            self._end(call, now, "source_stopped")

    def _flush(self, call: _Call, stop: int, final: bool = False) -> None:
        stop = max(stop, max(ch.end for ch in call.channels)) if final else min(stop, _heard(call.channels))
        if stop <= call.emitted:
            return
        out = np.zeros((stop - call.emitted, 2), dtype=np.int16)
        for index, channel in enumerate(call.channels):
            channel.take(call.emitted, stop, out[:, index])
        self._emit(CallAudio(call.key, call.answered + call.emitted / RATE, out))
        call.emitted = stop

    def _end(self, call: _Call, ts: float, reason: str, pad: bool = True) -> None:
        if call.answered is None:
            self._emit(CallStart(call.key, call.offered, call.direction, call.remote, call.local, RATE, 2))
        else:
            self._flush(call, int((ts - call.answered) * RATE) if pad else 0, final=True)
        flags, loss_share, digits = _summary(call)
        self._emit(CallEnd(call.key, ts, reason, flags, loss_share, digits))
        for key in [k for k, (c, _) in self._media.items() if c is call]:
            del self._media[key]
        for port in [p for p, (c, _) in self._media_ports.items() if c is call]:
            del self._media_ports[port]
        del self._calls[call.call_id]
        self._ended[(call.call_id, call.caller_tag, call.cseq)] = ts


def _heard(channels: list[Channel]) -> int:
    """How far the call's audio may be cut while it goes on: up to where every direction that is
    sending has arrived. A direction silent for a while (one-way audio, hold) does not hold the
    other back; one merely a packet behind (after a silence or a stall of the tap) is waited for,
    else its next packet would be partly late."""
    latest = max(ch.last_arrival for ch in channels)
    return min(ch.end for ch in channels if ch.last_arrival >= latest - _SENDING_S)


def _summary(call: _Call) -> tuple[tuple[str, ...], float, str]:
    flags = set(call.flags)
    expected = lost = 0
    for channel in call.channels:
        e, lo = channel.loss()
        expected += e
        lost += lo
        if channel.unsupported:
            flags.add("codec_unsupported")
    if call.channels:
        silent = [channel.packets == 0 for channel in call.channels]
        if all(silent):
            flags.add("no_media")
        elif any(silent):
            flags.add("one_way_audio")
    share = lost / expected if expected else 0.0
    if lost:
        flags.add("packet_loss")
    return tuple(sorted(flags)), round(share, 4), "".join(call.digits)
