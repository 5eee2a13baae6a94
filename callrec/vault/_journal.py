"""Each checkpoint's signed head, sent to the system journal as it is written.

One line per checkpoint under the syslog identifier ``callrec-head`` (seq, hash, time, signature
and key fingerprint; no content), so journald's forwarding or Forward Secure Sealing keeps the
heads off the host within seconds (``docs/admin.md``), and ``journalctl -t callrec-head -o cat``
gives back what ``callrec verify --trusted-heads`` reads.

Through ``systemd.journal`` where that module is installed, else as one datagram to the syslog
socket (``/dev/log``, which journald serves). The datagram is sent without blocking: a journal
that is slow or absent costs the head, never a wait in the writer.
"""

from __future__ import annotations

import socket
import syslog
from pathlib import Path

from callrec.vault._checkpoint import Checkpoint

__all__ = ["HEAD_IDENTIFIER", "head_message", "send_head"]

HEAD_IDENTIFIER = "callrec-head"
_PRIORITY = syslog.LOG_DAEMON | syslog.LOG_INFO

try:  # python-systemd, where the distribution provides it
    from systemd import journal as _native  # type: ignore[import-not-found]
except ImportError:
    _native = None


def head_message(cp: Checkpoint, key_fingerprint: str) -> str:
    """The journal line of a signed head, as an alert carries it (``callrec.vault.head_line``);
    ``ts`` in Python's round-trip form, because it is signed."""
    return f"callrec chain head seq={cp.seq} hash={cp.hash} sig={cp.sig} key={key_fingerprint} ts={cp.ts!r}"


def send_head(syslog_socket: Path, cp: Checkpoint, key_fingerprint: str) -> bool:
    """Send one head to the journal; False when it could not be handed over."""
    message = head_message(cp, key_fingerprint)
    if _native is not None and str(syslog_socket) == "/dev/log":
        try:
            _native.send(message, SYSLOG_IDENTIFIER=HEAD_IDENTIFIER, PRIORITY=syslog.LOG_INFO)
            return True
        except OSError:
            return False
    datagram = f"<{_PRIORITY}>{HEAD_IDENTIFIER}: {message}".encode("ascii")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(datagram, str(syslog_socket))
        except OSError:
            return False
    return True
