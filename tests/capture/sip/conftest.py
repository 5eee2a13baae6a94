"""A real passive SPAN port for the SIP tap's tests (and the end-to-end ``callrec run`` test).

Three network namespaces: the caller (SIPp as a phone), the exchange (SIPp answering, with a
second address for a second simultaneous call), and the tap, which only has the far end of a
veth pair with no IP address. ``tc`` (clsact + u32 + ``mirred egress mirror``) copies every frame
entering and leaving the exchange's interface onto that veth: what a switch's mirror port does.

Use the ``sip_lab`` fixture: ``lab.exchange(...)`` and ``lab.call(...)`` place real SIPp calls with
real RTP (``rtp_stream`` of generated µ-law/A-law files, RFC 4733 DTMF from SIPp's own pcaps),
``lab.in_tap(argv)`` runs a command (e.g. ``callrec run``) inside the tap namespace,
``lab.replay(pcap)`` pushes an edited capture through the mirror with tcpreplay, and
``lab.mirror(False)`` silences the mirror. Skips, saying why, when not root or without netns/SIPp.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from callrec.capture.sip import ALAW, ULAW
from tests.capture.sip.pcapgen import encode, tone

CALLER_IP = "10.77.0.1"
EXCHANGE_IP = "10.77.0.2"
EXCHANGE_IP2 = "10.77.0.3"
DTMF_PCAPS = Path("/usr/share/sip-tester")
REPO = Path(__file__).resolve().parents[3]

_SDP = """v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {pt} 101
      a=rtpmap:{pt} {codec}/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv"""

_HEAD = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>{to_tag}
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70"""


def _request(method: str, cseq: int, caller: str, body: str = "", to_tag: str = "[peer_tag_param]", retrans: bool = True) -> str:
    head = _HEAD.format(caller=caller, to_tag=to_tag, cseq=cseq, method=method)
    uri = "sip:[service]@[remote_ip]:[remote_port]"
    ctype = "      Content-Type: application/sdp\n" if body else ""
    attr = ' retrans="500"' if retrans else ""
    return (f"  <send{attr}><![CDATA[\n      {method} {uri} SIP/2.0\n{head}\n{ctype}"
            f"      Content-Length: [len]\n\n{('      ' + body) if body else ''}\n    ]]></send>\n")


def _response(code: str, body: str = "", tag: bool = True) -> str:
    ctype = "      Content-Type: application/sdp\n" if body else ""
    to = "[last_To:];tag=[pid]X[call_number]" if tag else "[last_To:]"
    return (f"  <send><![CDATA[\n      SIP/2.0 {code}\n      [last_Via:]\n      [last_From:]\n      {to}\n"
            f"      [last_Call-ID:]\n      [last_CSeq:]\n      Contact: <sip:[local_ip]:[local_port];transport=[transport]>\n"
            f"{ctype}      Content-Length: [len]\n\n{('      ' + body) if body else ''}\n    ]]></send>\n")


def _media(audio: Path | None, pt: int, dtmf: str) -> str:
    out = ""
    if audio is not None:
        out += f'  <nop><action><exec rtp_stream="{audio},1,{pt}"/></action></nop>\n'
    for digit in dtmf:
        name = {"#": "pound", "*": "star"}.get(digit, digit)
        out += f'  <nop><action><exec play_pcap_audio="{DTMF_PCAPS}/dtmf_2833_{name}.pcap"/></action></nop>\n'
        out += '  <pause milliseconds="400"/>\n'
    return out


def uac_scenario(caller: str, codec: str, audio: Path | None, talk_ms: int, dtmf: str = "", cancel: bool = False) -> str:
    pt = 0 if codec == "PCMU" else 8
    sdp = _SDP.format(pt=pt, codec=codec)
    xml = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="callrec caller">\n'
    xml += _request("INVITE", 1, caller, sdp, to_tag="")
    xml += '  <recv response="100" optional="true"/>\n'
    if cancel:
        xml += '  <recv response="180"/>\n  <pause milliseconds="500"/>\n'
        xml += _request("CANCEL", 1, caller, to_tag="")
        xml += '  <recv response="200"/>\n  <recv response="487"/>\n'
        xml += _request("ACK", 1, caller, retrans=False)
        return xml + "</scenario>\n"
    xml += '  <recv response="180" optional="true"/>\n  <recv response="200" rtd="true"/>\n'
    xml += _request("ACK", 1, caller, retrans=False)
    xml += _media(audio, pt, dtmf)
    xml += f'  <pause milliseconds="{talk_ms}"/>\n'
    xml += _request("BYE", 2, caller)
    xml += '  <recv response="200" crlf="true"/>\n</scenario>\n'
    return xml


