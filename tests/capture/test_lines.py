"""Lines and the event-driven writer: several calls at once on a signalling line, each sealed on its
own with its numbers, the line's ledger, the tap's gaps and findings, the DTMF test call, recovery
after a crash per line — and no number in anything ops or a log can see.

The source here is a real thread emitting the events a signalling source emits (``_events.py``);
the vault, the recorder, the checks, the report and the CLI are the real ones.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import numpy as np
import pytest

from callrec.capture import CallAudio, CallEnd, CallsPipeline, CallStart, TapFinding, TapGap
from callrec.config import load_config
from callrec.health import build_report
from callrec.vault import Vault
from callrec.vault.archive import run_retention, sealed_flac
from callrec.vault.calls import CallRecorder, decode_flac, get_call
from callrec.vault.log import verify
from callrec.vault.ops import coverage, gaps_in
from callrec.vault.people import add_user, call_numbers
from tests.conftest import run_cli, write_config

REMOTE = ["+819011112222", "+818033334444", "+815055556666"]
LOCAL = "+81312345678"
#: How the numbers could show up in an output: E.164 and national forms, and their digits alone.
SHAPES = [s for n in [*REMOTE, LOCAL] for s in (n, n[1:], "0" + n[3:])]

LINES = """
[[lines]]
name = "hotline"
number = "0312345678"
source = "sip"
interface = "span0"

[[lines]]
name = "main"
number = "0312345679"
source = "sound"
"""


class ScriptedTap:
    """A signalling source on a thread of its own: emits the given events, then waits to be stopped."""

    rereadable = False

    def __init__(self, events: list, clock: float) -> None:
        self.name = "sip:span0"
        self.events = events
        self.clock = clock
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now(self) -> float:
        return self.clock

    def start(self, emit) -> None:
        def run() -> None:
            for event in self.events:
                self.clock = max(self.clock, getattr(event, "ts", 0) or 0, getattr(event, "start", 0) or 0)
                emit(event)
            self.done.set()
        self._thread = threading.Thread(target=run)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _tone(seconds: float, freq: float, seed: int) -> np.ndarray:
    """Two channels: caller (a tone) left, callee (noise) right, int16."""
    n = int(seconds * 8000)
    t = np.arange(n) / 8000
    left = 8000 * np.sin(2 * np.pi * freq * t)
    right = np.random.default_rng(seed).standard_normal(n) * 2000
    return np.stack([left, right], axis=1).astype(np.int16)


def _audio(key: str, start: float, frames: np.ndarray) -> list[CallAudio]:
    """20 ms packets' worth per event, as a tap hands them over."""
    return [CallAudio(key, start + i / 8000, frames[i:i + 160]) for i in range(0, len(frames), 160)]


@pytest.fixture
def lines_config(tmp_path):
    config_file = write_config(tmp_path, f"[asr]\nenabled = false\n{LINES}")
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    add_user(vault, "root", "root", ["ops", "admin"])
    yield config_file, config, vault
    vault.close()


def _script(t0: float) -> tuple[list, dict[str, np.ndarray]]:
    """Two calls overlapping, a third after them that is the DTMF test call, a tap gap, a finding."""
    sent = {"a": _tone(6.0, 440, 1), "b": _tone(4.0, 880, 2), "t": _tone(2.0, 660, 3)}
    a = _audio("a", t0 + 1, sent["a"])
    b = _audio("b", t0 + 2, sent["b"])
    events = [CallStart("a", t0 + 1, "in", REMOTE[0], LOCAL), *a[:100],
              CallStart("b", t0 + 2, "in", REMOTE[1], LOCAL)]
    for i in range(max(len(a) - 100, len(b))):  # interleaved, as two calls' packets arrive
        events += a[100 + i:101 + i] + b[i:i + 1]
    events += [CallEnd("b", t0 + 6, "bye"), CallEnd("a", t0 + 7, "rtp_timeout", ("packet_loss",), 0.02),
               TapGap("tap_silent", t0 + 10), TapGap("tap_silent", t0 + 10, t0 + 40),
               TapFinding("sip_tcp", "critical", t0 + 41,
                          f"SIP over TCP seen for the line's number (from {REMOTE[2]}): cannot be tapped"),
               CallStart("t", t0 + 50, "out", None, LOCAL), *_audio("t", t0 + 50, sent["t"]),
               CallEnd("t", t0 + 52, "bye", dtmf="1*0*0#")]
    return events, sent


