"""The HTML report renders in real headless Chromium, and no report output carries content."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

import numpy as np
import pytest

from callrec.daemon import HealthService
from callrec.health import build_report, write_report
from callrec.health._html import GAP_COLOURS
from callrec.vault.calls import add_transcript, read_transcripts
from callrec.vault.people import add_user, attach_call, decide_case, open_case
from tests.conftest import record_call
from tests.health.conftest import DAY, build_day
from tests.health.test_day import BAD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHRASE = "熱が三日続いて息が苦しいです"
REASON = "死亡事案の確認のため"


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) to an (h, w, channels) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if ftype == 2:
            line = (line + prev) & 0xFF
        elif ftype in (1, 3, 4):
            cur = line.copy()
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) >> 1
                else:
                    c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 0xFF
            line = cur
        out[y] = line
        prev = line
    return out.reshape(height, width, bpp)[:, :, :3]


def _has_colour(pixels: np.ndarray, hex_colour: str, at_least: int = 200) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - rgb).max(axis=2) <= 6).sum()) >= at_least


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_report_page_renders_in_headless_chromium_with_the_timeline(vault, config, tmp_path):
    build_day(vault, config, BAD)
    paths = write_report(build_report(vault, config, DAY), config)
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--force-color-profile=srgb", "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--screenshot={shot}", "--window-size=1200,800", paths["html"].as_uri()],
                       check=True, capture_output=True, timeout=120)
    pixels = _png_pixels(shot.read_bytes())
    assert pixels.shape[:2] == (800, 1200)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20, "the screenshot is blank"
    assert _has_colour(pixels, "#43a047"), "no recorded (covered) span drawn"
    assert _has_colour(pixels, GAP_COLOURS["flatline"]), "the flatline hour is not drawn"
    assert _has_colour(pixels, GAP_COLOURS["service_stopped"]), "the stopped service is not drawn"


def test_no_transcript_text_or_reason_reaches_reports_metrics_or_journal(vault, config, caplog):
    zone = config.zone
    now = time.time()
    today = dt.datetime.fromtimestamp(now, zone).date()
    day_start = dt.datetime.combine(today, dt.time(0), zone).timestamp()
    call_id = record_call(vault, started_ts=day_start + (now - day_start) / 2)
    add_transcript(vault, call_id, 0, "vosk", "test-model", "0" * 64,
                   [{"word": PHRASE, "start": 0.0, "end": 1.0, "conf": 1.0}], PHRASE)
    add_user(vault, "admin", "rev", ["reviewer"])
    add_user(vault, "admin", "appr", ["approver"])
    case_id = open_case(vault, "rev", REASON, day_start, now)
    decide_case(vault, "appr", case_id, True)
    attach_call(vault, "rev", case_id, call_id)
    transcripts, _, _ = read_transcripts(vault, "rev", call_id, case_id)
    assert transcripts[0].text == PHRASE  # the phrase really is in the vault

    report = build_report(vault, config, today)
    paths = write_report(report, config)
    with caplog.at_level(logging.DEBUG, logger="callrec"):
        service = HealthService(config, vault)
        service.run_checks()
    metrics = (config.state_dir / "callrec.prom").read_text()
    outputs = [p.read_text(encoding="utf-8") for p in paths.values()] + [metrics, caplog.text]
    for text in outputs:
        assert PHRASE not in text
        assert REASON not in text
    assert report["access_log"]["reads"] == [{"actor": "rev", "case_id": case_id, "action": "transcript.read", "count": 1}]
    assert report["access_log"]["content_reads"] == 1
    assert "transcript.read" in paths["html"].read_text() and ">rev<" in paths["html"].read_text()


def test_report_page_lists_maintenance_notes_and_readable_headers(vault, config):
    """The page has a maintenance section with who announced each window, gap notes, human column
    headers for the call counts, and a test-call colour of its own (not a gap's)."""
    from callrec.health._html import _TEST, render_html
    from callrec.vault.ops import add_gap_note, insert_maintenance_window
    from tests.health.conftest import at

    build_day(vault, config, BAD)
    insert_maintenance_window(vault, "vendor-a", at(config, "15:00"), at(config, "16:00"), "exchange <firmware>")
    add_gap_note(vault, "root", at(config, "13:30"), "line unplugged by cleaners", at(config, "18:00"))
    page = render_html(build_report(vault, config, DAY), config.zone)
    assert "<h2>Planned maintenance</h2>" in page and "vendor-a" in page and "exchange &lt;firmware&gt;" in page
    assert "line unplugged by cleaners (root)" in page
    assert "<th>total length</th>" in page and "total_duration_s" not in page
    assert _TEST not in GAP_COLOURS.values() and _TEST.lower() != "#1e88e5"
