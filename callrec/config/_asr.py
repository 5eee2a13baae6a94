"""The ``[asr]`` section: offline transcription."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["AsrConfig"]

_LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class AsrConfig:
    enabled: bool = True
    #: Language the office speaks (ISO 639-1, e.g. "ja"); a model of another language is refused
    #: at activation unless forced, and reported by ``health check``.
    language: str = field(default="ja", metadata=check(lambda v: bool(_LANGUAGE.fullmatch(v)),
                                                       "must be a language code such as \"ja\" or \"ko\""))
    #: Calls decoded in parallel, sharing one loaded model (each call holds its own recognisers).
    workers: int = field(default=1, metadata=check(lambda v: 1 <= v <= 8, "must be between 1 and 8"))
    #: The earlier name of ``workers``, still read from existing files.
    threads: int | None = field(default=None, metadata=check(lambda v: 1 <= v <= 8, "must be between 1 and 8"))
    #: Attempts before a call's transcript is marked "failed".
    max_attempts: int = field(default=3, metadata=check(lambda v: v >= 1, "must be at least 1"))
    #: A silence longer than this (seconds) between two words of a speaker starts a new line.
    pause_s: float = field(default=0.6, metadata=check(lambda v: 0.1 <= v <= 10, "must be between 0.1 and 10 seconds"))
    #: Words the recogniser gave a confidence below this are marked as uncertain.
    uncertain_below: float = field(default=0.6, metadata=check(lambda v: 0 <= v <= 1, "must be between 0 and 1"))
    #: Text put before and after an uncertain word in text transcripts.
    uncertain_marks: list[str] = ("〔", "〕")
    #: A model whose unpacked files would exceed this many GiB is refused at import (zip bombs).
    max_model_gib: float = field(default=4.0, metadata=check(lambda v: 0 < v <= 64, "must be between 0 and 64 GiB"))

    def problem(self) -> str | None:
        if self.threads is not None and self.workers != 1 and self.threads != self.workers:
            return "threads is the old name of workers: set only workers"
        if len(self.uncertain_marks) != 2:
            return "uncertain_marks must be two strings: the text before and after an uncertain word"
        return None

    @property
    def parallel(self) -> int:
        """How many calls are decoded at once (``workers``, or ``threads`` in an older file)."""
        return self.threads if self.threads is not None and self.workers == 1 else self.workers
