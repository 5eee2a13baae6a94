"""The socket's client side, kept in the access layer with the protocol (``callrec.access``)."""

from callrec.access import DaemonBusy, DaemonUnreachable, RemoteError, ReplyBroken, request, use_socket

__all__ = ["DaemonBusy", "DaemonUnreachable", "RemoteError", "ReplyBroken", "request", "use_socket"]
