"""A case export, built entirely on the service side as named files; the caller writes them.

Each call's audio and transcript reads are logged before their bytes are put in the package; the
manifest names every file with its SHA-256 and the access-log entry (seq and hash) that
authorised it. :func:`build_export` is the one place that assembles a package.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.errors import UsageError
from callrec.timefmt import format_ts
from callrec.vault import Vault, _cases, _content

__all__ = ["ExportFile", "ExportPackage", "build_export", "export"]

FORMATS = ("flac", "wav")


@dataclass(frozen=True)
class ExportFile:
    #: A plain file name (no directory part), to be written inside the caller's target folder.
    name: str
    data: bytes


@dataclass(frozen=True)
class ExportPackage:
    case_id: int
    files: list[ExportFile]


def _audio_bytes(flac: bytes, fmt: str) -> bytes:
    import soundfile

    if fmt == "flac":
        return flac
    data, rate = soundfile.read(io.BytesIO(flac), dtype="int16")
    out = io.BytesIO()
    soundfile.write(out, data, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def build_export(vault: Vault, actor: Actor, case_id: int, fmt: str) -> ExportPackage:
    """Audio, transcripts (text, JSON, WebVTT) and ``manifest.json`` for the calls of one case."""
    from callrec.asr import to_json, to_text, to_webvtt

    if fmt not in FORMATS:
        raise UsageError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    zone, who = vault.config.zone, actor.log_name
    case = _cases.require_own_approved(vault, who, case_id, "export")
    call_ids = _cases.case_call_ids(vault, case_id)
    if not call_ids:
        raise UsageError(f"case {case_id} has no attached calls: attach calls first ('callrec case attach')")
    files: list[ExportFile] = []
    listed = []

    def add(name: str, data: bytes, call_id: int, seq: int, digest: str, **extra: str) -> None:
        files.append(ExportFile(name, data))
        listed.append({"file": name, "call_id": call_id, "sha256": hashlib.sha256(data).hexdigest(), **extra,
                       "access_log": {"seq": seq, "hash": digest}})

    for call_id in call_ids:
        audio = _content.read_audio(vault, who, call_id, case_id, "export")
        add(f"call-{call_id}.{fmt}", _audio_bytes(audio.flac, fmt), call_id, audio.log_seq, audio.log_hash,
            pcm_sha256=audio.pcm_sha256)
        transcripts, seq, digest = _content.read_transcripts(vault, who, call_id, case_id)
        if not transcripts:
            continue
        meta = _content.call_meta(vault, call_id)
        for suffix, render in (("txt", to_text), ("json", to_json), ("vtt", to_webvtt)):
            add(f"call-{call_id}.{suffix}", render(transcripts, meta, vault.config).encode("utf-8"), call_id, seq, digest)
    manifest = {"case": case_id, "exported_by": who, "opened_by": case.opened_by, "approved_by": case.decided_by,
                "window": {"from": format_ts(case.window_from_ts, zone), "to": format_ts(case.window_to_ts, zone)},
                "files": listed}
    files.append(ExportFile("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")))
    return ExportPackage(case_id, files)


@use_case("export")
def export(vault: Vault, actor: Actor, *, case_id: int, format: str = "flac") -> ExportPackage:  # noqa: A002 - the CLI's --format
    return build_export(vault, actor, case_id, format)
