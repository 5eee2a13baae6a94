"""Reading content: audio and transcripts, only through an approved case, never without a trace.

Every read appends its access-log entry (who, what, when, which case, why) in the same
transaction that reads the rows, before any byte is returned (DESIGN.md invariant 6): if the entry
cannot be written, nothing is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from callrec.errors import InvalidState
from callrec.vault._guard import refuse
from callrec.vault._store import Vault
from callrec.vault.archive import read_flac
from callrec.vault.calls._call import get_call
from callrec.vault.calls._transcripts import latest_transcripts
from callrec.vault.people import Case, case_call_ids, number_matches, require_own_approved, still_readable

__all__ = ["CONTENT_ACTIONS", "SealedAudio", "resolve_case", "read_audio", "read_transcripts", "read_case_transcripts"]

#: The access-log actions of a person reading content (what the daily report counts as reads).
CONTENT_ACTIONS = ("play", "export", "transcript.read", "transcript.search")


@dataclass(frozen=True)
class SealedAudio:
    call_id: int
    flac: bytes
    sample_rate: int
    channels: int
    pcm_sha256: str
    log_seq: int
    log_hash: str


def resolve_case(vault: Vault, actor: str, call_id: int, case_id: int | None, action: str) -> Case:
    """The approved case of ``actor`` through which ``call_id`` may be read; refuses (logged) otherwise."""
    if case_id is None:
        rows = vault.query(
            "SELECT c.id FROM cases c JOIN case_calls cc ON cc.case_id = c.id"
            " WHERE cc.call_id = ? AND c.opened_by = ? AND c.status = 'approved' ORDER BY c.id DESC LIMIT 1",
            (call_id, actor))
        if not rows:
            refuse(vault, actor, action, f"call {call_id} is not attached to an approved case of this reviewer",
                   call_id=call_id)
        case_id = rows[0][0]
    case = require_own_approved(vault, actor, case_id, action, call_id)
    if not vault.query("SELECT 1 FROM case_calls WHERE case_id = ? AND call_id = ?", (case_id, call_id)):
        refuse(vault, actor, action, f"call {call_id} is not attached to case {case_id}", call_id=call_id, case_id=case_id)
    if not number_matches(vault, case_id, call_id):
        refuse(vault, actor, action, f"call {call_id} is not a call of the numbers of case {case_id}",
               call_id=call_id, case_id=case_id)
    return case


class _Moved(Exception):
    """The case was closed or refused (or the call detached) after the checks, before the read."""


def _hold(conn, case_id: int, call_id: int | None) -> None:
    if not still_readable(conn, case_id, call_id):
        raise _Moved


def _refuse_moved(vault: Vault, actor: str, call_id: int | None, case_id: int, action: str) -> NoReturn:
    """Refuse (logged) a read whose case changed under it: the checks run again, now refusing."""
    if call_id is None:
        require_own_approved(vault, actor, case_id, action)
    else:
        resolve_case(vault, actor, call_id, case_id, action)
    raise InvalidState(f"case {case_id} changed while content was being read: try again")


def read_audio(vault: Vault, actor: str, call_id: int, case_id: int | None, action: str = "play") -> SealedAudio:
    """The sealed FLAC of a call, after logging the read; the case is checked again inside the
    read's own transaction, so a close committed in between lets nothing out."""
    case = resolve_case(vault, actor, call_id, case_id, action)
    call = get_call(vault, call_id)
    if call.status not in ("sealed", "interrupted"):
        raise InvalidState(f"call {call_id} is {call.status}: only sealed calls can be played or exported")
    try:
        with vault.transaction() as conn:
            _hold(conn, case.id, call_id)
            seq = vault.log(actor, action, call_id=call_id, case_id=case.id, reason=case.reason,
                            detail={"pcm_sha256": call.pcm_sha256})
            digest = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (seq,)).fetchone()[0]
            flac = read_flac(vault, conn, call_id)
    except _Moved:
        _refuse_moved(vault, actor, call_id, case.id, action)
    return SealedAudio(call_id, flac, call.sample_rate, call.channels, call.pcm_sha256, seq, digest)


def read_transcripts(vault: Vault, actor: str, call_id: int, case_id: int | None) -> tuple[list, int, str]:
    """The newest transcript of each channel, after logging the read. Returns (transcripts, seq, hash)."""
    case = resolve_case(vault, actor, call_id, case_id, "transcript.read")
    try:
        with vault.transaction() as conn:
            _hold(conn, case.id, call_id)
            seq = vault.log(actor, "transcript.read", call_id=call_id, case_id=case.id, reason=case.reason)
            digest = conn.execute("SELECT hash FROM access_log WHERE seq = ?", (seq,)).fetchone()[0]
            transcripts = latest_transcripts(vault, call_id)
    except _Moved:
        _refuse_moved(vault, actor, call_id, case.id, "transcript.read")
    return transcripts, seq, digest


def read_case_transcripts(vault: Vault, actor: str, case_id: int) -> dict[int, list]:
    """The newest transcripts of every call attached to the case, for a search; one log entry.

    The search phrase itself is not logged: it may name the caller.
    """
    case = require_own_approved(vault, actor, case_id, "transcript.search")
    try:
        with vault.transaction() as conn:
            _hold(conn, case_id, None)
            call_ids = case_call_ids(vault, case_id)
            vault.log(actor, "transcript.search", case_id=case_id, reason=case.reason, detail={"calls": call_ids})
            return {call_id: latest_transcripts(vault, call_id) for call_id in call_ids}
    except _Moved:
        _refuse_moved(vault, actor, None, case_id, "transcript.search")
