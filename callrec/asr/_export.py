"""Transcript export formats for a case export: plain text, JSON with words, WebVTT.

All three are rendered from the same lines (:func:`transcript_lines`): a speaker's words split
at pauses and at speaker changes, both channels of a stereo call interleaved by time and labelled
with their roles. Times are seconds from the start of the call; the call's start is shown in the
configured time zone. Uncertain words (confidence below ``[asr] uncertain_below``) are marked in
text (``[asr] uncertain_marks``), carry ``uncertain`` and their confidence in JSON, and are a
``<c.uncertain>`` span in WebVTT.

Each function takes ``(transcripts, call, config)``: the newest transcript of each channel, the
call's row as a mapping (``id``, ``started_ts`` …) and the configuration (roles, time zone,
language, thresholds).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from callrec.asr._lines import DEFAULT_ROLES, Line, line_text, transcript_lines
from callrec.asr._models import model_info
from callrec.asr._quality import call_quality
from callrec.config import AsrConfig, Config
from callrec.errors import CallrecError
from callrec.timefmt import format_ts, offset_clock
from callrec.vault.calls import Transcript

__all__ = ["configured_lines", "to_text", "to_json", "to_webvtt", "transcript_language"]


def _call_field(call: Any, name: str, default: Any = None) -> Any:
    """``call`` may be a mapping (a row as a dict) or an object with attributes."""
    if isinstance(call, Mapping):
        return call.get(name, default)
    return getattr(call, name, default)


def transcript_language(transcripts: Sequence[Transcript], config: Config | None) -> str:
    """The language of the model that made the transcripts (from its manifest while it is
    installed), else ``[asr] language``."""
    asr = AsrConfig() if config is None else config.asr
    if config is not None and transcripts:
        t = transcripts[0]
        try:
            info = model_info(config, t.model_name)
        except (CallrecError, OSError):  # removed, damaged, or a models folder this account cannot read
            info = None
        if info is not None and info.sha256 == t.model_sha256 and info.language:
            return info.language
    return asr.language


def configured_lines(transcripts: Sequence[Transcript], config: Config | None) -> list[Line]:
    """:func:`transcript_lines` with the configured channel roles, pause and uncertainty threshold:
    the lines every rendering shows (exports, ``case play --follow``, the evidence player)."""
    asr = AsrConfig() if config is None else config.asr
    roles = DEFAULT_ROLES if config is None else config.capture.channel_roles
    return transcript_lines(transcripts, roles=roles, pause_s=asr.pause_s, uncertain_below=asr.uncertain_below)




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
    """Plain text: a header, then ``[HH:MM:SS.mmm] speaker: text`` per line, uncertain words marked."""
    asr = AsrConfig() if config is None else config.asr
    language = transcript_language(transcripts, config)
    before, after = asr.uncertain_marks
    lines = [f"call {_call_field(call, 'id')} started {_started(call, config)}", _header(transcripts),
             f"{before}word{after}: the recogniser was unsure of it (confidence below {asr.uncertain_below:g})", ""]
    for line in configured_lines(transcripts, config):
        label = f"{line.speaker}: " if line.speaker else ""
        lines.append(f"[{offset_clock(line.start)}] {label}{line_text(line, language, asr.uncertain_marks)}")
    return "\n".join(lines) + "\n"


def _line_json(line: Line, language: str) -> dict:
    return {
        "start": line.start,
        "end": line.end,
        "channel": line.channel,
        "speaker": line.speaker,
        "text": line_text(line, language),
        "words": [{"word": w.text, "start": w.start, "end": w.end, "conf": w.conf, "uncertain": w.uncertain}
                  for w in line.words],
    }


def to_json(transcripts: Sequence[Transcript], call: Any, config: Config | None = None) -> str:
    """JSON: the call; per channel the version, model, hash, display text and words (with
    ``conf``); the lines with each word's confidence and ``uncertain`` flag; the quality numbers."""
    asr = AsrConfig() if config is None else config.asr
    roles = DEFAULT_ROLES if config is None else config.capture.channel_roles
    language = transcript_language(transcripts, config)
    duration = _call_field(call, "duration_s")
    quality = call_quality([t.words for t in transcripts], duration, asr.uncertain_below)
    doc = {
        "call_id": _call_field(call, "id"),
        "started_at": _started(call, config),
        "language": language,
        "uncertain_below": asr.uncertain_below,
        "quality": quality.to_json(),
        "channels": [
            {
                "channel": t.channel,
                "speaker": roles[t.channel] if len(transcripts) > 1 and t.channel < len(roles) else None,
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
        "lines": [_line_json(line, language) for line in configured_lines(transcripts, config)],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_webvtt(transcripts: Sequence[Transcript], call: Any = None, config: Config | None = None) -> str:
    """WebVTT cues, one per line, with ``<v speaker>`` voice tags for a stereo call and uncertain
    words in a ``<c.uncertain>`` class span."""
    language = transcript_language(transcripts, config)
    out = ["WEBVTT", ""]
    for n, line in enumerate(configured_lines(transcripts, config), 1):
        voice = f"<v {html.escape(line.speaker, quote=False)}>" if line.speaker else ""
        escaped = replace(line, words=tuple(replace(w, text=html.escape(w.text, quote=False)) for w in line.words))
        text = line_text(escaped, language, ("<c.uncertain>", "</c>"))
        out += [str(n), f"{offset_clock(line.start)} --> {offset_clock(max(line.end, line.start + 0.001))}", voice + text, ""]
    return "\n".join(out)
