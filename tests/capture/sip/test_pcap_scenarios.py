"""The SIP tap on captured packets (pcap replay path): the impairments a real mirror shows.

The captures are built by pcapgen (edited packets that netem cannot produce here); each test
compares the audio the tap emits with what each side sent, sample by sample, per channel.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import replace

import numpy as np
import pytest

from callrec.capture.sip import BadPacketCapture, BadSipSettings, CaptureInterfaceNotFound, SipSource, SipSourceSettings
from tests.capture.sip import pcapgen
from tests.capture.sip.pcapgen import LINE, OTHER, Call, frame, write_pcap
from tests.capture.sip.tapcheck import assert_carries, group

SETTINGS = SipSourceSettings(number="03-1234-5678", rtp_timeout_s=5.0, hold_timeout_s=60.0, tap_idle_s=30.0)


def replay(tmp_path, packets, settings=SETTINGS):
    path = tmp_path / "capture.pcap"
    write_pcap(path, packets)
    events: list = []
    source = SipSource(settings, pcap_file=path)
    source.run(events.append)
    return group(events), source.stats()


def assert_exact(seen, call):
    for channel in (0, 1):
        assert_carries(seen.audio[:, channel], call.sent[channel])


@pytest.mark.parametrize("codec", ["pcmu", "pcma"])
def test_a_call_is_recorded_sample_for_sample_per_channel(tmp_path, codec):
    call = Call(codec=codec).build()
    out, stats = replay(tmp_path, call.packets)
    [seen] = out.calls
    assert seen.start.direction == "in"
    assert seen.start.local_number == "+81312345678"
    assert seen.start.remote_number == "+819011112222"
    assert seen.start.ts == pytest.approx(call.answered_at, abs=1e-6)
    assert seen.end.reason == "bye" and seen.end.flags == () and seen.end.loss_share == 0
    assert seen.end.ts == pytest.approx(call.ended_at, abs=1e-6)
    assert_exact(seen, call)
    # caller left, callee right: the two channels are not swapped
    assert not np.array_equal(seen.audio[:, 0], seen.audio[:, 1])
    assert stats["calls_recorded"] == 1


def test_g722_is_decoded_to_8_khz(tmp_path):
    call = Call(codec="g722", seconds=2.0).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)
    assert seen.end.flags == ()
    # and it is the tone that was sent, not merely what the same decoder makes of it
    original = pcapgen.tone(2.0, 440, seed=call.caller_seed)[:15000]
    pos = int(np.flatnonzero(seen.audio[:, 0])[0])
    heard = seen.audio[pos : pos + len(original), 0].astype(float)
    lag = max(range(40), key=lambda k: np.dot(heard[k : k + 8000], original[:8000]))
    assert np.corrcoef(heard[lag : lag + 8000], original[:8000])[0, 1] > 0.95


def test_an_undecodable_codec_keeps_the_call_and_flags_it(tmp_path):
    call = Call(codec="g729").build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.end.reason == "bye" and "codec_unsupported" in seen.end.flags
    assert not seen.audio.any()
    assert len(seen.chunks) > 3, "the silence was not handed on while the call went on"


@pytest.mark.parametrize("vlans", [(100,), (100, 200)])
def test_vlan_tagged_mirror_traffic(tmp_path, vlans):
    call = Call(codec="pcma", vlans=vlans).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)


@pytest.mark.parametrize("number_form", ["0312345678", "+81312345678", "03-1234-5678", "tel:+81-3-1234-5678"])
def test_number_forms_and_compact_headers(tmp_path, number_form):
    callee = number_form.replace("tel:", "")
    call = Call(callee=callee, compact=True).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)


def test_a_call_to_another_number_leaves_only_a_count(tmp_path):
    call = Call(callee=OTHER).build()
    out, stats = replay(tmp_path, call.packets)
    assert out.calls == [] and out.findings == []
    assert stats["calls_ignored"] == 1 and stats["calls_recorded"] == 0


def test_outgoing_call_and_directions(tmp_path):
    call = Call(caller=LINE, callee=pcapgen.REMOTE).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.start.direction == "out" and seen.start.remote_number == "+819011112222"
    assert_exact(seen, call)
    out, stats = replay(tmp_path, call.packets, replace(SETTINGS, directions=("in",)))
    assert out.calls == [] and stats["calls_ignored"] == 1


def test_diverted_call_is_recognised(tmp_path):
    call = Call(callee="0355550000").build()
    ts, first = call.packets[0]
    payload = first[42:].replace(b"CSeq:", b"Diversion: <sip:0312345678@192.0.2.1>;reason=unconditional\r\nCSeq:", 1)
    payload = payload.replace(b"Content-Length: ", b"Content-Length: ", 1)
    call.packets[0] = (ts, frame(pcapgen.CALLER_IP, 5060, pcapgen.EXCHANGE_IP, 5060, payload))
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.start.direction == "in"


@pytest.mark.parametrize(("end", "reason"), [("cancel", "cancel"), ("reject", "rejected")])
def test_unanswered_calls_end_with_their_reason(tmp_path, end, reason):
    call = Call(answer=False, end=end).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.end.reason == reason and seen.chunks == []
    assert seen.start.ts == pytest.approx(call.start, abs=1e-6)
    assert "no_media" not in seen.end.flags


def _rtp_indexes(call, channel_port):
    return [i for i, (_, f) in enumerate(call.packets) if struct.unpack("!H", f[36:38])[0] == channel_port and f[23] == 17
            and struct.unpack("!H", f[34:36])[0] != 5060]


def test_lost_packets_become_silence_and_a_flag(tmp_path):
    call = Call(seconds=3.0).build()
    to_exchange = _rtp_indexes(call, 50000)  # caller's voice: channel 0
    dropped = set(to_exchange[20:25]) | {to_exchange[60]}
    packets = [p for i, p in enumerate(call.packets) if i not in dropped]
    [seen] = replay(tmp_path, packets)[0].calls
    expected = call.sent[0].copy()
    for k in list(range(20, 25)) + [60]:
        expected[k * 160 : (k + 1) * 160] = 0
    assert_carries(seen.audio[:, 0], expected)
    assert_carries(seen.audio[:, 1], call.sent[1])
    assert "packet_loss" in seen.end.flags
    assert seen.end.loss_share == pytest.approx(6 / 300, abs=1e-3)


def test_sequence_and_timestamp_wrap_around(tmp_path):
    """Sequence numbers past 65535 and RTP timestamps past 2^32 mid-call: no loss, no jump."""
    call = Call(seconds=3.0, first_seq=65500 - 1000, first_ts=0xFFFFFFFF - 8000).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)
    assert seen.end.flags == () and seen.end.loss_share == 0


def test_reordered_and_duplicated_packets_are_put_right(tmp_path):
    call = Call(seconds=3.0).build()
    packets = list(call.packets)
    rtp = _rtp_indexes(call, 50000) + _rtp_indexes(call, 40000)
    for i in rtp[10:140:7]:  # swap the arrival times of neighbours (50 ms late at most)
        (t1, f1), (t2, f2) = packets[i], packets[i + 2]
        packets[i], packets[i + 2] = (t2, f1), (t1, f2)
    packets += [(t + 0.0001, f) for t, f in packets]  # the mirror copies every packet twice
    [seen] = replay(tmp_path, packets)[0].calls
    assert_exact(seen, call)
    assert seen.end.flags == () and seen.end.loss_share == 0


def test_no_bye_ends_on_rtp_timeout_at_the_last_packet(tmp_path):
    call = Call(end="none").build()
    last_rtp = max(t for t, _ in call.packets)
    keepalive = frame(pcapgen.EXCHANGE_IP, 5060, pcapgen.CALLER_IP, 5060, b"OPTIONS sip:x@192.0.2.10 SIP/2.0\r\nCall-ID: k\r\nCSeq: 1 OPTIONS\r\n\r\n")
    packets = call.packets + [(last_rtp + 10, keepalive)]
    [seen] = replay(tmp_path, packets)[0].calls
    assert seen.end.reason == "rtp_timeout"
    assert seen.end.ts == pytest.approx(last_rtp, abs=0.001)
    assert_exact(seen, call)
    assert len(seen.audio) <= int((last_rtp - seen.start.ts) * 8000) + 160


def test_source_stopped_at_the_end_of_a_capture(tmp_path):
    call = Call(end="none").build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.end.reason == "source_stopped"


def test_reused_call_id_after_the_end_is_a_new_call(tmp_path):
    first = Call().build()
    second = Call(start=first.ended_at + 5, from_tag="tag-c", caller_seed=7, callee_seed=8).build()
    retransmitted_invite = (first.ended_at + 1, first.packets[0][1])
    out = replay(tmp_path, first.packets + second.packets + [retransmitted_invite])[0]
    assert len(out.calls) == 2 and out.calls[0].start.key != out.calls[1].start.key
    assert_exact(out.calls[0], first)
    assert_exact(out.calls[1], second)


def test_several_calls_in_a_row_and_two_at_once(tmp_path):
    a = Call(call_id="a@x").build()
    b = Call(call_id="b@x", start=a.start + 1.0, caller="0311112222", caller_rtp=("192.0.2.20", 40010),
             callee_rtp=("192.0.2.1", 50010), caller_seed=3, callee_seed=4, codec="pcma").build()
    c = Call(call_id="c@x", start=b.ended_at + 2, caller_seed=5, callee_seed=6).build()
    out = replay(tmp_path, a.packets + b.packets + c.packets)[0]
    assert [s.start.remote_number for s in out.calls] == ["+819011112222", "+81311112222", "+819011112222"]
    for seen, call in zip(out.calls, (a, b, c), strict=True):
        assert_exact(seen, call)


def test_hold_longer_than_the_rtp_timeout_keeps_the_call(tmp_path):
    settings = replace(SETTINGS, rtp_timeout_s=1.0)
    call = Call(seconds=6.0, hold=(1.0, 3.0)).build()
    # while held the caller sends nothing either
    held = [i for i in _rtp_indexes(call, 50000) if 50 <= round((call.packets[i][0] - call.answered_at - 0.02) / 0.02) < 200]
    packets = [p for i, p in enumerate(call.packets) if i not in set(held)]
    call.sent[0][8000:32000] = 0
    [seen] = replay(tmp_path, packets, settings)[0].calls
    assert seen.end.reason == "bye"
    assert_exact(seen, call)
    [cut] = replay(tmp_path, packets, replace(settings, hold_timeout_s=1.5))[0].calls
    assert cut.end.reason == "rtp_timeout"


def test_reinvite_moving_media(tmp_path):
    call = Call(seconds=3.0, move_at=1.5).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)


def test_rfc4733_dtmf_is_read_and_kept_out_of_the_audio(tmp_path):
    call = Call(seconds=3.0, dtmf="90#").build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert seen.end.dtmf == "90#"
    assert_exact(seen, call)


def test_nat_media_is_learned_from_the_port(tmp_path):
    call = Call(caller_rtp=("10.0.0.5", 40000)).build()
    packets = []
    for ts, f in call.packets:
        packets.append((ts, f.replace(b"\x0a\x00\x00\x05", bytes([198, 51, 100, 7]))) if f[23] == 17 and f[36:38] != b"\x13\xc4" else (ts, f))
    [seen] = replay(tmp_path, packets)[0].calls
    assert_exact(seen, call)


def test_another_calls_rtp_on_the_same_port_stays_out(tmp_path):
    """Phones often share a default RTP port: a stream to another phone's port 40000 from
    another source is not the recorded call's, even though the port matches its SDP."""
    call = Call().build()
    stranger = [(t + 0.005, frame("192.0.2.1", 50500, "198.51.100.99", 40000, f[42:50] + b"\x99\x99\x99\x99" + bytes(160)))
                for t, f in call.packets if f[23] == 17 and f[36:38] == struct.pack("!H", 40000)]
    [seen] = replay(tmp_path, call.packets + stranger)[0].calls
    assert_exact(seen, call)
    assert seen.end.flags == ()


