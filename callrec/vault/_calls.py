"""Listing calls without content: ids, times, durations, kind, status, flags, levels."""

from __future__ import annotations

import json
from datetime import tzinfo

from callrec.timefmt import format_ts_many
from callrec.vault._store import Vault

__all__ = ["list_calls"]

_COLUMNS = ("id, started_ts, ended_ts, frames, sample_rate, kind, status, channels,"
            #: The worker's internal 'running' is shown as 'pending' (DESIGN.md "Interfaces"); a purged
            #: call's transcript is shown as 'purged' whatever it was before, since its text is gone.
            " CASE WHEN status = 'purged' THEN 'purged' WHEN transcript_status = 'running' THEN 'pending'"
            " ELSE transcript_status END, flags, levels")
_OVERLAPS = "coalesce(ended_ts, started_ts + frames * 1.0 / sample_rate) >= :from"
#: Both bounds go through ``calls_started``: no finished call starts earlier than the longest call
#: before the window (``archive_state.max_call_s``, raised at every seal); a call still recording
#: can be longer, so those come from the small partial index ``calls_recording``.
_WINDOW = (
    f"SELECT {_COLUMNS} FROM calls WHERE started_ts >= :earliest AND started_ts < :to AND {_OVERLAPS}"
    f" UNION ALL SELECT {_COLUMNS} FROM calls WHERE status = 'recording' AND started_ts < :earliest AND {_OVERLAPS}"
    " ORDER BY started_ts, id"
)
#: ``json.loads`` without its wrappers: the columns hold what ``json.dumps`` wrote.

_decode = json.JSONDecoder().raw_decode


def list_calls(vault: Vault, from_ts: float, to_ts: float, zone: tzinfo) -> list[dict]:
    """Calls overlapping ``[from_ts, to_ts)``, oldest first, as the ``calls list --json`` objects.

    A month is thousands of calls, so the times are formatted in bulk and each distinct ``flags``
    value (there are a handful) is decoded once.
    """
    (max_call_s,) = vault.query("SELECT value FROM archive_state WHERE key = 'max_call_s'")[0]
    rows = vault.query(_WINDOW, {"from": from_ts, "to": to_ts, "earliest": from_ts - max_call_s - 1.0})
    times = format_ts_many([row[1] for row in rows] + [row[2] for row in rows], zone)
    flag_lists = {flags: _decode(flags)[0] for flags in {row[9] for row in rows}}
    return [{
        "id": cid,
        "started_at": start,
        "ended_at": end,
        "duration_s": round(frames / rate, 3),
        "kind": kind,
        "status": status,
        "channels": channels,
        "sample_rate": rate,
        "transcript_status": tstatus,
        "flags": list(flag_lists[flags]),
        "levels": _decode(levels)[0],
    } for (cid, _, _, frames, rate, kind, status, channels, tstatus, flags, levels), start, end
        in zip(rows, times[:len(rows)], times[len(rows):], strict=True)]
