"""The SIP tap live on a real passive mirror port, with real SIPp calls and real RTP.

Every call's emitted audio is compared with what SIPp streamed, sample by sample, per channel
(caller left, callee right). See conftest.py for the namespaces and the tc mirror.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.capture.sip import pcapgen
from tests.capture.sip.conftest import EXCHANGE_IP2, REPO
from tests.capture.sip.pcapgen import Call, write_pcap
from tests.capture.sip.tapcheck import assert_carries, group

LINE = "0312345678"


class LiveTap:
    def __init__(self, lab, argv, tmp_path: Path, **settings) -> None:
        self.out = tmp_path / f"events-{time.monotonic_ns()}.pickle"
        base = {"interface": lab.tap_interface, "number": "+81312345678", "rtp_timeout_s": 10.0, "tap_idle_s": 30.0}
        base.update(settings)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = lab.in_tap(argv(json.dumps(base), self.out), stdout=subprocess.PIPE, cwd=REPO, env=env)
        assert self.proc.stdout.readline().strip() == b"ready", "the tap did not start"

    def stop(self):
        time.sleep(0.8)
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0
        data = pickle.loads(self.out.read_bytes())
        assert data["error"] is None
        return group(data["events"]), data["stats"]


def assert_placed(seen, placed):
    for channel in (0, 1):
        assert_carries(seen.audio[:, channel], placed.sent[channel])


def test_calls_in_a_row_alaw_ulaw_other_number_and_outgoing(sip_lab, tap_runner, tmp_path):
    tap = LiveTap(sip_lab, tap_runner, tmp_path)
    ulaw = sip_lab.call(LINE, codec="PCMU", seconds=1.5)
    sip_lab.call("0398765432", codec="PCMU", seconds=0.5)
    alaw = sip_lab.call("+81312345678", codec="PCMA", seconds=1.5)
    out_call = sip_lab.call("09055556666", caller=LINE, seconds=1.0)
    out, stats = tap.stop()
    assert [(s.start.direction, s.end.reason) for s in out.calls] == [("in", "bye"), ("in", "bye"), ("out", "bye")]
    assert out.calls[2].start.remote_number == "+819055556666"
    for seen, placed in zip(out.calls, (ulaw, alaw, out_call), strict=True):
        assert_placed(seen, placed)
        assert seen.end.flags == () and seen.end.loss_share == 0
    assert stats["calls_ignored"] == 1 and out.gaps == [] and out.findings == []


def test_two_calls_at_once(sip_lab, tap_runner, tmp_path):
    tap = LiveTap(sip_lab, tap_runner, tmp_path)
    first = sip_lab.call(LINE, seconds=2.5, wait=False)
    time.sleep(0.7)
    second = sip_lab.call(LINE, caller="0311112222", codec="PCMA", seconds=1.5, address=EXCHANGE_IP2, wait=False)
    assert first.wait(60) == 0 and second.wait(60) == 0
    out, _ = tap.stop()
    assert len(out.calls) == 2
    assert out.calls[1].start.ts < out.calls[0].end.ts, "the calls did not overlap"
    assert_placed(out.calls[0], first.placed)
    assert_placed(out.calls[1], second.placed)


def test_cancel_while_ringing_and_dtmf(sip_lab, tap_runner, tmp_path):
    tap = LiveTap(sip_lab, tap_runner, tmp_path)
    sip_lab.call(LINE, cancel=True)
    sip_lab.call(LINE, dtmf="19#", seconds=0.5, exchange_seconds=2.0)
    out, _ = tap.stop()
    assert [s.end.reason for s in out.calls] == ["cancel", "bye"]
    assert out.calls[0].chunks == []
    assert out.calls[1].end.dtmf == "19#"
    # the DTMF stayed out of the caller's channel: it carries nothing but silence
    assert not out.calls[1].audio[:, 0].any()


def test_sip_over_tcp_is_a_critical_finding(sip_lab, tap_runner, tmp_path):
    tap = LiveTap(sip_lab, tap_runner, tmp_path)
    sip_lab.call(LINE, transport="t1", seconds=0.5)
    out, _ = tap.stop()
    assert out.calls == []
    assert [(f.check, f.severity) for f in out.findings] == [("sip_tcp", "critical")]


def test_silent_mirror_and_lost_interface_are_gaps(sip_lab, tap_runner, tmp_path):
    tap = LiveTap(sip_lab, tap_runner, tmp_path, tap_idle_s=1.0)
    sip_lab.mirror(False)
    time.sleep(2.5)
    sip_lab.mirror(True)
    sip_lab.call(LINE, seconds=0.5)
    sip_lab.unplug_tap()
    time.sleep(2.5)
    out, _ = tap.stop()
    causes = [(g.cause, g.end is None) for g in out.gaps]
    assert ("tap_silent", True) in causes and ("tap_silent", False) in causes
    assert ("device_lost", True) in causes
    assert len(out.calls) == 1


def test_edited_capture_replayed_into_the_mirror(sip_lab, tap_runner, tmp_path):
    """VLAN-tagged mirror traffic with loss, duplicates and a reused Call-ID, through tcpreplay."""
    now = time.time() + 1
    first = Call(start=now, vlans=(42,), seconds=1.0).build()
    second = Call(start=first.ended_at + 0.5, from_tag="again", vlans=(42,), codec="pcma", seconds=1.0).build()
    rtp = [i for i, (_, f) in enumerate(second.packets) if len(f) > 180]
    dropped = set(rtp[10:13])
    packets = first.packets + [p for i, p in enumerate(second.packets) if i not in dropped]
    packets += [(t + 0.0002, f) for t, f in first.packets if len(f) > 180]
    pcap = tmp_path / "edited.pcap"
    write_pcap(pcap, packets)
    tap = LiveTap(sip_lab, tap_runner, tmp_path, number=pcapgen.LINE)
    sip_lab.replay(pcap)
    out, _ = tap.stop()
    assert len(out.calls) == 2
    assert_carries(out.calls[0].audio[:, 0], first.sent[0])
    assert out.calls[0].end.flags == ()
    assert "packet_loss" in out.calls[1].end.flags


@pytest.fixture(autouse=True)
def _budget():
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 60, "a live SIP test should take seconds"
