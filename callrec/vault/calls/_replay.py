"""The log explains every row (DESIGN.md invariant 12): replay the access log, compare the tables.

Users and roles, cases and their attached calls, the ledger's gaps and each call's lifecycle are
re-derived from the ``ok`` entries of the chain and compared with the rows. Findings name the row
and the field, never a value (a case's reason or a user name from a row an attacker wrote is not
repeated). Rows written before the log carried this (``log_format``, schema 3) are not asked for
entries they could not have; their seals, transcripts and purges are still checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from callrec.config import DEFAULT_LINE
from callrec.vault._store import Vault
from callrec.vault.people import number_findings

__all__ = ["unexplained_rows"]

#: Times in rows and entries come from the same clock reading; legacy rows were a moment apart.
_TOLERANCE_S = 1.0


@dataclass
class _Replayed:
    roles: set[tuple[str, str]] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    cases: dict[int, dict] = field(default_factory=dict)
    attached: dict[tuple[int, int], int] = field(default_factory=dict)
    gaps: dict[int, dict] = field(default_factory=dict)
    starts: dict[int, dict] = field(default_factory=dict)
    seals: dict[int, tuple[int, dict]] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)


def _entries(vault: Vault) -> Iterator[tuple]:
    yield from vault.conn.execute(
        "SELECT seq, ts, actor, action, call_id, case_id, reason, detail FROM access_log WHERE outcome = 'ok' ORDER BY seq")


def _replay(vault: Vault) -> _Replayed:
    r = _Replayed()
    for seq, ts, actor, action, call_id, case_id, reason, detail_json in _entries(vault):
        d = json.loads(detail_json)
        if action == "user.grant":
            r.users.add(d["user"])
            r.roles |= {(d["user"], role) for role in d["roles"]}
        elif action == "user.revoke":
            r.roles -= {(d["user"], role) for role in d["roles"]}
        elif action == "case.open":
            r.cases[case_id] = {"seq": seq, "opened_by": actor, "opened_ts": ts, "reason": reason,
                                "window_from_ts": d["from"], "window_to_ts": d["to"],
                                "status": "pending" if d.get("four_eyes", True) else "approved",
                                "decided_by": None, "decided_ts": None, "closed_ts": None}
        elif action in ("case.approve", "case.refuse") and case_id in r.cases:
            r.cases[case_id].update(status="approved" if action == "case.approve" else "refused",
                                    decided_by=actor, decided_ts=ts)
        elif action == "case.close" and case_id in r.cases:
            r.cases[case_id].update(status="closed", closed_ts=ts)
        elif action == "case.attach":
            r.attached.setdefault((case_id, call_id), seq)
        elif action == "gap.open":
            r.gaps[d["gap"]] = {"seq": seq, "start_ts": d["start_ts"], "end_ts": d["end_ts"], "cause": d["cause"],
                                "detail": d["detail"], "line": d.get("line", DEFAULT_LINE)}
        elif action == "gap.close" and d["gap"] in r.gaps:
            r.gaps[d["gap"]]["end_ts"] = d["end_ts"]
        elif action == "call.start":
            r.starts[call_id] = d
        elif action == "seal":
            r.seals[call_id] = (seq, d)
        elif action in ("purge", "delete"):
            r.removed.add(call_id)
    return r


def _differs(row_value: object, logged: object) -> bool:
    if isinstance(row_value, float) or isinstance(logged, float):
        if row_value is None or logged is None:
            return row_value is not logged
        return abs(float(row_value) - float(logged)) > _TOLERANCE_S
    return row_value != logged


def _users(vault: Vault, r: _Replayed, boundary: dict) -> list[str]:
    findings = []
    rows = set(vault.query("SELECT name, role FROM user_roles"))
    for name, role in sorted(rows - r.roles):
        findings.append(f"user_roles: {name} holds role {role} that no access-log entry grants (row added directly)")
    for name, role in sorted(r.roles - rows):
        findings.append(f"user_roles: {name} lost role {role} without a user.revoke entry (row deleted directly)")
    for (name,) in vault.query("SELECT name FROM users ORDER BY name"):
        if name not in r.users:
            findings.append(f"users: user {name} has no user.grant entry in the access log (row added directly)")
    return findings


_CASE_FIELDS = ("opened_by", "opened_ts", "reason", "window_from_ts", "window_to_ts", "status", "decided_by",
                "decided_ts", "closed_ts")


def _table(vault: Vault, table: str, fields: tuple[str, ...]) -> dict[int, dict]:
    return {row[0]: dict(zip(fields, row[1:], strict=True))
            for row in vault.query(f"SELECT id, {', '.join(fields)} FROM {table} ORDER BY id")}


def _unexplained(kind: str, entry: str, verb: str, rows: dict[int, dict], logged: dict[int, dict],
                 fields: tuple[str, ...], legacy_upto: int = 0) -> list[str]:
    """Rows without their log entry (past the legacy boundary), fields that differ from the log,
    and rows the log has but the table lost — one finding each, naming the row, never a value."""
    findings = []
    for row_id, values in rows.items():
        log = logged.get(row_id)
        if log is None:
            if row_id > legacy_upto:
                findings.append(f"{kind} {row_id}: row has no {entry} entry in the access log (added directly)")
            continue
        findings += [f"{kind} {row_id}: {name} differs from the access log (row edited)"
                     for name in fields if _differs(values[name], log[name])]
    findings += [f"{kind} {row_id}: {verb} in access log entry {log['seq']} but its row is gone"
                 for row_id, log in sorted(logged.items()) if row_id not in rows]
    return findings


def _cases(vault: Vault, r: _Replayed, boundary: dict) -> list[str]:
    findings = _unexplained("case", "case.open", "opened", _table(vault, "cases", _CASE_FIELDS), r.cases, _CASE_FIELDS)
    rows = {(c, k) for c, k in vault.query("SELECT case_id, call_id FROM case_calls")}
    for case_id, call_id in sorted(rows - set(r.attached)):
        findings.append(f"case {case_id}: call {call_id} is attached without a case.attach entry (row added directly)")
    for case_id, call_id in sorted(set(r.attached) - rows):
        findings.append(f"case {case_id}: call {call_id} attached in access log entry {r.attached[(case_id, call_id)]}"
                        " is no longer attached")
    return findings


_GAP_FIELDS = ("start_ts", "end_ts", "cause", "detail", "line")


def _gaps(vault: Vault, r: _Replayed, boundary: dict) -> list[str]:
    return _unexplained("gap", "gap.open", "recorded", _table(vault, "gaps", _GAP_FIELDS), r.gaps, _GAP_FIELDS,
                        boundary["gaps"])


def _calls(vault: Vault, r: _Replayed, boundary: dict) -> list[str]:
    findings = []
    seen = set()
    rows = vault.query("SELECT id, status, started_ts, ended_ts, sample_rate, channels, kind, pcm_sha256, frames, line"
                       " FROM calls ORDER BY id")
    for call_id, status, started, ended, rate, channels, kind, digest, frames, line in rows:
        seen.add(call_id)
        start = r.starts.get(call_id)
        if start is None and call_id > boundary["calls"]:
            findings.append(f"call {call_id}: row has no call.start entry in the access log (added directly)")
        elif start is not None:
            for name, value in (("started_ts", started), ("sample_rate", rate), ("channels", channels), ("line", line)):
                if _differs(value, start.get(name, DEFAULT_LINE) if name == "line" else start[name]):
                    findings.append(f"call {call_id}: {name} differs from its call.start entry (row edited)")
        seal = r.seals.get(call_id)
        if status == "recording":
            if seal is not None:
                findings.append(f"call {call_id}: sealed in access log entry {seal[0]} but the row says recording"
                                " (seal undone)")
            continue
        if seal is None or status == "purged":
            continue  # reported with the audio checks (``_verify._sealed_audio``)
        logged = seal[1]
        checks = [("status", status, logged["status"]), ("pcm_sha256", digest, logged["pcm_sha256"]),
                  ("frames", frames, logged["frames"])]
        if "ended_ts" in logged:
            checks += [("ended_ts", ended, logged["ended_ts"]), ("kind", kind, logged["kind"])]
        for name, value, expected in checks:
            if _differs(value, expected):
                findings.append(f"call {call_id}: {name} differs from its seal entry {seal[0]} (row edited)")
    for call_id, (seq, _) in sorted(r.seals.items()):
        if call_id not in seen:
            why = "purged calls keep their row" if call_id in r.removed else "no purge or deletion entry"
            findings.append(f"call {call_id}: sealed in access log entry {seq} but its row and audio are gone ({why})")
    return findings


def _format_boundary(vault: Vault) -> tuple[dict, list[str]]:
    """The ids up to which rows predate the log's format 2, and findings if they were moved.

    On a vault created with format 2 they are 0; on a migrated one the first format-2 entry
    (``log.format``, signed) states them.
    """
    row = vault.conn.execute("SELECT legacy_upto, legacy_calls_upto, legacy_gaps_upto FROM log_format").fetchone()
    if row is None:
        return {"calls": 0, "gaps": 0}, ["log_format: the row is gone (deleted with the data key alone)"]
    upto, calls, gaps = row
    boundary, findings = {"calls": calls, "gaps": gaps}, []
    if upto == 0:
        if calls or gaps:
            findings.append("log_format: a vault created with access-log format 2 has format-1 rows (boundary edited)")
        return {"calls": 0, "gaps": 0}, findings
    row = vault.conn.execute("SELECT action, detail FROM access_log WHERE seq = ?", (upto + 1,)).fetchone()
    if row is None:
        return boundary, findings  # nothing appended since the migration
    stated = json.loads(row[1]) if row[0] == "log.format" else {}
    if (stated.get("legacy_calls_upto"), stated.get("legacy_gaps_upto")) != (calls, gaps):
        findings.append(f"log_format: the format-1 boundary differs from the log.format entry {upto + 1} (boundary edited)")
        boundary = {"calls": stated.get("legacy_calls_upto", 0), "gaps": stated.get("legacy_gaps_upto", 0)}
    return boundary, findings


def unexplained_rows(vault: Vault) -> list[str]:
    """One finding per row (user role, case, attachment, gap, call) the access log does not explain."""
    boundary, findings = _format_boundary(vault)
    replayed = _replay(vault)
    for step in (_users, _cases, _gaps, _calls):
        findings += step(vault, replayed, boundary)
    return findings + number_findings(vault)
