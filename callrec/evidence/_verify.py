"""Checking a case package with nothing but the package (``callrec evidence verify``).

No config, vault or key is read: the package carries the public key, the signed checkpoint, the
chain proof and the signed manifest. A published key fingerprint, when given, ties the package to
the office's recorder. Every file is parsed into its typed record (``_records``) before any rule
looks at it; anything not of the documented shape is a finding, one line naming the file, member,
call, entry or signature. A clean result needs a parsed, signed manifest and every rule of
``docs/design/evidence.md`` checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from callrec.evidence._chain import CALL_ACTIONS, CASE_ACTIONS, ProvenChain, check_chain
from callrec.evidence._files import PackageFiles, pcm_sha256_of, scan_package
from callrec.evidence._names import (
    CHAIN,
    CHECKPOINT,
    MANIFEST,
    MANIFEST_SIG,
    PACKAGE_FORMAT,
    PLAYER,
    PUBLIC_KEY,
    UNLISTED,
)
from callrec.evidence._records import (
    Body,
    CallFacts,
    Malformed,
    Manifest,
    parse_chain,
    parse_checkpoint,
    parse_key,
    parse_manifest,
    parse_signature,
)
from callrec.vault import SERVICE_ACTOR

__all__ = ["PackageFiles", "Report", "check_package", "verify_package", "scan_package", "pcm_sha256_of"]

T = TypeVar("T")
_KIB, _MIB = 1024, 1024 * 1024
#: The most a file that is read whole may hold (the rest is streamed).
LIMITS = {MANIFEST: 64 * _MIB, MANIFEST_SIG: _KIB, PUBLIC_KEY: 64 * _KIB, CHECKPOINT: 64 * _KIB, CHAIN: 1024 * _MIB}
#: Files every package lists besides its calls' audio and transcripts.
REQUIRED = (CHAIN, CHECKPOINT, PUBLIC_KEY, PLAYER)


@dataclass(frozen=True)
class Report:
    """The findings (empty only when the whole package holds) and the manifest, when it parsed."""

    findings: list[str]
    manifest: Manifest | None
    files: int


def _fingerprint(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).hexdigest()


def _signed(public: Ed25519PublicKey, sig: bytes, message: bytes) -> bool:
    try:
        public.verify(sig, message)
    except InvalidSignature:
        return False
    return True


def _load(files: PackageFiles, name: str, parse: Callable[[bytes], T], findings: list[str]) -> T | None:
    """The file parsed into its record, or ``None`` with one finding (missing, too large, malformed)."""
    if name not in files.sizes:
        findings.append(f"file {name} is missing (removed)")
        return None
    try:
        return parse(files.read(name, LIMITS[name]))
    except Malformed as exc:
        findings.append(f"file {name}: {exc} (altered or forged)")
    except ValueError as exc:  # larger than a package's file of that name may be
        findings.append(str(exc))
    return None


def _key(files: PackageFiles, expected: str | None, findings: list[str]) -> Ed25519PublicKey | None:
    public = _load(files, PUBLIC_KEY, parse_key, findings)
    if public is not None and expected is not None and _fingerprint(public) != expected.strip().lower():
        findings.append(f"key: the package was signed by key {_fingerprint(public)}, not by the published key {expected.strip().lower()}")
    return public


def _signature(files: PackageFiles, manifest: Manifest, public: Ed25519PublicKey | None, findings: list[str]) -> None:
    if manifest.format != PACKAGE_FORMAT:
        findings.append(f"manifest: format {manifest.format[:40]!r} is not {PACKAGE_FORMAT}: use a verifier for that format")
    sig = _load(files, MANIFEST_SIG, parse_signature, findings)
    if public is None:
        findings.append("manifest: its signature cannot be checked without the package's key")
        return
    if sig is not None and not _signed(public, sig, files.read(MANIFEST, LIMITS[MANIFEST])):
        findings.append("manifest: its signature does not verify (manifest edited, or signed by another key)")
    if manifest.key_fingerprint != _fingerprint(public):
        findings.append(f"manifest: names key {manifest.key_fingerprint}, but the package's key is {_fingerprint(public)}")


def _listed(files: PackageFiles, manifest: Manifest, findings: list[str]) -> set[str]:
    """Sizes first (``lstat``, nothing read), then streamed SHA-256; the names that hold."""
    held, seen = set(), set()
    for entry in manifest.files:
        name = entry.file
        if name in seen or name in UNLISTED:
            findings.append(f"manifest: file {name} is listed twice, or is the manifest or its signature")
            continue
        seen.add(name)
        size = files.sizes.get(name)
        if size is None:
            findings.append(f"file {name} is missing (removed)")
        elif size != entry.size:
            findings.append(f"file {name}: size {size} differs from the manifest's {entry.size} (altered)")
        elif files.sha256(name) != entry.sha256:
            findings.append(f"file {name}: SHA-256 differs from the manifest (altered)")
        else:
            held.add(name)
    for name in sorted(set(files.sizes) - seen - set(UNLISTED)):
        findings.append(f"file {name} is not listed in the manifest (added)")
    findings += [f"manifest: does not list {name}" for name in REQUIRED if name not in seen]
    return held


def _proven(files: PackageFiles, manifest: Manifest, public: Ed25519PublicKey | None,
            findings: list[str]) -> ProvenChain | None:
    """The chain proof checked against the signed checkpoint (also when the manifest's hash of
    either differs, which is a finding already: the proof's own findings tell what changed)."""
    cp = _load(files, CHECKPOINT, parse_checkpoint, findings)
    proof = _load(files, CHAIN, parse_chain, findings)
    if cp is None or proof is None:
        return None
    if public is not None and not _signed(public, cp.sig, cp.message):
        findings.append("checkpoint: its signature does not verify with the package's key (re-signed with another key or altered)")
    if (manifest.checkpoint_seq, manifest.checkpoint_hash) != (cp.seq, cp.hash):
        findings.append("checkpoint: differs from the one named in the manifest")
    chain = check_chain(proof, cp.seq, cp.hash)
    findings += chain.findings
    return chain


def _strangers(manifest: Manifest, bodies: Mapping[int, Body], findings: list[str]) -> None:
    """Every shown entry is the case's own (by its actors) or a lifecycle entry of one of its calls."""
    case = manifest.case
    actors = {case.opened_by, case.approved_by, SERVICE_ACTOR}
    calls = {c.id for c in manifest.calls}
    for seq, body in bodies.items():
        if body.case_id is not None:
            ours = body.case_id == case.id and body.action in CASE_ACTIONS and body.actor in actors
        else:
            ours = body.call_id in calls and body.action in CALL_ACTIONS and body.actor == SERVICE_ACTOR
        if not ours:
            findings.append(f"chain: entry {seq} is shown in full but is not an entry of this case's actors or calls")


def _case(manifest: Manifest, bodies: Mapping[int, Body], findings: list[str]) -> None:
    case = manifest.case
    opened = [b for b in bodies.values() if b.action == "case.open" and b.case_id == case.id and b.outcome == "ok"]
    if len(opened) != 1:
        findings.append(f"case {case.id}: no single case.open entry in the chain proof")
    elif opened[0].reason != case.reason:
        findings.append(f"case {case.id}: the manifest's reason differs from the case.open entry")
    elif opened[0].actor != case.opened_by:
        findings.append(f"case {case.id}: the manifest's opener differs from the case.open entry")
    if not manifest.calls:
        findings.append(f"case {case.id}: the manifest lists no calls")


def _access(manifest: Manifest, chain: ProvenChain, findings: list[str]) -> None:
    """Each content file names the entry that let it out: shown, of this case and call, same hash."""
    calls = {c.id for c in manifest.calls}
    for entry in manifest.files:
        if entry.call_id is None:
            continue
        body = chain.bodies.get(entry.log_seq)
        wanted = "export" if any(c.audio == entry.file for c in manifest.calls) else "transcript.read"
        if entry.call_id not in calls:
            findings.append(f"file {entry.file}: names call {entry.call_id}, which the manifest does not list")
        elif (body is None or body.action != wanted or body.case_id != manifest.case.id
              or body.call_id != entry.call_id or body.outcome != "ok" or chain.hashes.get(entry.log_seq) != entry.log_hash):
            findings.append(f"file {entry.file}: its access_log entry {entry.log_seq} is not a shown {wanted} entry"
                            " of this case and call with that hash")


def _before_proof(call: CallFacts, first_seq: int) -> str:
    return (f"call {call.id}: sealed in access-log entry {call.seal_seq}, before the chain proof starts at {first_seq}"
            " (the recorder's log format was upgraded since): its seal cannot be proven offline;"
            " the office can vouch for it with 'callrec verify'")


def _belongs(manifest: Manifest, call: CallFacts, findings: list[str]) -> None:
    owners = {e.file: e.call_id for e in manifest.files}
    for name in (call.audio, *call.transcripts):
        if name not in owners:
            findings.append(f"call {call.id}: file {name} is not listed in the manifest's files")
        elif owners[name] != call.id:
            findings.append(f"call {call.id}: file {name} is listed for another call")


def _seal(call: CallFacts, bodies: Mapping[int, Body], first_seq: int, findings: list[str]) -> str | None:
    """The PCM SHA-256 of the call's one seal entry (``None``, with a finding, when there is none)."""
    seals = [b for b in bodies.values()
             if b.action == "seal" and b.outcome == "ok" and b.call_id == call.id and b.actor == SERVICE_ACTOR]
    pcm = seals[0].detail.get("pcm_sha256") if len(seals) == 1 else None
    if not seals and call.seal_seq is not None and call.seal_seq < first_seq:
        problem = _before_proof(call, first_seq)
    elif not seals:
        problem = f"call {call.id}: no seal entry in the chain proof"
    elif not isinstance(pcm, str):
        problem = f"call {call.id}: more than one seal entry, or one without a PCM SHA-256, in the chain proof"
    else:
        problem = None if pcm == call.pcm_sha256 else f"call {call.id}: the manifest's PCM SHA-256 differs from its seal entry"
    if problem:
        findings.append(problem)
    return pcm if isinstance(pcm, str) else None


def _audio(files: PackageFiles, call: CallFacts, pcm: str | None, held: set[str], findings: list[str]) -> None:
    if call.audio not in held:
        if call.audio not in files.sizes:
            findings.append(f"call {call.id}: audio file {call.audio} is not in the package")
        return  # a file that is not what the manifest says is reported with the files, never decoded
    try:
        actual = files.pcm_sha256(call.audio)
    except (RuntimeError, ValueError, TypeError, MemoryError):  # libsndfile errors are RuntimeErrors
        findings.append(f"call {call.id}: audio file {call.audio} cannot be decoded (altered or damaged)")
        return
    if pcm is not None and actual != pcm:
        findings.append(f"call {call.id}: decoded audio of {call.audio} differs from the PCM SHA-256 in its seal entry (altered)")


def _calls(files: PackageFiles, manifest: Manifest, chain: ProvenChain, held: set[str], first_seq: int,
           findings: list[str]) -> None:
    case_id, bodies, seen = manifest.case.id, chain.bodies, set()
    exported = {b.call_id for b in bodies.values() if b.action == "export" and b.case_id == case_id and b.outcome == "ok"}
    for call in manifest.calls:
        if call.id in seen:
            findings.append(f"call {call.id}: listed twice in the manifest")
            continue
        seen.add(call.id)
        _belongs(manifest, call, findings)
        pcm = _seal(call, bodies, first_seq, findings)
        if call.id not in exported:
            findings.append(f"call {call.id}: no export entry of case {case_id} in the chain proof")
        _audio(files, call, pcm, held, findings)


def _rules(files: PackageFiles, public: Ed25519PublicKey | None, findings: list[str]) -> Manifest | None:
    manifest = _load(files, MANIFEST, parse_manifest, findings)
    if manifest is None:
        return None
    _signature(files, manifest, public, findings)
    held = _listed(files, manifest, findings)
    chain = _proven(files, manifest, public, findings)
    if chain is None:
        return manifest
    first_seq = min(chain.hashes, default=manifest.checkpoint_seq + 1)
    _strangers(manifest, chain.bodies, findings)
    _case(manifest, chain.bodies, findings)
    _access(manifest, chain, findings)
    _calls(files, manifest, chain, held, first_seq, findings)
    return manifest


def check_package(files: PackageFiles | Mapping[str, bytes], key_fingerprint: str | None = None) -> Report:
    """Every finding, one line each, and the parsed manifest (``None`` when it did not parse)."""
    package = files if isinstance(files, PackageFiles) else PackageFiles.from_memory(files)
    findings = list(package.findings)
    manifest = None
    try:
        public = _key(package, key_fingerprint, findings)
        manifest = _rules(package, public, findings)
    except OSError as exc:  # a file swapped or removed while it was being checked
        findings.append(f"package: a file changed or vanished while it was being checked ({exc.strerror or exc})")
    if manifest is None and not findings:
        findings.append(f"file {MANIFEST}: not a package manifest")
    return Report(findings, manifest, len(package.sizes))


def verify_package(files: PackageFiles | Mapping[str, bytes], key_fingerprint: str | None = None) -> list[str]:
    """Every finding, one line each; empty only when the whole package holds."""
    return check_package(files, key_fingerprint).findings

