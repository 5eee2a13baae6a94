"""Vault write/read throughput against plain sqlite3 on the same schema, and bytes per minute.

Run: ``python bench/bench_vault.py [MINUTES]``. Both sides write the same one-second chunk rows
with one commit per second of audio (the recorder's durability rule) in WAL mode with
``synchronous = FULL``; the ratio is SQLCipher's cost for encryption. Bytes per minute are
measured after sealing (FLAC) on telephone-like audio: the Japanese fixtures over line hiss.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault._db import _statements
from callrec.vault._schema import MIGRATIONS
from callrec.vault.calls import CallRecorder
from callrec.vault.calls._audio import to_pcm_bytes

RATE = 8000
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"


def feed(minutes: float) -> np.ndarray:
    """Speech fixtures separated by pauses, over -60 dBFS hiss, as a real call would be."""
    rng = np.random.default_rng(1)
    total = int(minutes * 60 * RATE)
    audio = (rng.standard_normal(total) * 30).astype(np.float64)
    speech = [soundfile.read(p, dtype="int16")[0] for p in sorted(FIXTURES.glob("ja_[0-9].flac"))]
    pos = 0
    while speech and pos < total:
        for s in speech:
            n = max(0, min(len(s), total - pos))
            audio[pos:pos + n] += s[:n]
            pos += n + RATE
    return np.clip(audio, -32768, 32767).astype(np.int16).reshape(-1, 1)


def plain_sqlite(path: Path, pcm: np.ndarray) -> tuple[float, float]:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("INSERT INTO calls (id, started_ts, sample_rate, channels) VALUES (1, 0, 8000, 1)")
    t0 = time.perf_counter()
    for seq, start in enumerate(range(0, len(pcm), RATE)):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO chunks VALUES (1, ?, ?, ?)", (seq, RATE, to_pcm_bytes(pcm[start:start + RATE])))
        conn.execute("UPDATE calls SET frames = frames + ? WHERE id = 1", (RATE,))
        conn.execute("COMMIT")
    write = time.perf_counter() - t0
    t0 = time.perf_counter()
    total = sum(len(r[0]) for r in conn.execute("SELECT pcm FROM chunks WHERE call_id = 1 ORDER BY seq"))
    read = time.perf_counter() - t0
    assert total == pcm.nbytes
    conn.close()
    return write, read


def vault_side(directory: Path, pcm: np.ndarray) -> tuple[float, float, float, int]:
    directory.mkdir()
    cfg = directory / "callrec.toml"
    cfg.write_text(f'state_dir = "{directory}"\n')
    vault, _ = Vault.initialise(load_config(cfg))
    rec = CallRecorder(vault)
    call = rec.start_call(0.0, RATE, 1)
    t0 = time.perf_counter()
    for start in range(0, len(pcm), RATE):
        rec.append(call, pcm[start:start + RATE])
        rec.flush()
    write = time.perf_counter() - t0
    t0 = time.perf_counter()
    total = sum(len(r[0]) for r in vault.query("SELECT pcm FROM chunks WHERE call_id = ? ORDER BY seq", (call,)))
    read = time.perf_counter() - t0
    assert total == pcm.nbytes
    t0 = time.perf_counter()
    rec.seal(call)
    seal = time.perf_counter() - t0
    stored = sum(len(r[0]) for r in vault.query("SELECT data FROM sealed_audio WHERE call_id = ?", (call,)))
    vault.close()
    return write, read, seal, stored


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    pcm = feed(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        p_write, p_read = plain_sqlite(Path(tmp) / "plain.db", pcm)
        v_write, v_read, seal, stored = vault_side(Path(tmp) / "vault", pcm)
    audio_s = minutes * 60
    print(f"audio: {minutes:g} min of 8 kHz mono, {pcm.nbytes / 1e6:.1f} MB PCM, one commit per second")
    print(f"write: vault {audio_s / v_write:,.0f}x real time, plain sqlite3 {audio_s / p_write:,.0f}x; ratio vault/plain time = {v_write / p_write:.2f}")
    print(f"read:  vault {pcm.nbytes / v_read / 1e6:,.0f} MB/s, plain sqlite3 {pcm.nbytes / p_read / 1e6:,.0f} MB/s; ratio vault/plain time = {v_read / p_read:.2f}")
    print(f"seal (FLAC + SHA-256 + log): {audio_s / seal:,.0f}x real time")
    print(f"stored after sealing: {stored / minutes / 1e3:.0f} kB per minute (raw PCM {RATE * 2 * 60 / 1e3:.0f} kB), ratio {stored / pcm.nbytes:.2f}")


if __name__ == "__main__":
    main()
