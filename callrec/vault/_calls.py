"""Listing calls without content: ids, times, durations, kind, status, flags, levels."""

from __future__ import annotations

import json
from datetime import tzinfo

from callrec.timefmt import format_ts
from callrec.vault._store import Vault

__all__ = ["list_calls"]

#: The worker's internal 'running' is shown as 'pending' (DESIGN.md "Interfaces"); a purged call's
#: transcript is shown as 'purged' whatever it was before, since its text is gone.
_TRANSCRIPT_STATUS = {"running": "pending"}


def list_calls(vault: Vault, from_ts: float, to_ts: float, zone: tzinfo) -> list[dict]:
    """Calls overlapping ``[from_ts, to_ts)``, oldest first, as the ``calls list --json`` objects."""
    rows = vault.query(
        "SELECT id, started_ts, ended_ts, frames, sample_rate, kind, status, channels, transcript_status, flags, levels"
        " FROM calls WHERE started_ts < ? AND coalesce(ended_ts, started_ts + frames * 1.0 / sample_rate) >= ?"
        " ORDER BY started_ts, id", (to_ts, from_ts))
    out = []
    for cid, start, end, frames, rate, kind, status, channels, tstatus, flags, levels in rows:
        out.append({
            "id": cid,
            "started_at": format_ts(start, zone),
            "ended_at": format_ts(end, zone),
            "duration_s": round(frames / rate, 3),
            "kind": kind,
            "status": status,
            "channels": channels,
            "sample_rate": rate,
            "transcript_status": "purged" if status == "purged" else _TRANSCRIPT_STATUS.get(tstatus, tstatus),
            "flags": json.loads(flags),
            "levels": json.loads(levels),
        })
    return out
