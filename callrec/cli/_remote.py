"""The socket's client side, kept in the access layer with the protocol (``callrec.access``)."""

from callrec.access import DaemonBusy, DaemonUnreachable, RemoteError, request, use_socket

__all__ = ["DaemonBusy", "DaemonUnreachable", "RemoteError", "request", "use_socket"]
