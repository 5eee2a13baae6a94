"""``callrec verify``: integrity, the access-log chain, checkpoints, sealed audio, transcripts and
every row the log explains (``_replay.py``), optionally against heads kept off the host.

Hashes are compared with the values entered into the access-log chain, not with the columns
beside the data: someone with the key who edits both the audio and its ``pcm_sha256`` column is
still caught, because the chain (checkpointed outside the vault) holds the original hash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import tzinfo

from callrec.errors import DiskFull, PathPermissionDenied, ReadOnlyFileSystem, VaultBusy
from callrec.timefmt import format_ts
from callrec.vault._accesslog import head, verify_chain
from callrec.vault._checkpoint import verify_checkpoint, verify_trusted_heads
from callrec.vault._db import DatabaseError, classify
from callrec.vault._store import Vault
from callrec.vault.archive import HELD, Period, file_sha256, list_periods, open_period
from callrec.vault.calls import decode_flac, pcm_sha256, unexplained_rows
from callrec.vault.log._hostheads import verify_host_heads

__all__ = ["archive_summary", "scrub", "verify", "verify_chain_since_last"]


def _integrity(vault: Vault) -> list[str]:
    findings = [f"integrity: page {r[0]}" for r in vault.query("PRAGMA cipher_integrity_check")]
    rows = vault.query("PRAGMA quick_check")
    if rows != [("ok",)]:
        findings += [f"integrity: {r[0]}" for r in rows]
    return findings


def _logged(vault: Vault, action: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for call_id, detail in vault.query("SELECT call_id, detail FROM access_log WHERE action = ? ORDER BY seq", (action,)):
        out.setdefault(call_id, []).append(json.loads(detail))
    return out


def _call_audio(vault: Vault, call_id: int, flac: bytes, seal: dict) -> str | None:
    try:
        actual = pcm_sha256(decode_flac(flac))
    except Exception:  # noqa: BLE001 - any decoder failure means the stored audio is damaged
        return f"call {call_id}: sealed audio cannot be decoded (altered or damaged)"
    if actual != seal["pcm_sha256"]:
        return f"call {call_id}: sealed audio differs from its sealed hash (altered)"
    return None


def _sealed_audio(vault: Vault) -> list[str]:
    """Calls whose audio is in the hot file are decoded and re-hashed; those in closed periods are
    checked with their period files (:func:`_periods`)."""
    findings: list[str] = []
    seals = _logged(vault, "seal")
    removed = set(_logged(vault, "purge")) | set(_logged(vault, "delete"))
    periods = {r[0] for r in vault.query("SELECT name FROM periods")}
    rows = vault.query("SELECT id, status, period FROM calls WHERE status != 'recording' ORDER BY id")
    for call_id, status, period in rows:
        if status == "purged":
            if call_id not in removed:
                findings.append(f"call {call_id}: audio removed without a purge or deletion entry in the access log")
            continue
        if call_id not in seals:
            findings.append(f"call {call_id}: sealed but its seal is not in the access log")
            continue
        if period not in (None, HELD):
            if period not in periods:
                findings.append(f"call {call_id}: its period {period} is gone without a period.drop entry")
            continue
        flac = b"".join(r[0] for r in vault.query(
            "SELECT data FROM main.sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))
        problem = _call_audio(vault, call_id, flac, seals[call_id][-1])
        if problem:
            findings.append(problem)
    return findings


def _logged_periods(vault: Vault) -> tuple[dict[str, dict], set[str]]:
    """The newest hash entered for each period (close, amend or rekey) and the periods dropped."""
    hashes: dict[str, dict] = {}
    dropped: set[str] = set()
    for action, detail in vault.query("SELECT action, detail FROM access_log WHERE action IN"
                                      " ('period.close', 'period.amend', 'period.rekey', 'period.drop') ORDER BY seq"):
        d = json.loads(detail)
        if action == "period.drop":
            dropped.add(d["period"])
            hashes.pop(d["period"], None)
        else:
            dropped.discard(d["period"])
            hashes[d["period"]] = d
    return hashes, dropped


def _deep(vault: Vault, period: Period, key: bytes, seals: dict[int, list[dict]]) -> list[str]:
    """Decode every call of a period file and compare it with its seal."""
    findings = []
    conn = open_period(vault.periods_dir / period.file, key)
    try:
        for (call_id,) in vault.query("SELECT id FROM calls WHERE period = ? ORDER BY id", (period.name,)):
            flac = b"".join(r[0] for r in conn.execute(
                "SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call_id,)))
            problem = _call_audio(vault, call_id, flac, seals[call_id][-1]) if call_id in seals else None
            if problem:
                findings.append(problem)
    finally:
        conn.close()
    return findings


@contextmanager
def _one_read(vault: Vault) -> Iterator[None]:
    """One read transaction on the vault's connection, so that the head read and the chain checked
    are the same chain; a database error passes unchanged (verify makes it a finding)."""
    with vault._lock:
        began = not vault.conn.in_transaction
        if began:
            vault.conn.execute("BEGIN")
        try:
            yield
        finally:
            if began and vault.conn.in_transaction:
                vault.conn.execute("ROLLBACK")


@contextmanager
def _bookkeeping() -> Iterator[None]:
    """What verify notes about what it found whole only spares later runs work: on a full disk or a
    read-only or forbidden state directory the note is skipped, and the verdict still stands."""
    try:
        yield
    except (DiskFull, ReadOnlyFileSystem, PathPermissionDenied):  # what the vault's transaction makes of them
        pass


def _remember(vault: Vault, held: list[tuple[float, int, str]], *, at_least: int = 1) -> None:
    """Note when period files were last found whole, a batch per transaction (not one commit each)."""
    if len(held) >= at_least:
        with _bookkeeping(), vault.transaction() as conn:
            conn.executemany("UPDATE periods SET verified_ts = ?, mtime_ns = ? WHERE name = ?", held)
        held.clear()


def _recheck(vault: Vault, period: Period, logged: dict, deep: bool, seals: dict[int, list[dict]],
             held: list[tuple[float, int, str]]) -> list[str]:
    """Re-hash one period file against the hash in the chain; note in ``held`` when it held."""
    path = vault.periods_dir / period.file
    if not path.is_file():
        return [f"period {period.name}: file {period.file} is missing (restore it from the backup directory)"]
    if file_sha256(path) != logged["sha256"]:
        return [f"period {period.name}: file {period.file} differs from the SHA-256 in its access-log entry (altered)"]
    findings = []
    if deep:
        key = bytes(vault.query("SELECT key FROM periods WHERE name = ?", (period.name,))[0][0])
        findings = _deep(vault, period, key, seals)
    if not findings:
        held.append((time.time(), path.stat().st_mtime_ns, period.name))
    return findings


def _periods(vault: Vault, mode: str, deadline: float | None, progress: Callable[[str], None] | None) -> list[str]:
    """Closed period files. ``changed``: those whose size or mtime moved since they were last
    hashed (cheap: a stat each); ``full``: every file re-hashed and every call decoded, oldest
    check first, until ``deadline``; ``scrub``: same but hash only."""
    logged, dropped = _logged_periods(vault)
    findings = []
    rows = list_periods(vault, order="verified_ts, name")
    names = {p.name for p in rows}
    for name in sorted(set(logged) - names):
        findings.append(f"period {name}: registered in the access log but gone without a period.drop entry")
    for name in sorted(dropped & names):
        findings.append(f"period {name}: dropped in the access log but still registered")
    seals = _logged(vault, "seal") if mode == "full" else {}
    done, held = 0, []
    for period in rows:
        entry = logged.get(period.name)
        if entry is None or entry["sha256"] != period.sha256 or entry["file"] != period.file:
            findings.append(f"period {period.name}: its file or hash differs from its access-log entry")
            continue
        if mode == "changed":
            path = vault.periods_dir / period.file
            st = path.stat() if path.is_file() else None
            if st is not None and (st.st_size, st.st_mtime_ns) == (period.bytes, period.mtime_ns):
                continue
        elif deadline is not None and done and time.monotonic() > deadline:
            break
        findings += _recheck(vault, period, entry, mode == "full", seals, held)
        _remember(vault, held, at_least=64)
        done += 1
        if progress is not None and mode == "full":
            progress(f"verify --full: period {period.name} checked ({done} of {len(rows)})")
    _remember(vault, held)
    if mode == "full" and done < len(rows) and progress is not None:
        progress(f"verify --full: stopped at --max-duration with {len(rows) - done} of {len(rows)} period(s) left;"
                 " run it again to continue with the least recently checked")
    return findings


def _point_message(seq: int, digest: str, ts: float) -> bytes:
    return f"callrec-verified:{seq}:{digest}:{ts!r}".encode("ascii")


def _verified_point(vault: Vault) -> tuple[tuple[int, str] | None, list[str]]:
    """Where a clean run last checked every signature, when the checkpoint key signed it; an
    unsigned or wrongly signed point is a finding and no point (every signature is checked)."""
    from cryptography.exceptions import InvalidSignature

    rows = vault.query("SELECT seq, hash, ts, sig FROM chain_verified")
    if not rows:
        return None, []
    seq, digest, ts, sig = rows[0]
    try:
        vault.signer.public_key().verify(bytes.fromhex(sig or ""), _point_message(seq, digest, ts))
    except (InvalidSignature, ValueError, TypeError):
        return None, ["access log: the vault's verified-up-to point is not signed by the checkpoint key"
                      " (moved with the data key alone): every signature was re-checked"]
    return (seq, digest), []


def _advance_point(vault: Vault, top: tuple[int, str]) -> None:
    """Sign ``top``, the newest entry the run checked (read in the same snapshot as the chain, so
    an entry appended meanwhile by another connection is left to the next run), as the new point."""
    if top[0]:
        ts = time.time()
        sig = vault.signer.sign(_point_message(*top, ts)).hex()
        with _bookkeeping(), vault.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO chain_verified (id, seq, hash, ts, sig) VALUES (1, ?, ?, ?, ?)",
                         (*top, ts, sig))


def _chain(vault: Vault, point: tuple[int, str] | None, checked: list[tuple[int, str]]) -> list[str]:
    """Every entry's hash and link; signatures after ``point`` (an entry whose signature and all
    before it a clean run checked), which must still hold the same hash. The head checked goes
    into ``checked``."""
    findings = []
    if point is not None:
        row = vault.query("SELECT hash FROM access_log WHERE seq = ?", (point[0],))
        if not row or row[0][0] != point[1]:
            findings.append(f"access log: entry {point[0]} changed or vanished since it was last verified")
            point = None
    with _one_read(vault):
        checked.append(head(vault.conn))
        return findings + verify_chain(vault.conn, vault.signer.public_key(), signed_after=point[0] if point else 0)


def verify_chain_since_last(vault: Vault) -> list[str]:
    """The entries after the one the last clean check verified (the whole chain the first time, or
    when that point is not signed by the checkpoint key), signatures included; on success the head
    checked becomes the new starting point. A daemon's restart changes nothing: the point is in the
    vault, signed, so the first check or report of a new process starts from it too."""
    point, findings = _verified_point(vault)
    with _one_read(vault):
        top = head(vault.conn)
        findings += verify_chain(vault.conn, vault.signer.public_key(), point)
    if not findings:
        _advance_point(vault, top)
    return findings


def archive_summary(vault: Vault, zone: tzinfo) -> dict:
    """For the daily report: how many closed day files, how many bytes, and since when every one
    of them was re-hashed at least once (``last_full_check``; null while nothing is closed)."""
    count, size, oldest = vault.query("SELECT count(*), coalesce(sum(bytes), 0), min(verified_ts) FROM periods")[0]
    return {"closed_days": count, "bytes": size, "last_full_check": format_ts(oldest, zone, "seconds") if oldest else None}


def scrub(vault: Vault, scrub_days: int) -> tuple[int, list[str]]:
    """Re-hash the least recently checked period files, about ``1/scrub_days`` of the archive's
    bytes, so the whole archive is re-checked every ``scrub_days``. Returns (files, findings)."""
    total = vault.query("SELECT coalesce(sum(bytes), 0) FROM periods")[0][0]
    budget = total / max(scrub_days, 1)
    logged, _ = _logged_periods(vault)
    findings, checked, spent, held = [], 0, 0, []
    for period in list_periods(vault, order="verified_ts, name"):
        if checked and spent + period.bytes > budget:
            break
        entry = logged.get(period.name)
        if entry is None or entry["sha256"] != period.sha256:
            findings.append(f"period {period.name}: its file or hash differs from its access-log entry")
        else:
            findings += _recheck(vault, period, entry, False, {}, held)
        checked += 1
        spent += period.bytes
    _remember(vault, held)
    return checked, findings


def _transcripts(vault: Vault) -> list[str]:
    from callrec.vault.calls import transcript_sha256

    logged = {(c, d["version"], d["channel"]): d["sha256"] for c, ds in _logged(vault, "transcript").items() for d in ds}
    findings: list[str] = []
    rows = vault.query("SELECT call_id, version, channel, engine, model_name, model_sha256, words, text FROM transcripts")
    for call_id, version, channel, engine, model, model_sha, words, text in rows:
        expected = logged.pop((call_id, version, channel), None)
        if expected is None:
            findings.append(f"call {call_id}: transcript version {version} channel {channel} is not in the access log")
        elif transcript_sha256(call_id, version, channel, engine, model, model_sha, json.loads(words), text) != expected:
            findings.append(f"call {call_id}: transcript version {version} channel {channel} was altered")
    purged = {r[0] for r in vault.query("SELECT id FROM calls WHERE status = 'purged'")}
    for call_id, version, channel in sorted(k for k in logged if k[0] not in purged):
        findings.append(f"call {call_id}: transcript version {version} channel {channel} is missing")
    return findings


def verify(vault: Vault, trusted_heads: Sequence[tuple[int, str]] = (), *, full: bool = False,
           max_duration: float | None = None, progress: Callable[[str], None] | None = None) -> list[str]:
    """Every finding, one line each; empty when integrity, chain, all hashes and all rows hold.

    ``trusted_heads`` are (seq, hash) pairs kept off the host: each must still be in the chain.
    By default, what an earlier clean run checked is not re-checked where that is safe: every
    entry's hash and link are re-computed, but signatures only of entries after that run (a
    rewrite of older ones changes every later hash, and the witness checkpoints); closed period
    files are re-hashed only when their size or mtime changed since they were last hashed. ``full``
    re-checks everything, re-hashing and decoding every period file, least recently checked
    first, stopping after ``max_duration`` seconds (the next run continues where this one stopped).
    """
    deadline = None if max_duration is None else time.monotonic() + max_duration
    point, findings = _verified_point(vault)
    if full:
        point = None
    checked: list[tuple[int, str]] = []
    steps = (
        ("integrity", _integrity),
        ("access log", lambda v: _chain(v, point, checked)),
        ("checkpoint", lambda v: verify_checkpoint(v.conn, v.config.checkpoint_key_path, v.config.witness_path)),
        ("trusted heads", lambda v: verify_trusted_heads(v.conn, list(trusted_heads))),
        ("heads on this host", verify_host_heads),
        ("sealed audio", _sealed_audio),
        ("periods", lambda v: _periods(v, "full" if full else "changed", deadline, progress)),
        ("transcripts", _transcripts),
        ("rows", unexplained_rows),
    )
    for name, step in steps:
        try:
            findings += step(vault)
        except DatabaseError as exc:
            if isinstance(classify(vault.path, exc), VaultBusy):  # busy is not damage: say so, retry
                raise classify(vault.path, exc) from None
            findings.append(f"{name}: cannot be read, the vault is damaged ({exc})")
        except (TypeError, ValueError, KeyError, IndexError) as exc:  # a row of a shape no version writes
            findings.append(f"{name}: cannot be checked, a row was edited into a shape callrec never writes"
                            f" ({type(exc).__name__})")
    if not findings and checked:  # signatures that held need not be re-checked by the next default run
        _advance_point(vault, checked[0])
    return findings
