"""The audio stream of an SDP offer or answer (RFC 4566/3264): where it wants RTP, in which
codecs, in which direction, and whether it is SRTP."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

__all__ = ["AudioMedia", "parse_sdp", "STATIC_CODECS"]

#: RFC 3551's static payload types the tap knows by number.
STATIC_CODECS = {0: "pcmu", 8: "pcma", 9: "g722", 13: "cn"}
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


@dataclass(frozen=True)
class AudioMedia:
    #: Where this side receives RTP: packed IP address and port.
    addr: bytes
    port: int
    #: Payload type -> lower-case encoding name (``pcmu``, ``pcma``, ``g722``, ``telephone-event`` …).
    codecs: dict[int, str] = field(default_factory=dict)
    direction: str = "sendrecv"
    #: RTP/SAVP or RTP/SAVPF (SRTP), which a passive tap cannot decrypt.
    secure: bool = False

    @property
    def holding(self) -> bool:
        """This side put the call on hold (RFC 3264 §8.4, and the old ``c=0.0.0.0`` form)."""
        return self.direction != "sendrecv" or self.addr in (b"\0\0\0\0",)


def parse_sdp(body: bytes) -> AudioMedia | None:
    """The first ``m=audio`` stream with a usable port, or ``None``."""
    session_addr = b""
    session_dir = "sendrecv"
    media: dict | None = None
    for raw in body.decode("utf-8", "replace").splitlines():
        kind, _, value = raw.strip().partition("=")
        if kind == "m":
            if media is not None and media.get("port"):
                break
            media = _media_line(value)
        elif kind == "c":
            addr = _connection(value)
            if media is None:
                session_addr = addr
            elif media.get("port"):
                media["addr"] = addr
        elif kind == "a":
            session_dir = _attribute(value, media, session_dir)
    if not media or not media.get("port"):
        return None
    addr = media.get("addr") or session_addr
    if not addr:
        return None
    return AudioMedia(addr, media["port"], media["codecs"], media.get("direction", session_dir), media["secure"])


def _media_line(value: str) -> dict | None:
    parts = value.split()
    if len(parts) < 4 or parts[0] != "audio" or not parts[1].split("/")[0].isdigit():
        return {"port": 0}
    codecs = {int(p): STATIC_CODECS.get(int(p), "") for p in parts[3:] if p.isdigit()}
    return {"port": int(parts[1].split("/")[0]), "codecs": codecs, "secure": "SAVP" in parts[2].upper()}


def _connection(value: str) -> bytes:
    parts = value.split()
    if len(parts) < 3:
        return b""
    family = socket.AF_INET6 if parts[1] == "IP6" else socket.AF_INET
    try:
        return socket.inet_pton(family, parts[2].split("/")[0])
    except (OSError, ValueError):  # not an address, or one with a NUL in it
        return b""


def _attribute(value: str, media: dict | None, session_dir: str) -> str:
    if value in _DIRECTIONS:
        if media is None:
            return value
        media["direction"] = value
    elif media is not None and media.get("port") and value.startswith("rtpmap:"):
        pt, _, encoding = value[7:].partition(" ")
        if pt.isdigit():
            media["codecs"][int(pt)] = encoding.split("/")[0].strip().lower()
    elif media is not None and media.get("port") and value.startswith("crypto:"):
        media["secure"] = True
    return session_dir
