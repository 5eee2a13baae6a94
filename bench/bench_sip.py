"""SIP/RTP tap benchmark: CPU per concurrent call and packets per second at 100 concurrent calls,
the frame parser against dpkt, RSS per call, and (as root) kernel drops on a real mirror.

Run: ``python bench/bench_sip.py [--calls 100] [--seconds 10] [--live]``.

- The load is a capture of ``--calls`` simultaneous µ-law calls (50 RTP packets/s each way, so
  100 calls = 10,000 packets/s) built by tests/capture/sip/pcapgen.py.
- Baseline, measured in the same run: a bare libpcap read loop over that file (pcapy-ng
  ``next_batch``, touching each packet's timestamp). The tap's cost is reported as a multiple of
  it, and as a share of one core at the capture's own packet rate (goal: at most 10 %).
- Frame parsing alone: the tap's ``struct`` decoder against dpkt (Ethernet/IP/UDP objects) on the
  same frames; the reason the tap parses frames itself.
- RSS per call: how far RSS grows after imports while replaying the load, less the same for a
  single call, per call.
- Packet-to-emit: the source's clock when each audio chunk is handed on, minus the chunk's start
  (the worst case for any sample in it); p99 must leave the consumer room to commit within 1 s.
- ``--live`` (root, network namespaces, tcpreplay): the capture is pushed through a ``tc``
  mirror at 10,000 packets/s into a live tap; reports the kernel drop count (goal 0) and the
  calls recorded.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dpkt
import numpy as np
import pcapy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callrec.capture import CallAudio  # noqa: E402
from callrec.capture.sip import SipSource, SipSourceSettings  # noqa: E402
from callrec.capture.sip._frames import FrameDecoder  # noqa: E402  (the parser itself is what is measured)
from tests.capture.sip.pcapgen import Call, write_pcap  # noqa: E402

SETTINGS = SipSourceSettings(number="0312345678", interface="span0", rtp_timeout_s=30.0)


def build(path: Path, calls: int, seconds: float) -> int:
    packets = []
    for i in range(calls):
        call = Call(call_id=f"bench-{i}@x", start=1_700_000_000.0 + i * 0.013, seconds=seconds,
                    caller_rtp=("192.0.2.10", 10000 + 2 * i), callee_rtp=("192.0.2.1", 30000 + 2 * i),
                    caller_seed=i, callee_seed=10_000 + i)
        packets += call.build().packets
    write_pcap(path, packets)
    return len(packets)


def frames(path: Path) -> list[tuple[float, bytes, int, int]]:
    handle = pcapy.open_offline(str(path))
    out = []
    while True:
        buf, meta = handle.next_batch(512)
        if not meta:
            return out
        for sec, usec, off, caplen in np.frombuffer(meta, np.uint32).reshape(-1, 4).tolist():
            out.append((sec + usec / 1e6, buf, off, caplen))


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def bare_read(path: Path) -> None:
    handle = pcapy.open_offline(str(path))
    total = 0.0
    while True:
        _buf, meta = handle.next_batch(512)
        if not meta:
            return
        for sec, usec, _off, _caplen in np.frombuffer(meta, np.uint32).reshape(-1, 4).tolist():
            total += sec + usec / 1e6


def parse_struct(rows) -> None:
    decoder = FrameDecoder()
    for ts, buf, off, caplen in rows:
        decoder.decode(buf, off, caplen, ts)


def parse_dpkt(rows) -> None:
    for _ts, buf, off, caplen in rows:
        eth = dpkt.ethernet.Ethernet(buf[off : off + caplen])
        ip = eth.data
        if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.udp.UDP):
            _ = (ip.src, ip.data.sport, ip.dst, ip.data.dport, ip.data.data)


def replay(path: Path) -> tuple[float, list[float]]:
    """(CPU seconds, per audio chunk: the source's clock when emitted minus the chunk's start)."""
    source = SipSource(SETTINGS, pcap_file=path)
    delays: list[float] = []

    def emit(event) -> None:
        if isinstance(event, CallAudio):
            delays.append(source.now() - event.ts)

    return cpu(lambda: source.run(emit)), delays


_RSS_PROBE = """
import sys
from callrec.capture.sip import SipSource, SipSourceSettings
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4
seen = [rss()]
def emit(event):
    seen.append(rss())
