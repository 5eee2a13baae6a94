"""Importing the exchange's call log (CSV) for the hotline number.

An export is taken to cover the whole local days from its first call to its last (exchanges
export per day), so a recording on those days with no exchange entry is reported. Only the time
span of each call to the hotline is kept as the exchange's record. When ``caller_column`` is set,
the caller's number of a row that matches a recorded call is stored with that call (and only
there: rows that match no call keep only their times), so a case can be scoped by number on a
sound-card line too. Every other column is read and dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from callrec.config import CdrConfig, Config
from callrec.errors import HealthError
from callrec.numbers import normalise_number
from callrec.timefmt import MAX_TS, MIN_TS, format_ts
from callrec.vault import Vault
from callrec.vault.calls import calls_overlapping
from callrec.vault.ops import store_cdr_import
from callrec.vault.people import CallNumbers, add_call_numbers

__all__ = ["CdrImport", "import_cdr", "import_cdr_bytes", "CdrFileError"]


class CdrFileError(HealthError):
    """exchange call log {0}: {1}"""

    exit_code = 2


@dataclass(frozen=True)
class CdrImport:
    rows: int
    hotline_calls: int
    new_calls: int
    from_ts: float
    to_ts: float
    #: Recorded calls that got their caller's number from this import.
    numbered: int = 0


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


#: The longest call an exchange's log may hold: anything longer is a broken row (1e308 seconds once
#: made every later check fail with an OverflowError).
MAX_CALL_S = 86400.0


class _BadRow(ValueError):
    """Why one row cannot be imported (its line number is added by the reader)."""


def _parse_time(value: str, cdr: CdrConfig, zone: ZoneInfo) -> float:
    value = value.strip()
    when = dt.datetime.strptime(value, cdr.time_format) if cdr.time_format else dt.datetime.fromisoformat(value)
    try:
        ts = (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()
    except (OverflowError, ValueError):
        ts = math.nan
    if not MIN_TS <= ts <= MAX_TS:
        raise _BadRow(f"the time {value[:40]!r} is outside {format_ts(MIN_TS, zone, 'seconds')[:10]}"
                      f" to {format_ts(MAX_TS, zone, 'seconds')[:10]}")
    return ts


def _span(row: dict, cdr: CdrConfig, zone: ZoneInfo) -> tuple[float, float]:
    """(start, end) of one row, every number range-checked."""
    start = _parse_time(row[cdr.start_column], cdr, zone)
    if cdr.end_column:
        end = _parse_time(row[cdr.end_column], cdr, zone)
    else:
        duration = float(row[cdr.duration_column])
        if not 0 <= duration <= MAX_CALL_S:  # also false for NaN and inf
            raise _BadRow(f"the duration {row[cdr.duration_column][:40]!r} is not 0 to {MAX_CALL_S:.0f} seconds")
        end = start + duration
    if end < start:
        raise _BadRow("the call ends before it starts")
    if end - start > MAX_CALL_S:
        raise _BadRow(f"the call lasts more than {MAX_CALL_S:.0f} seconds")
    return start, end


def _read(raw: bytes, path: Path | str, config: Config) -> tuple[list[tuple[float, float]], int, str, list[str | None]]:
    cdr = config.health.cdr
    try:
        text = raw.decode(cdr.encoding).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        raise CdrFileError(path, f"is not {cdr.encoding} text: set health.cdr.encoding") from None
    reader = csv.DictReader(text.splitlines(), delimiter=cdr.delimiter)
    try:
        needed = [cdr.called_column, cdr.start_column, cdr.end_column or cdr.duration_column,
                  *filter(None, [cdr.caller_column])]
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise CdrFileError(path, f"has no column {missing[0]!r}: set the column names in [health.cdr]")
        calls, rows, callers = _rows(reader, cdr, config.zone)
    except _BadRow as exc:
        raise CdrFileError(path, f"line {reader.line_num}: {exc}; nothing was imported") from None
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit (128 KiB); its line is not counted yet
        raise CdrFileError(path, f"line {reader.line_num + 1}: not a CSV row ({str(exc)[:80]}); nothing was imported") from None
    return calls, rows, hashlib.sha256(raw).hexdigest(), callers


def _rows(reader: csv.DictReader, cdr: CdrConfig, zone: ZoneInfo
          ) -> tuple[list[tuple[float, float]], int, list[str | None]]:
    """The hotline's calls (start, end), the rows read, and each call's caller (normalised; None:
    withheld, unreadable or not read)."""
    hotline = _digits(cdr.hotline_number)
    calls, callers, rows = [], [], 0
    for row in reader:
        rows += 1
        if _digits(row[cdr.called_column] or "") != hotline:
            continue
        try:
            calls.append(_span(row, cdr, zone))
            callers.append(normalise_number(row[cdr.caller_column], cdr.country_code) if cdr.caller_column else None)
        except _BadRow:
            raise
        except (TypeError, ValueError, AttributeError):  # AttributeError: a short row's missing field
            raise _BadRow("the time or duration cannot be read: check health.cdr.time_format") from None
    return calls, rows, callers


def _whole_days(first: float, last: float, zone: ZoneInfo) -> tuple[float, float]:
    """An export covers whole local days: from the first call's midnight to the midnight after the last."""
    lo = dt.datetime.fromtimestamp(first, zone).date()
    hi = dt.datetime.fromtimestamp(last, zone).date() + dt.timedelta(days=1)
    return (dt.datetime.combine(lo, dt.time(0), zone).timestamp(), dt.datetime.combine(hi, dt.time(0), zone).timestamp())


