"""A real SIPp call captured on the lab's mirror (tests/fixtures/sip/sipp_call.pcap) and the edited
captures pcapgen derives from it: replayed through the tap's pcap path, compared sample by sample
with what SIPp sent (kept beside the capture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callrec.capture.sip import SipSource, SipSourceSettings
from tests.capture.sip import pcapgen
from tests.capture.sip.tapcheck import assert_carries, find_offset, group

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sip"
SETTINGS = SipSourceSettings(number="+81-3-1234-5678", rtp_timeout_s=5.0)
SENT = {0: np.load(FIXTURES / "sipp_call_caller.npy"), 1: np.load(FIXTURES / "sipp_call_callee.npy")}


def replay(name: str):
    events: list = []
    SipSource(SETTINGS, pcap_file=FIXTURES / name).run(events.append)
    return group(events)


def assert_sent(seen) -> None:
    for channel in (0, 1):
        assert_carries(seen.audio[:, channel], SENT[channel])


@pytest.mark.parametrize("name", ["sipp_call.pcap", "sipp_call_vlan.pcap", "sipp_call_reorder_dup.pcap"])
def test_real_call_exact(name):
    [seen] = replay(name).calls
    assert seen.end.reason == "bye" and seen.end.flags == () and seen.end.loss_share == 0
    assert_sent(seen)


def test_real_call_with_loss():
    [seen] = replay("sipp_call_loss.pcap").calls
    assert "packet_loss" in seen.end.flags and 0.02 < seen.end.loss_share < 0.06
    # every sample that arrived is where it belongs; the lost ones are silence
    for channel in (0, 1):
        got = seen.audio[:, channel]
        pos = next(p for p in (find_offset(got, SENT[channel], k) for k in range(5)) if p >= 0)
        part = got[pos : pos + len(SENT[channel])]
        blocks = part.reshape(-1, 160)
        lost = ~blocks.any(axis=1)
        assert 1 <= lost.sum() < 10
        assert np.array_equal(blocks[~lost], SENT[channel].reshape(-1, 160)[~lost])


def test_real_call_without_bye_ends_on_rtp_timeout_and_reused_call_id_is_two_calls():
    [seen] = replay("sipp_call_no_bye.pcap").calls
    assert seen.end.reason == "source_stopped"  # the capture ends before the timeout
    assert_sent(seen)
    calls = replay("sipp_call_reused_call_id.pcap").calls
    assert len(calls) == 2 and calls[0].start.key != calls[1].start.key
    assert calls[0].end.reason == "bye"
    for seen in calls:
        assert_sent(seen)


def test_fixtures_are_what_the_generator_makes():
    real = pcapgen.read_pcap(FIXTURES / "sipp_call.pcap")
    for name, edit in pcapgen.EDITS.items():
        stored = sorted((round(t * 1e6), f) for t, f in pcapgen.read_pcap(FIXTURES / name))
        assert stored == sorted((round(t * 1e6), f) for t, f in edit(real)), name
