"""``log.show``: who did what to which call or case, when, with which result — for approvers and
admins. Reasons and details stay out: they may name a caller."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.timefmt import format_ts, parse_time
from callrec.vault import Vault, entries

__all__ = ["LogListing", "LogRow", "log_show"]


@dataclass(frozen=True)
class LogRow:
    seq: int
    time: str
    actor: str
    action: str
    result: str
    call: int | None
    case: int | None


@dataclass(frozen=True)
class LogListing:
    entries: list[LogRow]


@use_case("log.show")
def log_show(vault: Vault, actor: Actor, *, from_iso: str | None = None, to_iso: str | None = None,
             by: str | None = None, call_id: int | None = None, case_id: int | None = None) -> LogListing:
    zone = vault.config.zone
    since = parse_time(from_iso, zone, "--from") if from_iso else None
    until = parse_time(to_iso, zone, "--to", end=True) if to_iso else None
    rows = [LogRow(e.seq, format_ts(e.ts, zone), e.actor, e.action, e.outcome, e.call_id, e.case_id)
            for e in entries(vault.conn, since, until)
            if (by is None or e.actor == by) and (call_id is None or e.call_id == call_id)
            and (case_id is None or e.case_id == case_id)]
    return LogListing(rows)
