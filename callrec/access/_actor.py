"""Who acts: a person (an OS account, as the kernel reports it) or one of callrec's own jobs.

Internal actors exist only as the constants below; nothing turns an account name into one, so an
OS account literally named ``service`` is a person like any other, with the roles an admin gave it
and no more (DESIGN.md, "People").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callrec.vault import SERVICE_ACTOR

__all__ = ["Actor", "SERVICE"]


@dataclass(frozen=True)
class Actor:
    name: str
    kind: Literal["person", "internal"] = "person"

    @classmethod
    def person(cls, account: str) -> Actor:
        """The person behind an OS account name (never an internal actor, whatever the name)."""
        return cls(account, "person")

    @property
    def internal(self) -> bool:
        return self.kind == "internal"

    @property
    def log_name(self) -> str:
        """The name written to the access log; internal names hold a ':' no account name can."""
        return SERVICE_ACTOR if self.internal else self.name

    def __str__(self) -> str:
        return self.log_name


#: The daemon and its scheduled jobs (capture, transcription, checks, retention).
SERVICE = Actor("service", "internal")
