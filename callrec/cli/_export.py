"""Writing a case export: audio, transcripts (text, JSON, WebVTT) and a manifest.

Each call's audio and transcript reads are logged before the bytes are written; the manifest
names every file with its SHA-256 and the access-log entry (seq and hash) that authorised it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import soundfile

from callrec.cli._context import Context
from callrec.errors import UsageError
from callrec.timefmt import format_ts
from callrec.vault import _cases, _content

__all__ = ["export_case"]


def _target(out: str) -> Path:
    path = Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"export directory {path} is not empty: choose a new directory")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _write(path: Path, data: bytes) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def _audio_bytes(flac: bytes, fmt: str) -> bytes:
    if fmt == "flac":
        return flac
    data, rate = soundfile.read(io.BytesIO(flac), dtype="int16")
    out = io.BytesIO()
    soundfile.write(out, data, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def export_case(ctx: Context, case_id: int, out: str, fmt: str) -> dict:
    from callrec.asr import to_json, to_text, to_webvtt

    vault, zone = ctx.vault, ctx.config.zone
    case = _cases.require_own_approved(vault, ctx.actor, case_id, "export")
    case_ids = _cases.case_call_ids(vault, case_id)
    if not case_ids:
        raise UsageError(f"case {case_id} has no attached calls: attach calls first ('callrec case attach')")
    target = _target(out)
    files = []
    for call_id in case_ids:
        audio = _content.read_audio(vault, ctx.actor, call_id, case_id, "export")
        name = f"call-{call_id}.{fmt}"
        files.append({"file": name, "call_id": call_id, "sha256": _write(target / name, _audio_bytes(audio.flac, fmt)),
                      "pcm_sha256": audio.pcm_sha256, "access_log": {"seq": audio.log_seq, "hash": audio.log_hash}})
        transcripts, seq, digest = _content.read_transcripts(vault, ctx.actor, call_id, case_id)
        if not transcripts:
            continue
        meta = _content.call_meta(vault, call_id)
        for suffix, render in (("txt", to_text), ("json", to_json), ("vtt", to_webvtt)):
            name = f"call-{call_id}.{suffix}"
            data = render(transcripts, meta, ctx.config).encode("utf-8")
            files.append({"file": name, "call_id": call_id, "sha256": _write(target / name, data),
                          "access_log": {"seq": seq, "hash": digest}})
    manifest = {"case": case_id, "exported_by": ctx.actor, "opened_by": case.opened_by,
                "approved_by": case.decided_by, "window": {"from": format_ts(case.window_from_ts, zone),
                                                             "to": format_ts(case.window_to_ts, zone)},
                "files": files}
    _write(target / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return manifest

