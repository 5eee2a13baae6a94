"""SQLite's own integrity checks of the vault file, as the health checks run them."""

from __future__ import annotations

from callrec.vault._store import Vault

__all__ = ["damaged_pages", "quick_check"]


def quick_check(vault: Vault) -> list[str]:
    """``PRAGMA quick_check``: ``["ok"]`` when the structure holds, else one line per problem."""
    return [r[0] for r in vault.query("PRAGMA quick_check")]


def damaged_pages(vault: Vault) -> int:
    """Pages whose HMAC does not check (``PRAGMA cipher_integrity_check``); slow: reads every page."""
    return len(vault.query("PRAGMA cipher_integrity_check"))
