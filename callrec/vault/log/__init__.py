"""The access log's signed heads (kept in the vault and found on the host) and the verification that re-derives rows from the chain."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault.log._heads import head_line, key_fingerprint, signed_head
    from callrec.vault.log._hostheads import verify_host_heads
    from callrec.vault.log._integrity import damaged_pages, quick_check
    from callrec.vault.log._log import decision_reasons, log_entries, seal_seqs
    from callrec.vault.log._verify import archive_summary, scrub, verify, verify_chain_since_last

__all__ = [
    "archive_summary",
    "damaged_pages",
    "decision_reasons",
    "head_line",
    "key_fingerprint",
    "log_entries",
    "quick_check",
    "scrub",
    "seal_seqs",
    "signed_head",
    "verify",
    "verify_chain_since_last",
    "verify_host_heads",
]

__getattr__ = lazy_face(__name__, __file__)
