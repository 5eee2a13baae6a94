"""Counts in messages match what was written: the files of an export (every file, the manifest and
its signature included) and the calls a replay sealed."""

from __future__ import annotations

import json
import time

from callrec.config import load_config
from callrec.identity import current_account
from callrec.vault import Vault
from callrec.vault.people import _cases
from callrec.vault.people._users import add_user
from tests.conftest import FIXTURES, record_call, run_cli, write_config


def test_export_counts_every_file_it_wrote(tmp_path):
    config_file = write_config(tmp_path)
    me = current_account()
    vault, _ = Vault.initialise(load_config(config_file))
    with vault:
        add_user(vault, "root", me, ["reviewer"])
        add_user(vault, "root", "appr", ["approver"])
        now = time.time()
        calls = [record_call(vault, seconds=2, started_ts=now - 900 + i * 60, seed=i) for i in range(2)]
        case = _cases.open_case(vault, me, "a death at home", now - 1000, now)
        _cases.decide_case(vault, "appr", case, approve=True)
        for call in calls:
            _cases.attach_call(vault, me, case, call)
    out = tmp_path / "package"
    done = run_cli(config_file, "case", "export", str(case), "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {"manifest.json", "call-1.flac", "call-2.flac"} <= {p.name for p in written}
    assert done.stdout.startswith(f"exported {len(written)} files for case {case} to {out}")
    verified = run_cli(config_file, "evidence", "verify", str(out))
    assert verified.returncode == 0 and f": {len(written)} files," in verified.stdout
    as_json = json.loads(run_cli(config_file, "evidence", "verify", str(out), "--json").stdout)
    assert as_json == {"ok": True, "findings": [], "files": len(written), "case": case, "calls": 2,
                       "checkpoint_seq": as_json["checkpoint_seq"], "key_fingerprint": as_json["key_fingerprint"],
                       "fingerprint_compared": False}
    (out / "call-1.flac").write_bytes(b"not audio")
    broken = run_cli(config_file, "evidence", "verify", str(out), "--json")
    assert broken.returncode == 8 and json.loads(broken.stdout)["ok"] is False


def test_replay_says_how_many_of_the_sealed_calls_are_test_calls(tmp_path):
    config_file = write_config(tmp_path)
    assert run_cli(config_file, "init").returncode == 0
    done = run_cli(config_file, "replay", str(FIXTURES / "audio" / "ja_1.flac"), "--start",
                   "2026-08-03T08:30:00+09:00", "--no-asr")
    assert done.returncode == 0, done.stderr
    listed = run_cli(config_file, "calls", "list", "--from", "2026-08-03", "--to", "2026-08-03", "--json")
    assert f"{len(json.loads(listed.stdout))} call(s) sealed, 0 of them test call(s)" in done.stdout
