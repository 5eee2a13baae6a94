"""Socket protocol v1 on the wire (docs/design/protocol.md).

A request is one line of JSON, ``{"v": 1, "action": NAME, "args": {...}}``, followed by one binary
frame when the action uploads a file. A reply is one line of JSON, ``{"v": 1, "rc": 0, "result":
{...}, "frames": N}`` or ``{"v": 1, "rc": N, "error": "one line"}``, followed by the N frames its
result refers to. A frame is an 8-byte big-endian length and that many bytes. Inside a result,
a ``bytes`` field is ``{"frame": i}``, the i-th frame after the reply line.

A listing of any length is a :class:`Rows` field, ``{"stream": i}`` in the result (the reply line
then says ``"streams": n``): after the frames, each stream is sent as it is read, one frame per
page of records (the ``--json`` bytes of those records), an empty frame, and one trailer line
``{"v": 1, "rc": 0}`` (or the error that broke the listing off). Neither side holds it whole.
JSON is :mod:`callrec.jsoncodec` (orjson) on both sides.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from callrec import jsoncodec

__all__ = ["VERSION", "MAX_REQUEST_BYTES", "MAX_UPLOAD_BYTES", "PRIORITY_ACTIONS", "MAX_PAGE_BYTES", "ProtocolError", "Rows",
           "encode_result", "decode_result", "send_frame", "recv_frame", "recv_line", "dumps_line", "send_rows",
           "received_rows"]

VERSION = 1
#: The request line (JSON) may not exceed this.
MAX_REQUEST_BYTES = 1024 * 1024
#: An uploaded file (a CDR export) may not exceed this.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
#: A page of a streamed listing may not exceed this (a page is about a thousand records).
MAX_PAGE_BYTES = 64 * 1024 * 1024
FRAME_HEADER = struct.Struct("!Q")
#: Actions a daemon answers from a worker kept for them, and the CLI waits for only briefly: what
#: ops and the maintainer need to tell that recording works, also while others flood the socket.
PRIORITY_ACTIONS = frozenset({"status", "health.check", "log.head"})


class ProtocolError(Exception):
    """The other side broke the protocol (closed early, sent too much, sent malformed data)."""


def dumps_line(payload: dict) -> bytes:
    return jsoncodec.dumps(payload) + b"\n"


class Rows:
    """Records (JSON objects) read page by page: a listing of any length, used once.

    Made by a use case from pages of dicts it reads as it goes, or by the client from the pages
    the daemon sends (already the ``--json`` bytes). Iterating gives the records;
    :meth:`encoded` gives each page as :func:`callrec.jsoncodec.records` bytes, unchanged when they
    came from the socket, so ``--json`` writes the same bytes either way.
    """

    def __init__(self, pages: Iterable[list[dict]] | None = None, encoded: Iterable[bytes] | None = None) -> None:
        self._pages, self._encoded = pages, encoded

    def encoded(self) -> Iterator[bytes]:
        if self._encoded is not None:
            yield from self._encoded
        else:
            yield from (jsoncodec.records(page) for page in self._pages or () if page)

    def pages(self) -> Iterator[list[dict]]:
        if self._pages is not None:
            yield from self._pages
        else:
            yield from (jsoncodec.loads(b"[" + page + b"]") for page in self._encoded or ())

    def __iter__(self) -> Iterator[dict]:
        for page in self.pages():
            yield from page


def _encoder(frames: list[bytes], streams: list[Rows] | None) -> Callable[[Any], Any]:
    """orjson's ``default``: a ``bytes`` field becomes a frame, a :class:`Rows` field a stream."""

    def default(value: Any) -> Any:
        if isinstance(value, bytes):
            frames.append(value)
            return {"frame": len(frames) - 1}
        if isinstance(value, Rows) and streams is not None:
            streams.append(value)
            return {"stream": len(streams) - 1}
        raise TypeError(f"{type(value).__name__} is not part of a result")

    return default


def encode_result(value: Any, frames: list[bytes], streams: list[Rows] | None = None) -> Any:
    """The JSON form of a result, encoded once (embedded as it is in the reply line); ``bytes``
    fields are appended to ``frames`` and, when ``streams`` is given, :class:`Rows` to it."""
    return jsoncodec.Fragment(jsoncodec.dumps(value, default=_encoder(frames, streams)))


def decode_result(tp: Any, data: Any, frames: list[bytes], streams: list[Rows] = ()) -> Any:
    """Rebuild a typed result of type ``tp`` from its JSON form and the frames that followed it."""
    origin, targs = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        return decode_result(next(t for t in targs if t is not type(None)), data, frames, streams)
    if origin in (list, tuple):
        return origin(decode_result(targs[0], v, frames, streams) for v in data)
    if tp is bytes:
        return frames[data["frame"]]
    if tp is Rows:
        return streams[data["stream"]]
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: decode_result(hints[f.name], data[f.name], frames, streams)
                     for f in dataclasses.fields(tp)})
    if tp is float and isinstance(data, int):
        return float(data)
    return data


def send_rows(sock: socket.socket, rows: Rows, on_error: Callable[[Exception], tuple[int, str]]) -> None:
    """One stream: a frame per page as it is read, an empty frame, the trailer line. A failure while
    reading ends the stream with the error ``on_error`` makes of it (rc, one line)."""
    trailer: dict[str, Any] = {"v": VERSION, "rc": 0}
    pages = rows.encoded()
    while True:
        try:
            page = next(pages, None)
        except Exception as exc:  # noqa: BLE001 - the client is told; the caller logs what it must
            rc, message = on_error(exc)
            trailer = {"v": VERSION, "rc": rc, "error": message}
            break
        if page is None:
            break
        send_frame(sock, page)
    send_frame(sock, b"")
    sock.sendall(dumps_line(trailer))


def received_rows(rfile: BinaryIO, on_end: Callable[[dict], None]) -> Rows:
    """The client's side of one stream: pages read as they are asked for; ``on_end`` gets the
    trailer line (and raises the error it holds)."""

    def pages() -> Iterator[bytes]:
        while page := recv_frame(rfile, MAX_PAGE_BYTES):
            yield page
        on_end(recv_line(rfile, MAX_REQUEST_BYTES))

    return Rows(encoded=pages())


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
        payload = jsoncodec.loads(line)
    except jsoncodec.JSONDecodeError:
        raise ProtocolError("reply is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError("reply is not a JSON object")
    return payload