def uac_hold_scenario(caller: str, codec: str, audio: Path, talk_ms: int, hold_ms: int) -> str:
    """A call put on hold (re-INVITE a=inactive: neither side sends) for ``hold_ms``, then resumed."""
    pt = 0 if codec == "PCMU" else 8
    sdp = _SDP.format(pt=pt, codec=codec)
    xml = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="callrec caller holding">\n'
    xml += _request("INVITE", 1, caller, sdp, to_tag="")
    xml += '  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n'
    xml += '  <recv response="200" rtd="true"/>\n' + _request("ACK", 1, caller, retrans=False)
    xml += _media(audio, pt, "") + f'  <pause milliseconds="{talk_ms}"/>\n'
    for cseq, direction, action, wait in ((2, "inactive", "pause", hold_ms), (3, "sendrecv", "resume", talk_ms)):
        xml += _request("INVITE", cseq, caller, sdp.replace("a=sendrecv", f"a={direction}"))
        xml += '  <recv response="200"/>\n' + _request("ACK", cseq, caller, retrans=False)
        xml += f'  <nop><action><exec rtp_stream="{action}"/></action></nop>\n  <pause milliseconds="{wait}"/>\n'
    xml += _request("BYE", 4, caller) + '  <recv response="200" crlf="true"/>\n</scenario>\n'
    return xml


def uas_scenario(codec: str, audio: Path | None, cancel: bool = False, holds: bool = False) -> str:
    pt = 0 if codec == "PCMU" else 8
    xml = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="callrec exchange">\n'
    xml += '  <recv request="INVITE" crlf="true"/>\n' + _response("180 Ringing")
    if cancel:
        xml += '  <recv request="CANCEL"/>\n' + _response("200 OK", tag=False)
        xml += _response("487 Request Terminated") + '  <recv request="ACK"/>\n</scenario>\n'
        return xml
    xml += _response("200 OK", _SDP.format(pt=pt, codec=codec)).replace("<send>", '<send retrans="500">')
    xml += '  <recv request="ACK" crlf="true"/>\n'
    xml += _media(audio, pt, "")
    if holds:
        sdp = _SDP.format(pt=pt, codec=codec)
        for direction, action in (("inactive", "pause"), ("sendrecv", "resume")):
            xml += '  <recv request="INVITE"/>\n' + _response("200 OK", sdp.replace("a=sendrecv", f"a={direction}"), tag=False)
            xml += f'  <recv request="ACK"/>\n  <nop><action><exec rtp_stream="{action}"/></action></nop>\n'
    xml += '  <recv request="BYE"/>\n' + _response("200 OK", tag=False) + "</scenario>\n"
    return xml


@dataclass
class Placed:
    """What one SIPp call sent, decoded: channel 0 the caller's, channel 1 the callee's."""

    sent: dict[int, np.ndarray] = field(default_factory=dict)


