"""kill -9 during a write loses at most the last second of audio (DESIGN.md invariant 1)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np

from callrec.vault import Vault
from callrec.vault.calls import CallRecorder, decode_flac
from callrec.vault.calls._audio import from_pcm_bytes

RATE = 8000
WRITER = """
import sys, time
import numpy as np
from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import CallRecorder
vault = Vault.open(load_config(sys.argv[1]))
rec = CallRecorder(vault)
call = rec.start_call(time.time(), 8000, 1)
sent, last_flush = 0, time.monotonic()
while True:
    block = (np.arange(sent, sent + 800) % 30000).astype(np.int16)
    rec.append(call, block)
    sent += 800
    if time.monotonic() - last_flush >= 0.5:
        rec.flush()
        last_flush = time.monotonic()
    print(sent, flush=True)
    time.sleep(0.1)
"""


def test_kill_9_loses_at_most_one_second(vault, config_file, config):
    vault.close()
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(config_file)], stdout=subprocess.PIPE, text=True)
    captured = 0
    deadline = time.monotonic() + 30
    while captured < 3 * RATE and time.monotonic() < deadline:
        captured = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert captured >= 3 * RATE

    with Vault.open(config) as reopened:
        rec = CallRecorder(reopened)
        assert rec.recover_interrupted() == [1]
        status, frames = reopened.query("SELECT status, frames FROM calls WHERE id = 1")[0]
        assert status == "interrupted"
        assert frames >= captured - RATE, f"lost {(captured - frames) / RATE:.2f} s"
        flac = b"".join(r[0] for r in reopened.query("SELECT data FROM sealed_audio WHERE call_id = 1 ORDER BY seq"))
        audio = np.concatenate(list(decode_flac(flac)))[:, 0]
        assert np.array_equal(audio, (np.arange(frames) % 30000).astype(np.int16)), "stored audio is not the prefix sent"
        assert not reopened.query("SELECT 1 FROM chunks WHERE call_id = 1")


def test_chunks_are_bounded_rows(vault):
    rec = CallRecorder(vault)
    call = rec.start_call(time.time(), 16000, 2)
    rec.append(call, np.zeros((16000 * 10, 2), dtype=np.int16))
    rec.flush()
    sizes = [len(r[0]) for r in vault.query("SELECT pcm FROM chunks WHERE call_id = ?", (call,))]
    assert max(sizes) <= 256 * 1024
    assert sum(sizes) == 16000 * 10 * 2 * 2
    blocks = [from_pcm_bytes(r[0], 2) for r in vault.query("SELECT pcm FROM chunks WHERE call_id = ? ORDER BY seq", (call,))]
    assert sum(len(b) for b in blocks) == 160000


def test_seal_takes_flushed_chunks_and_the_unflushed_tail_in_one_commit(vault):
    rec = CallRecorder(vault)
    call = rec.start_call(time.time(), 8000, 2)
    audio = (np.arange(8000 * 2 * 7) % 20000 - 10000).astype(np.int16).reshape(-1, 2)
    rec.append(call, audio[:8000 * 3])
    rec.flush()
    rec.append(call, audio[8000 * 3:])
    statements: list[str] = []
    vault.conn.set_trace_callback(statements.append)
    try:
        rec.seal(call)
    finally:
        vault.conn.set_trace_callback(None)

    assert statements.count("COMMIT") == 1
    assert vault.query("SELECT count(*) FROM chunks WHERE call_id = ?", (call,)) == [(0,)]
    assert vault.query("SELECT frames FROM calls WHERE id = ?", (call,)) == [(8000 * 7,)]
    flac = b"".join(r[0] for r in vault.query("SELECT data FROM sealed_audio WHERE call_id = ? ORDER BY seq", (call,)))
    assert np.array_equal(np.concatenate(list(decode_flac(flac))), audio)
