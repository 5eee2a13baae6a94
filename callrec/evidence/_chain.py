"""The chain proof of a case package: the case's own entries in full, every other entry as a digest.

Built on the service side from the vault (:func:`chain_proof`); checked anywhere from the package
alone (:func:`check_chain`). The construction is the access log's format 2 (``callrec.vault.
_accesslog``): ``hash = SHA-256("callrec-log-v2:" + prev_hash + ":" + body_sha256)``, so folding
the body digests from the first proven entry up to the checkpoint must give the signed hash.
``docs/design/evidence.md`` specifies it for third-party verifiers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from callrec.vault import LogEntry, Vault, body_sha256, link_hash

__all__ = ["CHAIN_FORMAT", "chain_proof", "check_chain", "proven_entries", "CASE_ACTIONS", "CALL_ACTIONS"]

CHAIN_FORMAT = "callrec-chain/2"
#: Entries of the case itself (all carry its case id).
CASE_ACTIONS = ("case.open", "case.approve", "case.refuse", "case.attach", "case.close",
                "play", "export", "transcript.read", "transcript.search")
#: Lifecycle entries of an attached call written by the service (no case id, no reader).
CALL_ACTIONS = ("call.start", "seal", "transcript")


def _proves(entry: LogEntry, case_id: int, call_ids: set[int]) -> bool:
    if entry.case_id is not None:
        return entry.case_id == case_id and entry.action in CASE_ACTIONS
    return entry.call_id in call_ids and entry.action in CALL_ACTIONS


def chain_proof(vault: Vault, case_id: int, call_ids: Iterable[int], upto_seq: int) -> dict:
    """The proof object for ``chain.json``: entries of the case and its calls up to ``upto_seq``.

    Format-1 entries (written before schema 3) cannot be reduced to digests, so the proof starts
    at the first format-2 entry; a call sealed before that has no seal in the package.
    """
    calls = set(call_ids)
    with vault.snapshot() as view:
        boundary = view.legacy_upto()
        log = [e for e in view.entries() if boundary < e.seq <= upto_seq]
    proven = [e for e in log if _proves(e, case_id, calls)]
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


def proven_entries(proof: dict) -> list[dict]:
    """The parsed bodies of the full entries (seq and every body field)."""
    return [json.loads(e["body"]) for e in proof.get("entries", [])]


def check_chain(proof: dict, checkpoint_seq: int, checkpoint_hash: str) -> list[str]:
    """Findings where the proof does not fold to the checkpoint or its entries do not match their links."""
    try:
        first, prev, links = int(proof["first_seq"]), proof["prev_hash"], list(proof["links"])
        full = [(int(e["seq"]), str(e["body"])) for e in proof["entries"]]
    except (KeyError, TypeError, ValueError):
        return ["chain: proof/chain.json is not a chain proof (missing or malformed fields)"]
    findings = []
    if proof.get("format") != CHAIN_FORMAT:
        findings.append(f"chain: proof/chain.json has format {proof.get('format')!r}, expected {CHAIN_FORMAT}")
    if first + len(links) - 1 != checkpoint_seq:
        findings.append(f"chain: the links end at entry {first + len(links) - 1}, not at the checkpoint's entry {checkpoint_seq}"
                        " (entries removed or added)")
    for seq, body in full:
        index = seq - first
        if not 0 <= index < len(links):
            findings.append(f"chain: entry {seq} lies outside the linked range")
        elif body_sha256(body) != links[index]:
            findings.append(f"chain: entry {seq} does not match its link (entry edited)")
        elif json.loads(body).get("seq") != seq:
            findings.append(f"chain: entry {seq} carries another sequence number in its body")
    digest = prev
    try:
        for link in links:
            digest = link_hash(digest, link)
    except TypeError:
        digest = None
    if digest != checkpoint_hash:
        findings.append(f"chain: the links do not lead to the signed checkpoint hash at entry {checkpoint_seq}"
                        " (an entry was removed, added or changed)")
    return findings
