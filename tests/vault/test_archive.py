"""The archive grows in pieces: each closed day's sealed audio in a file of its own, entered into
the chain by hash, backed up once, re-hashed by verify and the scrub, dropped whole by retention."""

from __future__ import annotations

import os
import time

import pytest
import sqlcipher3

from callrec.config import load_config
from callrec.timefmt import day_bounds
from callrec.vault import SCHEMA_VERSION, Vault, entries
from callrec.vault.archive import close_periods
from callrec.vault.archive._backup import backup, restore
from callrec.vault.archive._deletion import approve_deletion, request_deletion
from callrec.vault.archive._periods import _PERIOD_SCHEMA, file_sha256, list_periods, open_period
from callrec.vault.archive._retention import run_retention
from callrec.vault.calls import _content
from callrec.vault.calls._calls import list_calls
from callrec.vault.calls._transcripts import add_transcript
from callrec.vault.log import scrub
from callrec.vault.log._verify import archive_summary, verify
from callrec.vault.people import _cases
from callrec.vault.people._users import add_user
from tests.conftest import record_call, run_cli
from tests.vault.legacy import legacy_vault

DAY = 86400.0
ADMIN = "root"


def _days_ago(vault, days: int, hour: int = 10) -> float:
    """A time on the local day ``days`` before today (midday-ish, far from midnight)."""
    import datetime as dt

    today = dt.datetime.now(vault.config.zone).date()
    return day_bounds(today - dt.timedelta(days=days), vault.config.zone)[0] + hour * 3600


@pytest.fixture
def people(vault):
    add_user(vault, ADMIN, ADMIN, ["admin"])
    add_user(vault, ADMIN, "rev", ["reviewer"])
    add_user(vault, ADMIN, "appr", ["approver"])
    return vault


def _case(vault, *call_ids: int) -> int:
    case = _cases.open_case(vault, "rev", "incident", 0, time.time())
    _cases.decide_case(vault, "appr", case, approve=True)
    for call_id in call_ids:
        _cases.attach_call(vault, "rev", case, call_id)
    return case


def _hot_audio_rows(vault) -> int:
    return vault.query("SELECT count(*) FROM main.sealed_audio")[0][0]


def test_closing_days_moves_their_audio_into_files_whose_hash_is_in_the_chain(people):
    vault = people
    old = [record_call(vault, seconds=1, started_ts=_days_ago(vault, d), seed=d) for d in (3, 3, 2, 1)]
    today = record_call(vault, seconds=1, started_ts=time.time() - 1, seed=9)
    flac_before = {c: _content.read_audio(vault, "rev", c, _case(vault, c)).flac for c in old}

    closed = close_periods(vault)

    periods = list_periods(vault)
    assert len(closed) == 3 and [p.calls for p in periods] == [2, 1, 1]
    logged = {e.detail["period"]: e.detail for e in entries(vault.conn) if e.action == "period.close"}
    for p in periods:
        assert logged[p.name]["sha256"] == p.sha256 == file_sha256(vault.periods_dir / p.file)
        assert (vault.periods_dir / p.file).read_bytes()[:16] != b"SQLite format 3\x00"
    assert vault.query("SELECT DISTINCT call_id FROM main.sealed_audio") == [(today,)]
    for call_id, flac in flac_before.items():  # a content read still logs in its transaction
        read = _content.read_audio(vault, "rev", call_id, None)
        assert read.flac == flac and entries(vault.conn)[-1].action == "play"
    assert close_periods(vault) == []
    assert verify(vault) == [] and verify(vault, full=True) == []


