"""Listing calls without content: ids, times, durations, kind, status, flags, levels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo

from callrec import jsoncodec
from callrec.timefmt import format_ts_many
from callrec.vault._store import Vault

__all__ = ["list_calls", "list_calls_paged", "PAGE_CALLS"]

#: Calls read per page of a listing: a page is one query and a few hundred KB of objects, so a
#: listing of ten years needs no more memory than a short one.
PAGE_CALLS = 1000

#: The columns with a handful of distinct values come as one text (``kind status rate channels
#: transcript flags``) that is split and decoded once per distinct value: a month is thousands of
#: rows, and each column fetched is an object built per row.
_COLUMNS = ("id, started_ts, ended_ts, frames, line || ' ' || kind || ' ' ||"
            #: The worker's internal 'running' is shown as 'pending' (DESIGN.md "Interfaces"); a purged
            #: call's transcript is shown as 'purged' whatever it was before, since its text is gone.
            " status || ' ' || sample_rate || ' ' || channels || ' ' || CASE WHEN status = 'purged' THEN 'purged'"
            " WHEN transcript_status = 'running' THEN 'pending' ELSE transcript_status END || ' ' || flags, levels")
_OVERLAPS = "coalesce(ended_ts, started_ts + frames * 1.0 / sample_rate) >= :from"
#: Pages follow each other by (started_ts, id): a page starts after the last call of the one before.
_AFTER = "(started_ts > :after_ts OR (started_ts = :after_ts AND id > :after_id))"
#: Both bounds go through ``calls_started``: no finished call starts earlier than the longest call
#: before the window (``archive_state.max_call_s``, raised at every seal); a call still recording
#: can be longer, so those come from the small partial index ``calls_recording``. A later page
#: starts its range at the previous page's last start (``:lowest``), never again at ``:earliest``.
_WINDOW = (
    f"SELECT {_COLUMNS} FROM calls WHERE started_ts >= :lowest AND started_ts < :to AND {_OVERLAPS} AND {_AFTER}"
    f" UNION ALL SELECT {_COLUMNS} FROM calls WHERE status = 'recording' AND started_ts < :earliest AND {_OVERLAPS}"
    f" AND {_AFTER} ORDER BY started_ts, id LIMIT :page"
)


def _shared(text: str) -> tuple[str, str, str, int, int, str, tuple[str, ...]]:
    line, kind, status, rate, channels, transcript, flags = text.split(" ", 6)
    return line, kind, status, int(rate), int(channels), transcript, tuple(jsoncodec.loads(flags))


def list_calls(vault: Vault, from_ts: float, to_ts: float, zone: tzinfo, *, with_line: bool = False) -> list[dict]:
    """Calls overlapping ``[from_ts, to_ts)``, oldest first, as the ``calls list --json`` objects
    (``with_line``: each names its line, ``line``)."""
    return [call for page in list_calls_paged(vault, from_ts, to_ts, zone, with_line=with_line) for call in page]


def list_calls_paged(vault: Vault, from_ts: float, to_ts: float, zone: tzinfo,
                     page: int = PAGE_CALLS, *, with_line: bool = False) -> Iterator[list[dict]]:
    """:func:`list_calls` a page of at most ``page`` calls at a time, each read when it is asked for
    (one query each, no transaction held between them: a call sealed meanwhile may show up)."""
    (max_call_s,) = vault.query("SELECT value FROM archive_state WHERE key = 'max_call_s'")[0]
    earliest = from_ts - max_call_s - 1.0
    bounds = _bounds(from_ts, to_ts, earliest, page)
    while rows := vault.query(_WINDOW, bounds):
        yield _objects(rows, zone, with_line)
        if len(rows) < page:
            return
        bounds.update(after_ts=rows[-1][1], after_id=rows[-1][0], lowest=max(earliest, rows[-1][1]))


def _bounds(from_ts: float, to_ts: float, earliest: float, page: int) -> dict:
    """The parameters of :data:`_WINDOW` for the first page."""
    return {"from": from_ts, "to": to_ts, "earliest": earliest, "lowest": earliest, "after_ts": float("-inf"),
            "after_id": 0, "page": page}


def _objects(rows: list[tuple], zone: tzinfo, with_line: bool = False) -> list[dict]:
    """The listing objects of a page: the times formatted in bulk, the ``levels`` of all the calls
    decoded as one JSON array, and the columns with a handful of values once per value."""
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
               jsoncodec.loads(f"[{','.join(levels)}]"), strict=True)]
    if with_line:
        for call, text in zip(listed, shared, strict=True):
            call["line"] = decoded[text][0]
    return listed
