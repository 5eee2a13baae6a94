"""The passive SIP/RTP tap: a signalling source that reads a mirrored switch port (or a pcap
file) and emits the line's calls as :mod:`callrec.capture` call events."""

from callrec.capture.sip._errors import BadPacketCapture, BadSipSettings, CaptureInterfaceNotFound, CaptureNotPermitted
from callrec.capture.sip._g711 import ALAW, ULAW
from callrec.capture.sip._numbers import normalise_number
from callrec.capture.sip._settings import DIRECTIONS, SipSourceSettings
from callrec.capture.sip._source import SipSource

__all__ = [
    "ALAW",
    "BadPacketCapture",
    "BadSipSettings",
    "CaptureInterfaceNotFound",
    "CaptureNotPermitted",
    "DIRECTIONS",
    "SipSource",
    "SipSourceSettings",
    "ULAW",
    "normalise_number",
]
