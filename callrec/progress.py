"""Progress for long operations, shown only to a person at a terminal.

tqdm draws the bar on stderr, and only when stderr is a terminal, so scripts, pipes and the
journal see nothing of it. :func:`progress` counts work (seconds of audio, calls, files);
:func:`activity` is for one long step that cannot count its work (an encrypted copy, an integrity
check): it shows what is being done and for how long, redrawn twice a second.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

__all__ = ["activity", "progress"]

T = TypeVar("T")

#: Columns and rows of a terminal that does not say how large it is.
_FALLBACK_SIZE = (80, 24)
#: How often :func:`activity` redraws its elapsed time.
_TICK_S = 0.5


def progress(iterable: Iterable[T] | None = None, *, desc: str, total: float | None = None,
             unit: str = "it", unit_scale: bool = False, bar_format: str | None = None) -> tqdm:
    """A tqdm bar on stderr when it is a terminal; a silent pass-through otherwise."""
    shown = sys.stderr.isatty()
    # A terminal that reports no size (a serial console, a bare pty) gets 80x24: tqdm would
    # otherwise take it as zero columns and rows and draw nothing at all.
    sized = shown and min(os.get_terminal_size(sys.stderr.fileno())) > 0
    fallback = {} if sized else {"ncols": _FALLBACK_SIZE[0], "nrows": _FALLBACK_SIZE[1]}
    return tqdm(iterable, desc=desc, total=total, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                disable=not shown, leave=False, dynamic_ncols=sized, bar_format=bar_format, **fallback)


@contextmanager
def activity(desc: str) -> Iterator[None]:
    """``desc`` and the time elapsed on stderr while the block runs (only on a terminal)."""
    bar = progress(desc=desc, bar_format="{desc}: {elapsed}")
    if bar.disable:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(_TICK_S):
            bar.refresh()

    ticker = threading.Thread(target=tick, name="callrec-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()
