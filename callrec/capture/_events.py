"""What a signalling source (the SIP/RTP tap, a pcap replay) emits per line: call events and audio.

A continuous-audio source (sound card, WAV/FLAC replay) hands blocks of the line's audio to the
segmenter, which finds the calls. A signalling source knows its calls from the signalling and
emits them itself, in this order for any one call: one :class:`CallStart`, any number of
:class:`CallAudio`, one :class:`CallEnd`. Calls of one line may overlap; ``key`` tells them apart.
The tap's own health arrives as :class:`TapGap` and :class:`TapFinding`.

Numbers travel only inside these events and into the vault; they are never logged or put in an
exception (DESIGN.md invariant 9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CallAudio", "CallEnd", "CallEvent", "CallStart", "TapFinding", "TapGap"]


@dataclass(frozen=True)
class CallStart:
    #: The source's own name for this call (unique while the call lasts); never shown to anyone.
    key: str
    #: When the call was answered (or, unanswered, when it was offered), epoch seconds.
    ts: float
    #: ``"in"`` (the line's number was called) or ``"out"`` (the line called out).
    direction: str
    #: The other party's number, normalised (E.164 ``+81…``); ``None`` when withheld or unknown.
    remote_number: str | None
    #: The line's own number as the signalling named it, normalised.
    local_number: str
    sample_rate: int = 8000
    #: Channel 0 is the caller, channel 1 the callee.
    channels: int = 2


@dataclass(frozen=True)
class CallAudio:
    key: str
    #: Time of the first frame, epoch seconds.
    ts: float
    #: int16 samples, shape (n, channels); lost packets are already silence here.
    frames: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class CallEnd:
    key: str
    ts: float
    #: Why it ended: ``"bye"``, ``"cancel"``, ``"rejected"`` (a final error response),
    #: ``"rtp_timeout"``, ``"signalling_timeout"`` (offered, never answered nor refused),
    #: ``"source_stopped"``.
    reason: str
    #: Call flags the source saw, e.g. ``"packet_loss"``, ``"one_way_audio"``, ``"no_media"``,
    #: ``"codec_unsupported"`` (kept, silent), ``"srtp"`` (encrypted media: kept, silent).
    flags: tuple[str, ...] = ()
    #: Share of expected RTP packets that never arrived (0..1), over both directions.
    loss_share: float = 0.0
    #: RFC 4733 digits seen in the call, in order (the DTMF test call is recognised from them).
    dtmf: str = ""


@dataclass(frozen=True)
class TapGap:
    """The tap itself lost the line: ``"tap_silent"``, ``"overflow"`` (kernel drops) or
    ``"device_lost"``; ``end`` is ``None`` while it lasts."""

    cause: str
    start: float
    end: float | None = None


@dataclass(frozen=True)
class TapFinding:
    """Something the tap saw but cannot record (SIP over TCP/TLS or SRTP for the line's number);
    ``check`` names it, and the message carries no number."""

    check: str
    severity: str
    ts: float
    message: str


CallEvent = CallStart | CallAudio | CallEnd | TapGap | TapFinding