class SipLab:
    def __init__(self, workdir: Path) -> None:
        suffix = secrets.token_hex(3)
        self.caller_ns, self.exchange_ns, self.tap_ns = (f"cr{r}-{suffix}" for r in ("uac", "pbx", "tap"))
        self.tap_interface = "span0"
        self.workdir = workdir
        self._procs: list[subprocess.Popen] = []
        self._seed = 10
        self._sip_port = 5070

    # -- plumbing -----------------------------------------------------------------------------

    def setup(self) -> None:
        for ns in (self.caller_ns, self.exchange_ns, self.tap_ns):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("link", "add", "uac0", "netns", self.caller_ns, "type", "veth", "peer", "name", "pbx0", "netns", self.exchange_ns)
        _ip("link", "add", "mir0", "netns", self.exchange_ns, "type", "veth", "peer", "name", self.tap_interface, "netns", self.tap_ns)
        _ip("-n", self.caller_ns, "addr", "add", f"{CALLER_IP}/24", "dev", "uac0")
        _ip("-n", self.exchange_ns, "addr", "add", f"{EXCHANGE_IP}/24", "dev", "pbx0")
        _ip("-n", self.exchange_ns, "addr", "add", f"{EXCHANGE_IP2}/24", "dev", "pbx0")
        for ns, dev in ((self.caller_ns, "uac0"), (self.exchange_ns, "pbx0"), (self.exchange_ns, "mir0"), (self.tap_ns, self.tap_interface)):
            _ip("-n", ns, "link", "set", dev, "up")
        self.in_ns(self.exchange_ns, ["tc", "qdisc", "add", "dev", "pbx0", "clsact"])
        self.mirror(True)
        time.sleep(0.3)

    def mirror(self, on: bool) -> None:
        """Start or stop copying the exchange's traffic onto the tap's interface."""
        for hook in ("ingress", "egress"):
            if on:
                self.in_ns(self.exchange_ns, ["tc", "filter", "add", "dev", "pbx0", hook, "protocol", "all", "u32",
                                              "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", "mir0"])
            else:
                self.in_ns(self.exchange_ns, ["tc", "filter", "del", "dev", "pbx0", hook])

    def unplug_tap(self) -> None:
        """The tap's interface vanishes (deleting one end of a veth pair deletes both)."""
        self.in_ns(self.exchange_ns, ["ip", "link", "del", "mir0"])

    def replug_tap(self) -> None:
        """The tap's interface comes back (a new veth pair under the same names, mirror re-aimed)."""
        _ip("link", "add", "mir0", "netns", self.exchange_ns, "type", "veth", "peer", "name", self.tap_interface, "netns", self.tap_ns)
        _ip("-n", self.exchange_ns, "link", "set", "mir0", "up")
        _ip("-n", self.tap_ns, "link", "set", self.tap_interface, "up")
        self.mirror(False)
        self.mirror(True)

    def in_ns(self, ns: str, argv: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", ns, *argv], check=True, capture_output=True, **kw)

    def in_tap(self, argv: list[str], **kw) -> subprocess.Popen:
        """Start ``argv`` inside the tap's namespace (stopped at teardown if still running)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.tap_ns, *argv], **kw)
        self._procs.append(proc)
        return proc

    def teardown(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for ns in (self.caller_ns, self.exchange_ns, self.tap_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    # -- calls --------------------------------------------------------------------------------

    def _audio(self, codec: str, seconds: float, freq: float) -> tuple[Path, np.ndarray]:
        table = ULAW if codec == "PCMU" else ALAW
        self._seed += 1
        data = encode(tone(seconds, freq, seed=self._seed), table)
        path = self.workdir / f"audio-{self._seed}.{codec.lower()}"
        path.write_bytes(data)
        return path, table[np.frombuffer(data, np.uint8)]

    def exchange(self, codec: str = "PCMU", seconds: float = 2.0, address: str = EXCHANGE_IP, cancel: bool = False,
                 transport: str = "u1", media_port: int = 6000) -> tuple[subprocess.Popen, np.ndarray]:
        """SIPp answering one call on ``address`` and streaming ``seconds`` of audio back."""
        audio, sent = self._audio(codec, seconds, 660)
        xml = self.workdir / f"uas-{self._seed}.xml"
        xml.write_text(uas_scenario(codec, None if cancel else audio, cancel))
        proc = subprocess.Popen(["ip", "netns", "exec", self.exchange_ns, "sipp", "-sf", str(xml), "-i", address, "-p", "5060",
                                 "-mi", address, "-mp", str(media_port), "-m", "1", "-t", transport, "-nostdin", "-timeout", "30s"],
                                cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "sipp.log", "ab"))
        self._procs.append(proc)
        time.sleep(0.3)
        return proc, sent

    def held_call(self, number: str, talk_s: float = 1.0, hold_s: float = 3.0) -> Placed:
        """A call whose caller puts it on hold (neither side sends RTP) for ``hold_s``, then resumes."""
        _, callee_sent = self._audio("PCMU", 2 * talk_s + 1, 660)
        uas_xml = self.workdir / f"uas-{self._seed}.xml"
        uas_xml.write_text(uas_scenario("PCMU", self.workdir / f"audio-{self._seed}.pcmu", holds=True))
        uas = subprocess.Popen(["ip", "netns", "exec", self.exchange_ns, "sipp", "-sf", str(uas_xml), "-i", EXCHANGE_IP,
                                "-p", "5060", "-mi", EXCHANGE_IP, "-mp", "6000", "-m", "1", "-nostdin", "-timeout", "30s"],
                               cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "sipp.log", "ab"))
        self._procs.append(uas)
        time.sleep(0.3)
        audio, caller_sent = self._audio("PCMU", 2 * talk_s + 1, 440)
        xml = self.workdir / f"uac-{self._seed}.xml"
        xml.write_text(uac_hold_scenario("09011112222", "PCMU", audio, int(talk_s * 1000), int(hold_s * 1000)))
        self._sip_port += 2
        caller = subprocess.run(["ip", "netns", "exec", self.caller_ns, "sipp", "-sf", str(xml), "-i", CALLER_IP, "-p",
                                 str(self._sip_port), "-mi", CALLER_IP, "-mp", str(20000 + 10 * (self._sip_port - 5070)),
                                 "-s", number, "-m", "1", "-nostdin", "-timeout", "30s", f"{EXCHANGE_IP}:5060"],
                                cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "sipp.log", "ab"))
        assert caller.returncode == 0, "the SIPp caller failed"
        uas.wait(10)
        return Placed({0: caller_sent, 1: callee_sent})

    def call(self, number: str, caller: str = "09011112222", codec: str = "PCMU", seconds: float = 2.0,
             address: str = EXCHANGE_IP, dtmf: str = "", cancel: bool = False, transport: str = "u1",
             wait: bool = True, exchange_seconds: float | None = None) -> Placed | subprocess.Popen:
        """One real call from the caller's SIPp to the exchange's; returns what each side sent."""
        uas, callee_sent = self.exchange(codec, exchange_seconds or seconds, address, cancel, transport,
                                         media_port=6000 if address == EXCHANGE_IP else 6100)
        audio, caller_sent = (None, np.zeros(0, np.int16)) if dtmf else self._audio(codec, seconds, 440)
        xml = self.workdir / f"uac-{self._seed}.xml"
        xml.write_text(uac_scenario(caller, codec, audio, int(seconds * 1000) + 300, dtmf, cancel))
        self._sip_port += 2
        argv = ["ip", "netns", "exec", self.caller_ns, "sipp", "-sf", str(xml), "-i", CALLER_IP, "-p", str(self._sip_port),
                "-mi", CALLER_IP, "-mp", str(20000 + 10 * (self._sip_port - 5070)), "-s", number, "-m", "1", "-t", transport,
                "-nostdin", "-timeout", "30s", f"{address}:5060"]
        proc = subprocess.Popen(argv, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "sipp.log", "ab"))
        self._procs.append(proc)
        placed = Placed({0: caller_sent, 1: callee_sent})
        if not wait:
            proc.placed = placed
            return proc
        assert proc.wait(60) == 0, "the SIPp caller failed"
        uas.wait(10)
        return placed

    def replay(self, pcap: Path) -> None:
        """Push a capture file through the mirror into the tap's interface, at its own pace."""
        self.in_ns(self.exchange_ns, ["tcpreplay", "-q", "-i", "mir0", str(pcap)], timeout=120)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    for tool in ("ip", "tc", "sipp", "tcpreplay"):
        if shutil.which(tool) is None:
            return f"needs {tool} (tools/install.sh --test installs sip-tester, tcpreplay, iproute2)"
    probe = f"crprobe-{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if made.returncode != 0:
        return "network namespaces cannot be created here: " + made.stderr.decode(errors="replace").strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@pytest.fixture
def sip_lab(tmp_path):
    why = _why_not()
    if why:
        pytest.skip(why)
    lab = SipLab(tmp_path)
    try:
        lab.setup()
        yield lab
    finally:
        lab.teardown()


@pytest.fixture
def tap_runner():
    """argv that runs a live SipSource (settings as JSON) and pickles its events on SIGTERM."""
    def argv(settings_json: str, out: Path) -> list[str]:
        return [sys.executable, "-m", "tests.capture.sip.tap_runner", settings_json, str(out)]
    return argv
