"""Signed chain heads kept elsewhere on this host, which ``callrec verify`` finds on its own.

Each checkpoint's signed head also goes to the system journal (``_journal.py``) and into the
daemon's status file. Someone holding only the data key can cut the log's tail together with the
witness file's last lines and the vault's checkpoint count, but cannot remove a journal line
(journald's files are root's, and forwarded or sealed off the host) nor sign a head of their own.
So every head found here whose signature by the checkpoint key holds must still be in the chain:
one newer than the log's last entry means the log was cut.

Heads signed before the newest ``restore`` entry belong to the chain that restore replaced (the
entry, signed, names it) and are not asked for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import TYPE_CHECKING

import sqlcipher3

from callrec.config import Config
from callrec.vault._accesslog import head
from callrec.vault._checkpoint import Checkpoint, parse_checkpoint, signed_by
from callrec.vault._journal import HEAD_IDENTIFIER
from callrec.vault._store import Vault

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["verify_host_heads", "host_heads", "parse_head_line"]

#: A journal line of a signed head (``_journal.head_message``).
_LINE = re.compile(r"\bseq=(\d+) hash=([0-9a-f]{64}) sig=([0-9a-f]{128}) key=[0-9a-f]{64} ts=([0-9.e+-]+)$")
#: The newest journal lines read (journald keeps them in order; the newest heads matter).
_JOURNAL_LINES = 500
_JOURNAL_TIMEOUT_S = 30


def parse_head_line(line: str) -> Checkpoint | None:
    """A signed head from one journal line; None when the line is not one."""
    match = _LINE.search(line)
    if match is None:
        return None
    try:
        ts = float(match[4])
    except ValueError:
        return None
    return Checkpoint(int(match[1]), match[2], ts, match[3])


def _status_head(config: Config) -> list[Checkpoint]:
    try:
        data = json.loads(config.status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    found = data.get("head") if isinstance(data, dict) else None
    cp = parse_checkpoint(json.dumps(found)) if isinstance(found, dict) else None
    return [cp] if cp is not None else []


def _journal_heads(config: Config) -> list[Checkpoint]:
    """The newest heads the service account sent to the journal (``_UID`` is journald's own
    field: another account's lines with the same identifier are not read)."""
    try:
        uid = os.stat(config.vault_path).st_uid
        done = subprocess.run(["journalctl", "-q", "--no-pager", "-o", "cat", "-n", str(_JOURNAL_LINES),
                               "-t", HEAD_IDENTIFIER, f"_UID={uid}"],
                              capture_output=True, text=True, timeout=_JOURNAL_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [cp for cp in map(parse_head_line, done.stdout.splitlines()) if cp is not None]


def host_heads(config: Config) -> list[tuple[str, Checkpoint]]:
    """(where, head) of every signed head found on this host outside the vault and the witness."""
    return ([("the status file", cp) for cp in _status_head(config)]
            + [("the journal", cp) for cp in _journal_heads(config)])


def _last_restore_ts(conn: sqlcipher3.Connection) -> float:
    row = conn.execute("SELECT max(ts) FROM access_log WHERE action = 'restore' AND outcome = 'ok'").fetchone()
    return row[0] or 0.0


def check_heads(conn: sqlcipher3.Connection, public: Ed25519PublicKey, heads: list[tuple[str, Checkpoint]]) -> list[str]:
    """Findings for signed heads the chain does not hold (unsigned ones are not evidence)."""
    top, restored = head(conn)[0], _last_restore_ts(conn)
    findings = []
    for where, cp in heads:
        if cp.ts <= restored or not signed_by(public, cp):
            continue
        row = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (cp.seq,)).fetchone()
        if row is None and cp.seq > top:
            findings.append(f"heads: a signed head in {where} names entry {cp.seq}, newer than the log's last"
                            f" entry {top} (log truncated)")
        elif row is None:
            findings.append(f"heads: access log entry {cp.seq}, named by a signed head in {where}, is gone")
        elif row[0] != cp.hash:
            findings.append(f"heads: access log entry {cp.seq} differs from the signed head in {where} (log rewritten)")
    return findings


def verify_host_heads(vault: Vault) -> list[str]:
    """``callrec verify``: every signed head in the status file and the journal is in the chain."""
    heads = host_heads(vault.config)
    with vault._lock:
        return check_heads(vault.conn, vault.signer.public_key(), heads)