def test_one_way_and_no_media_are_flagged(tmp_path):
    call = Call().build()
    one_way = [p for i, p in enumerate(call.packets) if i not in set(_rtp_indexes(call, 40000))]
    [seen] = replay(tmp_path, one_way)[0].calls
    assert "one_way_audio" in seen.end.flags
    none = [p for i, p in enumerate(one_way) if i not in set(_rtp_indexes(Call(packets=one_way), 50000))]
    [seen] = replay(tmp_path, none)[0].calls
    assert "no_media" in seen.end.flags


def test_sip_over_tcp_for_the_number_is_a_critical_finding(tmp_path):
    call = Call(proto=6).build()
    out = replay(tmp_path, call.packets)[0]
    assert out.calls == []
    assert [(f.check, f.severity) for f in out.findings] == [("sip_tcp", "critical")]
    other = replay(tmp_path, Call(proto=6, callee=OTHER).build().packets)[0]
    assert other.findings == []


def test_srtp_for_the_number_is_a_critical_finding_and_a_flag(tmp_path):
    call = Call(secure=True).build()
    out = replay(tmp_path, call.packets)[0]
    assert [(f.check, f.severity) for f in out.findings] == [("sip_srtp", "critical")]
    assert "srtp" in out.calls[0].end.flags


def test_a_silent_mirror_is_a_gap(tmp_path):
    a = Call().build()
    b = Call(call_id="later@x", start=a.ended_at + 100).build()
    out = replay(tmp_path, a.packets + b.packets)[0]
    closed = [g for g in out.gaps if g.end is not None]
    assert [g.cause for g in out.gaps] == ["tap_silent", "tap_silent"]
    assert closed[0].start == pytest.approx(a.ended_at + 0.01, abs=1e-6) and closed[0].end == pytest.approx(b.start, abs=1e-6)


