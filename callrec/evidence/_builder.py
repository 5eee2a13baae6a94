"""Building a case package on the service side, as a list of (relative name, bytes).

The daemon holds the signing key, so it builds and signs everything; whoever asked (the
reviewer's own CLI process) only writes the bytes into its directory. Every call's audio and
transcript reads are logged (``export``, ``transcript.read``) before any byte is returned
(DESIGN.md invariant 6); a checkpoint is then signed at or after those entries and the chain proof
links them to it.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass

import soundfile
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec import __version__
from callrec.config import Config
from callrec.errors import UsageError
from callrec.evidence._chain import chain_proof
from callrec.evidence._names import CHAIN, CHECKPOINT, MANIFEST, MANIFEST_SIG, PACKAGE_FORMAT, PLAYER, PUBLIC_KEY
from callrec.evidence._player import player_lines, render_player
from callrec.evidence._verify import verify_package
from callrec.timefmt import format_ts
from callrec.vault import Vault, fingerprint, latest_checkpoint
from callrec.vault.calls import get_call, read_audio, read_transcripts
from callrec.vault.log import seal_seqs
from callrec.vault.people import Case, case_call_ids, case_numbers, numbers_of_calls, require_own_approved

__all__ = ["CasePackage", "build_case_package"]


@dataclass(frozen=True)
class CasePackage:
    """A complete, signed package: write each (name, data) under one directory."""

    case_id: int
    key_fingerprint: str
    files: list[tuple[str, bytes]]

    @property
    def manifest(self) -> dict:
        return json.loads(dict(self.files)[MANIFEST])


def _audio_bytes(flac: bytes, fmt: str) -> bytes:
    if fmt == "flac":
        return flac
    data, rate = soundfile.read(io.BytesIO(flac), dtype="int16")
    out = io.BytesIO()
    soundfile.write(out, data, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _case_facts(case: Case, numbers: list[str], zone) -> dict:
    return {"id": case.id, "reason": case.reason, "status": case.status, "numbers": numbers,
            "window": {"from": format_ts(case.window_from_ts, zone, "seconds"), "to": format_ts(case.window_to_ts, zone, "seconds")},
            "opened_by": case.opened_by, "opened_at": format_ts(case.opened_ts, zone, "seconds"),
            "approved_by": case.decided_by, "decided_at": format_ts(case.decided_ts, zone, "seconds")}


def _read_calls(vault: Vault, actor: str, case_id: int, call_ids: list[int], fmt: str, config: Config
                ) -> tuple[list[tuple[str, bytes]], list[dict], dict[str, dict]]:
    """Audio and transcript files, the per-call facts, and per file the call and the access-log
    entry of its read; each read is logged before its bytes are taken."""
    from callrec.asr import to_json, to_text, to_webvtt

    files, calls, reads, zone = [], [], {}, config.zone
    numbers = numbers_of_calls(vault, call_ids)
    for call_id in call_ids:
        audio = read_audio(vault, actor, call_id, case_id, "export")
        transcripts, seq, digest = read_transcripts(vault, actor, call_id, case_id)
        meta = get_call(vault, call_id)
        name = f"call-{call_id}.{fmt}"
        files.append((name, _audio_bytes(audio.flac, fmt)))
        reads[name] = {"call_id": call_id, "access_log": {"seq": audio.log_seq, "hash": audio.log_hash}}
        texts = []
        if transcripts:
            for suffix, render in (("txt", to_text), ("json", to_json), ("vtt", to_webvtt)):
                texts.append(f"call-{call_id}.{suffix}")
                files.append((texts[-1], render(transcripts, meta, config).encode("utf-8")))
                reads[texts[-1]] = {"call_id": call_id, "access_log": {"seq": seq, "hash": digest}}
        ended = meta.end_ts
        calls.append({"id": call_id, "started_at": format_ts(meta.started_ts, zone, "milliseconds"),
                      "ended_at": format_ts(ended, zone, "milliseconds"), "started_ts": meta.started_ts,
                      "ended_ts": ended, "sample_rate": meta.sample_rate, "channels": meta.channels,
                      "pcm_sha256": audio.pcm_sha256, "audio": name, "transcripts": texts,
                      "number": numbers[call_id].remote if call_id in numbers else None,
                      "direction": numbers[call_id].direction if call_id in numbers else None,
                      "lines": player_lines(transcripts, config)})
    return files, calls, reads


def _assemble(content: list[tuple[str, bytes]], index: bytes, manifest: dict, reads: dict[str, dict],
              signer: Ed25519PrivateKey) -> list[tuple[str, bytes]]:
    files = [*content, (PLAYER, index)]
    listed = [{"file": n, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d), **reads.get(n, {})} for n, d in files]
    manifest = {**manifest, "files": listed}
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    return [*files, (MANIFEST, data), (MANIFEST_SIG, signer.sign(data).hex().encode("ascii") + b"\n")]


def _status(findings: list[str], calls: list[dict], proof: dict, cp_seq: int, key: str, files: int) -> list[str]:
    if findings:
        return ["At export this package did NOT verify:", *findings]
    # Counted as 'callrec evidence verify' counts them: every file of the package, the manifest
    # and its signature included.
    return [f"The package holds {files + 2} files: the signed manifest, its signature and {files} more,"
            f" each of which matched its SHA-256 and size in the manifest.",
            f"The audio of each of the {len(calls)} call(s) decoded to the PCM SHA-256 in its seal entry.",
            f"The chain proof linked {len(proof['links'])} access-log entries, {len(proof['entries'])} of them shown,"
            f" to the checkpoint at entry {cp_seq}, signed by key {key}."]


def build_case_package(vault: Vault, actor: str, case_id: int, fmt: str, config: Config) -> CasePackage:
    """The complete package of an approved case of ``actor`` (the reviewer who opened it)."""
    if fmt not in ("flac", "wav"):
        raise UsageError(f"export format {fmt!r}: use flac or wav")
    case = require_own_approved(vault, actor, case_id, "export")
    call_ids = case_call_ids(vault, case_id)
    if not call_ids:
        raise UsageError(f"case {case_id} has no attached calls: attach calls first ('callrec case attach')")
    content, calls, reads = _read_calls(vault, actor, case_id, call_ids, fmt, config)
    vault.checkpoint()
    cp = latest_checkpoint(config.witness_path)
    proof = chain_proof(vault, case_id, call_ids, cp.seq)
    seals = seal_seqs(vault, call_ids)
    public = vault.signer.public_key()
    key = fingerprint(public)
    content += [
        (CHAIN, json.dumps(proof, ensure_ascii=False, separators=(",", ":")).encode("utf-8")),
        (CHECKPOINT, json.dumps({"seq": cp.seq, "hash": cp.hash, "ts": cp.ts, "sig": cp.sig,
                                 "message": cp.message().decode("ascii")}, indent=1).encode("utf-8")),
        (PUBLIC_KEY, public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)),
    ]
    now = time.time()
    exported_at = format_ts(now, config.zone, "seconds")
    command = f"callrec evidence verify <this folder> --key-fingerprint {key}"
    manifest = {
        "format": PACKAGE_FORMAT, "callrec_version": __version__, "exported_at": exported_at, "exported_ts": now,
        "exported_by": actor, "case": _case_facts(case, case_numbers(vault, case_id), config.zone),
        "calls": [{k: v for k, v in c.items() if k != "lines"} | {"seal_seq": seals.get(c["id"])} for c in calls],
        "checkpoint": {"seq": cp.seq, "hash": cp.hash}, "key_fingerprint": key, "verify_command": command,
    }
    facts = manifest["case"]
    draft = _assemble(content, b"", manifest, reads, vault.signer)
    status = _status(verify_package(dict(draft)), calls, proof, cp.seq, key, len(content) + 1)
    index = render_player(facts, calls, status, command, exported_at, config.asr.uncertain_below)
    return CasePackage(case_id, key, _assemble(content, index, manifest, reads, vault.signer))
