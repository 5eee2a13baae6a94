"""Trust anchors the data key cannot move (issue 18, item 2).

The attacker holds the data key only: they open the SQLCipher file directly, drop the guard
triggers and may edit every table, including the vault's own bookkeeping (the verified-up-to
point, the checkpoint count), and every file the service account can write (the witness file,
the status file). They cannot sign with the checkpoint key, nor edit the journal. Whatever they
do, ``callrec verify`` must not skip a forged entry nor accept a shorter log while a newer signed
head is anywhere on the host.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callrec.config import load_config
from callrec.health import StatusKeeper
from callrec.vault import Vault, _db, read_key_file
from callrec.vault.log import verify, verify_chain_since_last
from callrec.vault.log._hostheads import parse_head_line
from callrec.vault.people import add_user
from tests.conftest import run_cli, write_config
from tests.vault.test_tamper import _forge_append, build_history

_PREFIX = b"<30>callrec-head: "


def _journal_socket(path: Path) -> socket.socket:
    """A real syslog-style unix datagram socket standing in for journald's /dev/log."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    return sock


def _drain(sock: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recv(65536))
        except BlockingIOError:
            return out


def _as_journal_export(datagrams: list[bytes]) -> str:
    """What ``journalctl -t callrec-head -o cat`` prints for these messages."""
    lines = ["-- Boot 0f3c5a9e2b7d4c61a8e2f1d0c9b8a7f6 --"]
    for d in datagrams:
        assert d.startswith(_PREFIX), d
        lines.append(d[len(_PREFIX):].decode("ascii"))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Sealed calls, people, an approved case with a read, a gap, a checkpoint after each step,
    a clean ``verify`` (which signs its verified-up-to point) and the daemon's status file."""
    base = tmp_path_factory.mktemp("anchors")
    devlog = base / "devlog"
    sock = _journal_socket(devlog)
    config = load_config(write_config(base, f'syslog_socket = "{devlog}"\n'))
    vault, _ = Vault.initialise(config)
    ids = build_history(vault)
    assert verify(vault) == []
    StatusKeeper(config, vault, lambda: {"source": "test", "device_state": "capturing"}).write()
    vault.close()
    journal = _drain(sock)
    sock.close()
    return base, ids, journal


@pytest.fixture
def state(template, tmp_path):
    base, ids, journal = template
    shutil.copytree(base / "state", tmp_path / "state")
    config_file = write_config(tmp_path, f'syslog_socket = "{tmp_path / "devlog"}"\n')
    return load_config(config_file), config_file, ids, journal


def _attacker(config):
    conn = _db._raw(config.vault_path, read_key_file(config.key_path))
    conn.execute("PRAGMA foreign_keys = OFF")
    for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {trigger}")
    return conn


def _forge(conn, actor, action, call_id, detail):
    """An entry with a correct format-2 hash and link, signed by a key that is not the checkpoint key."""
    seq = _forge_append(conn, Ed25519PrivateKey.generate(), actor, action, call_id, detail)
    return seq, conn.execute("SELECT hash FROM access_log WHERE seq = ?", (seq,)).fetchone()[0]


def _grant_behind(conn):
    """A role granted behind a forged ``user.grant`` entry."""
    seq, digest = _forge(conn, "root", "user.grant", None, {"user": "rev", "roles": ["admin"]})
    conn.execute("INSERT INTO user_roles (name, role) VALUES ('rev', 'admin')")
    return seq, digest


def _purge_behind(conn, call_id):
    """A call's audio removed behind a forged ``purge`` entry."""
    seq, digest = _forge(conn, "callrec:service", "purge", call_id, {"keep_days": 1})
    for table in ("sealed_audio", "transcripts"):
        conn.execute(f"DELETE FROM {table} WHERE call_id = ?", (call_id,))
    conn.execute("UPDATE calls SET status = 'purged', period = NULL WHERE id = ?", (call_id,))
    return seq, digest


#: How the attacker moves the verified-up-to point over the forged entry.
_MOVES = {
    "keep its signature": "UPDATE chain_verified SET seq = ?, hash = ?",
    "drop its signature": "UPDATE chain_verified SET seq = ?, hash = ?, sig = NULL",
    "forge a signature": "UPDATE chain_verified SET seq = ?, hash = ?, sig = '" + "ab" * 64 + "'",
}


