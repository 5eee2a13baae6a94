"""Authorisation with real OS accounts: identity comes from the kernel through the daemon's socket.

Each account runs the real ``callrec`` command with ``runuser``; it cannot read the data key, so the
command sends a typed request to ``callrec serve`` (running as root here, the service account),
which takes the caller from ``SO_PEERCRED``; what comes back is played or written by the caller's
own process. Hand-made requests play the attacker. Needs root to create accounts; skipped with a
reason otherwise.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.archive import sealed_flac
from callrec.vault.calls import add_transcript
from callrec.vault.log import log_entries
from tests.conftest import (
    accounts_site,
    accounts_skip_reason,
    record_call,
    run_cli,
    start_serve,
    tear_down_site,
)

PHRASE = "熱が三十八度あります"
HOTLINE = "0312345678"
ROLES = {"ops": ["ops"], "maint": ["maintainer"], "appr": ["approver"], "rev": ["reviewer"], "rev2": ["reviewer"]}

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def site():
    reason = accounts_skip_reason()
    if reason:
        pytest.skip(reason)
    base, config_file, accounts, server = None, None, {}, None
    try:
        base, config_file, accounts = accounts_site("callrec-acct-", ROLES, f'[health.cdr]\nhotline_number = "{HOTLINE}"\n',
                                                    others=("stranger",))
        config = load_config(config_file)
        with Vault.open(config) as vault:
            call = record_call(vault, seconds=2)
            add_transcript(vault, call, 0, "vosk", "test", "0" * 64,
                           [{"word": PHRASE, "start": 0.2, "end": 1.0, "conf": 0.9}], PHRASE)
        server = start_serve(config_file, config)
        yield {"config_file": config_file, "config": config, "accounts": accounts, "call": call, "base": base,
               "server": server}
    finally:
        tear_down_site(server, list(accounts.values()), base)


def _as(site, role, *argv, **kw):
    return run_cli(site["config_file"], *argv, user=site["accounts"][role], **kw)


def _refusals(site, actor):
    with Vault.open(site["config"]) as vault:
        return [e for e in log_entries(vault) if e.actor == actor and e.outcome == "refused"]


@pytest.mark.parametrize("role", ["ops", "maint", "appr", "rev", "stranger"])
def test_content_is_refused_and_logged(site, role):
    call = str(site["call"])
    out_dir = str(site["base"] / f"export-{role}")
    for argv in (("case", "transcript", call), ("case", "play", call), ("case", "export", "1", "--out", out_dir),
                 ("case", "search", "1", "三十八度")):
        result = _as(site, role, *argv)
        assert result.returncode == 4, (argv, result.stdout, result.stderr)
        assert "access refused for " + site["accounts"][role] in result.stderr
        assert PHRASE not in result.stdout + result.stderr
    assert not Path(out_dir).exists()
    refused = _refusals(site, site["accounts"][role])
    assert {e.action for e in refused} >= {"transcript.read", "play"}


def test_ops_sees_calls_but_no_content(site):
    result = _as(site, "ops", "calls", "list", "--from", "2000-01-01T00:00:00+09:00", "--to", "2100-01-01T00:00:00+09:00", "--json")
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert [c["id"] for c in calls] == [site["call"]]
    assert PHRASE not in result.stdout
    assert _as(site, "maint", "calls", "list", "--from", "2000-01-01", "--to", "2100-01-01").returncode == 4


def test_reviewer_with_approved_case_reads_and_exports(site):
    now = time.time()
    opened = _as(site, "rev2", "case", "open", "--reason", "caller died at home; verify advice",
                 "--from", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now - 86400)),
                 "--to", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now + 60)))
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.split()[1]
    assert _as(site, "rev2", "case", "approve", case_id).returncode == 4, "reviewer approved a case"
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    assert _as(site, "rev2", "case", "attach", case_id, str(site["call"])).returncode == 0
    text = _as(site, "rev2", "case", "transcript", str(site["call"]))
    assert text.returncode == 0, text.stderr
    assert PHRASE in text.stdout
    found = _as(site, "rev2", "case", "search", case_id, "三十八度")
    assert found.returncode == 0, found.stderr
    assert f"call {site['call']}" in found.stdout and "1 match(es)" in found.stdout
    assert _as(site, "rev", "case", "transcript", str(site["call"]), "--case", case_id).returncode == 4
    home = _home(site, "rev2")
    exported = _as(site, "rev2", "case", "export", case_id, "--out", "case-export", cwd=str(home))
    assert exported.returncode == 0, exported.stderr
    out = home / "case-export"
    uid = pwd.getpwnam(site["accounts"]["rev2"]).pw_uid
    assert (out.stat().st_uid, stat.S_IMODE(out.stat().st_mode)) == (uid, 0o700)
    assert {(p.stat().st_uid, stat.S_IMODE(p.stat().st_mode)) for p in out.rglob("*") if p.is_file()} == {(uid, 0o600)}
    assert {(p.stat().st_uid, stat.S_IMODE(p.stat().st_mode)) for p in out.rglob("*") if p.is_dir()} <= {(uid, 0o700)}
    assert "callrec evidence verify" in exported.stdout
    checked = run_cli(site["config_file"], "evidence", "verify", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    names = {f["file"] for f in manifest["files"]}
    assert {f"call-{site['call']}.flac", f"call-{site['call']}.txt", f"call-{site['call']}.vtt"} <= names
    with Vault.open(site["config"]) as vault:
        log = {e.seq: e for e in log_entries(vault)}
    for f in (f for f in manifest["files"] if "call_id" in f):  # content files; proofs and player carry no read
        entry = log[f["access_log"]["seq"]]
        assert entry.hash == f["access_log"]["hash"] and entry.actor == site["accounts"]["rev2"]

    exports_before = len([e for e in log.values() if e.action == "export"])
    for target in (site["config"].state_dir / "evil", site["config"].state_dir, site["config"].reports_path / "x.json"):
        inside = _as(site, "rev2", "case", "export", case_id, "--out", str(target), cwd=str(home))
        assert inside.returncode == 2 and "inside the state directory" in inside.stderr, inside.stderr
    assert not (site["config"].state_dir / "evil").exists()
    with Vault.open(site["config"]) as vault:
        assert len(log_entries(vault, action="export")) == exports_before

    shown = _as(site, "appr", "log", "show", "--actor", site["accounts"]["rev2"], "--call", str(site["call"]), "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    assert {(e["actor"], e["call"]) for e in listed} == {(site["accounts"]["rev2"], site["call"])}
    reads = {(e["action"], e["result"]) for e in listed}
    assert {("transcript.read", "ok"), ("export", "ok"), ("case.attach", "ok")} <= reads
    assert PHRASE not in shown.stdout and "caller died" not in shown.stdout
    assert _as(site, "ops", "log", "show").returncode == 4
    assert _as(site, "rev2", "log", "show").returncode == 4


def _home(site, role) -> Path:
    """A directory of the account's own, as a person's home would be."""
    home = site["base"] / f"home-{role}"
    home.mkdir(exist_ok=True)
    shutil.chown(home, site["accounts"][role])
    return home


def test_an_approver_sees_the_reason_before_deciding(site):
    now = time.time()
    reason = "family reports caller died 2 days after calling; check advice"
    opened = _as(site, "rev", "case", "open", "--reason", reason,
                 "--from", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now - 3600)),
                 "--to", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)))
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.split()[1]
    pending = _as(site, "appr", "case", "list", "--pending")
    assert pending.returncode == 0, pending.stderr
    assert f"case {case_id}  pending  opened by {site['accounts']['rev']}" in pending.stdout
    assert f"reason: {reason}" in pending.stdout
    shown = _as(site, "appr", "case", "show", case_id)
    assert shown.returncode == 0 and f"reason: {reason}" in shown.stdout and "window " in shown.stdout
    assert _as(site, "appr", "case", "refuse", case_id).returncode == 2, "a refusal needs --reason"
    refused = _as(site, "appr", "case", "refuse", case_id, "--reason", "window too wide for the stated death")
    assert refused.returncode == 0, refused.stderr
    assert f"case {case_id}" not in _as(site, "appr", "case", "list", "--pending").stdout
    # The opener sees the decision: who refused it and why, in text and JSON, in show and list.
    appr = site["accounts"]["appr"]
    for argv in (("case", "show", case_id), ("case", "list")):
        seen = _as(site, "rev", *argv)
        assert f"refused by {appr}: window too wide for the stated death" in seen.stdout, seen.stdout
    shown_json = json.loads(_as(site, "rev", "case", "show", case_id, "--json").stdout)["case"]
    (listed_json,) = [c for c in json.loads(_as(site, "rev", "case", "list", "--json").stdout) if str(c["id"]) == case_id]
    for case in (shown_json, listed_json):
        assert (case["status"], case["decided_by"], case["decision_reason"]) == (
            "refused", appr, "window too wide for the stated death")
    again = _as(site, "rev", "case", "open", "--reason", reason, "--from", "-1h", "--to", "now", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "pending", again.stderr
    assert _as(site, "ops", "case", "list").returncode == 4
    assert _as(site, "rev2", "case", "show", case_id).returncode == 4, "another reviewer's case is not visible"


_RAW_CLIENT = r"""
import json, socket, struct, sys
path = sys.argv[1]
for line in sys.stdin:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(path)
        s.sendall(line.encode())
        print(s.makefile("rb").readline().decode().strip(), flush=True)
