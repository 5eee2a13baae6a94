"""Progress for long operations, shown only to a person at a terminal.

tqdm draws the bar on stderr and, with ``disable=None``, stays silent when stderr is not a
terminal, so scripts, pipes and the journal see nothing of it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

__all__ = ["progress"]

T = TypeVar("T")


def progress(iterable: Iterable[T] | None = None, *, desc: str, total: float | None = None,
             unit: str = "it", unit_scale: bool = False) -> tqdm:
    """A tqdm bar on stderr when it is a terminal; a silent pass-through otherwise."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                disable=None if sys.stderr.isatty() else True, leave=False, dynamic_ncols=True)
