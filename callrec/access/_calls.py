"""``calls.list``: what was recorded, without content."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access.wire import Rows
from callrec.asr import quality_by_call
from callrec.timefmt import format_ts, parse_window
from callrec.vault import Vault
from callrec.vault.calls import list_calls_paged

__all__ = ["CallList", "calls_list"]

#: A call without a transcript (or whose text was purged) has no quality numbers.
_NO_QUALITY = {"uncertain_share": None, "words_per_minute": None}


@dataclass(frozen=True)
class CallList:
    #: The ``calls list --json`` objects (DESIGN.md, "Interfaces"), oldest first, read page by page
    #: as they are written (a window of any length; through the socket, a stream).
    calls: Rows
    #: The window listed (ISO 8601 with offset), so that an empty list can say which window.
    from_at: str
    to_at: str


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a page of a listing is built.

    A page is ~1,000 calls, each a few new dicts and lists that stay alive until the page is
    written, so the collector's passes over them (a full pass of the whole heap among them) cost
    as much as building them (bench/bench_calls_list.py: ~20 of ~50 ms a month). What is built here holds
    no reference cycles, so a pause collects nothing later that it would have collected now; the
    pause is process-wide (other threads' cycles wait the few milliseconds too) and is undone
    only by whoever began it, so overlapping listings leave the collector as they found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@use_case("calls.list")
def calls_list(vault: Vault, actor: Actor, *, from_iso: str | None = None, to_iso: str | None = None) -> CallList:
    """Calls in the window; ``--from`` defaults to today's start and ``--to`` to now. The window
    is checked now; the calls are read a page at a time while the caller writes them."""
    zone = vault.config.zone
    start, end = parse_window(from_iso, to_iso, zone)
    return CallList(Rows(_pages(vault, start, end)), format_ts(start, zone, "seconds"), format_ts(end, zone, "seconds"))


def _pages(vault: Vault, start: float, end: float) -> Iterator[list[dict]]:
    pages = list_calls_paged(vault, start, end, vault.config.zone, with_line=True)
    while True:
        with _collector_paused():
            calls = next(pages, None)
            if calls is None:
                return
            quality = {cid: q.to_json() for cid, q in
                       quality_by_call(vault, [c["id"] for c in calls], vault.config.asr.uncertain_below).items()}
            for c in calls:  # recognition-quality numbers only, never words (DESIGN.md: ops see no content)
                c.update(quality.get(c["id"], _NO_QUALITY))
        yield calls