@pytest.mark.parametrize("forgery", ["grant", "purge"])
@pytest.mark.parametrize("move", sorted(_MOVES))
def test_forged_entry_behind_a_moved_verified_point_is_caught(state, forgery, move):
    config, config_file, ids, _ = state
    conn = _attacker(config)
    seq, digest = _grant_behind(conn) if forgery == "grant" else _purge_behind(conn, ids[1])
    conn.execute(_MOVES[move], (seq, digest))
    conn.commit()
    conn.close()
    result = run_cli(config_file, "verify")
    assert result.returncode == 8, result.stdout + result.stderr
    assert f"access log: entry {seq} is not signed by the checkpoint key" in result.stdout
    assert "verified-up-to point is not signed" in result.stdout
    with Vault.open(config) as vault:  # the nightly job's incremental check too
        assert f"access log: entry {seq} is not signed by the checkpoint key" in "\n".join(verify_chain_since_last(vault))


def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                       " AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _mutations(conn, table: str) -> list[str]:
    """Data-key-only edits of one table: empty it; move every number in it to the log's head."""
    top = conn.execute("SELECT max(seq) FROM access_log").fetchone()[0]
    numeric = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
               if r[2].upper() in ("INTEGER", "REAL") and not r[5]]
    out = [f"DELETE FROM {table}"]
    if numeric:
        out.append(f"UPDATE OR IGNORE {table} SET " + ", ".join(f"{c} = {top + 1}" for c in numeric))
    return out


def test_no_edit_of_any_table_hides_a_forged_entry(state, tmp_path):
    """The class: whatever table or bookkeeping row the attacker also edits (all of them, each
    emptied or with its numbers moved to the head), the forged entry is still reported."""
    config, _, _, _ = state
    conn = _attacker(config)
    plans = [(t, m) for t in _tables(conn) if t != "access_log" for m in _mutations(conn, t)]
    conn.close()
    assert {"chain_verified", "checkpoint_state", "log_format", "user_roles"} <= {t for t, _ in plans}
    pristine = tmp_path / "pristine"
    shutil.copytree(config.state_dir, pristine)
    missed = []
    for _table, sql in plans:
        shutil.rmtree(config.state_dir)
        shutil.copytree(pristine, config.state_dir)
        conn = _attacker(config)
        seq, _ = _grant_behind(conn)
        conn.execute(sql)
        conn.commit()
        conn.close()
        with Vault.open(config) as vault:
            findings = verify(vault)
        if not any(f"entry {seq} is not signed" in f or f"entry {seq} was altered" in f for f in findings):
            missed.append(f"{sql}: {findings}")
    assert missed == []


def _cut(config, keep: int, *, status: str) -> int:
    """Cut the log after entry ``keep`` with the witness lines past it and the checkpoint count;
    ``status``: leave the status file, roll its head back, or delete it."""
    conn = _attacker(config)
    top = conn.execute("SELECT max(seq) FROM access_log").fetchone()[0]
    conn.execute("DELETE FROM access_log WHERE seq > ?", (keep,))
    conn.execute("DELETE FROM checkpoint_state")
    conn.execute("DELETE FROM chain_verified")
    conn.commit()
    conn.close()
    lines = config.witness_path.read_text().splitlines()
    kept = [line for line in lines if json.loads(line)["seq"] <= keep]
    config.witness_path.write_text("".join(line + "\n" for line in kept))
    if status == "rolled back":
        data = json.loads(config.status_path.read_text())
        data["head"] = json.loads(kept[-1])
        config.status_path.write_text(json.dumps(data))
    elif status == "deleted":
        config.status_path.unlink()
    return top


def _checkpointed_seqs(config) -> list[int]:
    return [json.loads(line)["seq"] for line in config.witness_path.read_text().splitlines()]