def import_cdr(vault: Vault, config: Config, path: Path, actor: str) -> CdrImport:
    """Store the hotline's calls from ``path``; re-importing the same calls adds nothing."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CdrFileError(path, f"cannot be read ({exc.strerror})") from None
    return import_cdr_bytes(vault, config, raw, path, actor)


def import_cdr_bytes(vault: Vault, config: Config, raw: bytes, path: Path | str, actor: str) -> CdrImport:
    """Store the hotline's calls from the bytes of a CDR file the caller read (``path`` names it in messages)."""
    if not config.health.cdr.hotline_number:
        raise CdrFileError(path, "health.cdr.hotline_number is not set in the config")
    calls, rows, digest, callers = _read(raw, path, config)
    if not calls:
        raise CdrFileError(path, f"holds no call to {config.health.cdr.hotline_number}: check hotline_number and called_column")
    lo, hi = _whole_days(min(s for s, _ in calls), max(s for s, _ in calls), config.zone)
    new = store_cdr_import(vault, actor, digest, lo, hi, calls)
    numbered = _number_calls(vault, config, calls, callers, actor) if config.health.cdr.caller_column else 0
    return CdrImport(rows, len(calls), new, lo, hi, numbered)


def _matching_call(vault: Vault, span: tuple[float, float], slack: float, taken: set[int]) -> int | None:
    """The recorded call (not a test call) a log row's span matches: overlapping within ``slack``,
    the one starting nearest to the row's start; ``None`` when none is free."""
    candidates = [c for c in calls_overlapping(vault, span[0] - slack, span[1] + slack, purged=False)
                  if c.kind == "call" and c.id not in taken]
    return min(candidates, key=lambda c: abs(c.started_ts - span[0])).id if candidates else None


def _number_calls(vault: Vault, config: Config, calls: list[tuple[float, float]], callers: list[str | None],
                  actor: str) -> int:
    """Store the caller's number (``None``: withheld) with each recorded call a row matches, once:
    a call that already has numbers (from the SIP tap, or an earlier import) keeps them."""
    cdr = config.health.cdr
    local = normalise_number(cdr.hotline_number, cdr.country_code) or ""
    matched: dict[int, str | None] = {}
    for span, caller in zip(calls, callers, strict=True):
        call_id = _matching_call(vault, span, cdr.match_slack_s, set(matched))
        if call_id is not None:
            matched[call_id] = caller
    if not matched:
        return 0
    return add_call_numbers(vault, {call_id: CallNumbers("in", caller, local) for call_id, caller in matched.items()},
                            actor)