"""


def _raw(site, role, requests: list[dict]) -> list[dict]:
    """Send hand-made requests as ``role``'s account, one connection each; the reply lines."""
    script = site["base"] / "raw_client.py"
    script.write_text(_RAW_CLIENT)
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run(["runuser", "-u", site["accounts"][role], "--", sys.executable, str(script),
                           str(site["config"].socket_path)], input=lines, capture_output=True, text=True, timeout=60,
                          cwd="/")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


STATE_COMMANDS = ("init", "run", "replay", "serve", "demo", "rekey", "restore", "backup")


def test_state_commands_are_not_reachable_through_the_socket_in_any_spelling(site):
    config_dir = str(site["config_file"].parent)
    requests = [{"argv": ["demo", "--dir", config_dir]}, {"argv": ["--conf", "x", "init"]}]
    requests += [{"v": 1, "action": name, "args": {}} for name in STATE_COMMANDS]
    requests += [{"v": 1, "action": spelling, "args": {"dir": config_dir}} for spelling in
                 ("--conf x init", "--config=/tmp/x serve", "init --config x", "demo --dir /etc", "DEMO", " init",
                  "model.import")]
    replies = _raw(site, "stranger", requests)
    assert [r["rc"] for r in replies] == [4] * len(requests), replies
    assert all("no such action on the socket" in r["error"] for r in replies)
    # typed actions refuse what they do not declare
    window = {"from_iso": "2000-01-01", "to_iso": "2100-01-01"}
    odd = _raw(site, "ops", [{"v": 1, "action": "calls.list", "args": {**window, "config": "/tmp/x"}},
                             {"v": 1, "action": "calls.list", "args": {"from_iso": 1, "to_iso": "2100-01-01"}},
                             {"v": 2, "action": "calls.list", "args": window},
                             {"v": 1, "action": "users.add", "args": {"name": site["accounts"]["ops"], "roles": ["admin"]}}])
    assert [r["rc"] for r in odd] == [2, 2, 2, 4], odd
    # and the CLI's own spellings run in the caller's process, where they fail without the key
    for argv in (("--conf", str(site["config_file"]), "init"), (f"--config={site['config_file']}", "demo", "--dir", config_dir),
                 ("init", "--config", str(site["config_file"])), ("serve",), ("rekey",), ("backup", "/tmp/b.db"),
                 ("restore", "/tmp/b.db"), ("--con", str(site["config_file"]), "serve")):
        result = run_cli(site["config_file"], *argv, user=site["accounts"]["stranger"])
        assert result.returncode != 0, (argv, result.stdout)
    with Vault.open(site["config"]) as vault:
        from callrec.vault.people import roles_of

        assert roles_of(vault, site["accounts"]["stranger"]) == set()
        assert roles_of(vault, site["accounts"]["ops"]) == {"ops"}
        refused = [e for e in log_entries(vault, action="socket") if e.actor == site["accounts"]["stranger"]]
    # one entry per account, action and minute; the others of the minute are counted in memory and
    # written as one entry when it is over (tests/access/test_refusals.py counts them exactly)
    assert 1 <= len(refused) <= 3, refused
    assert _as(site, "ops", "calls", "list", "--from", "2000-01-01", "--to", "2100-01-01").returncode == 0
    inode = site["config"].socket_path.stat().st_ino
    second = run_cli(site["config_file"], "serve")
    assert second.returncode == 3 and "another callrec daemon serves" in second.stderr, second.stderr
    assert site["config"].socket_path.stat().st_ino == inode
    assert _as(site, "ops", "calls", "list", "--from", "2000-01-01", "--to", "2100-01-01").returncode == 0


