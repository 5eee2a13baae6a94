"""``log.show``: who did what to which call or case, when, with which result — for approvers and
admins. Reasons and details stay out: they may name a caller."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.timefmt import format_ts, parse_time
from callrec.vault import Vault
from callrec.vault.log import key_fingerprint, log_entries, signed_head

__all__ = ["KeyInfo", "LogHead", "LogListing", "LogRow", "key_show", "log_head", "log_show"]


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


@dataclass(frozen=True)
class LogHead:
    """The newest signed checkpoint: what ops keep off the host for ``verify --trusted-head``."""
    seq: int
    hash: str
    time: str | None
    sig: str
    key_fingerprint: str


@dataclass(frozen=True)
class KeyInfo:
    """The public half of the checkpoint signing key, for accounts that cannot read the key file."""
    algorithm: str
    fingerprint: str


@use_case("key.show")
def key_show(vault: Vault, actor: Actor) -> KeyInfo:
    return KeyInfo("Ed25519", key_fingerprint(vault.config))


@use_case("log.head")
def log_head(vault: Vault, actor: Actor) -> LogHead:
    vault.checkpoint()
    head = signed_head(vault)
    return LogHead(head["seq"], head["hash"], format_ts(head["ts"], vault.config.zone, "seconds"), head["sig"],
                   head["key_fingerprint"])


@use_case("log.show")
def log_show(vault: Vault, actor: Actor, *, from_iso: str | None = None, to_iso: str | None = None,
             by: str | None = None, call_id: int | None = None, case_id: int | None = None) -> LogListing:
    zone = vault.config.zone
    since = parse_time(from_iso, zone, "--from") if from_iso else None
    until = parse_time(to_iso, zone, "--to", end=True) if to_iso else None
    rows = [LogRow(e.seq, format_ts(e.ts, zone), e.actor, e.action, e.outcome, e.call_id, e.case_id)
            for e in log_entries(vault, since, until)
            if (by is None or e.actor == by) and (call_id is None or e.call_id == call_id)
            and (case_id is None or e.case_id == case_id)]
    return LogListing(rows)
