"""A day's timeline as SVG rectangles: where calls were recorded, where the line was not captured
(gaps, by cause) and announced maintenance. Positions are percentages of the day; they are
attributes, not inline styles, so the page's Content-Security-Policy needs no exception."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Span", "day_timeline"]


@dataclass(frozen=True)
class Span:
    kind: str  # "call", "test", "gap", "maintenance"
    x: float
    width: float
    label: str


def _seconds(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()


def _span(kind: str, start: str, end: str | None, day: tuple[float, float], label: str) -> Span | None:
    lo, hi = day
    a, b = max(_seconds(start), lo), min(_seconds(end) if end else hi, hi)
    if b < a:
        return None
    length = hi - lo
    return Span(kind, round(100 * (a - lo) / length, 3), round(max(100 * (b - a) / length, 0.15), 3), label)


def day_timeline(report: dict, calls: list[dict]) -> list[Span]:
    """Maintenance first (under), then gaps, then calls, each clipped to the report's window."""
    day = (_seconds(report["window"]["start"]), _seconds(report["window"]["end"]))
    spans = [_span("maintenance", m["start"], m["end"], day, "maintenance") for m in report.get("maintenance", [])]
    spans += [_span("gap", g["start"], g["end"], day, g["cause"]) for g in report["gaps"]]
    spans += [_span("test" if c["kind"] == "test" else "call", c["started_at"], c["ended_at"], day, c["kind"])
              for c in calls]
    return [s for s in spans if s is not None]