def _run(config, vault, events, t0, line="hotline") -> CallsPipeline:
    tap = ScriptedTap(events, t0)
    pipeline = CallsPipeline(config, vault, tap, config.line(line))
    pipeline.start()
    assert tap.done.wait(30)
    deadline = time.monotonic() + 30
    while len(pipeline.sealed) < sum(isinstance(e, CallEnd) for e in events) and time.monotonic() < deadline:
        time.sleep(0.05)
    pipeline.stop()
    assert pipeline.join(30)
    vault.checkpoint()
    return pipeline


def _pcm(vault, call_id) -> np.ndarray:
    return np.concatenate(list(decode_flac(sealed_flac(vault, call_id))))


def test_overlapping_calls_are_each_sealed_with_their_audio_per_channel(lines_config):
    _, config, vault = lines_config
    t0 = time.time() - 3600
    events, sent = _script(t0)
    pipeline = _run(config, vault, events, t0)
    b, a, t = (get_call(vault, i) for i in pipeline.sealed)  # b hung up first
    assert [c.started_ts for c in (b, a, t)] == [t0 + 2, t0 + 1, t0 + 50]
    for call, key in ((a, "a"), (b, "b"), (t, "t")):
        assert (call.line, call.status, call.channels) == ("hotline", "sealed", 2)
        pcm = _pcm(vault, call.id)
        for channel in (0, 1):
            np.testing.assert_array_equal(pcm[:, channel], sent[key][:, channel])
    assert (a.levels["end"], b.levels["end"], t.levels["end"]) == ("rtp_timeout", "bye", "bye")
    assert "packet_loss" in a.flags and "short" in t.flags
    assert (a.kind, b.kind, t.kind) == ("call", "call", "test")
    assert call_numbers(vault, a.id).remote == REMOTE[0] and call_numbers(vault, t.id).remote is None
    assert call_numbers(vault, t.id).direction == "out"
    assert verify(vault) == []


def test_the_line_has_its_own_ledger_and_the_other_line_is_untouched(lines_config):
    _, config, vault = lines_config
    t0 = time.time() - 3600
    events, _ = _script(t0)
    _run(config, vault, events, t0)
    gaps = gaps_in(vault, t0, t0 + 60, line="hotline")
    assert [(g.cause, g.start_ts, g.end_ts) for g in gaps if g.cause == "tap_silent"] == [("tap_silent", t0 + 10, t0 + 40)]
    ratio, _ = coverage(vault, t0, t0 + 60, line="hotline")
    assert 0 < ratio < 1
    # The sound line never ran: nothing of it is covered, and none of the tap's gaps are its own.
    assert all(g.cause == "service_stopped" for g in gaps_in(vault, t0, t0 + 60, line="main"))


def test_a_crash_leaves_calls_that_the_next_start_of_that_line_seals_as_interrupted(lines_config):
    _, config, vault = lines_config
    rec = CallRecorder(vault)
    t0 = time.time() - 600
    hot = rec.start_call(t0, 8000, 2, line="hotline")
    other = rec.start_call(t0, 8000, 1, line="main")
    rec.append(hot, _tone(1, 440, 1))
    rec.flush()
    _run(config, vault, [], t0 + 60)
    assert get_call(vault, hot).status == "interrupted"
    assert get_call(vault, other).status == "recording"  # another line's call is that line's business


def test_a_full_queue_drops_audio_as_an_overflow_gap_never_waiting(lines_config, tmp_path):
    config_file = write_config(tmp_path / "q", f"[asr]\nenabled = false\n[capture]\nqueue_s = 1.0\n{LINES}")
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    t0 = time.time() - 600
    tap = ScriptedTap([], t0)
    pipeline = CallsPipeline(config, vault, tap, config.line("hotline"))
    # Before the writer runs, the queue fills: the source's emit returns at once and drops the excess.
    pipeline.emit(CallStart("x", t0, "in", REMOTE[0], LOCAL))
    started = time.monotonic()
    for event in _audio("x", t0, _tone(5, 440, 1)):
        pipeline.emit(event)
    assert time.monotonic() - started < 1.0
    pipeline.emit(CallEnd("x", t0 + 5, "bye"))
    pipeline.start()
    deadline = time.monotonic() + 30
    while not pipeline.sealed and time.monotonic() < deadline:
        time.sleep(0.05)
    pipeline.stop()
    pipeline.join(30)
    overflow = [g for g in gaps_in(vault, t0 - 1, t0 + 10, line="hotline") if g.cause == "overflow"]
    assert overflow and abs(overflow[0].start_ts - (t0 + 1.0)) < 0.05 and abs(overflow[0].end_ts - (t0 + 5)) < 0.05
    assert get_call(vault, pipeline.sealed[0]).frames == 8000
    vault.close()


