"""Listing calls without content: ids, times, durations, kind, status, flags, levels."""

from __future__ import annotations

import json
from datetime import tzinfo

from callrec.timefmt import format_ts_many
from callrec.vault._store import Vault

__all__ = ["list_calls"]

#: The columns with a handful of distinct values come as one text (``kind status rate channels
#: transcript flags``) that is split and decoded once per distinct value: a month is thousands of
#: rows, and each column fetched is an object built per row.
_COLUMNS = ("id, started_ts, ended_ts, frames, line || ' ' || kind || ' ' ||"
            #: The worker's internal 'running' is shown as 'pending' (DESIGN.md "Interfaces"); a purged
            #: call's transcript is shown as 'purged' whatever it was before, since its text is gone.
            " status || ' ' || sample_rate || ' ' || channels || ' ' || CASE WHEN status = 'purged' THEN 'purged'"
            " WHEN transcript_status = 'running' THEN 'pending' ELSE transcript_status END || ' ' || flags, levels")
_OVERLAPS = "coalesce(ended_ts, started_ts + frames * 1.0 / sample_rate) >= :from"
#: Both bounds go through ``calls_started``: no finished call starts earlier than the longest call
#: before the window (``archive_state.max_call_s``, raised at every seal); a call still recording
#: can be longer, so those come from the small partial index ``calls_recording``.
_WINDOW = (
    f"SELECT {_COLUMNS} FROM calls WHERE started_ts >= :earliest AND started_ts < :to AND {_OVERLAPS}"
    f" UNION ALL SELECT {_COLUMNS} FROM calls WHERE status = 'recording' AND started_ts < :earliest AND {_OVERLAPS}"
    " ORDER BY started_ts, id"
)


def _shared(text: str) -> tuple[str, str, str, int, int, str, tuple[str, ...]]:
    line, kind, status, rate, channels, transcript, flags = text.split(" ", 6)
    return line, kind, status, int(rate), int(channels), transcript, tuple(json.loads(flags))


def list_calls(vault: Vault, from_ts: float, to_ts: float, zone: tzinfo, *, with_line: bool = False) -> list[dict]:
    """Calls overlapping ``[from_ts, to_ts)``, oldest first, as the ``calls list --json`` objects
    (``with_line``: each names its line, ``line``).

    A month is thousands of calls, so the times are formatted in bulk, the ``levels`` of all the
    calls are decoded as one JSON array, and the columns with a handful of values once per value.
    """
    (max_call_s,) = vault.query("SELECT value FROM archive_state WHERE key = 'max_call_s'")[0]
    rows = vault.query(_WINDOW, {"from": from_ts, "to": to_ts, "earliest": from_ts - max_call_s - 1.0})
    if not rows:
        return []
    ids, starts, ends, frames, shared, levels = zip(*rows, strict=True)
    times = format_ts_many(starts + ends, zone)
    decoded = {text: _shared(text) for text in set(shared)}
    listed = [{
        "id": cid,
        "started_at": start,
        "ended_at": end,
        "duration_s": round(n / rate, 3),
        "kind": kind,
        "status": status,
        "channels": channels,
        "sample_rate": rate,
        "transcript_status": transcript,
        "flags": list(flags),
        "levels": level,
    } for cid, start, end, n, (line, kind, status, rate, channels, transcript, flags), level
        in zip(ids, times[:len(rows)], times[len(rows):], frames, map(decoded.__getitem__, shared),
               json.loads(f"[{','.join(levels)}]"), strict=True)]
    if with_line:
        for call, text in zip(listed, shared, strict=True):
            call["line"] = decoded[text][0]
    return listed
