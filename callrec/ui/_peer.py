"""Which local account owns the other end of a loopback TCP connection.

The kernel lists every IPv4 TCP socket in ``/proc/net/tcp`` with the uid of the account that
created it. The browser's socket is the row whose local address is the connection's remote
address and whose remote address is the server's: its uid is who is asking. Binding to the
loopback address keeps other hosts out; this keeps the other accounts of this host out.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

__all__ = ["peer_uid"]

_TCP_TABLE = Path("/proc/net/tcp")


def _address(field: str) -> tuple[str, int]:
    host, port = field.split(":")
    return socket.inet_ntoa(struct.pack("<I", int(host, 16))), int(port, 16)


def peer_uid(peer: tuple[str, int], server: tuple[str, int], table: Path = _TCP_TABLE) -> int | None:
    """The uid owning the socket at ``peer`` connected to ``server``; None when no such socket is listed."""
    try:
        lines = table.read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        if _address(fields[1]) == tuple(peer) and _address(fields[2]) == tuple(server):
            return int(fields[7])
    return None
