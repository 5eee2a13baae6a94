"""Cases scoped by the caller's number, with real OS accounts through the daemon's socket.

Four calls in one window: two with numbers from the signalling (a SIP line), one on the sound-card
line that gets its caller's number from an imported exchange call log, one with no number at all.
A reviewer's case scoped to one number reaches exactly the calls of that number; no number ever
shows in what ops, the maintainer or an admin see, nor in any file outside the vault.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.log import log_entries
from callrec.vault.people import CallNumbers, write_numbers
from tests.conftest import accounts_site, accounts_skip_reason, record_call, run_cli, start_serve, tear_down_site

pytestmark = pytest.mark.root

HOTLINE = "0312340000"
#: The person who died (as the office knows the number: national form with dashes).
TARGET_DIALLED = "090-1111-2222"
TARGET = "+819011112222"
OTHER = "+819033334444"
#: The caller whose number only the exchange's call log knows (sound-card line).
LOGGED = "+819055556666"
#: Digit runs that must never leak: the national significant numbers of every caller.
SECRETS = ("9011112222", "9033334444", "9055556666", "09011112222", "09033334444", "09055556666")
ROLES = {"ops": ["ops"], "maint": ["maintainer"], "appr": ["approver"], "rev": ["reviewer"], "admin": ["admin"]}


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts))


def _cdr(base: Path, started: float, ended: float) -> Path:
    path = base / "exchange.csv"
    stamp = lambda ts: time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts))  # noqa: E731
    path.write_text(f"called,caller,start,end\n{HOTLINE},055-5556-666,{stamp(started)},{stamp(ended)}\n".replace(
        "055-5556-666", "090-5555-6666"))
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def site():
    reason = accounts_skip_reason()
    if reason:
        pytest.skip(reason)
    base, accounts, server = None, {}, None
    try:
        base, config_file, accounts = accounts_site(
            "callrec-numbers-", ROLES,
            f'[health.cdr]\nhotline_number = "{HOTLINE}"\ncaller_column = "caller"\nend_column = "end"\n')
        config = load_config(config_file)
        start = time.time() + 1  # after init: the day's report covers them
        with Vault.open(config) as vault:
            calls = {name: record_call(vault, seconds=2, started_ts=start + i * 5, seed=i)
                     for i, name in enumerate(("target", "other", "logged", "unknown"))}
            with vault.transaction():
                write_numbers(vault, calls["target"], CallNumbers("in", TARGET, "+81312340000"))
                write_numbers(vault, calls["other"], CallNumbers("in", OTHER, "+81312340000"))
        logged_start = start + 2 * 5
        server = start_serve(config_file, config)
        site = {"config_file": config_file, "config": config, "accounts": accounts, "calls": calls, "base": base,
                "window": (start - 60, start + 60), "server": server}
        imported = _as(site, "ops", "cdr", "import", str(_cdr(base, logged_start, logged_start + 2)))
        assert imported.returncode == 0, imported.stderr
        assert "1 recorded call(s) got the caller's number" in imported.stdout
        site["outputs"] = [imported.stdout + imported.stderr]
        yield site
    finally:
        tear_down_site(server, accounts.values(), base)


def _as(site, role, *argv):
    result = run_cli(site["config_file"], *argv, user=site["accounts"][role])
    site.setdefault("outputs", []).append(result.stdout + result.stderr)
    return result


def _day(site, ts: float) -> str:
    import datetime as dt
    return dt.datetime.fromtimestamp(ts, site["config"].zone).date().isoformat()


def _json(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _open(site, *numbers):
    lo, hi = site["window"]
    args = [a for n in numbers for a in ("--number", n)]
    opened = _as(site, "rev", "case", "open", "--reason", "caller died at home", "--from", _iso(lo), "--to", _iso(hi),
                 *args)
    assert opened.returncode == 0, opened.stderr
    return opened.stdout.split()[1]


@pytest.fixture(scope="module")
def scoped(site):
    """An approved case of the reviewer scoped to the target's number (typed as dialled)."""
    case_id = _open(site, TARGET_DIALLED)
    pending = _json(_as(site, "appr", "case", "list", "--pending", "--json"))
    assert [c["numbers"] for c in pending if str(c["id"]) == case_id] == [[TARGET]]
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    return case_id


