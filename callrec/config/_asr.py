"""The ``[asr]`` section: offline transcription."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["AsrConfig"]


@dataclass(frozen=True)
class AsrConfig:
    enabled: bool = True
    #: Worker threads decoding calls in the background (each holds one recognizer).
    threads: int = field(default=1, metadata=check(lambda v: 1 <= v <= 8, "must be between 1 and 8"))
    #: Attempts before a call's transcript is marked "failed".
    max_attempts: int = field(default=3, metadata=check(lambda v: v >= 1, "must be at least 1"))
