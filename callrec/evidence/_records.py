"""The typed records of a case package (``docs/design/evidence.md``), each parsed strictly.

Every parser takes the bytes (or the decoded JSON) of one file and returns a frozen record, or
raises :class:`~callrec.evidence._shape.Malformed` naming the member that is not of its documented
shape. The verifier only ever looks at these records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from callrec.evidence._shape import (
    HEX128,
    Malformed,
    array,
    hex_digest,
    integer,
    load_json,
    member,
    number,
    obj,
    optional,
    safe_name,
    text,
)

__all__ = ["Body", "CallFacts", "CaseFacts", "ChainProof", "Checkpoint", "FileEntry", "Manifest", "Malformed",
           "parse_body", "parse_chain", "parse_checkpoint", "parse_key", "parse_manifest", "parse_signature"]

_SIGNATURE = re.compile(rb"[0-9a-f]{128}\n?")


@dataclass(frozen=True)
class FileEntry:
    file: str
    sha256: str
    size: int
    call_id: int | None
    log_seq: int | None
    log_hash: str | None


@dataclass(frozen=True)
class CallFacts:
    id: int
    pcm_sha256: str
    seal_seq: int | None
    audio: str
    transcripts: tuple[str, ...]


@dataclass(frozen=True)
class CaseFacts:
    id: int
    reason: str
    status: str
    opened_by: str
    approved_by: str | None


@dataclass(frozen=True)
class Manifest:
    format: str
    case: CaseFacts
    calls: tuple[CallFacts, ...]
    files: tuple[FileEntry, ...]
    checkpoint_seq: int
    checkpoint_hash: str
    key_fingerprint: str


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    sig: bytes
    message: bytes


@dataclass(frozen=True)
class ChainProof:
    format: str
    first_seq: int
    prev_hash: str
    links: tuple[str, ...]
    entries: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Body:
    """The members of a shown entry's body that the rules use."""

    seq: int
    actor: str
    action: str
    outcome: str
    call_id: int | None
    case_id: int | None
    reason: str
    detail: dict


def _file_entry(value: object, where: str) -> FileEntry:
    item = obj(value, where)
    call_id = member(item, "call_id", integer, where) if "call_id" in item else None
    log = obj(member(item, "access_log", obj, where), f"{where}.access_log") if "access_log" in item else None
    if (call_id is None) != (log is None):
        raise Malformed(f"{where}: call_id and access_log come together or not at all")
    return FileEntry(member(item, "file", safe_name, where), member(item, "sha256", hex_digest, where),
                     member(item, "size", integer, where), call_id,
                     None if log is None else member(log, "seq", integer, f"{where}.access_log"),
                     None if log is None else member(log, "hash", hex_digest, f"{where}.access_log"))


def _direction(value: object, where: str) -> str:
    if value not in ("in", "out"):
        raise Malformed(f"{where} is not \"in\" or \"out\"")
    return value


def _call(value: object, where: str) -> CallFacts:
    call = obj(value, where)
    for key in ("started_at", "ended_at"):
        member(call, key, text, where)
    member(call, "started_ts", number, where)
    member(call, "ended_ts", optional(number), where)
    member(call, "sample_rate", integer, where)
    member(call, "channels", integer, where)
    member(call, "number", optional(text), where)  # the other party's number; null: unknown or withheld
    member(call, "direction", optional(_direction), where)
    transcripts = member(call, "transcripts", array, where)
    return CallFacts(member(call, "id", integer, where), member(call, "pcm_sha256", hex_digest, where),
                     member(call, "seal_seq", optional(integer), where), member(call, "audio", safe_name, where),
                     tuple(safe_name(t, f"{where}.transcripts[{i}]") for i, t in enumerate(transcripts)))


def _case(value: object) -> CaseFacts:
    where = "manifest.case"
    case = obj(value, where)
    window = member(case, "window", obj, where)
    member(window, "from", text, f"{where}.window")
    member(window, "to", text, f"{where}.window")
    member(case, "opened_at", text, where)
    member(case, "decided_at", optional(text), where)
    numbers = member(case, "numbers", array, where)
    for i, item in enumerate(numbers):
        text(item, f"{where}.numbers[{i}]")
    return CaseFacts(member(case, "id", integer, where), member(case, "reason", text, where),
                     member(case, "status", text, where), member(case, "opened_by", text, where),
                     member(case, "approved_by", optional(text), where))


