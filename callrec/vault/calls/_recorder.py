"""Writing calls: chunks while recording, sealing when the call ends, recovery after a crash.

The capture writer calls :meth:`CallRecorder.append` as frames arrive and :meth:`flush` at least
once a second, so a crash loses at most the last second (DESIGN.md invariant 1). :meth:`seal`
encodes the chunks to FLAC, enters the PCM hash into the access-log chain and drops the chunks,
all in one transaction (invariant 5). :meth:`recover_interrupted` seals what a crash left open.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from callrec.config import DEFAULT_LINE
from callrec.errors import InvalidState, NotFound
from callrec.vault._store import SERVICE_ACTOR, Vault
from callrec.vault.calls._audio import MAX_ROW_BYTES, encode_flac, from_pcm_bytes, split_rows, to_pcm_bytes
from callrec.vault.people import CallNumbers, write_numbers

__all__ = ["CallRecorder"]


@dataclass(frozen=True)
class _Start:
    """What a call's row starts with (written at once, or with a deferred call's first commit)."""

    started_ts: float
    sample_rate: int
    channels: int
    kind: str
    line: str = DEFAULT_LINE
    numbers: CallNumbers | None = None


class CallRecorder:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._pending: dict[int, list[bytes]] = {}
        self._pending_frames: dict[int, int] = {}
        self._next_seq: dict[int, int] = {}
        self._channels: dict[int, int] = {}
        #: Calls started ``deferred`` whose row is not written yet: stand-in id → the row's values.
        self._unwritten: dict[int, _Start] = {}
        #: Stand-in id → the row's id, once written.
        self._stored: dict[int, int] = {}
        self._stand_ins = itertools.count(-1, -1)

    def start_call(self, started_ts: float, sample_rate: int, channels: int, kind: str = "call", *,
                   deferred: bool = False, line: str = DEFAULT_LINE, numbers: CallNumbers | None = None) -> int:
        """Open a call of ``line`` and return the id to record it under. ``deferred`` (a replay,
        whose feed can be re-read): the row and its ``call.start`` entry go into the call's first
        commit (its first batch of audio, or its seal) instead of a commit of their own, and the id
        returned is a stand-in until then (:meth:`stored_id`). ``numbers`` (a signalling source
        knows them) are stored with the row (``_numbers.py``)."""
        start = _Start(started_ts, sample_rate, channels, kind, line, numbers)
        if deferred:
            call_id = next(self._stand_ins)
            self._unwritten[call_id] = start
        else:
            with self.vault.transaction():
                call_id = _write_start(self.vault, start)
        self._pending[call_id] = []
        self._pending_frames[call_id] = 0
        self._next_seq[call_id] = 0
        self._channels[call_id] = channels
        return call_id

    def stored_id(self, call_id: int) -> int:
        """The row's id of a call started under ``call_id`` (a stand-in when it was deferred)."""
        return self._stored.get(call_id, call_id)

    def append(self, call_id: int, frames: np.ndarray) -> None:
        """Buffer int16 frames of shape (n, channels); they reach the vault at the next flush."""
        if call_id not in self._pending:
            raise InvalidState(f"call {call_id} is not being recorded by this recorder")
        frames = np.asarray(frames, dtype=np.int16).reshape(-1, self._channels[call_id])
        self._pending[call_id].append(to_pcm_bytes(frames))
        self._pending_frames[call_id] += len(frames)

    def flush(self) -> None:
        """Commit every buffered frame in one transaction."""
        if not any(self._pending_frames.values()):
            return
        written: dict[int, int] = {}
        with self.vault.transaction() as conn:
            for key, parts in self._pending.items():
                if not parts:
                    continue
                call_id = self._stored.get(key, key)
                if key in self._unwritten:
                    call_id = written[key] = _write_start(self.vault, self._unwritten[key])
                seq = self._next_seq[key]
                frame_bytes = 2 * self._channels[key]
                limit = MAX_ROW_BYTES - MAX_ROW_BYTES % frame_bytes
                for row in split_rows(b"".join(parts), limit):
                    conn.execute(
                        "INSERT INTO chunks (call_id, seq, frames, pcm) VALUES (?,?,?,?)",
                        (call_id, seq, len(row) // frame_bytes, row),
                    )
                    seq += 1
                conn.execute("UPDATE calls SET frames = frames + ? WHERE id = ?", (self._pending_frames[key], call_id))
                self._next_seq[key] = seq
        for key, call_id in written.items():
            del self._unwritten[key]
            self._stored[key] = call_id
        for call_id in self._pending:
            self._pending[call_id] = []
            self._pending_frames[call_id] = 0

    def seal(self, call_id: int, ended_ts: float | None = None, *, status: str = "sealed", kind: str | None = None,
             flags: Sequence[str] = (), levels: dict | None = None) -> str:
        """Encode the committed chunks and the audio not yet flushed to FLAC, hash, log, drop the
        chunks, in one transaction (the unflushed tail never goes through ``chunks``: a commit
        fewer per call). Returns the PCM SHA-256."""
        tail = b"".join(self._pending.get(call_id, ()))
        channels = self._channels.get(call_id)
        for table in (self._pending, self._pending_frames, self._next_seq, self._channels):
            table.pop(call_id, None)
        start = self._unwritten.pop(call_id, None)
        digest, stored = _seal(self.vault, self._stored.get(call_id, call_id), ended_ts, status=status, kind=kind,
                               flags=flags, levels=levels, tail=from_pcm_bytes(tail, channels) if tail else None,
                               start=start)
        if start is not None:
            self._stored[call_id] = stored
        return digest

    def resume(self, call_id: int) -> int:
        """Carry on recording a call a killed replay left in ``recording`` (re-running the replay
        appends the rest of it); returns the frames the call already holds. A call resumed but
        not carried on is left for :meth:`seal` (e.g. as ``interrupted``)."""
        row = self.vault.query("SELECT channels, frames, status FROM calls WHERE id = ?", (call_id,))
        if not row:
            raise NotFound(f"call {call_id}")
        channels, frames, status = row[0]
        if status != "recording":
            raise InvalidState(f"call {call_id} is already {status}")
        (next_seq,) = self.vault.query("SELECT coalesce(max(seq) + 1, 0) FROM chunks WHERE call_id = ?", (call_id,))[0]
        self._pending[call_id] = []
        self._pending_frames[call_id] = 0
        self._next_seq[call_id] = next_seq
        self._channels[call_id] = channels
        return frames

    def recover_interrupted(self, line: str = DEFAULT_LINE) -> list[int]:
        """Seal, as ``interrupted``, every call of ``line`` a crash or power cut left in ``recording``."""
        ids = [r[0] for r in self.vault.query("SELECT id FROM calls WHERE status = 'recording' AND line = ? ORDER BY id",
                                              (line,))]
        held = {self._stored.get(key, key) for key in self._pending}
        ids = [i for i in ids if i not in held]
        for call_id in ids:
            _seal(self.vault, call_id, None, status="interrupted", kind=None, flags=(), levels=None)
        return ids


def _chunk_blocks(vault: Vault, call_id: int, channels: int) -> Iterator[np.ndarray]:
    seq = -1
    while True:
        row = vault.conn.execute(
            "SELECT seq, pcm FROM chunks WHERE call_id = ? AND seq > ? ORDER BY seq LIMIT 1", (call_id, seq)
        ).fetchone()
        if row is None:
            return
        seq = row[0]
        yield from_pcm_bytes(row[1], channels)


def _write_start(vault: Vault, start: _Start) -> int:
    """The row of a call, its ``call.start`` entry (and its numbers with theirs), inside the
    current transaction; the row's id. The default line is not named in the entry (as before
    lines existed)."""
    call_id = vault.conn.execute(
        "INSERT INTO calls (started_ts, sample_rate, channels, kind, line) VALUES (?,?,?,?,?)",
        (start.started_ts, start.sample_rate, start.channels, start.kind, start.line),
    ).lastrowid
    detail = {"started_ts": start.started_ts, "sample_rate": start.sample_rate, "channels": start.channels,
              "kind": start.kind}
    if start.line != DEFAULT_LINE:
        detail["line"] = start.line
    vault.log(SERVICE_ACTOR, "call.start", call_id=call_id, detail=detail)
    if start.numbers is not None:
        write_numbers(vault, call_id, start.numbers)
    return call_id


def _seal(vault: Vault, call_id: int, ended_ts: float | None, *, status: str, kind: str | None,
          flags: Sequence[str], levels: dict | None, tail: np.ndarray | None = None,
          start: _Start | None = None) -> tuple[str, int]:
    """The PCM SHA-256 and the call's id. ``start``: the row of a call started deferred, written
    first in the same transaction (a call shorter than a replay's batch takes one commit in all)."""
    with vault.transaction() as conn:
        if start is not None:
            call_id = _write_start(vault, start)
        row = conn.execute(
            "SELECT started_ts, sample_rate, channels, status, flags, kind FROM calls WHERE id = ?", (call_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"call {call_id}")
        started_ts, rate, channels, current, old_flags, old_kind = row
        if current != "recording":
            raise InvalidState(f"call {call_id} is already {current}")
        blocks = _chunk_blocks(vault, call_id, channels)
        flac, digest, frames = encode_flac(blocks if tail is None else itertools.chain(blocks, [tail]), rate, channels)
        for seq, part in enumerate(split_rows(flac)):
            conn.execute("INSERT INTO main.sealed_audio (call_id, seq, data) VALUES (?,?,?)", (call_id, seq, part))
        conn.execute("DELETE FROM chunks WHERE call_id = ?", (call_id,))
        if ended_ts is None:
            ended_ts = started_ts + frames / rate
        all_flags = sorted(set(json.loads(old_flags)) | set(flags))
        kind = kind or old_kind
        conn.execute(
            "UPDATE calls SET ended_ts = ?, status = ?, kind = ?, flags = ?, frames = ?, levels = ?, pcm_sha256 = ?,"
            " sealed_ts = ? WHERE id = ?",
            (ended_ts, status, kind, json.dumps(all_flags), frames, json.dumps(levels or {}), digest,
             time.time(), call_id),
        )
        conn.execute("UPDATE archive_state SET value = max(value, ?) WHERE key = 'max_call_s'",
                     (max(ended_ts - started_ts, frames / rate),))
        vault.log(SERVICE_ACTOR, "seal", call_id=call_id,
                  detail={"pcm_sha256": digest, "frames": frames, "sample_rate": rate, "channels": channels, "status": status,
                          "ended_ts": ended_ts, "kind": kind})
    return digest, call_id
