"""The encrypted vault: SQLCipher store, audio chunks and sealing, the hash-chained access log,
users/cases/authorisation, retention, backup and verification."""

from callrec.vault._accesslog import LogEntry, entries, head, verify_chain
from callrec.vault._audio import MAX_ROW_BYTES, decode_flac, encode_flac, pcm_sha256
from callrec.vault._checkpoint import latest_checkpoint, verify_checkpoint
from callrec.vault._heads import head_line, key_fingerprint, signed_head
from callrec.vault._periods import close_periods, sealed_bytes_since, sealed_flac
from callrec.vault._recorder import CallRecorder
from callrec.vault._schema import ROLES, SCHEMA_VERSION
from callrec.vault._store import SERVICE_ACTOR, Vault
from callrec.vault._verify import archive_summary, scrub, verify_chain_since_last

__all__ = [
    "CallRecorder",
    "LogEntry",
    "MAX_ROW_BYTES",
    "ROLES",
    "SCHEMA_VERSION",
    "SERVICE_ACTOR",
    "Vault",
    "archive_summary",
    "close_periods",
    "decode_flac",
    "encode_flac",
    "entries",
    "head",
    "head_line",
    "key_fingerprint",
    "latest_checkpoint",
    "pcm_sha256",
    "sealed_bytes_since",
    "sealed_flac",
    "scrub",
    "signed_head",
    "verify_chain",
    "verify_chain_since_last",
    "verify_checkpoint",
]