def test_a_changed_number_is_caught_by_verify_and_purge_removes_the_numbers(lines_config):
    config_file, config, vault = lines_config
    t0 = time.time() - 3600
    events, _ = _script(t0)
    pipeline = _run(config, vault, events, t0)
    a = pipeline.sealed[1]
    entry = vault.query("SELECT detail FROM access_log WHERE action = 'call.numbers' AND call_id = ?", (a,))[0][0]
    assert not any(shape in entry for shape in SHAPES)
    with vault.transaction() as conn:
        conn.execute("UPDATE call_numbers SET remote_number = ? WHERE call_id = ?", ("+819099998888", a))
    found = verify(vault)
    assert found == [f"call {a}: its numbers differ from its call.numbers entry (row edited)"]
    with vault.transaction() as conn:
        conn.execute("UPDATE call_numbers SET remote_number = ? WHERE call_id = ?", (REMOTE[0], a))
        conn.execute("DELETE FROM call_numbers WHERE call_id = ?", (pipeline.sealed[0],))
    vault.checkpoint()
    assert verify(vault) == [f"call {pipeline.sealed[0]}: numbers logged in a call.numbers entry but the row is gone"
                             " (deleted directly)"]
    with vault.transaction() as conn:
        conn.execute("INSERT INTO call_numbers (call_id, direction, remote_number, local_number) VALUES (?,?,?,?)",
                     (pipeline.sealed[0], "in", REMOTE[1], LOCAL))
    assert verify(vault) == []
    vault.checkpoint()
    run_retention(vault, time.time() + 400 * 86400, 30)
    assert vault.query("SELECT count(*) FROM call_numbers")[0][0] == 0
    assert verify(vault) == []


def test_no_number_in_calls_list_report_status_checks_verify_or_the_journal(lines_config, caplog):
    config_file, config, vault = lines_config
    t0 = time.time() - 3600
    events, _ = _script(t0)
    with caplog.at_level(logging.DEBUG):
        _run(config, vault, events, t0)
    report = build_report(vault, config, __import__("datetime").datetime.fromtimestamp(t0, config.zone).date())
    outputs = {"journal": caplog.text, "report": json.dumps(report, ensure_ascii=False)}
    for argv in (["calls", "list", "--from", "2000-01-01", "--json"], ["calls", "list", "--from", "2000-01-01"],
                 ["status", "--json"], ["status"], ["health", "check"], ["verify"], ["log", "show", "--json"]):
        done = run_cli(config_file, *argv)
        outputs[" ".join(argv)] = done.stdout + done.stderr
    for name, text in outputs.items():
        leaked = [shape for shape in SHAPES if shape in text]
        assert not leaked, f"{name} shows a number"
    listed = json.loads(run_cli(config_file, "calls", "list", "--from", "2000-01-01", "--json").stdout)
    assert {c["line"] for c in listed} == {"hotline"}
    assert "hotline" in run_cli(config_file, "calls", "list", "--from", "2000-01-01").stdout
    tap = [f for f in report["findings"] if f["check"] == "tap" and f["severity"] == "critical"]
    assert tap and tap[0]["line"] == "hotline" and "[number]" in tap[0]["message"]
    sections = {s["name"]: s for s in report["lines"]}
    assert set(sections) == {"hotline", "main"}
    assert sections["hotline"]["calls"]["recorded"] == 2 and sections["hotline"]["calls"]["test_calls"] == 1
    assert sections["main"]["calls"]["recorded"] == 0
    assert any(f["check"] == "tap" for f in sections["hotline"]["findings"])
    assert not any(f["check"] == "tap" for f in sections["main"]["findings"])
    status = json.loads(run_cli(config_file, "status", "--json").stdout)
    assert [line["name"] for line in status["lines"]] == ["hotline", "main"]


