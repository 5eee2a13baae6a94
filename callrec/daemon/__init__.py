"""The daemon layer: the access socket server, the scheduler of health and archive jobs, and the
supervisor that runs the capture pipeline. It sits on top of every other package (below only the
front ends); nothing below it imports it."""

from callrec.daemon._scheduler import HealthService
from callrec.daemon._server import AccessServer, Limits, SocketInUse
from callrec.daemon._supervisor import run_daemon

__all__ = ["AccessServer", "HealthService", "Limits", "SocketInUse", "run_daemon"]
