"""Backup, restore and rekey as use cases: the role table decides (admin), then the vault acts.

These run only in the process of the admin who asked (they name paths the caller opens, and
restore and rekey need the daemon stopped), so they are not on the socket. The refusal of a
person without the role is written to the access log by the check, before any file is touched.
"""

from __future__ import annotations

from pathlib import Path

from callrec.access._actor import Actor
from callrec.access._registry import use_case
from callrec.access._table import authorize
from callrec.config import Config
from callrec.vault import Vault
from callrec.vault.archive import BackupResult, PeriodRekeyResult, RekeyResult, RestoreResult
from callrec.vault.archive import backup as vault_backup
from callrec.vault.archive import rekey as vault_rekey
from callrec.vault.archive import rekey_periods as vault_rekey_periods
from callrec.vault.archive import restore as vault_restore

__all__ = ["backup", "rekey", "rekey_periods", "restore"]


@use_case("backup", socket=False)
def backup(vault: Vault, actor: Actor, *, dest: Path, key_path: Path | None = None, new_key_path: Path | None = None,
           full_check: bool = False) -> BackupResult:
    """Bring the backup directory ``dest`` up to date (``callrec.vault.backup``)."""
    return vault_backup(vault, actor.log_name, dest, key_path=key_path, new_key_path=new_key_path,
                        full_check=full_check)


@use_case("rekey", socket=False)
def rekey(vault: Vault, actor: Actor) -> RekeyResult:
    """Re-encrypt the vault under a new data key (``callrec.vault.rekey``)."""
    return vault_rekey(vault, actor.log_name)


@use_case("rekey", socket=False)
def rekey_periods(vault: Vault, actor: Actor) -> PeriodRekeyResult:
    """Give every closed day file due a fresh key (``callrec.vault.rekey_periods``)."""
    return vault_rekey_periods(vault, actor.log_name)


def restore(config: Config, actor: Actor, backup_path: Path, backup_key_path: Path | None = None) -> RestoreResult:
    """Make a backup the vault (``callrec.vault.restore``): admin in the current vault, the
    refusal logged there; without a current vault, restore itself asks for admin in the backup
    (there is no vault to check or log in)."""
    if config.vault_path.exists():
        with Vault.open(config) as current:
            authorize(current, actor, "restore")
    return vault_restore(config, actor.log_name, backup_path, backup_key_path)
