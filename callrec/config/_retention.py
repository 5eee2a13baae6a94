"""The ``[retention]`` and ``[cases]`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["RetentionConfig", "CasesConfig"]


@dataclass(frozen=True)
class RetentionConfig:
    #: Sealed calls older than this many days are purged (calls on legal hold never). 0 = keep forever.
    keep_days: int = field(default=0, metadata=check(lambda v: v >= 0, "must be 0 (keep forever) or a number of days"))


@dataclass(frozen=True)
class CasesConfig:
    #: Four-eyes rule: a case (and a deletion request) needs a second person's approval.
    four_eyes: bool = True