@pytest.mark.parametrize("back", [1, 2, 4])
def test_cut_tail_with_witness_and_count_is_caught_by_the_status_file(state, back):
    config, config_file, _, _ = state
    seqs = _checkpointed_seqs(config)
    top = _cut(config, seqs[-1 - back], status="left")
    result = run_cli(config_file, "verify")
    assert result.returncode == 8, result.stdout + result.stderr
    assert f"heads: a signed head in the status file names entry {top}" in result.stdout, result.stdout


@pytest.mark.parametrize("status", ["rolled back", "deleted"])
@pytest.mark.parametrize("back", [1, 3])
def test_cut_tail_with_every_file_is_caught_by_the_journal_export(state, tmp_path, back, status):
    config, config_file, _, journal = state
    seqs = _checkpointed_seqs(config)
    _cut(config, seqs[-1 - back], status=status)
    export = tmp_path / "heads.journal"
    export.write_text(_as_journal_export(journal))
    result = run_cli(config_file, "verify", "--trusted-heads", str(export))
    assert result.returncode == 8, result.stdout + result.stderr
    assert f"trusted head {seqs[-1]}: access log entry {seqs[-1]} is gone (log truncated)" in result.stdout


def test_a_head_not_signed_by_the_checkpoint_key_is_no_evidence(state):
    """Anyone can write a status file or a journal line: only the checkpoint key's signature counts."""
    config, config_file, _, _ = state
    data = json.loads(config.status_path.read_text())
    data["head"] = {**data["head"], "seq": data["head"]["seq"] + 50}
    config.status_path.write_text(json.dumps(data))
    result = run_cli(config_file, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_checkpoint_sends_its_signed_head_to_the_journal(state, tmp_path):
    config, config_file, _, _ = state
    sock = _journal_socket(tmp_path / "devlog")
    try:
        assert run_cli(config_file, "users", "add", "newcomer", "--role", "ops", "--allow-unknown").returncode == 0
        datagrams = _drain(sock)
    finally:
        sock.close()
    assert len(datagrams) == 1, datagrams
    cp = parse_head_line(datagrams[0].decode("ascii"))
    newest = json.loads(config.witness_path.read_text().splitlines()[-1])
    assert cp is not None and (cp.seq, cp.hash, cp.ts, cp.sig) == (newest["seq"], newest["hash"], newest["ts"], newest["sig"])
    assert b"newcomer" not in datagrams[0] and b"ops" not in datagrams[0]  # ids and hashes only
    export = tmp_path / "heads.journal"
    export.write_text("-- No entries --\n" + _as_journal_export(datagrams))
    ok = run_cli(config_file, "verify", "--trusted-heads", str(export))
    assert ok.returncode == 0 and "1 trusted head(s)" in ok.stdout, ok.stdout + ok.stderr


@pytest.mark.parametrize("sql", ["UPDATE checkpoint_state SET written = written - 2",
                                 "UPDATE checkpoint_state SET seq = seq - 1, hash = (SELECT hash FROM access_log"
                                 " WHERE seq = checkpoint_state.seq - 1)"])
def test_the_checkpoint_count_edited_with_the_data_key_is_a_finding(state, sql):
    config, config_file, _, _ = state
    conn = _attacker(config)
    conn.execute(sql)
    conn.commit()
    conn.close()
    result = run_cli(config_file, "verify")
    assert result.returncode == 8
    assert "the vault's checkpoint count is not signed by the checkpoint key" in result.stdout


def test_an_unsigned_checkpoint_count_is_not_used(state):
    """Dropping the signature (or the row) leaves the count of the signed entries: the witness
    cut below it is still a finding."""
    config, config_file, _, _ = state
    conn = _attacker(config)
    conn.execute("UPDATE checkpoint_state SET sig = NULL, written = 1")
    conn.commit()
    conn.close()
    lines = config.witness_path.read_text().splitlines()
    config.witness_path.write_text(lines[0] + "\n")
    result = run_cli(config_file, "verify")
    assert result.returncode == 8
    assert "holds 1 checkpoint(s) but access log entry" in result.stdout, result.stdout


def test_verify_reads_the_journal_by_itself(state, tmp_path):
    """journald does not run here: a ``journalctl`` on PATH prints what the real one would for
    ``-t callrec-head -o cat`` (the heads the checkpoints sent), and notes how it was asked."""
    config, config_file, _, journal = state
    seqs = _checkpointed_seqs(config)
    _cut(config, seqs[-3], status="deleted")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    export = tmp_path / "journal.txt"
    export.write_text(_as_journal_export(journal))
    asked = tmp_path / "asked.txt"
    (bindir / "journalctl").write_text(f'#!/bin/sh\necho "$@" > {asked}\ncat {export}\n')
    (bindir / "journalctl").chmod(0o755)
    result = run_cli(config_file, "verify", env={"PATH": f"{bindir}:{os.environ['PATH']}"})
    assert result.returncode == 8, result.stdout + result.stderr
    assert f"heads: a signed head in the journal names entry {seqs[-1]}" in result.stdout, result.stdout
    argv = asked.read_text().split()
    assert "-t" in argv and "callrec-head" in argv and f"_UID={config.vault_path.stat().st_uid}" in argv


def test_heads_of_the_chain_a_restore_replaced_are_not_asked_for(tmp_path):
    """After a restore, the status file (and the journal) still hold heads of the replaced, longer
    chain: the signed ``restore`` entry says so, and verify holds."""
    from callrec.identity import current_account
    from callrec.vault import SERVICE_ACTOR

    devlog = tmp_path / "devlog"
    sock = _journal_socket(devlog)
    config_file = write_config(tmp_path, f'syslog_socket = "{devlog}"\n')
    config = load_config(config_file)
    vault, _ = Vault.initialise(config)
    add_user(vault, SERVICE_ACTOR, current_account(), ["admin"])
    vault.checkpoint()
    vault.close()
    assert run_cli(config_file, "backup", str(tmp_path / "b")).returncode == 0
    with Vault.open(config) as vault:
        for name in ("later1", "later2"):
            add_user(vault, "root", name, ["ops"])
            vault.checkpoint()
        StatusKeeper(config, vault, lambda: {"source": "test", "device_state": "capturing"}).write()
    back = run_cli(config_file, "restore", str(tmp_path / "b"))
    assert back.returncode == 0, back.stderr
    sock.close()
    kept = json.loads(config.status_path.read_text())["head"]
    with Vault.open(config) as vault:
        assert kept["seq"] > vault.query("SELECT max(seq) FROM access_log")[0][0]  # newer than the restored log
    result = run_cli(config_file, "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def _report_chain_findings(config, config_file) -> list[str]:
    """The access-log findings of today's report, built by a new ``callrec`` process (as after a
    restart: nothing of the earlier process's state is left but the vault)."""
    today = dt.datetime.now(config.zone).date().isoformat()
    result = run_cli(config_file, "health", "report", "--json", "--date", today)
    assert result.stdout, result.stderr
    return [f["message"] for f in json.loads(result.stdout)["findings"] if f["check"] == "access_log"]


@pytest.mark.parametrize("point", ["signed", "unsigned", "wrongly signed"])
def test_first_report_of_a_new_process_starts_from_the_signed_point(state, point):
    """An entry below the signed point, edited with the data key: the report of a new process does
    not re-check it (it starts from the point, so the first report after a restart costs what the
    entries since cost, issue 22 item 4; 'callrec verify' re-hashes the whole chain and names it).
    A point without the checkpoint key's signature is no point: every entry is checked, and that
    is a finding of its own."""
    config, config_file, _, _ = state
    conn = _attacker(config)
    (top,) = conn.execute("SELECT seq FROM chain_verified").fetchone()
    assert top > 3
    conn.execute("""UPDATE access_log SET detail = '{"edited":1}' WHERE seq = 2""")
    if point != "signed":
        conn.execute("UPDATE chain_verified SET sig = ?", (None if point == "unsigned" else "ab" * 64,))
    conn.commit()
    conn.close()
    found = _report_chain_findings(config, config_file)
    if point == "signed":
        assert found == []
        assert "access log: entry 2 was altered (hash mismatch)" in run_cli(config_file, "verify").stdout
    else:
        assert "access log: entry 2 was altered (hash mismatch)" in found
        assert any("verified-up-to point is not signed by the checkpoint key" in f for f in found), found
