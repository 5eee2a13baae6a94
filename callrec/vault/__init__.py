"""The encrypted vault: the SQLCipher store, its schema, the hash-chained access log and its
signed checkpoints; everything else lives in sub-packages by area, each with its own face:

- ``callrec.vault.calls``: calls, the recorder and sealing, audio, transcripts, the transcription
  queue, content reads (each logged);
- ``callrec.vault.people``: users and roles, cases, the numbers of calls and cases;
- ``callrec.vault.archive``: day files, backups, restore, rekey of day files, retention, deletion
  requests;
- ``callrec.vault.ops``: the coverage ledger and capture sessions, job runs, alerts,
  acknowledgements, maintenance windows, tap findings, the exchange's call log;
- ``callrec.vault.log``: signed heads and the verification that re-derives rows from the chain.

The vault owns its tables: other packages read and change them only through these faces (no SQL,
no connection, no lock outside this package). This face holds what every area needs: ``Vault``
(open, transaction, log, ``snapshot()``), the log's entries and head, checkpoints, key files,
refusals and the classification of SQLite's errors.
"""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.vault._accesslog import LogEntry, body_sha256, entries, head, link_hash
    from callrec.vault._checkpoint import fingerprint, last_written, latest_checkpoint
    from callrec.vault._db import DatabaseError, classify
    from callrec.vault._guard import flush_refusals, refusals_pending, refuse
    from callrec.vault._keyfile import create_key_file, read_key_file
    from callrec.vault._schema import ROLES, SCHEMA_VERSION
    from callrec.vault._store import SERVICE_ACTOR, Vault

__all__ = [
    "DatabaseError",
    "LogEntry",
    "ROLES",
    "SCHEMA_VERSION",
    "SERVICE_ACTOR",
    "Vault",
    "body_sha256",
    "classify",
    "create_key_file",
    "entries",
    "fingerprint",
    "flush_refusals",
    "head",
    "last_written",
    "latest_checkpoint",
    "link_hash",
    "read_key_file",
    "refusals_pending",
    "refuse",
]

__getattr__ = lazy_face(__name__, __file__)
