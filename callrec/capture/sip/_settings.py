"""The SIP tap's settings: one frozen value per line, mapped from ``[[lines]]`` by the config layer."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SipSourceSettings", "DIRECTIONS"]

#: ``"in"``: calls to the line's number; ``"out"``: calls the line makes.
DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class SipSourceSettings:
    #: The mirrored (SPAN) network interface, e.g. ``"eth1"``; unused when replaying a pcap file.
    interface: str = ""
    #: The line's number in any usual form (``03-1234-5678``, ``+81312345678``, ``tel:+81…``).
    number: str = ""
    #: Country calling code (digits, no ``+``) that national numbers (``0…``) belong to.
    country_code: str = "81"
    #: International prefix dialled before a country code (Japan ``010``; ``00`` in most of Europe).
    international_prefix: str = "010"
    #: Which calls are recorded: ``("in", "out")``, ``("in",)`` or ``("out",)``.
    directions: tuple[str, ...] = DIRECTIONS
    #: An answered call with no RTP in either direction for this long has ended (``rtp_timeout``).
    rtp_timeout_s: float = 60.0
    #: The same while the call is on hold (sendonly/recvonly/inactive SDP), when no RTP is normal.
    hold_timeout_s: float = 3600.0
    #: A call offered but neither answered nor refused for this long is given up (``signalling_timeout``).
    ring_timeout_s: float = 300.0
    #: No packet at all on the interface for this long is a ``tap_silent`` gap. The exchange's SIP
    #: OPTIONS/REGISTER keep-alives normally cross the mirror every minute or so.
    tap_idle_s: float = 300.0
    #: UDP/TCP ports carrying SIP (TLS is assumed on port+1 for 5060 only, i.e. 5061).
    sip_ports: tuple[int, ...] = (5060,)
    #: Appended to the kernel BPF filter with ``and (...)``, e.g. ``"host 192.0.2.10"`` for the exchange.
    bpf_filter: str = ""
    #: Kernel capture buffer; a mirror port at 10,000 packets/s needs a few MB to ride out stalls.
    buffer_bytes: int = 32 * 1024 * 1024
