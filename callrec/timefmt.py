"""Times on the command line and in output: ISO 8601 with an offset, in the office's zone.

On the command line a time may also be a day (``2026-08-03``, ``today``, ``yesterday``) or a
moment relative to now (``now``, ``-7d``, ``-12h``, ``-30m``), the way operators write them for
``journalctl --since`` or ``find -mtime``. A time without an offset is local time in the
configured zone (``timezone`` in the config).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from datetime import datetime, tzinfo

from callrec.errors import UsageError

__all__ = ["TIME_HELP", "DAY_HELP", "MIN_TS", "MAX_TS", "bounded_ts", "parse_iso", "parse_time", "parse_day", "parse_window", "day_bounds", "format_ts",
           "format_ts_many"]

#: What ``--from``/``--to`` accept, for ``--help``.
TIME_HELP = ("ISO 8601 time or date (local time in the configured zone unless it has an offset), "
             "'today', 'yesterday', 'now' or a relative time such as -7d, -12h, -30m")
#: What ``--date`` accepts, for ``--help``.
DAY_HELP = "a local day in the configured zone: YYYY-MM-DD, 'today', 'yesterday' or a relative day such as -2d"

_RELATIVE = re.compile(r"^-(\d{1,9})([dhm])$")
_UNIT_S = {"d": 86400, "h": 3600, "m": 60}
#: The days a time may fall on: from the UNIX epoch to the end of 2199. Anything outside is a typo
#: or an attack, and every later step (day bounds, formatting, the vault's REAL columns) can take it.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 2), dt.date(2199, 12, 31)
MIN_TS = 0.0
MAX_TS = datetime.combine(LAST_DAY + dt.timedelta(days=2), dt.time(), dt.UTC).timestamp()
_RANGE = f"between {FIRST_DAY} and {LAST_DAY}"


def bounded_ts(ts: float, what: str, text: str) -> float:
    """``ts`` when it is a finite time in the supported range, else a one-line :class:`UsageError`."""
    if not MIN_TS <= ts <= MAX_TS:  # also false for NaN
        raise UsageError(f"{what} {text[:60]!r} is out of range: give a time {_RANGE}")
    return ts


def parse_iso(text: str, zone: tzinfo, what: str = "time") -> float:
    """UNIX seconds from ISO 8601; a time without an offset is taken in ``zone``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{what} {text[:60]!r} is not an ISO 8601 time such as 2026-08-03T09:00:00+09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return bounded_ts(moment.timestamp(), what, text)
    except (OverflowError, ValueError):  # year 1 or 9999 beyond the zone's offset
        raise UsageError(f"{what} {text[:60]!r} is out of range: give a time {_RANGE}") from None


def day_bounds(day: dt.date, zone: tzinfo) -> tuple[float, float]:
    """[start, end) of a local day in UNIX seconds (DST-safe: both ends are local midnights)."""
    start = datetime.combine(day, dt.time(), zone)
    end = datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.timestamp(), end.timestamp()


def parse_day(text: str, zone: tzinfo, what: str = "--date", now: float | None = None) -> dt.date:
    """A local day from ``YYYY-MM-DD``, ``today``, ``yesterday`` or ``-Nd``."""
    today = datetime.fromtimestamp(time.time() if now is None else now, zone).date()
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    relative = _RELATIVE.match(word)
    try:
        day = (today - dt.timedelta(days=int(relative.group(1))) if relative and relative.group(2) == "d"
               else dt.date.fromisoformat(word))
    except (ValueError, OverflowError):
        raise UsageError(f"{what} {text[:60]!r} is not a day: give YYYY-MM-DD, 'today', 'yesterday' or -Nd") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(f"{what} {text[:60]!r} is out of range: give a day {_RANGE}")
    return day


def parse_time(text: str, zone: tzinfo, what: str = "time", now: float | None = None, end: bool = False) -> float:
    """UNIX seconds from any form in ``TIME_HELP``.

    A day alone (``2026-08-03``, ``today``) means its first moment, or with ``end`` its last
    (the next midnight), so that ``--from X --to X`` covers the whole day X.
    """
    now = time.time() if now is None else now
    word = text.strip().lower()
    if word == "now":
        return now
    relative = _RELATIVE.match(word)
    if relative:
        return bounded_ts(now - int(relative.group(1)) * _UNIT_S[relative.group(2)], what, text)
    if word in ("today", "yesterday") or re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        start, stop = day_bounds(parse_day(word, zone, what, now), zone)
        return stop if end else start
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text[:60]!r} is not a time: give {TIME_HELP}") from None
    return parse_iso(text.strip(), zone, what)


def parse_window(start: str | None, stop: str | None, zone: tzinfo, now: float | None = None) -> tuple[float, float]:
    """(from, to) from ``--from``/``--to``: ``--from`` defaults to today's start, ``--to`` to now; from after to is a usage error."""
    now = time.time() if now is None else now
    lo = parse_time(start, zone, "--from", now) if start else day_bounds(parse_day("today", zone, now=now), zone)[0]
    hi = parse_time(stop, zone, "--to", now, end=True) if stop else now
    if lo > hi:
        raise UsageError(f"--from {start or 'today'} is after --to {stop or 'now'}: swap them")
    return lo, hi


def format_ts(ts: float | None, zone: tzinfo, timespec: str = "milliseconds") -> str | None:
    """ISO 8601 with the zone's offset; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, zone).isoformat(timespec=timespec)


def format_ts_many(stamps: Sequence[float | None], zone: tzinfo) -> list[str | None]:
    """``format_ts(ts, zone)`` (milliseconds) for each of ``stamps``, for long listings.

    ``datetime``'s C code is the fast way here: bulk formatting with numpy took a third of the time
    per stamp but cost a listing command 100-200 ms of importing numpy first.
    """
    at = datetime.fromtimestamp
    return [None if ts is None else at(ts, zone).isoformat(timespec="milliseconds") for ts in stamps]
