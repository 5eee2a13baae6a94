"""The daemon layer: the access socket server, the scheduler of health and archive jobs, and the
supervisor that runs the capture pipeline. It sits on top of every other package (below only the
front ends); nothing below it imports it."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.daemon._scheduler import HealthService
    from callrec.daemon._server import AccessServer, Limits, SocketInUse
    from callrec.daemon._supervisor import run_daemon

__all__ = ["AccessServer", "HealthService", "Limits", "SocketInUse", "run_daemon"]

__getattr__ = lazy_face(__name__, __file__)