def test_reviewer_reaches_exactly_the_calls_of_the_number(site, scoped):
    detail = _json(_as(site, "rev", "case", "show", scoped, "--json"))
    calls = site["calls"]
    assert [c["id"] for c in detail["calls"]] == [calls["target"]]
    assert detail["calls"][0]["number"] == TARGET
    assert detail["unknown_number_calls"] == 1  # the call with no number at all
    assert _as(site, "rev", "case", "attach", scoped, str(calls["target"])).returncode == 0
    for name in ("other", "logged", "unknown"):
        refused = _as(site, "rev", "case", "attach", scoped, str(calls[name]))
        assert refused.returncode == 4, (name, refused.stdout, refused.stderr)
        assert "not a call of the numbers of case" in refused.stderr
    with Vault.open(site["config"]) as vault:
        refusals = [e for e in log_entries(vault) if e.action == "case.attach" and e.outcome == "refused"
                    and e.actor == site["accounts"]["rev"]]
    # Refusals are written once per account, action and minute (the rest counted into one entry):
    # the first refused attach is in the log at once, naming its call.
    assert refusals and refusals[0].call_id == calls["other"]
    transcript = _as(site, "rev", "case", "transcript", str(calls["target"]), "--case", scoped)
    assert transcript.returncode == 0, transcript.stderr


def test_a_number_from_the_call_log_scopes_a_sound_card_call(site):
    case_id = _open(site, LOGGED)
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    detail = _json(_as(site, "rev", "case", "show", case_id, "--json"))
    assert [(c["id"], c["number"]) for c in detail["calls"]] == [(site["calls"]["logged"], LOGGED)]
    assert _as(site, "rev", "case", "attach", case_id, str(site["calls"]["logged"])).returncode == 0
    assert _as(site, "rev", "case", "attach", case_id, str(site["calls"]["target"])).returncode == 4


def test_a_time_only_case_behaves_as_before(site):
    case_id = _open(site)
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    detail = _json(_as(site, "rev", "case", "show", case_id, "--json"))
    assert sorted(c["id"] for c in detail["calls"]) == sorted(site["calls"].values())
    assert detail["case"]["numbers"] == []
    assert _as(site, "rev", "case", "attach", case_id, str(site["calls"]["unknown"])).returncode == 0


def test_export_carries_the_numbers_signed(site, scoped, tmp_path):
    _as(site, "rev", "case", "attach", scoped, str(site["calls"]["target"]))
    out = Path("/tmp") / f"callrec-numbers-export-{time.time_ns()}"
    try:
        done = _as(site, "rev", "case", "export", scoped, "--out", str(out))
        assert done.returncode == 0, done.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["case"]["numbers"] == [TARGET]
        assert [(c["id"], c["number"], c["direction"]) for c in manifest["calls"]] == [
            (site["calls"]["target"], TARGET, "in")]
        verified = subprocess.run([sys.executable, "-m", "callrec", "evidence", "verify", str(out)],
                                  capture_output=True, text=True, env={}, cwd="/")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_a_bad_number_is_a_one_line_usage_error(site):
    lo, hi = site["window"]
    bad = _as(site, "rev", "case", "open", "--reason", "r", "--from", _iso(lo), "--to", _iso(hi), "--number", "call me")
    assert bad.returncode == 2 and "--number: not a telephone number" in bad.stderr
    assert "call me" not in bad.stderr


def test_nobody_else_sees_any_number(site, scoped):
    lo, hi = site["window"]
    window = ("--from", _iso(lo), "--to", _iso(hi))
    for role, argv in [("ops", ("calls", "list", *window, "--json")), ("ops", ("calls", "list", *window)),
                       ("ops", ("status", "--json")), ("maint", ("status",)),
                       ("ops", ("health", "report", "--date", _day(site, lo + 60), "--json")),
                       ("ops", ("health", "check")), ("admin", ("case", "list", "--json")),
                       ("admin", ("case", "show", scoped, "--json")), ("admin", ("log", "show", "--json")),
                       ("appr", ("log", "show", "--json"))]:
        result = _as(site, role, *argv)
        text = result.stdout + result.stderr
        assert not any(s in text for s in SECRETS), (role, argv)
        if role == "admin" and argv[:2] == ("case", "list"):
            assert all(c["numbers"] is None for c in json.loads(result.stdout))
    decided = _json(_as(site, "appr", "case", "show", scoped, "--json"))
    assert decided["case"]["numbers"] == [TARGET]  # the approver sees the case's numbers, no call's
    assert all(c["number"] is None for c in decided["calls"])
    report = _json(_as(site, "ops", "health", "report", "--date",
                            _day(site, lo + 60), "--json"))
    assert report["calls"]["with_number"] >= 1  # counted, never named
    state = site["config"].state_dir
    for path in Path(state).rglob("*"):
        if path.is_file() and not path.name.startswith("vault") and path.suffix not in (".db", ".sock"):
            data = path.read_bytes()
            assert not any(s.encode() in data for s in SECRETS), path
    journal = subprocess.run(["journalctl", "--no-pager", "-n", "2000"], capture_output=True, text=True)
    assert not any(s in journal.stdout for s in SECRETS)
    server_log = site["server"]
    assert server_log.poll() is None