def test_day_files_use_16_kib_pages_and_those_closed_with_the_former_settings_still_play(people, tmp_path):
    vault = people
    call = record_call(vault, seconds=2, started_ts=_days_ago(vault, 2), seed=5)
    flac = _content.read_audio(vault, "rev", call, _case(vault, call)).flac
    (name,) = close_periods(vault)
    (period,) = list_periods(vault)
    path = vault.periods_dir / period.file
    key = bytes(vault.query("SELECT key FROM periods WHERE name = ?", (name,))[0][0])
    current = open_period(path, key)
    assert current.execute("PRAGMA cipher_page_size").fetchone()[0] == "16384"
    rows = current.execute("SELECT call_id, seq, data FROM sealed_audio").fetchall()
    bounds = current.execute("SELECT name, from_ts, to_ts FROM period").fetchone()
    current.close()
    # The same day as the previous release wrote it: SQLCipher 4's defaults (4 KiB pages, HMAC-SHA512).
    former = tmp_path / "former.db"
    conn = sqlcipher3.connect(str(former), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for statement in _PERIOD_SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT INTO period VALUES (?,?,?)", bounds)
    conn.executemany("INSERT INTO sealed_audio VALUES (?,?,?)", rows)
    assert conn.execute("PRAGMA cipher_page_size").fetchone()[0] == "4096"
    conn.close()
    os.replace(former, path)

    assert _content.read_audio(vault, "rev", call, None).flac == flac


def test_verify_catches_a_changed_byte_in_a_closed_day_file(people):
    vault = people
    record_call(vault, seconds=2, started_ts=_days_ago(vault, 2))
    close_periods(vault)
    (period,) = list_periods(vault)
    path = vault.periods_dir / period.file
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    assert verify(vault) == [f"period {period.name}: file {period.file} differs from the SHA-256 in its access-log entry (altered)"]

    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # hide it from the cheap stat check
    assert verify(vault) == []
    assert any("altered" in f for f in verify(vault, full=True))
    checked, problems = scrub(vault, scrub_days=30)
    assert checked == 1 and problems and "altered" in problems[0]


def test_verify_full_runs_in_slices_least_recently_checked_first(people):
    vault = people
    for d in (5, 4, 3):
        record_call(vault, seconds=1, started_ts=_days_ago(vault, d), seed=d)
    close_periods(vault)
    before = {p.name: p.verified_ts for p in list_periods(vault)}
    said: list[str] = []

    assert verify(vault, full=True, max_duration=1e-9, progress=said.append) == []

    after = {p.name: p.verified_ts for p in list_periods(vault)}
    assert sum(after[n] > before[n] for n in before) == 1
    assert "2 of 3 period(s) left" in said[-1]
    verify(vault, full=True, max_duration=1e-9)
    verify(vault, full=True, max_duration=1e-9)
    assert all(p.verified_ts > before[p.name] for p in list_periods(vault))
    summary = archive_summary(vault, vault.config.zone)
    assert summary["closed_days"] == 3 and summary["last_full_check"] is not None


def test_retention_drops_whole_days_returns_their_disk_and_keeps_a_held_call(people):
    vault = people
    held = record_call(vault, seconds=4, started_ts=_days_ago(vault, 40), seed=1)
    gone = [record_call(vault, seconds=4, started_ts=_days_ago(vault, 40, hour=h), seed=h) for h in (11, 12)]
    gone.append(record_call(vault, seconds=4, started_ts=_days_ago(vault, 39), seed=3))
    kept = record_call(vault, seconds=4, started_ts=_days_ago(vault, 5), seed=4)
    add_transcript(vault, gone[0], 0, "vosk", "m", "1" * 64, [], "x")
    close_periods(vault)
    case = _case(vault, held)
    flac = _content.read_audio(vault, "rev", held, case).flac
    files_before = sorted(p.name for p in vault.periods_dir.iterdir())
    used_before = sum(p.stat().st_blocks for p in vault.periods_dir.iterdir())

    purged, on_hold = run_retention(vault, time.time(), keep_days=30)

    assert (purged, on_hold) == (3, 1)
    files_after = sorted(p.name for p in vault.periods_dir.iterdir())
    assert len(files_before) == 3 and len(files_after) == 1
    freed = used_before - sum(p.stat().st_blocks for p in vault.periods_dir.iterdir())
    assert freed * 512 > 2 * 64_000  # two days of 4-second calls' FLAC
    statuses = dict(vault.query("SELECT id, status FROM calls"))
    assert [statuses[c] for c in gone] == ["purged"] * 3 and statuses[kept] == "sealed"
    assert _content.read_audio(vault, "rev", held, case).flac == flac
    drops = [e for e in entries(vault.conn) if e.action == "period.drop"]
    assert [d.detail["held"] for d in drops] == [[held], []]
    assert verify(vault) == [] and verify(vault, full=True) == []

    _cases.close_case(vault, "rev", case)
    assert run_retention(vault, time.time(), keep_days=30) == (1, 0)
    assert verify(vault) == []


def test_deleting_one_call_of_a_closed_day_rewrites_that_day_file(people):
    vault = people
    a = record_call(vault, seconds=1, started_ts=_days_ago(vault, 3), seed=1)
    b = record_call(vault, seconds=1, started_ts=_days_ago(vault, 3, hour=11), seed=2)
    close_periods(vault)
    (before,) = list_periods(vault)
    case = _case(vault, b)
    flac_b = _content.read_audio(vault, "rev", b, case).flac

    approve_deletion(vault, "appr", request_deletion(vault, ADMIN, a, "caller asked"))

    (after,) = list_periods(vault)
    assert after.file != before.file and after.sha256 != before.sha256 and after.calls == 1
    assert sorted(p.name for p in vault.periods_dir.iterdir()) == [after.file]
    (amend,) = [e for e in entries(vault.conn) if e.action == "period.amend"]
    assert amend.detail["removed"] == [a] and amend.detail["sha256"] == after.sha256
    assert _content.read_audio(vault, "rev", b, case).flac == flac_b
    assert verify(vault) == [] and verify(vault, full=True) == []


def test_backup_directory_grows_incrementally_and_restores_after_the_vault_is_gone(people, config, tmp_path):
    vault = people
    dest = tmp_path / "backup"
    for d in (6, 5):
        record_call(vault, seconds=2, started_ts=_days_ago(vault, d), seed=d)
    close_periods(vault)
    first = backup(vault, ADMIN, dest)
    copies = {p.name: p.stat().st_ino for p in (dest / "periods").iterdir()}
    assert len(copies) == 2

    record_call(vault, seconds=2, started_ts=_days_ago(vault, 4), seed=4)
    close_periods(vault)
    second = backup(vault, ADMIN, dest)
    new_day = (vault.periods_dir / list_periods(vault)[-1].file).stat().st_size
    hot_size = (dest / "vault.db").stat().st_size
    assert second.full_reason == "" and new_day < second.written < new_day + hot_size  # changed pages only
    assert all(copies[n] == (dest / "periods" / n).stat().st_ino for n in copies)  # never rewritten

    run_retention(vault, time.time(), keep_days=6)  # drops the oldest day
    record_call(vault, seconds=2, started_ts=time.time() - 60, seed=7)  # today's, still in the hot file
    third = backup(vault, ADMIN, dest)
    assert sorted(p.name for p in (dest / "periods").iterdir()) == sorted(p.file for p in list_periods(vault))
    assert third.full_reason == "" and 0 < third.written < (dest / "vault.db").stat().st_size
    assert first.snapshot.head_seq < second.snapshot.head_seq < third.snapshot.head_seq
    ids = [r[0] for r in vault.query("SELECT id FROM calls ORDER BY id")]
    vault.close()
    config.vault_path.unlink()
    for p in vault.periods_dir.iterdir():
        p.unlink()
    vault.periods_dir.rmdir()

    restore(config, ADMIN, dest)

    with Vault.open(config) as restored:
        assert [r[0] for r in restored.query("SELECT id FROM calls ORDER BY id")] == ids
        assert verify(restored) == [] and verify(restored, full=True) == []
        for (call_id,) in restored.query("SELECT id FROM calls WHERE status = 'sealed'"):
            assert _content.read_audio(restored, "rev", call_id, _case(restored, call_id)).flac


def test_a_restore_refuses_a_backup_whose_day_file_was_altered(people, config, tmp_path):
    vault = people
    record_call(vault, seconds=1, started_ts=_days_ago(vault, 2))
    close_periods(vault)
    backup(vault, ADMIN, tmp_path / "b")
    (copy,) = (tmp_path / "b" / "periods").iterdir()
    copy.write_bytes(copy.read_bytes()[:-1] + b"\x00")
    vault.close()
    from callrec.vault.archive._backup import BackupFailed

    with pytest.raises(BackupFailed, match="differs from its SHA-256"):
        restore(config, ADMIN, tmp_path / "b")
    with Vault.open(config) as untouched:
        assert verify(untouched) == []


def test_calls_list_reads_only_its_window(people):
    vault = people
    long_ago = record_call(vault, seconds=30, started_ts=_days_ago(vault, 40))
    in_window = record_call(vault, seconds=1, started_ts=_days_ago(vault, 10))
    start, end = _days_ago(vault, 12, 0), _days_ago(vault, 8, 0)

    listed = list_calls(vault, start, end, vault.config.zone)

    assert [c["id"] for c in listed] == [in_window]
    plan = " ".join(r[-1] for r in vault.query(
        "EXPLAIN QUERY PLAN SELECT id FROM calls WHERE started_ts >= ? AND started_ts < ?", (start - 31, end)))
    assert "calls_started" in plan and "(started_ts>? AND started_ts<?)" in plan
    spanning = record_call(vault, seconds=2, started_ts=start - 1)  # started before, ends inside
    assert [c["id"] for c in list_calls(vault, start, end, vault.config.zone)] == [spanning, in_window]
    assert long_ago not in [c["id"] for c in list_calls(vault, start, end, vault.config.zone)]


def test_a_vault_written_by_the_current_release_migrates_closes_its_days_and_verifies(tmp_path):
    """Fixture: main at ff77548 (schema 4): 24 calls over 70 days with transcripts, three purged
    by retention, reviewer alice, approver bob, an approved case with reads, a gap, a witness."""
    config_file = legacy_vault(tmp_path, "vault-main-ff77548.tar.gz")
    config = load_config(config_file)
    with Vault.open(config) as vault:
        assert vault.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        listed = list_calls(vault, 0, time.time(), config.zone)
        transcripts = vault.query("SELECT count(*) FROM transcripts")[0][0]
        assert len(listed) == 24 and transcripts == 21
        assert verify(vault) == []

        closed = close_periods(vault)

        assert len(closed) == 21 and _hot_audio_rows(vault) == 0
        assert list_calls(vault, 0, time.time(), config.zone) == listed
        assert vault.query("SELECT count(*) FROM transcripts")[0][0] == transcripts
        (case,) = [r[0] for r in vault.query("SELECT id FROM cases WHERE status = 'approved'")]
        (call,) = [r[0] for r in vault.query("SELECT call_id FROM case_calls WHERE case_id = ?", (case,))]
        assert _content.read_audio(vault, "alice", call, case).flac
    done = run_cli(config_file, "verify", "--full")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every closed day re-hashed" in done.stdout


def test_the_health_chain_check_goes_on_from_where_it_last_verified(people):
    from callrec.vault import head
    from callrec.vault.log import verify_chain_since_last

    vault = people
    record_call(vault, seconds=1)
    assert verify_chain_since_last(vault) == []
    assert vault.query("SELECT seq, hash FROM chain_verified")[0] == head(vault.conn)
    record_call(vault, seconds=1, seed=2)
    seq, digest = head(vault.conn)
    with vault.transaction() as conn:  # an entry appended by hand: its hash does not hold
        conn.execute("INSERT INTO access_log (seq, ts, actor, action, outcome, detail, prev_hash, hash)"
                     " VALUES (?, 0, 'x', 'play', 'ok', '{}', ?, ?)", (seq + 1, digest, "0" * 64))
    assert verify_chain_since_last(vault) == [f"access log: entry {seq + 1} was altered (hash mismatch)"]
    assert vault.query("SELECT seq FROM chain_verified")[0][0] < seq + 1


def test_cli_verify_full_in_slices(people, config_file):
    vault = people
    for d in (3, 2):
        record_call(vault, seconds=1, started_ts=_days_ago(vault, d), seed=d)
    close_periods(vault)

    alone = run_cli(config_file, "verify", "--max-duration", "5")
    assert alone.returncode == 2 and "add --full" in alone.stderr and alone.stderr.count("\n") == 1
    sliced = run_cli(config_file, "verify", "--full", "--max-duration", "0.000001")
    assert sliced.returncode == 0, sliced.stdout + sliced.stderr
    assert "1 of 2 period(s) left" in sliced.stdout
    bad = run_cli(config_file, "verify", "--full", "--max-duration", "soon")
    assert bad.returncode == 2 and "positive number of seconds" in bad.stderr


def test_a_call_in_a_day_not_wholly_past_the_limit_waits_for_its_day(people):
    from callrec.vault.archive._retention import plan_retention

    vault = people
    early = record_call(vault, seconds=1, started_ts=_days_ago(vault, 31, hour=1))
    late = record_call(vault, seconds=1, started_ts=_days_ago(vault, 31, hour=23))
    close_periods(vault)
    (day,) = list_periods(vault)
    now = day.to_ts + 30 * DAY - 3600  # 23:00 thirty days on: the early call is past 30 days, the day is not

    assert plan_retention(vault, now, 30).due == ()
    assert run_retention(vault, now, keep_days=30) == (0, 0)
    assert run_retention(vault, now + 7200, keep_days=30) == (2, 0)
    assert dict(vault.query("SELECT id, status FROM calls")) == {early: "purged", late: "purged"}
    assert list_periods(vault) == [] and verify(vault) == []
