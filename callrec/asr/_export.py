"""Transcript export formats for a case export: plain text, JSON with words, WebVTT.

Lines are utterances: a channel's words split where the speaker pauses, with both channels of a
stereo call interleaved by time and labelled with their roles (``config.capture.channel_roles``).
A mono call has no speaker labels. Times are seconds from the start of the call; the call's
start is shown in the configured time zone.

Each function takes ``(transcripts, call, config)``: the newest transcript of each channel, the
call's row as a mapping (``id``, ``started_ts`` …) and the configuration (roles, time zone).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callrec.asr._japanese import display_text
from callrec.config import Config
from callrec.timefmt import format_ts
from callrec.vault._transcripts import Transcript

__all__ = ["Utterance", "utterances", "to_text", "to_json", "to_webvtt", "DEFAULT_ROLES"]

DEFAULT_ROLES = ("caller", "staff")
#: A pause longer than this (seconds) between two words starts a new utterance.
PAUSE_S = 0.8


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    channel: int
    speaker: str | None
    text: str


def _call_field(call: Any, name: str, default: Any = None) -> Any:
    """``call`` may be a mapping (a row as a dict) or an object with attributes."""
    if isinstance(call, Mapping):
        return call.get(name, default)
    return getattr(call, name, default)


def _speaker(transcripts: Sequence[Transcript], channel: int, roles: Sequence[str]) -> str | None:
    if len(transcripts) < 2:
        return None
    return roles[channel] if channel < len(roles) else f"channel {channel + 1}"


def utterances(transcripts: Sequence[Transcript], roles: Sequence[str] = DEFAULT_ROLES) -> list[Utterance]:
    out: list[Utterance] = []
    for t in transcripts:
        speaker = _speaker(transcripts, t.channel, roles)
        group: list[dict] = []
        for word in t.words + [None]:
            if group and (word is None or word["start"] - group[-1]["end"] > PAUSE_S):
                text = display_text(group)
                if text:
                    out.append(Utterance(group[0]["start"], group[-1]["end"], t.channel, speaker, text))
                group = []
            if word is not None:
                group.append(word)
    return sorted(out, key=lambda u: (u.start, u.channel))


def _clock(seconds: float, sep: str = ".") -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _roles(config: Config | None) -> Sequence[str]:
    return DEFAULT_ROLES if config is None else config.capture.channel_roles


def _started(call: Any, config: Config | None) -> str:
    ts = _call_field(call, "started_ts")
    if ts is None:
        return str(_call_field(call, "started_at", ""))
    zone = dt.UTC if config is None else config.zone
    return format_ts(ts, zone, "seconds")


def _header(transcripts: Sequence[Transcript]) -> str:
    if not transcripts:
        return "no transcript"
    t = transcripts[0]
    return f"transcript version {t.version}, {t.engine}, model {t.model_name} ({t.model_sha256[:12]})"


def to_text(transcripts: Sequence[Transcript], call: Any, config: Config | None = None) -> str:
    """Plain text: a header, then ``[HH:MM:SS.mmm] speaker: text`` per utterance."""
    lines = [f"call {_call_field(call, 'id')} started {_started(call, config)}", _header(transcripts), ""]
    for u in utterances(transcripts, _roles(config)):
        label = f"{u.speaker}: " if u.speaker else ""
        lines.append(f"[{_clock(u.start)}] {label}{u.text}")
    return "\n".join(lines) + "\n"


def to_json(transcripts: Sequence[Transcript], call: Any, config: Config | None = None) -> str:
    """JSON: the call, then per channel the version, model, hash, display text and words."""
    doc = {
        "call_id": _call_field(call, "id"),
        "started_at": _started(call, config),
        "channels": [
            {
                "channel": t.channel,
                "speaker": _speaker(transcripts, t.channel, _roles(config)),
                "version": t.version,
                "engine": t.engine,
                "model_name": t.model_name,
                "model_sha256": t.model_sha256,
                "sha256": t.sha256,
                "text": t.text,
                "words": t.words,
            }
            for t in transcripts
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_webvtt(transcripts: Sequence[Transcript], call: Any = None, config: Config | None = None) -> str:
    """WebVTT cues, one per utterance, with ``<v speaker>`` voice tags for a stereo call."""
    out = ["WEBVTT", ""]
    for n, u in enumerate(utterances(transcripts, _roles(config)), 1):
        voice = f"<v {u.speaker}>" if u.speaker else ""
        out += [str(n), f"{_clock(u.start)} --> {_clock(max(u.end, u.start + 0.001))}", voice + u.text, ""]
    return "\n".join(out)
