"""``callrec verify``: integrity, the access-log chain, checkpoints, sealed audio, transcripts and
every row the log explains (``_replay.py``), optionally against heads kept off the host.

Hashes are compared with the values entered into the access-log chain, not with the columns
beside the data: someone with the key who edits both the audio and its ``pcm_sha256`` column is
still caught, because the chain (checkpointed outside the vault) holds the original hash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from callrec.vault._accesslog import verify_chain
from callrec.vault._audio import decode_flac, pcm_sha256
from callrec.vault._checkpoint import verify_checkpoint, verify_trusted_heads
from callrec.vault._db import DatabaseError
from callrec.vault._replay import unexplained_rows
from callrec.vault._store import Vault

__all__ = ["verify"]


def _integrity(vault: Vault) -> list[str]:
    findings = [f"integrity: page {r[0]}" for r in vault.query("PRAGMA cipher_integrity_check")]
    rows = vault.query("PRAGMA quick_check")
    if rows != [("ok",)]:
        findings += [f"integrity: {r[0]}" for r in rows]
    return findings


def _logged(vault: Vault, action: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for call_id, detail in vault.query("SELECT call_id, detail FROM access_log WHERE action = ? ORDER BY seq", (action,)):
        out.setdefault(call_id, []).append(json.loads(detail))
    return out


def _sealed_audio(vault: Vault) -> list[str]:
    findings: list[str] = []
    seals = _logged(vault, "seal")
    removed = set(_logged(vault, "purge")) | set(_logged(vault, "delete"))
    for call_id, status in vault.query("SELECT id, status FROM calls WHERE status != 'recording' ORDER BY id"):
        if status == "purged":
            if call_id not in removed:
                findings.append(f"call {call_id}: audio removed without a purge or deletion entry in the access log")
            continue
        if call_id not in seals:
            findings.append(f"call {call_id}: sealed but its seal is not in the access log")
            continue
        flac = b"".join(r[0] for r in vault.query("SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))
        try:
            actual = pcm_sha256(decode_flac(flac))
        except Exception:  # noqa: BLE001 - any decoder failure means the stored audio is damaged
            findings.append(f"call {call_id}: sealed audio cannot be decoded (altered or damaged)")
            continue
        if actual != seals[call_id][-1]["pcm_sha256"]:
            findings.append(f"call {call_id}: sealed audio differs from its sealed hash (altered)")
    return findings


def _transcripts(vault: Vault) -> list[str]:
    from callrec.vault._transcripts import transcript_sha256

    logged = {(c, d["version"], d["channel"]): d["sha256"] for c, ds in _logged(vault, "transcript").items() for d in ds}
    findings: list[str] = []
    rows = vault.query("SELECT call_id, version, channel, engine, model_name, model_sha256, words, text FROM transcripts")
    for call_id, version, channel, engine, model, model_sha, words, text in rows:
        expected = logged.pop((call_id, version, channel), None)
        if expected is None:
            findings.append(f"call {call_id}: transcript version {version} channel {channel} is not in the access log")
        elif transcript_sha256(call_id, version, channel, engine, model, model_sha, json.loads(words), text) != expected:
            findings.append(f"call {call_id}: transcript version {version} channel {channel} was altered")
    purged = {r[0] for r in vault.query("SELECT id FROM calls WHERE status = 'purged'")}
    for call_id, version, channel in sorted(k for k in logged if k[0] not in purged):
        findings.append(f"call {call_id}: transcript version {version} channel {channel} is missing")
    return findings


def verify(vault: Vault, trusted_heads: Sequence[tuple[int, str]] = ()) -> list[str]:
    """Every finding, one line each; empty when integrity, chain, all hashes and all rows hold.

    ``trusted_heads`` are (seq, hash) pairs kept off the host: each must still be in the chain.
    """
    steps = (
        ("integrity", _integrity),
        ("access log", lambda v: verify_chain(v.conn, v.signer.public_key())),
        ("checkpoint", lambda v: verify_checkpoint(v.conn, v.config.checkpoint_key_path, v.config.witness_path)),
        ("trusted heads", lambda v: verify_trusted_heads(v.conn, list(trusted_heads))),
        ("sealed audio", _sealed_audio),
        ("transcripts", _transcripts),
        ("rows", unexplained_rows),
    )
    findings: list[str] = []
    for name, step in steps:
        try:
            findings += step(vault)
        except DatabaseError as exc:
            findings.append(f"{name}: cannot be read, the vault is damaged ({exc})")
    return findings
