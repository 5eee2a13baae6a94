"""Files that root writes into the state directory must end up owned like the directory.

``callrec restore`` and ``callrec rekey`` are often run as root; a vault, WAL, witness or key file
left owned by root makes the service account's daemon fail at its next start. After such a
command, every file it may have made under ``state_dir`` is given the state directory's owner.
"""

from __future__ import annotations

import os
from pathlib import Path

from callrec.config import Config

__all__ = ["match_state_owner"]


def _candidates(config: Config) -> list[Path]:
    vault, key, witness = config.vault_path, config.key_path, config.witness_path
    paths = [vault, *(vault.with_name(vault.name + s) for s in ("-wal", "-shm", ".capture-lock"))]
    paths += list(vault.parent.glob(f"{vault.name}.capture-lock.*"))  # the other lines' capture locks
    paths += [witness, key, config.checkpoint_key_path]
    periods = vault.parent / "periods"  # closed period files (``_periods.py``)
    paths += [periods, *(periods.glob("*") if periods.is_dir() else ())]
    paths += list(key.parent.glob(f"{key.name}.old-*")) + list(witness.parent.glob(f"{witness.name}.before-restore-*"))
    return paths


def match_state_owner(config: Config) -> list[Path]:
    """chown what lies under ``state_dir`` to its owner (only when running as root); returns what changed."""
    if os.geteuid() != 0:
        return []
    state = config.state_dir.resolve()
    owner = state.stat()
    changed = []
    for path in _candidates(config):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if state not in path.resolve().parents or (st.st_uid, st.st_gid) == (owner.st_uid, owner.st_gid):
            continue
        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
        changed.append(path)
    return changed
