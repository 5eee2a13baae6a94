"""The coverage ledger: capture sessions, heartbeats and gaps (DESIGN.md invariant 3).

Each line has a ledger of its own (``line`` on sessions and gaps): every second of every line is
accounted for. A capture session covers ``[started_ts, ended_ts or heartbeat_ts]``. Inside a session, explicit
gaps (device lost, queue overflow, flatline input) mark seconds that were not captured. Between
sessions the service was not running: :func:`open_session` records that as a gap with cause
``service_stopped`` (or ``crash`` when the previous session never closed), so every second of any
window is either covered or inside a gap with a cause — a fact in the vault, not a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from callrec.config import DEFAULT_LINE
from callrec.vault._store import SERVICE_ACTOR, Vault

__all__ = [
    "GAP_CAUSES", "Gap", "open_session", "heartbeat", "close_session", "add_gap", "open_gap", "close_gap",
    "gaps_in", "coverage", "in_service_since", "measured_span", "merge_gaps",
]

#: ``tap_silent``: a SIP line's mirror delivered no packet at all for ``tap_idle_s``.
GAP_CAUSES = ("service_stopped", "crash", "device_lost", "overflow", "flatline", "tap_silent")


@dataclass(frozen=True)
class Gap:
    start_ts: float
    end_ts: float
    cause: str
    detail: str = ""
    #: Where the gap really began when the window cut it (the key of its one alert).
    since: float | None = None
    #: Still going on (no end recorded yet).
    ongoing: bool = False


def open_session(vault: Vault, source: str, started_ts: float, *, guest: bool = False,
                 line: str = DEFAULT_LINE) -> int:
    """Start a capture session of ``line``; closes a crashed predecessor and records the downtime
    since the line's last sign of life as a gap. A ``guest`` session (a replay beside the running
    daemon) only adds the span it covers and touches no other session."""
    with vault.transaction() as conn:
        if not guest:
            for prev_id, prev_beat in conn.execute(
                    "SELECT id, heartbeat_ts FROM capture_sessions WHERE ended_ts IS NULL AND line = ?", (line,)).fetchall():
                conn.execute("UPDATE capture_sessions SET ended_ts = ?, end_cause = 'crash' WHERE id = ?",
                             (prev_beat, prev_id))
            _close_left_open(vault, started_ts, line)
            last = conn.execute("SELECT ended_ts, end_cause FROM capture_sessions WHERE line = ?"
                                " ORDER BY ended_ts DESC LIMIT 1", (line,)).fetchone()
            if last is not None and started_ts > last[0]:
                cause = "crash" if last[1] == "crash" else "service_stopped"
                _insert_gap(vault, last[0], started_ts, cause, "", line)
        cur = conn.execute(
            "INSERT INTO capture_sessions (source, started_ts, heartbeat_ts, line) VALUES (?,?,?,?)",
            (source, started_ts, started_ts, line),
        )
        return cur.lastrowid


def heartbeat(vault: Vault, session_id: int, ts: float) -> None:
    with vault.transaction() as conn:
        conn.execute("UPDATE capture_sessions SET heartbeat_ts = ? WHERE id = ?", (ts, session_id))


def close_session(vault: Vault, session_id: int, ts: float, cause: str = "stopped") -> None:
    with vault.transaction() as conn:
        conn.execute("UPDATE capture_sessions SET heartbeat_ts = ?, ended_ts = ?, end_cause = ? WHERE id = ?",
                     (ts, ts, cause, session_id))


def _insert_gap(vault: Vault, start_ts: float, end_ts: float | None, cause: str, detail: str,
                line: str = DEFAULT_LINE) -> int:
    """Insert a gap and its ``gap.open`` entry (the log explains every gap, DESIGN.md invariant 12;
    a line other than the default one is named in it)."""
    gap_id = vault.conn.execute("INSERT INTO gaps (start_ts, end_ts, cause, detail, line) VALUES (?,?,?,?,?)",
                                (start_ts, end_ts, cause, detail, line)).lastrowid
    entry = {"gap": gap_id, "start_ts": start_ts, "end_ts": end_ts, "cause": cause, "detail": detail}
    if line != DEFAULT_LINE:
        entry["line"] = line
    vault.log(SERVICE_ACTOR, "gap.open", detail=entry)
    return gap_id


def _close_left_open(vault: Vault, started_ts: float, line: str) -> None:
    """Gaps of ``line`` a crashed writer left open end at its last sign of life (the crash gap takes
    over from there): otherwise an overflow or flatline of a dead process would look ongoing for ever."""
    (last,) = vault.conn.execute("SELECT max(coalesce(ended_ts, heartbeat_ts)) FROM capture_sessions WHERE line = ?",
                                 (line,)).fetchone()
    for gap_id, start in vault.conn.execute("SELECT id, start_ts FROM gaps WHERE end_ts IS NULL AND line = ?",
                                            (line,)).fetchall():
        end = max(start, min(last if last is not None else started_ts, started_ts))
        vault.conn.execute("UPDATE gaps SET end_ts = ? WHERE id = ?", (end, gap_id))
        vault.log(SERVICE_ACTOR, "gap.close", detail={"gap": gap_id, "end_ts": end})


def add_gap(vault: Vault, start_ts: float, end_ts: float, cause: str, detail: str = "", *,
            line: str = DEFAULT_LINE) -> int:
    with vault.transaction():
        return _insert_gap(vault, start_ts, end_ts, cause, detail, line)


def open_gap(vault: Vault, start_ts: float, cause: str, detail: str = "", *, line: str = DEFAULT_LINE) -> int:
    """A gap whose end is not known yet (device still lost, line still flat)."""
    with vault.transaction():
        return _insert_gap(vault, start_ts, None, cause, detail, line)


def close_gap(vault: Vault, gap_id: int, end_ts: float) -> None:
    with vault.transaction() as conn:
        conn.execute("UPDATE gaps SET end_ts = ? WHERE id = ?", (end_ts, gap_id))
        vault.log(SERVICE_ACTOR, "gap.close", detail={"gap": gap_id, "end_ts": end_ts})


def in_service_since(vault: Vault) -> float:
    """When the recorder was put in service: ``[health] in_service_since`` if configured, else the
    first capture (or first recorded gap) once there is one, else the moment ``init`` made the
    vault. Seconds before it are "not in service", never a gap: a fresh install is not an outage
    for the hours before it existed, nor for the minute between ``init`` and the first start."""
    configured = vault.config.health.in_service_since
    if configured:
        moment = dt.datetime.fromisoformat(configured)
        return (moment if moment.tzinfo else moment.replace(tzinfo=vault.config.zone)).timestamp()
    (first,) = vault.query("SELECT min(t) FROM (SELECT min(started_ts) AS t FROM capture_sessions"
                           " UNION ALL SELECT min(start_ts) FROM gaps)")[0]
    if first is not None:
        return first
    (made,) = vault.query("SELECT CAST(value AS REAL) FROM service_info WHERE key = 'in_service_since'")[0]
    return made


def measured_span(vault: Vault, start_ts: float, end_ts: float, now_ts: float | None = None) -> tuple[float, float]:
    """The part of a window that counts: from the start of service, up to now."""
    start = max(start_ts, in_service_since(vault))
    end = end_ts if now_ts is None else min(end_ts, now_ts)
    return start, max(start, end)


def gaps_in(vault: Vault, start_ts: float, end_ts: float, now_ts: float | None = None, *,
            line: str = DEFAULT_LINE, merge: bool = True) -> list[Gap]:
    """Gaps of ``line`` overlapping the window, clipped to it, oldest first; with ``merge``, gaps of
    one cause less than ``[health] gap_merge_s`` apart are one (:func:`merge_gaps`).

    Seconds of the window since the start of service that no session covers and no recorded gap
    explains (e.g. the service is down right now) come back as ``service_stopped``. An open session
    whose heartbeat is fresh covers up to now (the seconds since its last beat are not a gap).
    ``Gap.since`` keeps the real start of a recorded gap that the window clipped.
    """
    now = end_ts if now_ts is None else min(now_ts, end_ts)
    recorded = [
        Gap(max(s, start_ts), min(e if e is not None else now, end_ts), c, d, s, e is None)
        for s, e, c, d in vault.query(
            "SELECT start_ts, end_ts, cause, detail FROM gaps WHERE start_ts < ? AND (end_ts IS NULL OR end_ts > ?)"
            " AND line = ? ORDER BY start_ts", (end_ts, start_ts, line))
    ]
    fresh = (now_ts if now_ts is not None else end_ts) - vault.config.health.heartbeat_max_age_s
    sessions = [
        (s, now if e is None and beat >= fresh else (e if e is not None else beat))
        for s, e, beat in vault.query(
            "SELECT started_ts, ended_ts, heartbeat_ts FROM capture_sessions"
            " WHERE started_ts < ? AND (ended_ts IS NULL OR ended_ts > ?) AND line = ? ORDER BY started_ts",
            (end_ts, start_ts, line))
    ]
    recorded = _minus_replays(recorded, sessions)
    since = max(start_ts, in_service_since(vault))
    unexplained = _uncovered(since, now, sessions + [(g.start_ts, g.end_ts) for g in recorded])
    found = recorded + [Gap(s, e, "service_stopped", "", _session_end_before(vault, s, line), e >= now)
                        for s, e in unexplained]
    found = sorted((g for g in found if g.end_ts > g.start_ts), key=lambda g: g.start_ts)
    return merge_gaps(found, vault.config.health.gap_merge_s) if merge else found


def merge_gaps(gaps: list[Gap], merge_s: float) -> list[Gap]:
    """One gap per outage: gaps of the same cause that touch or lie less than ``merge_s`` apart
    become one, from the first's start to the last's end (a vault written before the capture
    writer merged them holds thousands of 0.1 s overflow gaps for one burst). Oldest first."""
    last: dict[str, int] = {}
    out: list[Gap] = []
    for g in gaps:
        i = last.get(g.cause)
        if i is not None and g.start_ts - out[i].end_ts <= merge_s:
            prev = out[i]
            out[i] = Gap(prev.start_ts, max(prev.end_ts, g.end_ts), prev.cause, prev.detail, prev.since,
                         g.ongoing if g.end_ts >= prev.end_ts else prev.ongoing)
            continue
        last[g.cause] = len(out)
        out.append(g)
    return out


#: Causes that mean "no session ran": a replayed feed covering part of such a gap fills that part.
DOWNTIME_CAUSES = ("service_stopped", "crash")


def _minus_replays(gaps: list[Gap], sessions: list[tuple[float, float]]) -> list[Gap]:
    """A downtime gap less the spans a session covers (a feed replayed into the outage)."""
    out = []
    for g in gaps:
        if g.cause not in DOWNTIME_CAUSES:
            out.append(g)
            continue
        inside = [(max(s, g.start_ts), min(e, g.end_ts)) for s, e in sessions if s < g.end_ts and e > g.start_ts]
        for s, e in _uncovered(g.start_ts, g.end_ts, inside):
            out.append(Gap(s, e, g.cause, g.detail, g.since if s == g.start_ts else None, g.ongoing and e >= g.end_ts))
    return out


def _session_end_before(vault: Vault, ts: float, line: str) -> float:
    """The real start of an unexplained gap: the line's last sign of life at or before ``ts``."""
    (last,) = vault.query("SELECT max(coalesce(ended_ts, heartbeat_ts)) FROM capture_sessions"
                          " WHERE coalesce(ended_ts, heartbeat_ts) <= ? AND line = ?", (ts + 0.001, line))[0]
    return last if last is not None else ts


def _uncovered(start: float, end: float, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out, cursor = [], start
    for s, e in sorted(spans):
        if s > cursor:
            out.append((cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return [(s, e) for s, e in out if e > s]


def coverage(vault: Vault, start_ts: float, end_ts: float, now_ts: float | None = None, *,
             line: str = DEFAULT_LINE) -> tuple[float, list[Gap]]:
    """(ratio of the window of ``line`` captured, the gaps, one per outage). Overlapping gaps are
    counted once; the seconds between two merged gaps that were captured still count as captured."""
    gaps = gaps_in(vault, start_ts, end_ts, now_ts, line=line, merge=False)
    lo, hi = measured_span(vault, start_ts, end_ts, now_ts)
    missing = sum(min(e, hi) - max(s, lo) for s, e in _merge([(g.start_ts, g.end_ts) for g in gaps])
                  if min(e, hi) > max(s, lo))
    span = hi - lo
    return (max(0.0, 1.0 - missing / span) if span > 0 else 1.0), merge_gaps(gaps, vault.config.health.gap_merge_s)


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]