def test_fragmented_invite_is_reassembled(tmp_path):
    call = Call().build()
    ts, first = call.packets[0]
    ip = first[14:]
    body = ip[20:]
    cut = 64
    header = bytearray(ip[:20])
    frags = []
    for offset, piece, more in ((0, body[:cut], True), (cut, body[cut:], False)):
        h = bytearray(header)
        struct.pack_into("!H", h, 2, 20 + len(piece))
        struct.pack_into("!H", h, 6, (0x2000 if more else 0) | offset // 8)
        frags.append(first[:14] + bytes(h) + piece)
    packets = [(ts, frags[1]), (ts + 0.0001, frags[0])] + call.packets[1:]
    [seen] = replay(tmp_path, packets)[0].calls
    assert_exact(seen, call)


def test_no_number_in_logs_errors_or_stats(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    call = Call(seconds=1.0).build()
    out, stats = replay(tmp_path, call.packets + Call(call_id="o@x", callee=OTHER, start=call.ended_at + 1).build().packets)
    errors = []
    for bad in (replace(SETTINGS, number="03-1234-56x8"), replace(SETTINGS, country_code="+81")):
        with pytest.raises(BadSipSettings) as info:
            SipSource(bad, pcap_file=tmp_path / "capture.pcap")
        errors.append(str(info.value))
    with pytest.raises(BadPacketCapture) as info:
        SipSource(SETTINGS, pcap_file=tmp_path / "missing-0312345678.txt").run(lambda e: None)
    text = caplog.text + " ".join(errors) + repr(stats) + " ".join(repr(f) for f in out.findings)
    text += " ".join(s.start.key for s in out.calls)
    for digits in ("12345678", "1234-5678", "90111", "98765432"):
        assert digits not in text


def test_bad_capture_file_is_one_line_error(tmp_path):
    path = tmp_path / "garbage.pcap"
    path.write_bytes(b"not a capture")
    with pytest.raises(BadPacketCapture) as info:
        SipSource(SETTINGS, pcap_file=path).run(lambda e: None)
    assert "\n" not in str(info.value) and "garbage.pcap" in str(info.value)


def test_live_settings_errors_name_the_thing():
    with pytest.raises(CaptureInterfaceNotFound) as info:
        SipSource(replace(SETTINGS, interface="nosuch-span9")).start(lambda e: None)
    assert "nosuch-span9" in str(info.value) and "ip link" in str(info.value)
    with pytest.raises(BadSipSettings, match="interface is missing"):
        SipSource(SETTINGS)
    for bad, what in ((dict(directions=("up",)), "directions"), (dict(sip_ports=(0,)), "sip_ports"),
                      (dict(rtp_timeout_s=0), "rtp_timeout_s"), (dict(tap_idle_s="5"), "tap_idle_s"),
                      (dict(buffer_bytes=10), "buffer_bytes")):
        with pytest.raises(BadSipSettings, match=what) as info:
            SipSource(replace(SETTINGS, **bad), pcap_file="x.pcap")
        assert "\n" not in str(info.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="opening a capture needs root (CAP_NET_RAW)")
def test_a_bpf_filter_that_does_not_compile_is_a_settings_error():
    with pytest.raises(BadSipSettings, match="bpf_filter does not compile"):
        SipSource(replace(SETTINGS, interface="lo", bpf_filter="host and and")).start(lambda e: None)


def test_folded_headers_and_a_multipart_body(tmp_path):
    """An INVITE with a folded To header, lower-case names and SDP inside multipart/mixed (SIP-I)."""
    call = Call().build()
    sdp = call.sdp(call.caller_rtp).decode()
    body = ("--b1\r\nContent-Type: application/isup;version=itu-t92+\r\n\r\n\x01\x02\x03\r\n"
            f"--b1\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b1--\r\n").encode()
    head = ("INVITE sip:0312345678@192.0.2.1 SIP/2.0\r\n"
            "via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n"
            "f: <sip:09011112222@192.0.2.10>;tag=tag-a\r\n"
            "To:\r\n <sip:0312345678@192.0.2.1>\r\n"
            "i: call-1@192.0.2.10\r\ncseq: 1 INVITE\r\n"
            "Content-Type: multipart/mixed;boundary=b1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    call.packets[0] = (call.packets[0][0], frame(pcapgen.CALLER_IP, 5060, pcapgen.EXCHANGE_IP, 5060, head + body))
    # the caller stays mute, so only the SDP inside the multipart body can place the callee's RTP
    mute = set(_rtp_indexes(call, 50000))
    [seen] = replay(tmp_path, [p for i, p in enumerate(call.packets) if i not in mute])[0].calls
    assert seen.start.remote_number == "+819011112222"
    assert_carries(seen.audio[:, 1], call.sent[1])
    assert seen.end.flags == ("one_way_audio",)


def test_ipv6_signalling_and_media(tmp_path):
    call = Call(caller_rtp=("2001:db8::10", 40000), callee_rtp=("2001:db8::1", 50000), vlans=(7,)).build()
    [seen] = replay(tmp_path, call.packets)[0].calls
    assert_exact(seen, call)


def test_mangled_packets_never_stop_the_tap(tmp_path):
    """Thousands of SIP, SDP and RTP packets with random bytes changed, cut or appended (seeded):
    the tap skips what it cannot read, and the intact call after them is recorded exactly."""
    rng = np.random.default_rng(20)
    base = Call(call_id="mangled@x").build()
    mangled = []
    sip = [p for p in base.packets if b"SIP/2.0" in p[1]]
    for n in range(3000):
        ts, f = sip[n % len(sip)] if n % 4 else base.packets[n % len(base.packets)]
        data = bytearray(f)
        for _ in range(int(rng.integers(1, 8))):
            data[int(rng.integers(12, len(data)))] = int(rng.integers(0, 256))
        if n % 3 == 0:
            data = data[: int(rng.integers(14, len(data)))]
        if n % 7 == 0:
            data += bytes(rng.integers(0, 256, int(rng.integers(1, 64))).astype(np.uint8))
        mangled.append((ts + n * 1e-4, bytes(data)))
    invite = base.packets[0][1]
    nul = invite.replace(b"c=IN IP4 192.0.2.10", b"c=IN IP4 192.0.2.1\0").replace(b"mangled@x", b"nulsdp@xx")
    mangled.append((base.start + 1, nul))  # a NUL inside the SDP's address once raised ValueError
    good = Call(start=base.start + 60, call_id="good@x").build()
    out, stats = replay(tmp_path, mangled + good.packets, replace(SETTINGS, tap_idle_s=300.0))
    assert stats["packets"] == len(mangled) + len(good.packets)
    [seen] = [c for c in out.calls if c.start.ts == pytest.approx(good.answered_at, abs=1e-6)]
    assert_exact(seen, good)