_FLOOD = r"""
import resource, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def attempt(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    try:
        s.sendall(payload)
    except OSError:
        pass
    return s
big = attempt(b"x" * (3 * 1024 * 1024))  # oversized, never terminated
slow = attempt(b'{"v": 1, "action": "calls.list", ' + b" " * 500000)  # unterminated, then silent
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        held.append(s)
    except OSError:
        s.close()
print(len(held), flush=True)
time.sleep(float(sys.argv[3]))
"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_flood_of_idle_and_oversized_connections_does_not_stop_other_accounts(site):
    pid = site["server"].pid
    before = _rss_kib(pid)
    script = site["base"] / "flood.py"
    script.write_text(_FLOOD)
    flood = subprocess.Popen(["runuser", "-u", site["accounts"]["stranger"], "--", sys.executable, str(script),
                              str(site["config"].socket_path), "2000", "8"], stdout=subprocess.PIPE, text=True, cwd="/",
                             start_new_session=True)
    try:
        assert int(flood.stdout.readline()) == 2000  # connect() succeeds; the daemon closes the excess at once
        for role in ("ops", "maint"):
            started = time.monotonic()
            argv = ("calls", "list", "--from", "2000-01-01", "--to", "2100-01-01") if role == "ops" else ("health", "check")
            result = _as(site, role, *argv)
            assert result.returncode in (0, 1, 2), (role, result.stderr)
            assert time.monotonic() - started < 5, f"{role} waited {time.monotonic() - started:.1f} s"
        assert _rss_kib(pid) - before < 64 * 1024, "the daemon's memory grew with the flood"
        assert site["server"].poll() is None
    finally:
        os.killpg(flood.pid, signal.SIGKILL)  # runuser and the flood under it
        flood.wait()
    with Vault.open(site["config"]) as vault:
        from callrec.vault.people import roles_of

        assert roles_of(vault, site["accounts"]["stranger"]) == set()


def _play_as(site, role, home: Path, pcm: str, *argv):
    """``callrec case play`` as ``role`` with ALSA's default PCM declared in their own HOME
    (runuser resets HOME, so it is set inside)."""
    (home / ".asoundrc").write_text(pcm)
    cmd = ["runuser", "-u", site["accounts"][role], "--", "env", f"HOME={home}", sys.executable, "-m", "callrec",
           "--config", str(site["config_file"]), "case", "play", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=str(home))


def test_a_reviewer_plays_on_their_own_device_and_a_missing_device_is_logged(site):
    import io

    import numpy as np
    import soundfile

    now = time.time()
    opened = _as(site, "rev", "case", "open", "--reason", "verify what was said",
                 "--from", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now - 86400)),
                 "--to", time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)))
    case_id = opened.stdout.split()[1]
    assert _as(site, "appr", "case", "approve", case_id).returncode == 0
    assert _as(site, "rev", "case", "attach", case_id, str(site["call"])).returncode == 0
    home = _home(site, "rev")
    sink = home / "played.raw"
    played = _play_as(site, "rev", home, f'pcm.!default {{\n  type file\n  slave.pcm "null"\n  file "{sink}"\n'
                      '  format "raw"\n}\n', str(site["call"]), "--case", case_id, "--follow")
    assert played.returncode == 0, played.stderr
    assert PHRASE in played.stdout, "--follow printed the transcript line"
    assert sink.stat().st_uid == pwd.getpwnam(site["accounts"]["rev"]).pw_uid
    with Vault.open(site["config"]) as vault:
        flac = sealed_flac(vault, site["call"])
    sealed, _ = soundfile.read(io.BytesIO(flac), dtype="int16")
    heard = np.fromfile(sink, dtype="<i2")
    start = int(np.flatnonzero(heard == sealed[0])[0]) if sealed[0] in heard else -1
    assert start >= 0 and np.array_equal(heard[start:start + len(sealed)], sealed.reshape(-1)), \
        "the reviewer's device did not receive the sealed audio"

    failed = _play_as(site, "rev", home, 'pcm.!default {\n  type hw\n  card 97\n}\n', str(site["call"]),
                      "--case", case_id)
    assert failed.returncode == 5, (failed.stdout, failed.stderr)
    assert failed.stderr.count("\n") == 1 and "cannot play call" in failed.stderr
    with Vault.open(site["config"]) as vault:
        plays = [e for e in log_entries(vault) if e.actor == site["accounts"]["rev"]
                 and e.action in ("play", "play.failed") and e.outcome == "ok"]
    assert [e.action for e in plays[-3:]] == ["play", "play", "play.failed"]
    assert plays[-1].detail["read"] == plays[-2].seq and plays[-1].detail["result"] == "failed"


def test_cdr_import_reads_the_file_as_the_caller_and_caps_its_size(site):
    home = _home(site, "ops")
    csv = home / "cdr.csv"
    csv.write_text(f"called,start,duration\n{HOTLINE},2026-08-03T09:00:00+09:00,60\n0399999999,2026-08-03T09:10:00+09:00,5\n")
    shutil.chown(csv, site["accounts"]["ops"])
    csv.chmod(0o600)
    done = _as(site, "ops", "cdr", "import", "cdr.csv", cwd=str(home))
    assert done.returncode == 0, done.stderr
    assert "imported 1 call(s) to the hotline (1 new) of 2 row(s)" in done.stdout
    started = time.monotonic()
    zero = _as(site, "ops", "cdr", "import", "/dev/zero")
    assert zero.returncode == 2 and "larger than 16 MiB" in zero.stderr, zero.stderr
    assert time.monotonic() - started < 10
    assert _as(site, "rev", "cdr", "import", str(csv)).returncode != 0


def test_any_role_learns_the_signing_key_fingerprint_through_the_daemon(site):
    key_path = site["config"].checkpoint_key_path
    assert stat.S_IMODE(key_path.stat().st_mode) & 0o077 == 0  # the key itself stays unreadable to them
    published = run_cli(site["config_file"], "key", "show", "--json")
    assert published.returncode == 0, published.stderr
    fingerprint = json.loads(published.stdout)["fingerprint"]
    for role in ("ops", "maint", "rev"):
        shown = _as(site, role, "key", "show")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.strip().endswith(fingerprint)
    stranger = _as(site, "stranger", "key", "show")
    assert stranger.returncode == 4 and fingerprint not in stranger.stdout


def test_lone_surrogates_are_one_line_usage_errors_on_the_cli_and_the_socket(site):
    """A reason of invalid UTF-8 on the command line (Python hands it over as a lone surrogate),
    or a JSON ``\\ud800`` escape in a hand-made request: a usage error, nothing stored, no crash."""
    bad = os.fsdecode(b"caller \xff died")
    window = ("--from", "2000-01-01", "--to", "2100-01-01")
    with Vault.open(site["config"]) as vault:
        before = len(log_entries(vault, action="case.open"))
    for user in (site["accounts"]["rev"], None):  # through the daemon's socket, and in-process as root
        result = run_cli(site["config_file"], "case", "open", "--reason", bad, *window, user=user)
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "'reason'" in line and "lone surrogate" in line and "internal error" not in line
    replies = _raw(site, "rev", [
        {"v": 1, "action": "case.open", "args": {"reason": "\ud800", "from_iso": "2000-01-01", "to_iso": "2100-01-01"}},
        {"v": 1, "action": "case.approve", "args": {"case_id": 1e400}},
        {"v": 1, "action": "\udcff" * 3, "args": {}},
    ])
    assert [r["rc"] for r in replies] == [2, 2, 4], replies
    assert all("internal error" not in r["error"] for r in replies)
    with Vault.open(site["config"]) as vault:
        assert len(log_entries(vault, action="case.open")) == before
