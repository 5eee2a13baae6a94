"""Write SIP/RTP packet captures for the tap's tests: a tiny pcap writer and a call builder whose
impairments (loss, reordering, duplicates, no BYE, a reused Call-ID, VLAN tags, NAT'd media,
SIP over TCP, SRTP) are what real mirrors show and netem cannot make here.

``python -m tests.capture.sip.pcapgen [--capture] [OUTDIR]`` regenerates tests/fixtures/sip/: with
``--capture`` (root) it first records a real SIPp call on the lab's mirror (sipp_call.pcap and
what each side sent), then writes the edited captures derived from it.
"""

from __future__ import annotations

import socket
import struct
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import G722
import numpy as np

from callrec.capture.sip import ALAW, ULAW

CALLER_IP = "192.0.2.10"
EXCHANGE_IP = "192.0.2.1"
LINE = "0312345678"
LINE_E164 = "+81312345678"
OTHER = "0398765432"
REMOTE = "09011112222"


def write_pcap(path: Path, packets: list[tuple[float, bytes]]) -> None:
    """Classic little-endian pcap (µs), Ethernet link type."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in sorted(packets, key=lambda p: p[0]):
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)), len(frame), len(frame)))
            f.write(frame)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src: str, sport: int, dst: str, dport: int, payload: bytes, proto: int = 17,
          vlans: tuple[int, ...] = (), ident: int = 1) -> bytes:
    """Ethernet (+802.1Q tags) / IPv4 (valid checksum) or IPv6 / UDP or TCP frame."""
    if proto == 17:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    for vid in vlans:
        eth += struct.pack("!HH", 0x8100, vid)
    if ":" in src:
        header = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, socket.inet_pton(socket.AF_INET6, src),
                             socket.inet_pton(socket.AF_INET6, dst))
        return eth + struct.pack("!H", 0x86DD) + header + l4
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident & 0xFFFF, 0, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return eth + struct.pack("!H", 0x0800) + header + l4


def encode(samples: np.ndarray, table: np.ndarray) -> bytes:
    """G.711 bytes whose decoded value is nearest each sample (inverse of the decode table)."""
    order = np.argsort(table)
    sorted_vals = table[order].astype(np.int32)
    idx = np.clip(np.searchsorted(sorted_vals, samples.astype(np.int32)), 1, 255)
    left, right = sorted_vals[idx - 1], sorted_vals[idx]
    pick = np.where(np.abs(samples - left) <= np.abs(samples - right), idx - 1, idx)
    return order[pick].astype(np.uint8).tobytes()


def tone(seconds: float, freq: float, amplitude: int = 8000, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000
    rng = np.random.default_rng(seed)
    return (amplitude * np.sin(2 * np.pi * freq * t) + rng.normal(0, 300, t.size)).astype(np.int16)


@dataclass
class Call:
    """One call between the caller (a phone) and the exchange, as seen on the mirror."""

    call_id: str = "call-1@192.0.2.10"
    start: float = 1_700_000_000.0
    caller: str = REMOTE
    callee: str = LINE
    seconds: float = 2.0
    codec: str = "pcmu"
    caller_rtp: tuple[str, int] = (CALLER_IP, 40000)
    callee_rtp: tuple[str, int] = (EXCHANGE_IP, 50000)
    answer: bool = True
    ring_s: float = 0.5
    end: str = "bye"  # bye | cancel | reject | none
    dtmf: str = ""
    vlans: tuple[int, ...] = ()
    caller_seed: int = 1
    callee_seed: int = 2
    proto: int = 17
    secure: bool = False
    from_tag: str = "tag-a"
    cseq: int = 1
    hold: tuple[float, float] | None = None  # (start offset in audio, duration): caller sends sendonly
    move_at: float | None = None  # re-INVITE by the callee moving its media to port+2 at this offset
    compact: bool = False
    first_seq: int = 1000
    first_ts: int = 0
    packets: list[tuple[float, bytes]] = field(default_factory=list)
    #: What each side sent, as decoded int16 (what a perfect tap would emit), per channel.
    sent: dict[int, np.ndarray] = field(default_factory=dict)
    answered_at: float = 0.0
    ended_at: float = 0.0

    @property
    def table(self) -> np.ndarray:
        return ULAW if self.codec == "pcmu" else ALAW

    @property
    def pt(self) -> int:
        return {"pcmu": 0, "pcma": 8, "g722": 9, "g729": 18}[self.codec]

    def payload(self, audio: np.ndarray) -> tuple[bytes, np.ndarray]:
        """The RTP payload bytes for ``audio`` and what a perfect decoder makes of them
        (G.729 is not decoded by the tap: silence)."""
        if self.codec == "g722":
            encoded = G722.G722(8000, 64000).encode(array("h", audio.tolist()))
            return encoded, np.frombuffer(G722.G722(8000, 64000).decode(encoded), np.int16).copy()
        if self.codec == "g729":
            return encode(audio, ULAW), np.zeros(len(audio), np.int16)
        payload = encode(audio, self.table)
        return payload, self.table[np.frombuffer(payload, np.uint8)].copy()

    def sdp(self, addr: tuple[str, int], direction: str = "sendrecv") -> bytes:
        proto = "RTP/SAVP" if self.secure else "RTP/AVP"
        family = "IP6" if ":" in addr[0] else "IP4"
        lines = ["v=0", f"o=- 1 1 IN {family} {addr[0]}", "s=-", f"c=IN {family} {addr[0]}", "t=0 0",
                 f"m=audio {addr[1]} {proto} {self.pt} 101", f"a=rtpmap:{self.pt} {self.codec.upper()}/8000",
                 "a=rtpmap:101 telephone-event/8000", f"a={direction}"]
        if self.secure:
            lines.append("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
        return ("\r\n".join(lines) + "\r\n").encode()

    def sip(self, ts: float, first: str, headers: list[tuple[str, str]], body: bytes = b"", to_caller: bool = False) -> None:
        names = {"Call-ID": "i", "From": "f", "To": "t", "Via": "v", "Content-Length": "l", "Content-Type": "c"}
        lines = [first]
        for name, value in headers:
            lines.append(f"{names.get(name, name) if self.compact else name}: {value}")
        if body:
            lines.append(f"{'c' if self.compact else 'Content-Type'}: application/sdp")
        lines.append(f"{'l' if self.compact else 'Content-Length'}: {len(body)}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        src, dst = (self.callee_rtp[0], self.caller_rtp[0]) if to_caller else (self.caller_rtp[0], self.callee_rtp[0])
        port = 5060
        self.packets.append((ts, frame(src, port, dst, port, payload, self.proto, self.vlans)))

    def dialog(self, method: str, cseq: int, to_tag: bool, reverse: bool = False) -> list[tuple[str, str]]:
        frm = f"<sip:{self.caller}@{CALLER_IP}>;tag={self.from_tag}"
        to = f"<sip:{self.callee}@{EXCHANGE_IP}>" + (";tag=tag-b" if to_tag else "")
        if reverse:
            frm, to = to, frm
        return [("Via", f"SIP/2.0/UDP {CALLER_IP}:5060;branch=z9hG4bK{cseq}{method}"), ("From", frm), ("To", to),
                ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}")]

    def build(self) -> Call:
        t = self.start
        uri = f"sip:{self.callee}@{EXCHANGE_IP}"
        invite = self.dialog("INVITE", self.cseq, False)
        self.sip(t, f"INVITE {uri} SIP/2.0", invite, self.sdp(self.caller_rtp))
        self.sip(t + 0.01, "SIP/2.0 100 Trying", invite, to_caller=True)
        self.sip(t + 0.05, "SIP/2.0 180 Ringing", self.dialog("INVITE", self.cseq, True), to_caller=True)
        t += self.ring_s
        if not self.answer:
            self._unanswered(t, invite)
            return self
        ok = self.dialog("INVITE", self.cseq, True)
        self.sip(t, "SIP/2.0 200 OK", ok, self.sdp(self.callee_rtp), to_caller=True)
        self.answered_at = t
        self.sip(t + 0.01, f"ACK {uri} SIP/2.0", self.dialog("ACK", self.cseq, True))
        self._media(t + 0.02)
        t += 0.02 + self.seconds + 0.02
        if self.end == "bye":
            self.sip(t, f"BYE {uri} SIP/2.0", self.dialog("BYE", self.cseq + 1, True))
            self.sip(t + 0.01, "SIP/2.0 200 OK", self.dialog("BYE", self.cseq + 1, True), to_caller=True)
        self.ended_at = t
        return self

    def _unanswered(self, t: float, invite: list) -> None:
        if self.end == "cancel":
            cancel = self.dialog("CANCEL", self.cseq, False)
            self.sip(t, f"CANCEL sip:{self.callee}@{EXCHANGE_IP} SIP/2.0", cancel)
            self.sip(t + 0.01, "SIP/2.0 200 OK", cancel, to_caller=True)
            self.sip(t + 0.02, "SIP/2.0 487 Request Terminated", self.dialog("INVITE", self.cseq, True), to_caller=True)
        else:
            self.sip(t, "SIP/2.0 486 Busy Here", self.dialog("INVITE", self.cseq, True), to_caller=True)
        self.ended_at = t

    def _media(self, t0: float) -> None:
        n = int(self.seconds * 8000) // 160 * 160
        for channel, (src, dst, seed, ssrc) in enumerate(((self.caller_rtp, self.callee_rtp, self.caller_seed, 0x1111),
                                                          (self.callee_rtp, self.caller_rtp, self.callee_seed, 0x2222))):
            audio = tone(n / 8000, 440 if channel == 0 else 660, seed=seed)
            payload, decoded = self.payload(audio)
            seq = self.first_seq + 1000 * channel
            for i in range(n // 160):
                at = i * 0.02
                if self.hold and channel == 1 and self.hold[0] <= at < self.hold[0] + self.hold[1]:
                    decoded[i * 160 : (i + 1) * 160] = 0
                    continue
                dst_now = dst
                if self.move_at is not None and channel == 0 and at >= self.move_at:
                    dst_now = (dst[0], dst[1] + 2)
                rtp = struct.pack("!BBHII", 0x80, self.pt, seq & 0xFFFF, (self.first_ts + i * 160) & 0xFFFFFFFF, ssrc)
                self.packets.append((t0 + at, frame(src[0], src[1], dst_now[0], dst_now[1], rtp + payload[i * 160 : (i + 1) * 160], vlans=self.vlans)))
                seq += 1
            self.sent[channel] = decoded
        if self.hold:
            self._hold_signalling(t0)
        if self.move_at is not None:
            self._move_signalling(t0)
        if self.dtmf:
            self._dtmf(t0)

    def _hold_signalling(self, t0: float) -> None:
        uri = f"sip:{self.callee}@{EXCHANGE_IP}"
        start, duration = self.hold
        hold = self.dialog("INVITE", self.cseq + 10, True)
        self.sip(t0 + start - 0.01, f"INVITE {uri} SIP/2.0", hold, self.sdp(self.caller_rtp, "sendonly"))
        self.sip(t0 + start, "SIP/2.0 200 OK", hold, self.sdp(self.callee_rtp, "recvonly"), to_caller=True)
        back = self.dialog("INVITE", self.cseq + 11, True)
        self.sip(t0 + start + duration - 0.01, f"INVITE {uri} SIP/2.0", back, self.sdp(self.caller_rtp))
        self.sip(t0 + start + duration, "SIP/2.0 200 OK", back, self.sdp(self.callee_rtp), to_caller=True)

    def _move_signalling(self, t0: float) -> None:
        moved = (self.callee_rtp[0], self.callee_rtp[1] + 2)
        reinvite = self.dialog("INVITE", 20, True, reverse=True)
        self.sip(t0 + self.move_at - 0.02, f"INVITE sip:{self.caller}@{CALLER_IP} SIP/2.0", reinvite, self.sdp(moved), to_caller=True)
        self.sip(t0 + self.move_at - 0.01, "SIP/2.0 200 OK", reinvite, self.sdp(self.caller_rtp))

    def _dtmf(self, t0: float) -> None:
        """RFC 4733 events from the caller, each 3 packets + 3 end retransmissions."""
        for k, digit in enumerate(self.dtmf):
            event = "0123456789*#".index(digit)
            at = 0.3 + 0.3 * k
            ts = 0x7000 + k * 4000
            for j in range(6):
                end = 0x80 if j >= 3 else 0
                rtp = struct.pack("!BBHII", 0x80, 101 | (0x80 if j == 0 else 0), 5000 + 10 * k + j, ts, 0x1111)
                body = struct.pack("!BBH", event, end | 10, 160 * (j + 1))
                self.packets.append((t0 + at + 0.02 * j + 0.001, frame(self.caller_rtp[0], self.caller_rtp[1],
                                                                       self.callee_rtp[0], self.callee_rtp[1], rtp + body)))


def read_pcap(path: Path) -> list[tuple[float, bytes]]:
    """Frames of a classic pcap file (as tcpdump -w writes), either byte order, µs or ns."""
    data = path.read_bytes()
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    at, out = 24, []
    while at + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from(order + "IIII", data, at)
        out.append((sec + frac * scale, data[at + 16 : at + 16 + caplen]))
        at += 16 + caplen
    return out


def is_rtp(frame_bytes: bytes) -> bool:
    """An untagged IPv4/UDP frame not on port 5060 (in the fixtures that is RTP)."""
    return frame_bytes[23] == 17 and 5060 not in struct.unpack_from("!HH", frame_bytes, 34)


def tagged(frame_bytes: bytes, vid: int) -> bytes:
    return frame_bytes[:12] + struct.pack("!HH", 0x8100, vid) + frame_bytes[12:]


# -- edits of a real SIPp call captured on the lab's mirror (tests/fixtures/sip/sipp_call.pcap) --

def edit_loss(packets: list, every: int = 25) -> list:
    """Every ``every``-th RTP packet lost."""
    rtp = [i for i, (_, f) in enumerate(packets) if is_rtp(f)]
    gone = set(rtp[5::every])
    return [p for i, p in enumerate(packets) if i not in gone]


def edit_reorder_duplicate(packets: list) -> list:
    """Neighbouring RTP packets swapped every 9 packets, and every frame seen twice (both mirror directions)."""
    out = list(packets)
    rtp = [i for i, (_, f) in enumerate(out) if is_rtp(f)]
    for i in rtp[3:-3:9]:
        (t1, f1), (t2, f2) = out[i], out[i + 1]
        out[i], out[i + 1] = (t2, f1), (t1, f2)
    return out + [(t + 0.00005, f) for t, f in out]


def edit_no_bye(packets: list) -> list:
    return [(t, f) for t, f in packets if b"BYE sip:" not in f and b"CSeq: 2 BYE" not in f]


def edit_reused_call_id(packets: list, after_s: float = 100.0) -> list:
    """The same call (same Call-ID, tags and CSeq) again ``after_s`` later: a new call, not a merge."""
    return packets + [(t + after_s, f) for t, f in packets]


def edit_vlan(packets: list, vid: int = 42) -> list:
    return [(t, tagged(f, vid)) for t, f in packets]


EDITS = {
    "sipp_call_loss.pcap": edit_loss,
    "sipp_call_reorder_dup.pcap": edit_reorder_duplicate,
    "sipp_call_no_bye.pcap": edit_no_bye,
    "sipp_call_reused_call_id.pcap": edit_reused_call_id,
    "sipp_call_vlan.pcap": edit_vlan,
}


def capture_fixture(out: Path) -> None:
    """Place one real SIPp µ-law call through the lab's mirror and keep the capture and what was sent."""
    import subprocess
    import tempfile
    import time

    from tests.capture.sip.conftest import SipLab

    with tempfile.TemporaryDirectory() as tmp:
        lab = SipLab(Path(tmp))
        try:
            lab.setup()
            pcap = Path(tmp) / "call.pcap"
            dump = lab.in_tap(["tcpdump", "--immediate-mode", "-i", lab.tap_interface, "-U", "-w", str(pcap), "udp"],
                              stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            placed = lab.call(LINE, seconds=1.5)
            time.sleep(0.5)
            dump.terminate()
            dump.wait(10)
            write_pcap(out / "sipp_call.pcap", read_pcap(pcap))
        finally:
            lab.teardown()
    for channel, name in ((0, "caller"), (1, "callee")):
        np.save(out / f"sipp_call_{name}.npy", placed.sent[channel])


def main(outdir: str, capture: bool) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if capture:
        capture_fixture(out)
    real = read_pcap(out / "sipp_call.pcap")
    for name, edit in EDITS.items():
        write_pcap(out / name, edit(real))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--capture"]
    main(args[0] if args else "tests/fixtures/sip", "--capture" in sys.argv)
