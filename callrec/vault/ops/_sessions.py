"""Reading the capture state the ledger keeps: sessions, heartbeats, gaps still open. Writing it
is ``_ledger.py``'s (open/close sessions, heartbeats, gaps)."""

from __future__ import annotations

from dataclasses import dataclass

from callrec.config import DEFAULT_LINE
from callrec.vault._store import Vault

__all__ = ["CaptureSession", "capture_running", "last_heartbeat_ts", "last_sign_of_life_ts", "newest_session",
           "open_gap_starts", "sessions_overlapping", "unfinished_replay"]


@dataclass(frozen=True)
class CaptureSession:
    id: int
    #: Where the audio came from (a device, or ``replay:FILE``).
    source: str
    started_ts: float
    heartbeat_ts: float
    ended_ts: float | None
    end_cause: str | None


def newest_session(vault: Vault, line: str = DEFAULT_LINE) -> CaptureSession | None:
    """The daemon's newest session of ``line``; a replay's session only when no daemon ever ran."""
    rows = vault.query("SELECT id, source, started_ts, heartbeat_ts, ended_ts, end_cause FROM capture_sessions"
                       " WHERE line = ? ORDER BY source LIKE 'replay:%', id DESC LIMIT 1", (line,))
    return CaptureSession(*rows[0]) if rows else None


def capture_running(vault: Vault) -> bool:
    """Whether a capture session is open (the daemon, or a replay, is recording)."""
    return bool(vault.query("SELECT 1 FROM capture_sessions WHERE ended_ts IS NULL LIMIT 1"))


def last_heartbeat_ts(vault: Vault) -> float | None:
    return vault.query("SELECT max(heartbeat_ts) FROM capture_sessions")[0][0]


def last_sign_of_life_ts(vault: Vault, line: str = DEFAULT_LINE) -> float | None:
    """The newest end or heartbeat of any session of ``line``: its capture is known up to here."""
    return vault.query("SELECT max(coalesce(ended_ts, heartbeat_ts)) FROM capture_sessions WHERE line = ?", (line,))[0][0]


def sessions_overlapping(vault: Vault, start_ts: float, end_ts: float, line: str = DEFAULT_LINE) -> int:
    """How many capture sessions of ``line`` covered part of ``(start_ts, end_ts)``."""
    return vault.query("SELECT count(*) FROM capture_sessions WHERE started_ts < ?"
                       " AND coalesce(ended_ts, heartbeat_ts) > ? AND line = ?", (end_ts, start_ts, line))[0][0]


def unfinished_replay(vault: Vault, source: str, started_ts: float) -> CaptureSession | None:
    """The session of a replay of ``source`` from ``started_ts`` that never ended (its process was
    killed): re-running that replay carries on from what it left."""
    rows = vault.query("SELECT id, source, started_ts, heartbeat_ts, ended_ts, end_cause FROM capture_sessions"
                       " WHERE source = ? AND ended_ts IS NULL AND abs(started_ts - ?) < 0.001 ORDER BY id DESC LIMIT 1",
                       (source, started_ts))
    return CaptureSession(*rows[0]) if rows else None


def open_gap_starts(vault: Vault, cause: str, line: str = DEFAULT_LINE) -> list[float]:
    """Starts of the gaps of ``cause`` on ``line`` that have no end yet (e.g. the sound device is still gone)."""
    return [r[0] for r in vault.query("SELECT start_ts FROM gaps WHERE cause = ? AND end_ts IS NULL AND line = ?",
                                      (cause, line))]
