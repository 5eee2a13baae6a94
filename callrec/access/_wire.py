"""Socket protocol v1 on the wire (docs/design/protocol.md).

A request is one line of JSON, ``{"v": 1, "action": NAME, "args": {...}}``, followed by one binary
frame when the action uploads a file. A reply is one line of JSON, ``{"v": 1, "rc": 0, "result":
{...}, "frames": N}`` or ``{"v": 1, "rc": N, "error": "one line"}``, followed by the N frames its
result refers to. A frame is an 8-byte big-endian length and that many bytes. Inside a result,
a ``bytes`` field is ``{"frame": i}``, the i-th frame after the reply line.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
import types
import typing
from typing import Any, BinaryIO

__all__ = ["VERSION", "MAX_REQUEST_BYTES", "MAX_UPLOAD_BYTES", "PRIORITY_ACTIONS", "ProtocolError", "encode_result", "decode_result",
           "send_frame", "recv_frame", "recv_line", "dumps_line"]

VERSION = 1
#: The request line (JSON) may not exceed this.
MAX_REQUEST_BYTES = 1024 * 1024
#: An uploaded file (a CDR export) may not exceed this.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
FRAME_HEADER = struct.Struct("!Q")
#: Actions a daemon answers from a worker kept for them, and the CLI waits for only briefly: what
#: ops and the maintainer need to tell that recording works, also while others flood the socket.
PRIORITY_ACTIONS = frozenset({"status", "health.check", "log.head"})


class ProtocolError(Exception):
    """The other side broke the protocol (closed early, sent too much, sent malformed data)."""


def dumps_line(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


#: Values that are their own JSON form (checked inline: a month's listing is ~100,000 of them).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def encode_result(value: Any, frames: list[bytes]) -> Any:
    """A JSON-able form of a result; ``bytes`` fields are appended to ``frames``."""
    if type(value) in _PLAIN:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode_result(getattr(value, f.name), frames) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        frames.append(value)
        return {"frame": len(frames) - 1}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN else encode_result(v, frames) for v in value]
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else encode_result(v, frames) for k, v in value.items()}
    return value


def decode_result(tp: Any, data: Any, frames: list[bytes]) -> Any:
    """Rebuild a typed result of type ``tp`` from its JSON form and the frames that followed it."""
    origin, targs = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        return decode_result(next(t for t in targs if t is not type(None)), data, frames)
    if origin in (list, tuple):
        return origin(decode_result(targs[0], v, frames) for v in data)
    if tp is bytes:
        return frames[data["frame"]]
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: decode_result(hints[f.name], data[f.name], frames) for f in dataclasses.fields(tp)})
    if tp is float and isinstance(data, int):
        return float(data)
    return data


def send_frame(sock: socket.socket, data: bytes) -> None:
    sock.sendall(FRAME_HEADER.pack(len(data)))
    sock.sendall(data)


def recv_frame(rfile: BinaryIO, limit: int) -> bytes:
    """One frame from a buffered reader over the socket (``sock.makefile("rb")``)."""
    header = rfile.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        raise ProtocolError("connection closed before a frame")
    (size,) = FRAME_HEADER.unpack(header)
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes exceeds {limit}")
    data = rfile.read(size)
    if len(data) < size:
        raise ProtocolError("connection closed in the middle of a frame")
    return data


def recv_line(rfile: BinaryIO, limit: int) -> dict:
    """One JSON line (a reply header) from a buffered reader over the socket."""
    line = rfile.readline(limit + 1)
    if not line.endswith(b"\n"):
        raise ProtocolError("reply line missing or too long" if line else "connection closed before the reply")
    try:
        payload = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("reply is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError("reply is not a JSON object")
    return payload
