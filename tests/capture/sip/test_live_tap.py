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

import numpy as np
import pytest

from tests.capture.sip import pcapgen
from tests.capture.sip.conftest import EXCHANGE_IP2, REPO
from tests.capture.sip.pcapgen import Call, write_pcap
from tests.capture.sip.tapcheck import assert_carries, find_offset, group

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


def test_hold_longer_than_the_rtp_timeout(sip_lab, tap_runner, tmp_path):
    """SIPp holds the call (re-INVITE a=inactive, both streams paused) for 3 s with a 1.5 s RTP
    timeout: the call goes on, and the audio from before and after the hold is in it."""
    tap = LiveTap(sip_lab, tap_runner, tmp_path, rtp_timeout_s=1.5, hold_timeout_s=60.0)
    placed = sip_lab.held_call(LINE, talk_s=1.0, hold_s=3.0)
    out, _ = tap.stop()
    [seen] = out.calls
    assert seen.end.reason == "bye"
    assert seen.end.ts - seen.start.ts > 4.5
    for channel in (0, 1):
        assert_carries(seen.audio[:, channel], placed.sent[channel][:4000])
        resumed = [find_offset(seen.audio[:, channel], placed.sent[channel], k) for k in range(60, 80)]
        assert any(pos >= 0 for pos in resumed), "the audio after the hold is missing"
        heard = np.flatnonzero(seen.audio[:, channel])
        assert np.diff(heard).max() > 2.5 * 8000, "no RTP pause as long as the hold: the test holds nothing"


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
    sip_lab.replug_tap()
    time.sleep(2.0)
    after = sip_lab.call(LINE, seconds=0.5)
    out, _ = tap.stop()
    causes = [(g.cause, g.end is None) for g in out.gaps]
    assert ("tap_silent", True) in causes and ("tap_silent", False) in causes
    assert ("device_lost", True) in causes and ("device_lost", False) in causes
    [lost] = [g for g in out.gaps if g.cause == "device_lost" and g.end is not None]
    assert len(out.calls) == 2
    assert lost.end < out.calls[1].start.ts, "the interface was not back before the next call"
    assert_placed(out.calls[1], after)


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


def test_kernel_drops_are_an_overflow_gap(sip_lab, tap_runner, tmp_path):
    """A burst far beyond what a small kernel buffer holds: the drops pcap counts become a gap."""
    packets = []
    for i in range(30):
        packets += Call(call_id=f"burst-{i}@x", start=1_700_000_000.0 + i * 0.01, seconds=3.0,
                        caller_rtp=("192.0.2.10", 10000 + 2 * i), callee_rtp=("192.0.2.1", 30000 + 2 * i)).build().packets
    pcap = tmp_path / "burst.pcap"
    write_pcap(pcap, packets)
    tap = LiveTap(sip_lab, tap_runner, tmp_path, number=pcapgen.LINE, buffer_bytes=65536)
    sip_lab.in_ns(sip_lab.exchange_ns, ["tcpreplay", "-q", "--topspeed", "-i", "mir0", str(pcap)], timeout=120)
    time.sleep(1.5)
    out, stats = tap.stop()
    assert stats["packets"] < len(packets), "nothing was dropped: the burst was too small"
    overflow = [g for g in out.gaps if g.cause == "overflow"]
    assert overflow and all(g.end is not None and g.end > g.start for g in overflow)


def test_a_stalled_tap_catches_up_without_loss(sip_lab, tap_runner, tmp_path):
    """The tap process stopped for 2.5 s mid-call (SIGSTOP: a stall of the machine): the packets
    wait in the kernel's buffer and are placed by their own timestamps, none counted late."""
    tap = LiveTap(sip_lab, tap_runner, tmp_path)
    first = sip_lab.call(LINE, seconds=4.0, wait=False)
    second = sip_lab.call(LINE, caller="0311112222", seconds=4.0, address=EXCHANGE_IP2, wait=False)
    time.sleep(1.0)
    stalled = [int(pid) for pid in subprocess.run(["pgrep", "-f", "tests.capture.sip.tap_runner"], capture_output=True,
                                                  text=True).stdout.split() if int(pid) != os.getpid()]
    for pid in stalled:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(2.5)
    for pid in stalled:
        os.kill(pid, signal.SIGCONT)
    assert first.wait(60) == 0 and second.wait(60) == 0
    out, _ = tap.stop()
    assert len(out.calls) == 2
    for seen, call in zip(out.calls, (first, second), strict=True):
        assert seen.end.flags == () and seen.end.loss_share == 0
        assert_placed(seen, call.placed)
