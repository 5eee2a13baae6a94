"""A small SIP message reader: only what call tracking needs, with its limits written down.

Why not a library: ``sipmessage`` 0.7.1 (PyPI, maintained) was read and evaluated. It knows
the compact forms, but a folded header line (no colon) makes it raise, it decodes the head as
strict UTF-8 (one Latin-1 display name and the message is lost), it does not cut the body at
Content-Length nor open multipart bodies, and its header lookup scans a list per access. On a
passive tap one unreadable message can lose a call, so the tap reads what it needs itself.
What this reader does (RFC 3261 §7):

- start line: request (``METHOD uri SIP/2.0``) or response (``SIP/2.0 code reason``);
- header folding (continuation lines starting with space or tab) is unfolded;
- compact forms ``i f t v m l c k s e o u r b x y`` map to their long names; names are
  case-insensitive; a header given several times keeps every value in order;
- the body is cut at Content-Length; a ``multipart/mixed`` body is split at its boundary and
  the ``application/sdp`` part returned by :meth:`SipMessage.sdp`;
- comma-separated header values (Diversion, History-Info, P-Asserted-Identity) are split
  outside ``<…>`` and quotes by :func:`split_values`.

Not handled (documented in docs/capture.md): SIP over TCP streams (one message per segment
only, used to raise a finding), message bodies with a Content-Encoding, S/MIME bodies,
``sips:`` semantics beyond reading the number.
"""

from __future__ import annotations

import re

__all__ = ["SipMessage", "parse_sip", "looks_like_sip", "split_values", "header_tag", "header_uri"]

_COMPACT = {
    "i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact", "l": "content-length",
    "c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding", "o": "event",
    "u": "allow-events", "r": "refer-to", "b": "referred-by", "x": "session-expires", "y": "identity",
}
_METHODS = (b"INVITE ", b"ACK ", b"BYE ", b"CANCEL ", b"OPTIONS ", b"REGISTER ", b"PRACK ", b"UPDATE ",
            b"INFO ", b"SUBSCRIBE ", b"NOTIFY ", b"REFER ", b"MESSAGE ", b"PUBLISH ")
_TAG = re.compile(r";\s*tag\s*=\s*([^;,\s>]+)", re.IGNORECASE)
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def looks_like_sip(payload: bytes) -> bool:
    return payload.startswith(b"SIP/2.0 ") or payload.startswith(_METHODS)


class SipMessage:
    __slots__ = ("method", "status", "uri", "headers", "body")

    def __init__(self, method: str | None, status: int | None, uri: str | None,
                 headers: dict[str, list[str]], body: bytes) -> None:
        self.method = method
        self.status = status
        self.uri = uri
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self.headers.get(name, [])

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = (self.header("cseq") or "0 ?").strip().partition(" ")
        return (int(number) if number.isdigit() else 0), method.strip().upper()

    def sdp(self) -> bytes | None:
        """The SDP body (alone or inside multipart/mixed), or ``None``."""
        ctype = (self.header("content-type") or "").lower()
        if ctype.startswith("application/sdp"):
            return self.body
        if ctype.startswith("multipart/"):
            match = _BOUNDARY.search(self.header("content-type") or "")
            return _sdp_part(self.body, match.group(1)) if match else None
        return None


def parse_sip(payload: bytes) -> SipMessage | None:
    """The message in one UDP payload, or ``None`` when it is not a SIP message."""
    head, sep, body = payload.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = payload.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    start = lines[0].split(" ", 2)
    if len(start) < 3:
        return None
    if start[0] == "SIP/2.0":
        if not start[1].isdigit():
            return None
        method, status, uri = None, int(start[1]), None
    elif start[2].strip() == "SIP/2.0":
        method, status, uri = start[0].upper(), None, start[1]
    else:
        return None
    headers = _headers(lines[1:])
    length = (headers.get("content-length") or [""])[0].strip()
    if length.isdigit():
        body = body[: int(length)]
    return SipMessage(method, status, uri, headers, body)


def _headers(lines: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        elif line:
            unfolded.append(line)
    for line in unfolded:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        headers.setdefault(_COMPACT.get(name, name), []).append(value.strip())
    return headers


def _sdp_part(body: bytes, boundary: str) -> bytes | None:
    for part in body.split(b"--" + boundary.encode()):
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep and b"application/sdp" in head.lower():
            return content.rstrip(b"\r\n")
    return None


def split_values(values: list[str]) -> list[str]:
    """Header values split at commas that are outside ``<…>`` and double quotes."""
    out: list[str] = []
    for value in values:
        depth, quoted, start = 0, False, 0
        for i, ch in enumerate(value):
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in "<>":
                depth += 1 if ch == "<" else -1
            elif ch == "," and not quoted and depth == 0:
                out.append(value[start:i].strip())
                start = i + 1
        out.append(value[start:].strip())
    return [v for v in out if v]


def header_uri(value: str | None) -> str | None:
    """The URI of a name-addr (``"x" <sip:…>;tag=…``) or addr-spec header value."""
    if not value:
        return None
    if "<" in value:
        return value.split("<", 1)[1].split(">", 1)[0]
    return value.split(";", 1)[0].strip()


def header_tag(value: str | None) -> str:
    """The ``tag`` parameter of a From/To value (after the URI), or ``""``."""
    if not value:
        return ""
    tail = value.rsplit(">", 1)[1] if ">" in value else value
    match = _TAG.search(tail)
    return match.group(1) if match else ""
