"""Forwarding a command to the daemon's Unix socket when this account cannot read the data key.

The wire format is one JSON line each way: ``{"argv": [...]}`` in, ``{"rc", "stdout", "stderr"}``
out. The daemon learns the caller from ``SO_PEERCRED`` (``callrec.identity``), never from the
request.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Sequence

from callrec.config import config_path, load_config
from callrec.errors import CallrecError, VaultError

__all__ = ["must_forward", "forward", "split_argv", "read_message", "write_message", "LOCAL_ONLY_COMMANDS"]

#: Commands that always run in the calling process and are never served over the socket.
LOCAL_ONLY_COMMANDS = frozenset({"init", "run", "replay", "serve", "restore", "rekey", "asr"})
_MAX_MESSAGE = 64 * 1024 * 1024


class DaemonUnreachable(VaultError):
    """cannot read the data key and the callrec daemon's socket {0} does not answer ({1}): run this as the service account or start the daemon"""


def split_argv(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """(config flag, command name) from a raw argv, without full parsing."""
    flag, command, it = None, None, iter(argv)
    for arg in it:
        if arg == "--config":
            flag = next(it, None)
        elif arg.startswith("--config="):
            flag = arg.split("=", 1)[1]
        elif arg in ("-h", "--help", "--version"):
            return flag, None
        elif not arg.startswith("-"):
            command = arg
            break
    return flag, command


def must_forward(argv: Sequence[str]) -> bool:
    flag, command = split_argv(argv)
    if command is None or command in LOCAL_ONLY_COMMANDS or "-h" in argv or "--help" in argv:
        return False
    try:
        config = load_config(config_path(flag))
    except CallrecError:
        return False
    return not os.access(config.key_path, os.R_OK) and config.socket_path.exists()


def write_message(sock: socket.socket, payload: dict) -> None:
    sock.sendall(json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n")


def read_message(sock: socket.socket) -> dict:
    buf = bytearray()
    while not buf.endswith(b"\n"):
        part = sock.recv(65536)
        if not part:
            break
        buf += part
        if len(buf) > _MAX_MESSAGE:
            raise ValueError("message too large")
    return json.loads(buf.decode("utf-8"))


def forward(argv: Sequence[str]) -> int:
    flag, _ = split_argv(argv)
    path = load_config(config_path(flag)).socket_path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            write_message(sock, {"argv": list(argv)})
            reply = read_message(sock)
    except (OSError, ValueError) as exc:
        err = DaemonUnreachable(path, getattr(exc, "strerror", None) or type(exc).__name__)
        print(f"callrec: error: {err}", file=sys.stderr)
        return err.exit_code
    sys.stdout.write(reply.get("stdout", ""))
    sys.stderr.write(reply.get("stderr", ""))
    return int(reply.get("rc", 1))