def parse_manifest(data: bytes) -> Manifest:
    where = "manifest"
    manifest = obj(load_json(data), where)
    for key in ("callrec_version", "exported_at", "exported_by", "verify_command"):
        member(manifest, key, text, where)
    member(manifest, "exported_ts", number, where)
    checkpoint = member(manifest, "checkpoint", obj, where)
    calls = member(manifest, "calls", array, where)
    files = member(manifest, "files", array, where)
    return Manifest(member(manifest, "format", text, where), _case(member(manifest, "case", obj, where)),
                    tuple(_call(c, f"manifest.calls[{i}]") for i, c in enumerate(calls)),
                    tuple(_file_entry(f, f"manifest.files[{i}]") for i, f in enumerate(files)),
                    member(checkpoint, "seq", integer, "manifest.checkpoint"),
                    member(checkpoint, "hash", hex_digest, "manifest.checkpoint"),
                    member(manifest, "key_fingerprint", hex_digest, where))


def parse_signature(data: bytes) -> bytes:
    """``manifest.sig``: 128 lowercase hex digits, optionally one newline."""
    if not _SIGNATURE.fullmatch(data):
        raise Malformed("manifest.sig is not 128 lowercase hex digits (and an optional newline)")
    return bytes.fromhex(data[:128].decode("ascii"))


def parse_checkpoint(data: bytes) -> Checkpoint:
    where = "checkpoint"
    cp = obj(load_json(data), where)
    seq, digest = member(cp, "seq", integer, where), member(cp, "hash", hex_digest, where)
    member(cp, "ts", number, where)
    sig = member(cp, "sig", lambda v, w: hex_digest(v, w, HEX128), where)
    message = member(cp, "message", text, where)
    parts = message.split(":")
    if not message.isascii() or len(parts) != 3 or parts[0] != str(seq) or parts[1] != digest:
        raise Malformed("checkpoint.message is not '<seq>:<hash>:<ts>' of its own seq and hash")
    return Checkpoint(seq, digest, bytes.fromhex(sig), message.encode("ascii"))


def _entry(value: object, where: str) -> tuple[int, str]:
    entry = obj(value, where)
    return member(entry, "seq", integer, where), member(entry, "body", text, where)


def parse_chain(data: bytes) -> ChainProof:
    where = "chain"
    proof = obj(load_json(data), where)
    links = member(proof, "links", array, where)
    entries = member(proof, "entries", array, where)
    return ChainProof(member(proof, "format", text, where), member(proof, "first_seq", integer, where),
                      member(proof, "prev_hash", hex_digest, where),
                      tuple(hex_digest(link, f"chain.links[{i}]") for i, link in enumerate(links)),
                      tuple(_entry(e, f"chain.entries[{i}]") for i, e in enumerate(entries)))


def parse_body(body: str, seq: int) -> Body:
    """The body of shown entry ``seq`` (its canonical JSON, as a string)."""
    where = f"chain entry {seq}"
    fields = obj(load_json(body.encode("utf-8")), where)
    member(fields, "ts", number, where)
    member(fields, "checkpoints", integer, where)
    member(fields, "nonce", text, where)
    return Body(member(fields, "seq", integer, where), member(fields, "actor", text, where),
                member(fields, "action", text, where), member(fields, "outcome", text, where),
                member(fields, "call_id", optional(integer), where), member(fields, "case_id", optional(integer), where),
                member(fields, "reason", text, where), member(fields, "detail", obj, where))


def parse_key(data: bytes) -> Ed25519PublicKey:
    try:
        public = serialization.load_pem_public_key(data)
    except Exception:  # noqa: BLE001 - the PEM/ASN.1 parser's own errors on hostile input
        raise Malformed("proof/signing-key.pem is not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise Malformed("proof/signing-key.pem is not an Ed25519 key")
    return public
