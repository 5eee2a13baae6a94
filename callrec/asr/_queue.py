"""The audio side of the transcription queue. The queue's state (claims, attempts, statuses) is
the vault's: ``callrec.vault`` holds ``claim_next``, ``finish_done`` and the rest."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from callrec.asr._errors import AudioUnreadable
from callrec.vault import Vault
from callrec.vault.archive import sealed_flac
from callrec.vault.calls import decode_flac

__all__ = ["sealed_blocks"]


def sealed_blocks(vault: Vault, call_id: int) -> Iterator[np.ndarray]:
    """The call's sealed audio as int16 blocks (n, channels)."""
    data = sealed_flac(vault, call_id)
    if not data:
        raise AudioUnreadable(call_id, "no sealed audio")
    try:
        yield from decode_flac(data)
    except RuntimeError as exc:
        raise AudioUnreadable(call_id, type(exc).__name__) from None
