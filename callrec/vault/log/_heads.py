"""The signed chain head and the key fingerprint, for what leaves the host: daily reports, alerts,
``callrec log head``, ``callrec key show`` and ``init``."""

from __future__ import annotations

from callrec.config import Config
from callrec.vault import _checkpoint
from callrec.vault._store import Vault

__all__ = ["signed_head", "head_line", "key_fingerprint"]


def signed_head(vault: Vault) -> dict:
    """``{"seq", "hash", "ts", "sig", "key_fingerprint"}`` of the newest signed checkpoint."""
    public = vault.signer.public_key()
    with vault.snapshot() as view:
        return view.signed_head(vault.config.witness_path, public)


def head_line(vault: Vault) -> str:
    """The signed head as one line (what an alert carries; ``verify --trusted-heads`` reads it back)."""
    h = signed_head(vault)
    return f"callrec chain head seq={h['seq']} hash={h['hash']} sig={h['sig']} key={h['key_fingerprint']} ts={h['ts']!r}"


def key_fingerprint(config: Config) -> str:
    return _checkpoint.fingerprint(_checkpoint.load_signing_key(config.checkpoint_key_path).public_key())
