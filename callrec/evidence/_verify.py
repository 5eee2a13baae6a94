"""Checking a case package with nothing but the package (``callrec evidence verify``).

No config, vault or key is read: the package carries the public key, the signed checkpoint, the
chain proof and the signed manifest. A published key fingerprint, when given, ties the package to
the office's recorder. Each finding is one line naming the file, call, entry or signature.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import soundfile
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from callrec.evidence._chain import check_chain, proven_entries
from callrec.evidence._names import CHAIN, CHECKPOINT, MANIFEST, MANIFEST_SIG, PACKAGE_FORMAT, PUBLIC_KEY, UNLISTED

__all__ = ["verify_package", "read_package", "pcm_sha256_of"]


def read_package(directory: Path) -> dict[str, bytes]:
    """Every regular file under ``directory`` by its relative POSIX name."""
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()}


def pcm_sha256_of(audio: bytes) -> str:
    """SHA-256 over the decoded audio as interleaved little-endian int16 (what a seal hashes)."""
    data, _ = soundfile.read(io.BytesIO(audio), dtype="int16", always_2d=True)
    return hashlib.sha256(np.ascontiguousarray(data, dtype="<i2").tobytes()).hexdigest()


def _fingerprint(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def _signed(public: Ed25519PublicKey | None, sig_hex: str, message: bytes) -> bool:
    if public is None:
        return False
    try:
        public.verify(bytes.fromhex(sig_hex.strip()), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _json(files: Mapping[str, bytes], name: str, findings: list[str]) -> dict | None:
    if name not in files:
        findings.append(f"file {name} is missing (removed)")
        return None
    try:
        value = json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        findings.append(f"file {name} is not valid JSON (altered)")
        return None
    if not isinstance(value, dict):
        findings.append(f"file {name} is not a JSON object (altered or forged)")
        return None
    return value


def _key(files: Mapping[str, bytes], expected: str | None, findings: list[str]) -> Ed25519PublicKey | None:
    try:
        public = serialization.load_pem_public_key(files[PUBLIC_KEY])
    except KeyError:
        findings.append(f"file {PUBLIC_KEY} is missing (removed): nothing can be checked against a key")
        return None
    except ValueError:
        findings.append(f"file {PUBLIC_KEY} is not a PEM public key (altered)")
        return None
    if not isinstance(public, Ed25519PublicKey):
        findings.append(f"file {PUBLIC_KEY} is not an Ed25519 key")
        return None
    if expected is not None and _fingerprint(public) != expected.strip().lower():
        findings.append(f"key: the package was signed by key {_fingerprint(public)}, not by the published key {expected.strip().lower()}")
    return public


def _files(files: Mapping[str, bytes], manifest: dict, findings: list[str]) -> None:
    listed = {}
    for item in manifest.get("files", []):
        name = item.get("file")
        listed[name] = item
        if name not in files:
            findings.append(f"file {name} is missing (removed)")
        elif len(files[name]) != item.get("size"):
            findings.append(f"file {name}: size {len(files[name])} differs from the manifest's {item.get('size')} (altered)")
        elif hashlib.sha256(files[name]).hexdigest() != item.get("sha256"):
            findings.append(f"file {name}: SHA-256 differs from the manifest (altered)")
    for name in sorted(set(files) - set(listed) - set(UNLISTED)):
        findings.append(f"file {name} is not listed in the manifest (added)")


def _checkpoint(files: Mapping[str, bytes], public: Ed25519PublicKey | None, manifest: dict,
                findings: list[str]) -> tuple[int, str] | None:
    cp = _json(files, CHECKPOINT, findings)
    if cp is None:
        return None
    message = str(cp.get("message", ""))
    parts = message.split(":")
    if len(parts) != 3 or parts[0] != str(cp.get("seq")) or parts[1] != cp.get("hash"):
        findings.append(f"checkpoint: {CHECKPOINT} does not state the seq and hash it signs")
        return None
    if public is not None and not _signed(public, str(cp.get("sig", "")), message.encode("ascii", "replace")):
        findings.append("checkpoint: its signature does not verify with the package's key (re-signed with another key or altered)")
    if manifest.get("checkpoint") != {"seq": cp.get("seq"), "hash": cp.get("hash")}:
        findings.append("checkpoint: differs from the one named in the manifest")
    return int(cp["seq"]), str(cp["hash"])


def _before_proof(call_id: object, seal_seq: object, first_seq: int) -> str:
    return (f"call {call_id}: sealed in access-log entry {seal_seq}, before the chain proof starts at {first_seq}"
            " (the recorder's log format was upgraded since): its seal cannot be proven offline;"
            " the office can vouch for it with 'callrec verify'")


def _calls(files: Mapping[str, bytes], manifest: dict, bodies: list[dict], first_seq: int, findings: list[str]) -> None:
    case_id = manifest.get("case", {}).get("id")
    seals = {b["call_id"]: b for b in bodies if b.get("action") == "seal" and b.get("outcome") == "ok"}
    exported = {b["call_id"] for b in bodies if b.get("action") == "export" and b.get("case_id") == case_id}
    opened = [b for b in bodies if b.get("action") == "case.open" and b.get("case_id") == case_id]
    if not opened:
        findings.append(f"case {case_id}: no case.open entry in the chain proof")
    elif opened[0].get("reason") != manifest.get("case", {}).get("reason"):
        findings.append(f"case {case_id}: the manifest's reason differs from the case.open entry")
    for call in manifest.get("calls", []):
        call_id, name = call.get("id"), call.get("audio")
        seal = seals.get(call_id)
        if seal is None and isinstance(call.get("seal_seq"), int) and call["seal_seq"] < first_seq:
            findings.append(_before_proof(call_id, call["seal_seq"], first_seq))
        elif seal is None:
            findings.append(f"call {call_id}: no seal entry in the chain proof")
        elif seal["detail"].get("pcm_sha256") != call.get("pcm_sha256"):
            findings.append(f"call {call_id}: the manifest's PCM SHA-256 differs from its seal entry")
        if call_id not in exported:
            findings.append(f"call {call_id}: no export entry of case {case_id} in the chain proof")
        if name not in files:
            continue  # reported with the files
        try:
            actual = pcm_sha256_of(files[name])
        except (RuntimeError, ValueError, TypeError):  # libsndfile errors are RuntimeErrors
            findings.append(f"call {call_id}: audio file {name} cannot be decoded (altered or damaged)")
            continue
        if seal is not None and actual != seal["detail"].get("pcm_sha256"):
            findings.append(f"call {call_id}: decoded audio of {name} differs from the PCM SHA-256 in its seal entry (altered)")


#: The manifest's members and their JSON types; anything else is a forged or altered manifest.
_MANIFEST_SHAPE: dict[str, type | tuple[type, ...]] = {
    "format": str, "key_fingerprint": str, "case": dict, "calls": list, "files": list, "checkpoint": dict,
}


def _manifest_shape(manifest: dict, findings: list[str]) -> bool:
    """``True`` when the manifest has every member with its documented type (else one finding each)."""
    wrong = [name for name, kind in _MANIFEST_SHAPE.items() if not isinstance(manifest.get(name), kind)]
    for name in wrong:
        findings.append(f"manifest: member {name!r} is missing or not of its documented type (altered or forged)")
    return not wrong


def verify_package(files: Mapping[str, bytes], key_fingerprint: str | None = None) -> list[str]:
    """Every finding, one line each; empty only when the whole package holds."""
    findings: list[str] = []
    public = _key(files, key_fingerprint, findings)
    manifest = _json(files, MANIFEST, findings)
    if manifest is None or not _manifest_shape(manifest, findings):
        return findings or [f"file {MANIFEST}: not a package manifest"]
    if manifest.get("format") != PACKAGE_FORMAT:
        findings.append(f"manifest: format {manifest.get('format')!r} is not {PACKAGE_FORMAT}: use a verifier for that format")
    if MANIFEST_SIG not in files:
        findings.append(f"file {MANIFEST_SIG} is missing (removed): the manifest is unsigned")
    elif public is not None and not _signed(public, files[MANIFEST_SIG].decode("ascii", "replace"), files[MANIFEST]):
        findings.append("manifest: its signature does not verify (manifest edited, or signed by another key)")
    if public is not None and manifest.get("key_fingerprint") != _fingerprint(public):
        findings.append(f"manifest: names key {manifest.get('key_fingerprint')}, but the package's key is {_fingerprint(public)}")
    _files(files, manifest, findings)
    checkpoint = _checkpoint(files, public, manifest, findings)
    proof = _json(files, CHAIN, findings)
    if checkpoint is None or proof is None:
        return findings
    findings += check_chain(proof, *checkpoint)
    try:
        bodies = proven_entries(proof)
    except (ValueError, TypeError):
        return [*findings, f"chain: an entry body in {CHAIN} is not valid JSON (altered)"]
    _calls(files, manifest, bodies, int(proof["first_seq"]), findings)
    return findings
