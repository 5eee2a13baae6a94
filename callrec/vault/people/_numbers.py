"""A call's numbers: stored with the call, proven by the chain without being revealed.

A signalling source (the SIP tap) knows who called whom. The numbers go into ``call_numbers``
(encrypted like every row) in the transaction that writes the call's row, together with a
``call.numbers`` entry in the access log. That entry holds no number: only HMAC-SHA256 tags of
each number, keyed with the vault's own random ``number_key`` (never logged, never leaves the
vault except in its backups) and bound to the call id and the field. So:

- ``callrec verify`` re-computes the tags from the row and catches a number changed, added or
  removed after the fact (DESIGN.md invariant 12);
- someone who reads the log (an approver, the daily report's readers, a copy of the chain) cannot
  try the few million possible numbers against a tag without the key, and cannot tell that two
  calls came from the same number (the tags differ per call).

Purging a call's content removes its numbers too (``_retention.purge_call``); the entry stays,
revealing nothing. Numbers are never put in an exception or a finding: those name the call id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from callrec.vault._store import SERVICE_ACTOR, Vault

__all__ = ["CallNumbers", "add_call_numbers", "call_numbers", "case_number_tags", "numbers_of_calls", "number_findings", "number_tag",
           "write_numbers"]


@dataclass(frozen=True)
class CallNumbers:
    #: ``"in"`` (the line's number was called) or ``"out"`` (the line called out).
    direction: str
    #: The other party, E.164; None when withheld.
    remote: str | None
    #: The line's own number as the signalling named it.
    local: str


def _key(vault: Vault) -> bytes:
    return bytes(vault.conn.execute("SELECT key FROM number_key WHERE id = 1").fetchone()[0])


def number_tag(key: bytes, call_id: int, field: str, number: str | None) -> str:
    """HMAC-SHA256 of one number of one call (``field``: ``remote`` or ``local``), hex."""
    message = f"callrec call.numbers v1\0{call_id}\0{field}\0{'' if number is None else number}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _detail(key: bytes, call_id: int, numbers: CallNumbers) -> dict:
    return {"direction": numbers.direction, "remote_hmac": number_tag(key, call_id, "remote", numbers.remote),
            "local_hmac": number_tag(key, call_id, "local", numbers.local), "withheld": numbers.remote is None}


def write_numbers(vault: Vault, call_id: int, numbers: CallNumbers, actor: str = SERVICE_ACTOR) -> None:
    """The row and its ``call.numbers`` entry, inside the caller's transaction (``actor``: who
    brought the numbers — the service for a signalling source, the importer of a call log)."""
    vault.conn.execute("INSERT INTO call_numbers (call_id, direction, remote_number, local_number) VALUES (?,?,?,?)",
                       (call_id, numbers.direction, numbers.remote, numbers.local))
    vault.log(actor, "call.numbers", call_id=call_id, detail=_detail(_key(vault), call_id, numbers))


def add_call_numbers(vault: Vault, numbers: dict[int, CallNumbers], actor: str) -> int:
    """Store the numbers of each call in ``numbers`` that has none yet, in one transaction (a
    call's numbers are written once: the SIP tap's, or an earlier import's, stay); how many."""
    with vault.transaction():
        held = {r[0] for r in vault.conn.execute(
            f"SELECT call_id FROM call_numbers WHERE call_id IN ({','.join('?' * len(numbers))})", list(numbers))}
        fresh = sorted(set(numbers) - held)
        for call_id in fresh:
            write_numbers(vault, call_id, numbers[call_id], actor)
    return len(fresh)


def case_number_tags(vault: Vault, case_id: int, numbers: list[str]) -> list[str]:
    """What a ``case.open`` entry holds of the case's numbers: their HMACs, sorted (never a number)."""
    key = _key(vault)
    return sorted(number_tag(key, case_id, "case", n) for n in numbers)


def numbers_of_calls(vault: Vault, call_ids: list[int]) -> dict[int, CallNumbers]:
    """The stored numbers of each of ``call_ids`` that has any (a call without a row: unknown)."""
    found: dict[int, CallNumbers] = {}
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for call_id, *row in vault.query(
                f"SELECT call_id, direction, remote_number, local_number FROM call_numbers WHERE call_id IN ({marks})",
                chunk):
            found[call_id] = CallNumbers(*row)
    return found


def call_numbers(vault: Vault, call_id: int) -> CallNumbers | None:
    """A call's numbers (for the reviewers of a case the call belongs to: issue 21 decides who)."""
    rows = vault.query("SELECT direction, remote_number, local_number FROM call_numbers WHERE call_id = ?", (call_id,))
    return CallNumbers(*rows[0]) if rows else None


def number_findings(vault: Vault) -> list[str]:
    """Rows of ``call_numbers`` that their ``call.numbers`` entry does not explain, and entries
    whose row is gone while the call's content is not purged: one finding each, naming the call."""
    key = _key(vault)
    logged = {call_id: detail for call_id, detail in vault.query(
        "SELECT call_id, detail FROM access_log WHERE action = 'call.numbers' AND outcome = 'ok' ORDER BY seq")}
    findings = []
    rows = vault.query("SELECT call_id, direction, remote_number, local_number FROM call_numbers ORDER BY call_id")
    seen = set()
    for call_id, direction, remote, local in rows:
        seen.add(call_id)
        entry = logged.get(call_id)
        if entry is None:
            findings.append(f"call {call_id}: numbers stored without a call.numbers entry in the access log (added directly)")
        elif _detail(key, call_id, CallNumbers(direction, remote, local)) != json.loads(entry):
            findings.append(f"call {call_id}: its numbers differ from its call.numbers entry (row edited)")
    purged = {r[0] for r in vault.query("SELECT id FROM calls WHERE status = 'purged'")}
    for call_id in sorted(set(logged) - seen - purged):
        findings.append(f"call {call_id}: numbers logged in a call.numbers entry but the row is gone (deleted directly)")
    return findings + _case_number_findings(vault)


def _case_number_findings(vault: Vault) -> list[str]:
    """Cases whose ``case_numbers`` rows differ from the HMACs in their ``case.open`` entry."""
    logged = {case_id: json.loads(detail or "{}").get("numbers_hmac", []) for case_id, detail in vault.query(
        "SELECT case_id, detail FROM access_log WHERE action = 'case.open' AND outcome = 'ok' ORDER BY seq")}
    stored: dict[int, list[str]] = {}
    for case_id, number in vault.query("SELECT case_id, number FROM case_numbers ORDER BY case_id"):
        stored.setdefault(case_id, []).append(number)
    return [f"case {case_id}: its numbers differ from its case.open entry (rows edited, added or deleted)"
            for case_id in sorted(set(logged) | set(stored))
            if case_number_tags(vault, case_id, stored.get(case_id, [])) != sorted(logged.get(case_id, []))]

