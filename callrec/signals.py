"""SIGTERM and SIGINT as a request to stop: the daemon and a replay seal what they hold first."""

from __future__ import annotations

import signal
from collections.abc import Callable

__all__ = ["on_stop_signals"]


def on_stop_signals(stop: Callable[[], None]) -> list[str]:
    """Make SIGTERM and SIGINT call ``stop``; the list returned gets each received signal's name."""
    received: list[str] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return received