def test_status_and_calls_list_through_the_socket_name_the_lines_and_no_number(lines_config):
    import argparse
    import io

    from callrec.cli import calls, status
    from callrec.cli._context import Context
    from callrec.daemon import AccessServer

    config_file, config, vault = lines_config
    t0 = time.time() - 3600
    events, _ = _script(t0)
    _run(config, vault, events, t0)
    server = AccessServer(config)
    server.start()
    try:
        out = {}
        for name, module, args in (("status", status, argparse.Namespace(json=True)),
                                   ("calls", calls, argparse.Namespace(from_="2000-01-01", to=None, json=True))):
            ctx = Context(str(config_file), "root", out=io.StringIO(), remote=True)
            assert module.run(ctx, args) == 0
            out[name] = ctx.out.getvalue()
    finally:
        server.stop()
    assert [line["name"] for line in json.loads(out["status"])["lines"]] == ["hotline", "main"]
    assert {c["line"] for c in json.loads(out["calls"])} == {"hotline"}
    assert not [shape for text in out.values() for shape in SHAPES if shape in text]


def test_health_checks_run_per_line(lines_config):
    config_file, config, vault = lines_config
    t0 = time.time() - 3600
    _run(config, vault, [], t0)
    done = run_cli(config_file, "health", "check")
    assert done.returncode == 2
    # One line per check (the worst, with a count of the others): each line's finding is there.
    assert "capture_alive: line hotline: capture stopped (stopped)" in done.stdout
    assert "test_call: line hotline: no test call has ever been recorded (+1 more)" in done.stdout
    assert "line main: not recording" in done.stdout  # the other line's own finding
    assert done.stdout.count("vault_integrity") <= 1  # the recorder's own checks run once, not per line


def test_metrics_give_each_line_its_coverage_and_no_number(lines_config):
    from prometheus_client.parser import text_string_to_metric_families

    from callrec.health import write_metrics

    _, config, vault = lines_config
    t0 = time.time() - 3600
    events, _ = _script(t0)
    _run(config, vault, events, t0)
    text = write_metrics(vault, config, []).read_text()
    metrics = {m.name: m for m in text_string_to_metric_families(text)}
    ratios = {s.labels["line"]: s.value for s in metrics["callrec_line_coverage_ratio_24h"].samples}
    assert set(ratios) == {"hotline", "main"} and ratios["main"] == 0.0 < ratios["hotline"]
    assert metrics["callrec_coverage_ratio_24h"].samples[0].value == 0.0
    assert not [shape for shape in SHAPES if shape in text]


def test_a_source_that_cannot_start_ends_the_writer_with_its_error_and_closes_the_session(lines_config):
    from callrec.errors import CaptureError

    _, config, vault = lines_config

    class Unplugged(ScriptedTap):
        def start(self, emit) -> None:
            raise CaptureError("the mirror interface is gone")

    pipeline = CallsPipeline(config, vault, Unplugged([], time.time()), config.line("hotline"))
    pipeline.start()
    with pytest.raises(CaptureError, match="mirror interface"):
        pipeline.join(30)
    assert vault.query("SELECT end_cause FROM capture_sessions") == [("stopped",)]


def test_a_backlog_is_committed_in_batches_not_an_event_at_a_time(lines_config):
    """Events that waited (the writer was held up) are not each their own commit: the commit is due
    once the writer has held audio for FLUSH_S, so a backlog costs a few commits, and every
    commit still counts its latency from when the source handed the audio over."""
    _, config, vault = lines_config
    t0 = time.time() - 600
    pipeline = CallsPipeline(config, vault, ScriptedTap([], t0), config.line("hotline"))
    for k in range(20):
        pipeline.emit(CallStart(f"c{k}", t0, "in", REMOTE[0], LOCAL))
    frames = _tone(10.0, 440, 1)
    for i in range(0, len(frames), 160):
        for k in range(20):
            pipeline.emit(CallAudio(f"c{k}", t0 + i / 8000, frames[i:i + 160]))
    time.sleep(0.6)  # the backlog is older than a commit interval before the writer starts
    pipeline.start()
    deadline = time.monotonic() + 60
    while pipeline.recorder.vault.query("SELECT coalesce(sum(frames), 0) FROM calls")[0][0] < 20 * len(frames):
        assert time.monotonic() < deadline, "the backlog was never committed"
        time.sleep(0.1)
    pipeline.stop()
    pipeline.join(60)
    assert 1 <= len(pipeline.commit_latencies) < 50  # 10,000 audio events
    assert min(pipeline.commit_latencies) >= 0.6
