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
_COVERED, _CALL, _TEST = "#43a047", "#1e88e5", "#8e24aa"
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
        gaps=_rows(report["gaps"], ["cause", "start", "end"]),
        calls_head="".join(f"<th>{_e(k)}</th>" for k in calls),
        calls_row="".join(f"<td>{_e(v)}</td>" for v in calls.values()),
        access_total=_e(f"{access['entries']} access-log entries, {access['content_reads']} content read(s)"),
        reads=_rows(access["reads"], ["actor", "case_id", "action", "count"]),
        refused=_rows(access["refused"], ["actor", "action", "count"]),
        chain_seq=_e(report["chain_head"]["seq"]),
        chain_hash=_e(report["chain_head"]["hash"]),
        window_start=_e(report["window"]["start"]),
        window_end=_e(report["window"]["end"]),
        generated=_e(report["generated_at"]),
    )
