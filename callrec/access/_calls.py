"""``calls.list``: what was recorded, without content."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.asr import quality_by_call
from callrec.timefmt import format_ts, parse_window
from callrec.vault import Vault, list_calls

__all__ = ["CallList", "calls_list"]


@dataclass(frozen=True)
class CallList:
    #: The ``calls list --json`` objects (DESIGN.md, "Interfaces"), oldest first.
    calls: list[dict]
    #: The window listed (ISO 8601 with offset), so that an empty list can say which window.
    from_at: str
    to_at: str


@use_case("calls.list")
def calls_list(vault: Vault, actor: Actor, *, from_iso: str | None = None, to_iso: str | None = None) -> CallList:
    """Calls in the window; ``--from`` defaults to today's start and ``--to`` to now."""
    zone = vault.config.zone
    start, end = parse_window(from_iso, to_iso, zone)
    calls = list_calls(vault, start, end, zone)
    quality = quality_by_call(vault, [c["id"] for c in calls], vault.config.asr.uncertain_below)
    for c in calls:  # recognition-quality numbers only, never words (DESIGN.md: ops see no content)
        c.update(quality[c["id"]].to_json() if c["id"] in quality else {"uncertain_share": None, "words_per_minute": None})
    return CallList(calls, format_ts(start, zone, "seconds"), format_ts(end, zone, "seconds"))