SipSource(SipSourceSettings(number=sys.argv[2]), pcap_file=sys.argv[1]).run(emit)
print(max(seen) - seen[0])
"""


def rss_growth_kib(path: Path) -> int:
    """How far a fresh process's RSS grows (after imports) while replaying ``path`` through the tap."""
    run = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(path), SETTINGS.number], check=True,
                         capture_output=True, text=True)
    return int(run.stdout)


def live(path: Path, packets: int, tmp: Path) -> None:
    import json
    import pickle
    import signal
    import subprocess

    from tests.capture.sip.conftest import REPO, SipLab, _why_not

    why = _why_not()
    if why:
        print(f"live mirror      : skipped ({why})")
        return
    lab = SipLab(tmp)
    try:
        lab.setup()
        out = tmp / "live.pickle"
        settings = json.dumps({"interface": lab.tap_interface, "number": SETTINGS.number, "rtp_timeout_s": 30.0})
        proc = lab.in_tap([sys.executable, "-m", "tests.capture.sip.tap_runner", settings, str(out)],
                          stdout=subprocess.PIPE, cwd=REPO)
        proc.stdout.readline()
        start = time.monotonic()
        lab.in_ns(lab.exchange_ns, ["tcpreplay", "-q", "--pps=10000", "-i", "mir0", str(path)], timeout=600)
        wall = time.monotonic() - start
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        data = pickle.loads(out.read_bytes())
        overflow = [e for e in data["events"] if type(e).__name__ == "TapGap" and e.cause == "overflow"]
        print(f"live mirror      : {packets} packets at {packets / wall:,.0f}/s, {len(overflow)} overflow gaps "
              f"(kernel drops), {data['stats'].get('calls_recorded', 0)} calls recorded, {data['stats'].get('rtp', 0)} RTP placed; "
              f"tap process CPU {data['cpu_s']:.2f} s over {wall:.1f} s (imports included)")
    finally:
        lab.teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--live", action="store_true", help="also push the load through a real tc mirror (root)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sip-") as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "load.pcap"
        packets = build(path, args.calls, args.seconds)
        rate = packets / (args.seconds + 0.6)
        base = min(cpu(lambda: bare_read(path)) for _ in range(3))
        rows = frames(path)
        own = min(cpu(lambda: parse_struct(rows)) for _ in range(3))
        lib = min(cpu(lambda: parse_dpkt(rows)) for _ in range(3))
        runs = [replay(path) for _ in range(3)]
        tap = min(r[0] for r in runs)
        one = tmp / "one.pcap"
        build(one, 1, args.seconds)
        growth = rss_growth_kib(path)
        per_call = (growth - rss_growth_kib(one)) / (args.calls - 1)
        print(f"load             : {args.calls} concurrent calls, {packets} packets over {args.seconds + 0.6:.1f} s "
              f"= {rate:,.0f} packets/s")
        print(f"bare pcap read   : {base * 1e6 / packets:6.2f} µs/packet (baseline)")
        print(f"frame parse      : struct {own * 1e6 / packets:5.2f} µs/packet, dpkt {lib * 1e6 / packets:5.2f} "
              f"µs/packet = {lib / own:.1f} x ours")
        print(f"tap (full)       : {tap * 1e6 / packets:6.2f} µs/packet = {tap / base:.1f} x the bare read; "
              f"{packets / tap:,.0f} packets/s per core")
        print(f"CPU at this load : {tap / (args.seconds + 0.6) * 100:.1f}% of one core "
              f"({tap / (args.seconds + 0.6) / args.calls * 100:.3f}% per concurrent call; goal <= 10% at 100 calls)")
        print(f"RSS per call     : {per_call:.0f} KiB (RSS growth {growth / 1024:.1f} MiB with {args.calls} calls "
              "in progress, less that with 1, per call)")
        delays = runs[-1][1]
        print(f"packet-to-emit   : p50 {np.percentile(delays, 50):.3f} s, p99 {np.percentile(delays, 99):.3f} s, "
              f"max {max(delays):.3f} s (audio handed on; the consumer commits within its own 1 s)")
        if args.live:
            live(path, packets, tmp)


if __name__ == "__main__":
    main()
