"""Content use cases: a transcript, a search over a case, audio to play. Every read is logged by
the vault before anything is returned (DESIGN.md invariant 6); the bytes go to the caller, who
plays them on their own device."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.vault import Vault
from callrec.vault.calls import get_call, read_audio, read_case_transcripts, read_transcripts, resolve_case

__all__ = ["PlayAudio", "PlayFailed", "SearchHit", "SearchResult", "TimedLine", "Transcript", "play", "play_failed",
           "search", "transcript"]


@dataclass(frozen=True)
class Transcript:
    call_id: int
    #: Empty when the call has no transcript yet.
    text: str


@dataclass(frozen=True)
class SearchHit:
    call_id: int
    speaker: str
    start_s: float
    context: str


@dataclass(frozen=True)
class SearchResult:
    case_id: int
    hits: list[SearchHit]


@dataclass(frozen=True)
class TimedLine:
    start_s: float
    end_s: float
    speaker: str | None
    #: The line's text with uncertain words marked (``[asr] uncertain_marks``).
    text: str
    #: The same words as shown, each ``{"text", "conf", "uncertain"}``, for the player's renderer
    #: (:func:`callrec.evidence.render_lines`).
    words: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class PlayAudio:
    call_id: int
    case_id: int
    #: The sealed audio, losslessly encoded, exactly as stored.
    flac: bytes
    pcm_sha256: str
    #: The access-log entry of this read.
    log_seq: int
    #: With ``follow``: the transcript's lines, to print as playback reaches them.
    lines: list[TimedLine]


@dataclass(frozen=True)
class PlayFailed:
    log_seq: int


@use_case("transcript.read")
def transcript(vault: Vault, actor: Actor, *, call_id: int, case_id: int | None = None) -> Transcript:
    from callrec.asr import to_text

    transcripts, _seq, _hash = read_transcripts(vault, actor.log_name, call_id, case_id)
    if not transcripts:
        return Transcript(call_id, "")
    return Transcript(call_id, to_text(transcripts, get_call(vault, call_id), vault.config))


@use_case("transcript.search")
def search(vault: Vault, actor: Actor, *, case_id: int, phrase: str) -> SearchResult:
    from callrec.asr import find_phrase, transcript_language

    roles = vault.config.capture.channel_roles
    hits = []
    for call_id, transcripts in read_case_transcripts(vault, actor.log_name, case_id).items():
        language = transcript_language(transcripts, vault.config)
        for t in transcripts:
            speaker = roles[t.channel] if len(transcripts) > 1 else "mixed"
            hits += [SearchHit(call_id, speaker, hit.start_s, hit.context)
                     for hit in find_phrase(t.words, phrase, language=language)]
    return SearchResult(case_id, hits)


@use_case("play")
def play(vault: Vault, actor: Actor, *, call_id: int, case_id: int | None = None, follow: bool = False) -> PlayAudio:
    from callrec.asr import configured_lines, line_text, transcript_language
    from callrec.evidence import player_lines

    case = resolve_case(vault, actor.log_name, call_id, case_id, "play")
    audio = read_audio(vault, actor.log_name, call_id, case.id, "play")
    lines: list[TimedLine] = []
    if follow:
        transcripts, _seq, _hash = read_transcripts(vault, actor.log_name, call_id, case.id)
        language, marks = transcript_language(transcripts, vault.config), vault.config.asr.uncertain_marks
        lines = [TimedLine(line.start, line.end, line.speaker, line_text(line, language, marks), shown["words"])
                 for line, shown in zip(configured_lines(transcripts, vault.config),
                                        player_lines(transcripts, vault.config), strict=True)]
    return PlayAudio(call_id, case.id, audio.flac, audio.pcm_sha256, audio.log_seq, lines)


@use_case("play.failed")
def play_failed(vault: Vault, actor: Actor, *, call_id: int, case_id: int, read_seq: int, why: str) -> PlayFailed:
    """Record that audio read by entry ``read_seq`` could not be played (no device, device error):
    a ``play.failed`` entry whose detail holds ``result: failed``, the read's seq and the device error."""
    case = resolve_case(vault, actor.log_name, call_id, case_id, "play.failed")
    seq = vault.log_now(actor.log_name, "play.failed", call_id=call_id, case_id=case.id, reason=case.reason,
                        detail={"read": read_seq, "result": "failed", "why": why[:200]})
    return PlayFailed(seq)
