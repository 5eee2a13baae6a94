"""The chain proof of a case package: the case's own entries in full, every other entry as a digest.

Built on the service side from the vault (:func:`chain_proof`); checked anywhere from the package
alone (:func:`check_chain`). The construction is the access log's format 2 (``callrec.vault.
_accesslog``): ``hash = SHA-256("callrec-log-v2:" + prev_hash + ":" + body_sha256)``, so folding
the body digests from the first proven entry up to the checkpoint must give the signed hash.
``docs/design/evidence.md`` specifies it for third-party verifiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from callrec.evidence._records import Body, ChainProof, Malformed, parse_body
from callrec.vault import SERVICE_ACTOR, LogEntry, Vault, body_sha256, link_hash
from callrec.vault.people import get_case

__all__ = ["CHAIN_FORMAT", "ProvenChain", "chain_proof", "check_chain", "CASE_ACTIONS", "CALL_ACTIONS"]

CHAIN_FORMAT = "callrec-chain/2"
#: Entries of the case itself (all carry its case id).
CASE_ACTIONS = ("case.open", "case.approve", "case.refuse", "case.attach", "case.close",
                "play", "export", "transcript.read", "transcript.search")
#: Lifecycle entries of an attached call written by the service (no case id, no reader).
CALL_ACTIONS = ("call.start", "seal", "transcript")


def _proves(entry: LogEntry, case_id: int, actors: set[str], call_ids: set[int]) -> bool:
    """An entry of the case by one of its own actors, or a lifecycle entry of one of its calls by
    the service; never a stranger's (refused) attempt that merely names the case."""
    if entry.case_id is not None:
        return entry.case_id == case_id and entry.action in CASE_ACTIONS and entry.actor in actors
    return entry.call_id in call_ids and entry.action in CALL_ACTIONS and entry.actor == SERVICE_ACTOR


def chain_proof(vault: Vault, case_id: int, call_ids: Iterable[int], upto_seq: int) -> dict:
    """The proof object for ``chain.json``: entries of the case and its calls up to ``upto_seq``.

    Format-1 entries (written before schema 3) cannot be reduced to digests, so the proof starts
    at the first format-2 entry; a call sealed before that has no seal in the package.
    """
    calls = set(call_ids)
    case = get_case(vault, case_id)
    actors = {a for a in (case.opened_by, case.decided_by, SERVICE_ACTOR) if a is not None}
    with vault.snapshot() as view:
        boundary = view.legacy_upto()
        log = [e for e in view.entries() if boundary < e.seq <= upto_seq]
    proven = [e for e in log if _proves(e, case_id, actors, calls)]
    if not proven:
        return {"format": CHAIN_FORMAT, "first_seq": upto_seq + 1, "prev_hash": None, "links": [], "entries": []}
    first = proven[0].seq
    segment = [e for e in log if e.seq >= first]
    return {
        "format": CHAIN_FORMAT,
        "first_seq": first,
        "prev_hash": segment[0].prev_hash,
        "links": [body_sha256(e.body()) for e in segment],
        "entries": [{"seq": e.seq, "body": e.body()} for e in proven],
    }


@dataclass(frozen=True)
class ProvenChain:
    """What a chain proof proves: findings, the bodies of the shown entries whose digests match
    their links (by seq), and the chain hash at every linked seq."""

    findings: list[str]
    bodies: dict[int, Body]
    hashes: dict[int, str]


def _fold(proof: ChainProof) -> dict[int, str]:
    digest, hashes = proof.prev_hash, {}
    for offset, link in enumerate(proof.links):
        digest = link_hash(digest, link)
        hashes[proof.first_seq + offset] = digest
    return hashes


def _shown(proof: ChainProof, findings: list[str]) -> dict[int, Body]:
    bodies: dict[int, Body] = {}
    last = proof.first_seq - 1
    for seq, body in proof.entries:
        index = seq - proof.first_seq
        if seq <= last:
            findings.append(f"chain: entry {seq} is shown twice or out of order")
        elif not 0 <= index < len(proof.links):
            findings.append(f"chain: entry {seq} lies outside the linked range")
        elif body_sha256(body) != proof.links[index]:
            findings.append(f"chain: entry {seq} does not match its link (entry edited)")
        else:
            try:
                parsed = parse_body(body, seq)
            except Malformed as exc:
                findings.append(f"chain: {exc} (altered or forged)")
                continue
            if parsed.seq != seq:
                findings.append(f"chain: entry {seq} carries another sequence number in its body")
            else:
                bodies[seq] = parsed
        last = max(last, seq)
    return bodies


def check_chain(proof: ChainProof, checkpoint_seq: int, checkpoint_hash: str) -> ProvenChain:
    """Rules 1-3 of the chain proof (docs/design/evidence.md): the links fold to the signed hash,
    their count ends at the checkpoint, and each shown body hashes to its link and names its seq."""
    findings = []
    if proof.format != CHAIN_FORMAT:
        findings.append(f"chain: proof/chain.json has format {proof.format[:40]!r}, expected {CHAIN_FORMAT}")
    end = proof.first_seq + len(proof.links) - 1
    if end != checkpoint_seq:
        findings.append(f"chain: the links end at entry {end}, not at the checkpoint's entry {checkpoint_seq}"
                        " (entries removed or added)")
    hashes = _fold(proof)
    if hashes.get(end, proof.prev_hash) != checkpoint_hash:
        findings.append(f"chain: the links do not lead to the signed checkpoint hash at entry {checkpoint_seq}"
                        " (an entry was removed, added or changed)")
    return ProvenChain(findings, _shown(proof, findings), hashes)
