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

import numpy as np

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


def _offset(ts: int, zone: tzinfo) -> dt.timedelta:
    return datetime.fromtimestamp(ts, zone).utcoffset()


def _offset_text(offset: dt.timedelta) -> str:
    return datetime.fromtimestamp(0, dt.timezone(offset)).isoformat()[19:]


def format_ts_many(stamps: Sequence[float | None], zone: tzinfo) -> list[str | None]:
    """``format_ts(ts, zone)`` (milliseconds) for each of ``stamps``: the same strings, built in
    bulk for long listings (a third of the time per stamp).

    The instant is split into whole seconds and microseconds the way ``datetime.fromtimestamp``
    does (round half to even), the zone's offset is looked up once per UTC hour (per time in an
    hour holding a transition) and numpy formats the local times.
    """
    ts = np.array(stamps, dtype=np.float64)
    known = ~np.isnan(ts)
    frac, whole = np.modf(np.where(known, ts, 0.0))
    micros = np.rint(frac * 1e6).astype(np.int64)
    whole = whole.astype(np.int64) + micros // 1_000_000
    micros %= 1_000_000
    hours, where = np.unique(whole // 3600, return_inverse=True)
    texts: list[str] = []
    seconds: list[int] = []
    names: dict[dt.timedelta, int] = {}

    def name(offset: dt.timedelta) -> int:
        if offset not in names:
            names[offset] = len(texts)
            texts.append(_offset_text(offset))
            seconds.append(int(offset.total_seconds()))
        return names[offset]

    # An hour whose start and the next hour's start have different offsets holds a change (the
    # next hour's start is looked up once for both: a listing's hours mostly follow each other).
    at_hour: dict[int, dt.timedelta] = {}
    per_hour, mixed = [], []
    for i, hour in enumerate(hours.tolist()):
        first = at_hour[hour] if hour in at_hour else _offset(hour * 3600, zone)
        last = at_hour[hour + 1] = _offset(hour * 3600 + 3600, zone)
        per_hour.append(name(first))
        if first != last:
            mixed.append(i)
    name_of = np.array(per_hour, dtype=np.int64)[where]
    for j in np.flatnonzero(np.isin(where, mixed)).tolist():
        name_of[j] = name(_offset(int(whole[j]), zone))
    local = whole + np.array(seconds, dtype=np.int64)[name_of]
    days, second = np.divmod(local, 86400)
    shown = days[known]
    if len(shown) and all(len(t) == 6 for t in texts) and 0 <= shown.min() and shown.max() < _YEAR_10000:
        return _ascii_times(days, second, micros // 1000, name_of, texts, known)
    local_ms = local * 1000 + micros // 1000
    text = np.datetime_as_string(local_ms.astype("datetime64[ms]"), unit="ms").tolist()
    return [t + texts[n] if k else None for t, n, k in zip(text, name_of.tolist(), known.tolist(), strict=True)]


#: Days from 1970-01-01 to 10000-01-01: years of four digits end before it.
_YEAR_10000 = 2932897
#: ``YYYY-MM-DDThh:mm:ss.fff±hh:mm``: where each part starts.
_WIDTH, _DAY, _HOUR, _MINUTE, _SECOND, _MILLI, _OFFSET = 29, 0, 11, 14, 17, 20, 23


def _digits(out: np.ndarray, at: int, values: np.ndarray, width: int) -> None:
    for i in range(width):
        out[:, at + width - 1 - i] = 48 + values // 10**i % 10


def _ascii_times(days: np.ndarray, second: np.ndarray, milli: np.ndarray, name_of: np.ndarray, offsets: list[str],
                 known: np.ndarray) -> list[str | None]:
    """The texts built as one ASCII array (a few numpy operations for the whole listing, then one
    slice per time), for local days after 1970 with four-digit years and offsets of whole minutes
    (``±hh:mm``): what a listing almost always holds; other times take numpy's formatting."""
    unique_days, day_of = np.unique(days, return_inverse=True)
    day_text = np.frombuffer("".join(f"{_EPOCH + dt.timedelta(days=d):%Y-%m-%d}T" for d in unique_days.tolist())
                             .encode("ascii"), dtype=np.uint8).reshape(-1, 11)
    offset_text = np.frombuffer("".join(offsets).encode("ascii"), dtype=np.uint8).reshape(-1, 6)
    out = np.empty((len(days), _WIDTH), dtype=np.uint8)
    out[:, _DAY:_HOUR] = day_text[day_of]
    _digits(out, _HOUR, second // 3600, 2)
    _digits(out, _MINUTE, second // 60 % 60, 2)
    _digits(out, _SECOND, second % 60, 2)
    _digits(out, _MILLI, milli, 3)
    out[:, [_MINUTE - 1, _SECOND - 1]] = ord(":")
    out[:, _MILLI - 1] = ord(".")
    out[:, _OFFSET:] = offset_text[name_of]
    text = out.tobytes().decode("ascii")
    return [text[i:i + _WIDTH] if k else None for i, k in zip(range(0, len(text), _WIDTH), known.tolist(), strict=True)]


_EPOCH = dt.date(1970, 1, 1)
