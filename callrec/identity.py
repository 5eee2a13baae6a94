"""Who is asking: always the OS account as the kernel reports it.

Locally that is the process's real uid; through the daemon's socket it is the peer's uid from
``SO_PEERCRED``. Never a flag, a config value or an environment variable (DESIGN.md, "People").
"""

from __future__ import annotations

import os
import pwd
import socket
import struct

__all__ = ["account_of_uid", "current_account", "peer_account"]


def account_of_uid(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def current_account() -> str:
    return account_of_uid(os.getuid())


def peer_account(conn: socket.socket) -> str:
    """The account of the process at the other end of a Unix socket."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return account_of_uid(uid)
