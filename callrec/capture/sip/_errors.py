"""The SIP tap's errors; none carries a phone number (DESIGN.md invariant 9)."""

from __future__ import annotations

from callrec.errors import CaptureError

__all__ = ["CaptureInterfaceNotFound", "CaptureNotPermitted", "BadPacketCapture", "BadSipSettings"]


class CaptureInterfaceNotFound(CaptureError):
    """capture interface {0!r} not found: set the line's interface to the mirrored port's name from 'ip link'"""


class CaptureNotPermitted(CaptureError):
    """cannot capture on interface {0!r} ({1}): the service needs CAP_NET_RAW and sight of the host's interfaces"""


class BadPacketCapture(CaptureError):
    """cannot read packet capture {0} ({1}): give a pcap or pcapng file as written by 'tcpdump -w'"""


class BadSipSettings(CaptureError):
    """SIP line settings: {0}"""
