"""Times on the command line and in output: ISO 8601 with an offset, in the office's zone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from callrec.errors import UsageError

__all__ = ["parse_iso", "format_ts"]


def parse_iso(text: str, zone: tzinfo, what: str = "time") -> float:
    """UNIX seconds from ISO 8601; a time without an offset is taken in ``zone``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not an ISO 8601 time such as 2026-08-03T09:00:00+09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def format_ts(ts: float | None, zone: tzinfo, timespec: str = "milliseconds") -> str | None:
    """ISO 8601 with the zone's offset; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, zone).isoformat(timespec=timespec)
