"""A consistent read of the vault: what ``Vault.snapshot()`` hands out.

Checks, reports and evidence packages read the log in several statements (the chain, then the
checkpoint state, then the head); inside one read transaction they all see the same vault, and
no other package needs the vault's connection or lock to get that.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlcipher3

from callrec.vault import _accesslog, _checkpoint
from callrec.vault._accesslog import LogEntry

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["ReadView"]


class ReadView:
    """Read-only access to one snapshot; valid only inside its ``with vault.snapshot()`` block."""

    def __init__(self, conn: sqlcipher3.Connection) -> None:
        self._conn = conn

    def entries(self, since_ts: float | None = None, until_ts: float | None = None,
                action: str | None = None) -> list[LogEntry]:
        """Access-log entries in ``[since_ts, until_ts)``, oldest first."""
        return _accesslog.entries(self._conn, since_ts, until_ts, action)

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest access-log entry."""
        return _accesslog.head(self._conn)

    def legacy_upto(self) -> int:
        """The last seq written in log format 1 (0 for a vault created with format 2)."""
        return _accesslog.legacy_upto(self._conn)

    def verify_chain(self, public: Ed25519PublicKey | None = None) -> list[str]:
        """Findings where the chain does not hold (signatures checked too when ``public`` is given)."""
        return _accesslog.verify_chain(self._conn, public)

    def verify_checkpoint(self, key_path: Path, witness: Path) -> list[str]:
        """Findings where the witness file does not match the chain (a missing witness is one)."""
        return _checkpoint.verify_checkpoint(self._conn, key_path, witness)

    def signed_head(self, witness: Path, public: Ed25519PublicKey) -> dict:
        return _checkpoint.signed_head(self._conn, witness, public)
