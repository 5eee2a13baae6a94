"""The daily report as one self-contained HTML page with an inline SVG timeline of the day."""

from __future__ import annotations

import datetime as dt
import html
from importlib import resources
from string import Template
from zoneinfo import ZoneInfo

__all__ = ["render_html", "timeline_svg", "GAP_COLOURS"]

GAP_COLOURS = {"service_stopped": "#d32f2f", "crash": "#7b1fa2", "device_lost": "#f57c00",
               "overflow": "#fbc02d", "flatline": "#455a64"}
#: Test calls in teal: apart from calls (blue) and from every gap colour (the crash purple was too close).
_COVERED, _CALL, _TEST = "#43a047", "#1e88e5", "#00acc1"
#: Column headers of the call counts (the JSON keys are for programs).
_CALL_HEADERS = {"recorded": "calls recorded", "test_calls": "test calls", "total_duration_s": "total length",
                 "transcribed": "transcribed", "pending": "awaiting transcript", "failed": "transcription failed",
                 "no_model": "no speech model"}
_NOT_IN_SERVICE = "#e0e0e0"
_WIDTH, _LEFT, _RIGHT = 1100, 90, 20


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def timeline_svg(timeline: dict, zone: ZoneInfo, now: float) -> str:
    start, end = timeline["start"], timeline["end"]
    span = end - start
    plot = _WIDTH - _LEFT - _RIGHT

    def x(ts: float) -> float:
        return _LEFT + plot * (min(max(ts, start), end) - start) / span

    def rect(s: float, e: float, y: int, h: int, colour: str, title: str) -> str:
        w = max(x(e) - x(s), 1.0)
        return f'<rect x="{x(s):.1f}" y="{y}" width="{w:.1f}" height="{h}" fill="{colour}"><title>{_e(title)}</title></rect>'

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="190" role="img" '
             f'aria-label="timeline of the day">', '<rect width="100%" height="100%" fill="#fafafa"/>']
    for label, y in (("recorded", 30), ("calls", 80), ("test calls", 120)):
        parts.append(f'<text x="8" y="{y + 18}" font-size="13" fill="#333">{label}</text>')
    covered_to = min(now, end)
    since = max(start, timeline.get("since", start))
    if since > start:
        parts.append(rect(start, since, 30, 30, _NOT_IN_SERVICE, "not in service"))
    if covered_to > since:
        parts.append(rect(since, covered_to, 30, 30, _COVERED, "recorded"))
    for g in timeline["gaps"]:
        parts.append(rect(g["start"], g["end"], 30, 30, GAP_COLOURS.get(g["cause"], "#000"),
                          f"gap: {g['cause']}"))
    for c in timeline["calls"]:
        y, colour = (120, _TEST) if c["kind"] == "test" else (80, _CALL)
        parts.append(rect(c["start"], c["end"], y, 26, colour, "test call" if c["kind"] == "test" else "call"))
    tick = dt.datetime.fromtimestamp(start, zone)
    while tick.timestamp() <= end:
        tx = x(tick.timestamp())
        parts.append(f'<line x1="{tx:.1f}" y1="22" x2="{tx:.1f}" y2="150" stroke="#bbb" stroke-width="0.5"/>')
        parts.append(f'<text x="{tx:.1f}" y="166" font-size="10" text-anchor="middle" fill="#555">{tick:%H}</text>')
        tick = (tick + dt.timedelta(hours=1)).astimezone(zone)
    legend = [("recorded", _COVERED), ("call", _CALL), ("test call", _TEST), ("not in service", _NOT_IN_SERVICE)]
    legend += list(GAP_COLOURS.items())
    lx = _LEFT
    for name, colour in legend:
        parts.append(f'<rect x="{lx}" y="176" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="185" font-size="10" fill="#333">{_e(name)}</text>')
        lx += 20 + 7 * len(name)
    parts.append("</svg>")
    return "\n".join(parts)


def _rows(items: list[dict], keys: list[str], css: str | None = None) -> str:
    out = []
    for item in items:
        cls = f' class="{_e(item.get(css, ""))}"' if css else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(item.get(k, ''))}</td>" for k in keys) + "</tr>")
    return "\n".join(out) or f'<tr><td colspan="{len(keys)}">none</td></tr>'


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _call_cells(calls: dict) -> tuple[str, str]:
    head = "".join(f"<th>{_e(_CALL_HEADERS.get(k, k.replace('_', ' ')))}</th>" for k in calls)
    row = "".join(f"<td>{_e(_duration(v) if k == 'total_duration_s' else v)}</td>" for k, v in calls.items())
    return head, row


def _gap_rows(gaps: list[dict]) -> list[dict]:
    return [{**g, "notes": "; ".join(f"{n['note']} ({n['by']})" for n in g.get("notes", []))} for g in gaps]


def _window_state(w: dict) -> str:
    if w.get("cancelled_by"):
        return f"cancelled by {w['cancelled_by']}"
    if w.get("ended_by"):
        return f"ended early by {w['ended_by']}"
    return w.get("state", "announced")


def _window_rows(windows: list[dict]) -> list[dict]:
    return [{**w, "state": _window_state(w)} for w in windows]


def render_html(report: dict, zone: ZoneInfo) -> str:
    template = Template(resources.files("callrec.health").joinpath("report.html").read_text(encoding="utf-8"))
    now = dt.datetime.fromisoformat(report["generated_at"]).timestamp()
    calls = report["calls"]
    access = report["access_log"]
    return template.substitute(
        date=_e(report["date"]),
        summary=_e(report["summary"]),
        svg=timeline_svg(report["_timeline"], zone, now),
        findings=_rows(report["findings"], ["severity", "check", "message", "start", "end"], css="severity"),
        gaps=_rows(_gap_rows(report["gaps"]), ["cause", "start", "end", "notes"]),
        maintenance=_rows(_window_rows(report.get("maintenance", [])),
                          ["start", "end", "reason", "by", "announced_at", "state"]),
        calls_head=_call_cells(calls)[0],
        calls_row=_call_cells(calls)[1],
        access_total=_e(f"{access['entries']} access-log entries, {access['content_reads']} content read(s)"),
        reads=_rows(access["reads"], ["actor", "case_id", "action", "count"]),
        refused=_rows(access["refused"], ["actor", "action", "count"]),
        chain_seq=_e(report["chain_head"]["seq"]),
        chain_hash=_e(report["chain_head"]["hash"]),
        window_start=_e(report["window"]["start"]),
        window_end=_e(report["window"]["end"]),
        generated=_e(report["generated_at"]),
    )
