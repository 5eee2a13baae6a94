"""libpcap through pcapy-ng: a live mirrored interface with a kernel BPF filter, or a capture file.

pcapy-ng was chosen over python-libpcap (Cython, an sdist to compile, one packet per call),
pypcap (last release 2022) and the ctypes binding ``libpcap`` (a beta): it is maintained, ships
wheels, exposes ``stats()`` (kernel drops) and ``next_batch()``, which hands over a whole buffer
of packets per call instead of one Python object per packet. No raw ``AF_PACKET`` fallback is
needed while it installs from a wheel.
"""

from __future__ import annotations

import os
import select
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pcapy

from callrec.capture.sip._errors import BadPacketCapture, BadSipSettings, CaptureInterfaceNotFound, CaptureNotPermitted
from callrec.capture.sip._settings import SipSourceSettings

__all__ = ["Capture", "open_file", "open_live", "bpf_filter", "interface_present", "CaptureLost"]

_BATCH = 512
_TIMEOUT_MS = 100
_SNAPLEN = 65535


class CaptureLost(Exception):
    """The interface stopped delivering (gone, down): internal, turned into a device_lost gap."""


def bpf_filter(settings: SipSourceSettings) -> str:
    """UDP (SIP, RTP, fragments) and SIP over TCP/TLS, untagged or under one or two VLAN tags."""
    tcp = " or ".join(f"tcp port {p} or tcp port {p + 1}" for p in settings.sip_ports)
    inner = f"udp or {tcp}"
    expression = f"({inner}) or (vlan and (({inner}) or (vlan and ({inner}))))"
    if settings.bpf_filter.strip():
        expression = f"({expression}) and ({settings.bpf_filter})"
    return expression


def interface_present(interface: str) -> bool:
    return os.path.exists(f"/sys/class/net/{interface}")


class Capture:
    def __init__(self, handle: object, live: bool = False) -> None:
        self._handle = handle
        self.linktype = handle.datalink()
        #: Live handles are non-blocking and waited on with select(): a blocking read on an idle
        #: interface never returns (TPACKET_V3 ignores the timeout until a first packet).
        self._fd = handle.getfd() if live else None
        if live:
            handle.setnonblock(1)

    def batches(self) -> Iterator[list[tuple[float, bytes, int, int]]]:
        """Lists of (timestamp, buffer, offset, length); an empty list on a live timeout; ends at EOF."""
        while True:
            try:
                buf, meta = self._handle.next_batch(_BATCH)
            except pcapy.PcapError as exc:
                raise CaptureLost(str(exc)) from None
            if not meta:
                if self._fd is not None:
                    select.select([self._fd], [], [], _TIMEOUT_MS / 1000)
                yield []
                continue
            rows = np.frombuffer(meta, dtype=np.uint32).reshape(-1, 4).tolist()
            yield [(sec + usec / 1e6, buf, off, caplen) for sec, usec, off, caplen in rows]

    def dropped(self) -> int:
        """Packets the kernel or the interface dropped since the capture opened."""
        _received, dropped, if_dropped = self._handle.stats()
        return dropped + if_dropped

    def close(self) -> None:
        self._handle.close()


def open_file(path: Path) -> Capture:
    try:
        return Capture(pcapy.open_offline(str(path)))
    except pcapy.PcapError as exc:
        raise BadPacketCapture(path, str(exc).splitlines()[0] if str(exc) else "unreadable") from None


def open_live(settings: SipSourceSettings) -> Capture:
    interface = settings.interface
    if not interface_present(interface):
        raise CaptureInterfaceNotFound(interface)
    try:
        handle = pcapy.create(interface)
        handle.set_snaplen(_SNAPLEN)
        handle.set_promisc(1)
        handle.set_timeout(_TIMEOUT_MS)
        handle.set_buffer_size(settings.buffer_bytes)
        handle.activate()
    except pcapy.PcapError as exc:
        text = str(exc).splitlines()[0] if str(exc) else "refused"
        if "No such device" in text:
            raise CaptureInterfaceNotFound(interface) from None
        raise CaptureNotPermitted(interface, text) from None
    try:
        handle.setfilter(bpf_filter(settings))
    except pcapy.PcapError as exc:
        handle.close()
        raise BadSipSettings(f"bpf_filter does not compile ({str(exc).splitlines()[0]}): give a tcpdump filter expression") from None
    return Capture(handle, live=True)
