"""Refusing an action: the refusal itself is written to the access log, then raised.

Which roles may run an action is decided by the access layer's table (``callrec.access``); the
vault refuses only by the rules of one row (not this reviewer's case, four-eyes, …).

Refusals cost nothing (issue 18): an account that floods refused requests must not grow the log,
the witness file or the write lock's queue with them. So, per process (the daemon is one):

- the first refusal of an account for an action in a minute is written at once, as before, with
  its reason, call and case; the others of that minute only count in memory, and the count is
  written as one ``refused`` entry with ``detail.count`` and ``detail.minute`` (the minute's start)
  when the minute is over (by the next refusal, or the daemon's periodic :func:`flush_refusals`).
  The count is chained when it is written: a crash loses at most the uncounted rest of a minute;
- an account without any role gets at most :data:`ROLELESS_DAILY_CAP` entries a day; what is
  refused beyond that is counted, and the count written as one ``refused.overflow`` entry for
  the day once it is over;
- a refusal writes no checkpoint of its own: at most one per :data:`CHECKPOINT_EVERY_S` follows
  refusals (a command run once still checkpoints its refusal).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from callrec.errors import AccessDenied
from callrec.vault._store import Vault
from callrec.vault.people import roles_of

__all__ = ["refuse", "flush_refusals", "refusals_pending", "ROLELESS_DAILY_CAP", "CHECKPOINT_EVERY_S"]

#: Entries a day for the refusals of one account that holds no role.
ROLELESS_DAILY_CAP = 100
#: Seconds between two checkpoints that follow refusals alone.
CHECKPOINT_EVERY_S = 60.0


@dataclass
class _Book:
    """What one process has not written yet, per vault file."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    #: (actor, action, minute) -> refusals after the first of that minute, not yet written.
    minutes: dict[tuple[str, str, int], int] = field(default_factory=dict)
    #: (actor, day) -> entries written today for a role-less account.
    written: dict[tuple[str, int], int] = field(default_factory=dict)
    #: (actor, day) -> refusals of a role-less account beyond the cap.
    overflow: dict[tuple[str, int], int] = field(default_factory=dict)
    last_checkpoint: float = 0.0


_BOOKS: dict[Path, _Book] = {}
_BOOKS_LOCK = threading.Lock()


def _book(path: Path) -> _Book:
    with _BOOKS_LOCK:
        return _BOOKS.setdefault(path, _Book())


def _admit(book: _Book, actor: str, action: str, roleless: bool, now: float) -> bool:
    """True when this refusal is written now; else it was counted."""
    minute, day = int(now // 60), int(now // 86400)
    with book.lock:
        if roleless and book.written.get((actor, day), 0) >= ROLELESS_DAILY_CAP:
            book.overflow[(actor, day)] = book.overflow.get((actor, day), 0) + 1
            return False
        key = (actor, action, minute)
        if key in book.minutes:
            book.minutes[key] += 1
            return False
        book.minutes[key] = 0
        if roleless:
            book.written[(actor, day)] = book.written.get((actor, day), 0) + 1
        return True


def _due(book: _Book, now: float, everything: bool) -> tuple[list[tuple[str, str, int, int]], list[tuple[str, int, int]]]:
    """Take the counts whose minute (or day) is over — all of them with ``everything``. A count of
    a role-less account is one of its entries of the day too: past the cap it joins the overflow."""
    minute, day = int(now // 60), int(now // 86400)
    counts = []
    with book.lock:
        for key in [k for k in book.minutes if everything or k[2] < minute]:
            n = book.minutes.pop(key)
            if n:
                counts.append((*key, n))
        kept = []
        for actor, action, at, n in counts:
            capped = (actor, at // 1440)
            if capped not in book.written:  # an account with a role
                kept.append((actor, action, at, n))
            elif book.written[capped] >= ROLELESS_DAILY_CAP:
                book.overflow[capped] = book.overflow.get(capped, 0) + n
            else:
                book.written[capped] += 1
                kept.append((actor, action, at, n))
        days = [k for k in book.overflow if everything or k[1] < day]
        overflow = [(*k, book.overflow.pop(k)) for k in days]
        for k in [k for k in book.written if k[1] < day and not any(m[0] == k[0] for m in book.minutes)]:
            del book.written[k]
    return kept, overflow


def _write_counts(vault: Vault, counts: list, overflow: list) -> None:
    with vault.transaction():
        for actor, action, minute, n in counts:
            vault.log(actor, action, outcome="refused",
                      detail={"why": "refused again in this minute", "count": n, "minute": minute * 60})
        for actor, day, n in overflow:
            vault.log(actor, "refused.overflow", outcome="refused",
                      detail={"why": f"more than {ROLELESS_DAILY_CAP} refusals of an account without a role in a day",
                              "count": n, "day": day * 86400})


def _checkpoint_if_due(vault: Vault, book: _Book, now: float, force: bool = False) -> None:
    with book.lock:
        due = force or now - book.last_checkpoint >= CHECKPOINT_EVERY_S
        if due:
            book.last_checkpoint = now
    if due:
        vault.checkpoint()


def refusals_pending(path: Path) -> bool:
    """Whether this process counted refusals for the vault at ``path`` that are not written yet."""
    book = _book(path)
    with book.lock:
        return any(book.minutes.values()) or bool(book.overflow)


def flush_refusals(vault: Vault, now: float | None = None, *, everything: bool = False) -> int:
    """Write the counts of the minutes (and days) that are over, all of them with ``everything``
    (a daemon that stops); then a checkpoint when one is due. Returns the entries written."""
    now = time.time() if now is None else now
    book = _book(vault.path)
    counts, overflow = _due(book, now, everything)
    appended = vault.appended
    if counts or overflow:
        _write_counts(vault, counts, overflow)
    vault.appended = appended
    if counts or overflow or everything:
        _checkpoint_if_due(vault, book, now, force=everything)
    return len(counts) + len(overflow)


def refuse(vault: Vault, actor: str, action: str, why: str, **fields: Any) -> NoReturn:
    """Log the refusal (or count it, see above) and raise :class:`AccessDenied`."""
    now = time.time()
    book = _book(vault.path)
    if _admit(book, actor, action, not roles_of(vault, actor), now):
        vault.signer  # noqa: B018 - the key file is read before the write lock, not under it
        appended = vault.appended
        vault.log_now(actor, action, outcome="refused", detail={"why": why, **fields.pop("detail", {})}, ts=now, **fields)
        vault.appended = appended  # a refusal alone does not make the caller checkpoint
        flush_refusals(vault, now)
        _checkpoint_if_due(vault, book, now)
    raise AccessDenied(actor, why)
