"""Case transitions race through a real ``callrec serve`` from real OS accounts, many rounds.

Two accounts' clients connect, wait for the same instant and send their requests together
(close vs approve, approve vs refuse, attach vs close, read vs close). Whatever the order the
daemon's workers run them in, the end state must be one a sequential order could produce, the
log must say the same (``callrec verify`` re-derives every case row from it), and no content is
read of a case once its close is in the log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import add_transcript
from callrec.vault.log import log_entries
from callrec.vault.people import _cases, get_case
from tests.conftest import accounts_site, record_call, run_cli, start_serve, tear_down_site

pytestmark = pytest.mark.root

ROUNDS = 10
ROLES = {"rev": ["reviewer"], "appr": ["approver"], "appr2": ["approver"], "adm": ["admin"]}

#: Per request: connect, wait for the agreed instant, send, print the reply's rc (0 when ok).
_RACER = r"""
import json, socket, sys, time
path = sys.argv[1]
for at, req in json.load(sys.stdin):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(path)
        time.sleep(max(0.0, at - time.time()))
        s.sendall((json.dumps(req) + "\n").encode())
        print(json.loads(s.makefile("rb").readline()).get("rc"), flush=True)
"""


@pytest.fixture(scope="module")
def site():
    if not shutil.which("useradd"):
        pytest.skip("needs useradd")
    import os
    if os.geteuid() != 0:
        pytest.skip("needs root to create OS accounts with useradd")
    base, config_file, accounts, server = None, None, {}, None
    try:
        base, config_file, accounts = accounts_site("callrec-race-", ROLES)
        config = load_config(config_file)
        with Vault.open(config) as vault:
            call = record_call(vault, seconds=1)
            add_transcript(vault, call, 0, "vosk", "test", "0" * 64,
                           [{"word": "secret", "start": 0.1, "end": 0.5, "conf": 0.9}], "secret")
        (base / "racer.py").write_text(_RACER)
        server = start_serve(config_file, config)
        yield {"config_file": config_file, "config": config, "accounts": accounts, "call": call, "base": base}
    finally:
        tear_down_site(server, accounts.values(), base)


def _cases_in(site, count: int, approved: bool, attached: bool) -> list[int]:
    now = time.time()
    ids = []
    with Vault.open(site["config"]) as vault:
        for _ in range(count):
            case = _cases.open_case(vault, site["accounts"]["rev"], "race", now - 7200, now + 3600)
            if approved:
                _cases.decide_case(vault, site["accounts"]["appr"], case, approve=True)
            if attached:
                _cases.attach_call(vault, site["accounts"]["rev"], case, site["call"])
            ids.append(case)
    return ids


def _race(site, plans: dict[str, list[dict]]) -> dict[str, list[int]]:
    """Each role sends its i-th request at the same instant as the others; their rcs by role."""
    start = time.time() + 3.0
    procs = {}
    for role, requests in plans.items():
        timed = [[start + i * 0.4, {"v": 1, **r}] for i, r in enumerate(requests)]
        procs[role] = subprocess.Popen(["runuser", "-u", site["accounts"][role], "--", sys.executable,
                                        str(site["base"] / "racer.py"), str(site["config"].socket_path)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, cwd="/")
        procs[role].stdin.write(json.dumps(timed))
        procs[role].stdin.close()
    out = {}
    for role, proc in procs.items():
        proc.wait(120)
        assert proc.returncode == 0, proc.stderr.read()
        out[role] = [int(line) for line in proc.stdout.read().split()]
    return out


def _entries(site, case_id: int) -> list:
    with Vault.open(site["config"]) as vault:
        return [e for e in log_entries(vault) if e.case_id == case_id and e.outcome == "ok"]


def _status(site, case_id: int) -> str:
    with Vault.open(site["config"]) as vault:
        return get_case(vault, case_id).status


def _verified(site) -> None:
    result = run_cli(site["config_file"], "verify")
    assert result.returncode == 0, result.stdout + result.stderr


def test_close_against_approve(site):
    cases = _cases_in(site, ROUNDS, approved=False, attached=False)
    rcs = _race(site, {"rev": [{"action": "case.close", "args": {"case_id": c}} for c in cases],
                       "appr": [{"action": "case.approve", "args": {"case_id": c}} for c in cases]})
    for case, closed, approved in zip(cases, rcs["rev"], rcs["appr"], strict=True):
        assert closed == 0 and _status(site, case) == "closed"  # a close wins from any open state
        actions = [e.action for e in _entries(site, case)]
        # approve then close, or close alone (the approve then found it closed): never close then approve
        assert actions in (["case.open", "case.approve", "case.close"], ["case.open", "case.close"]), actions
        assert (approved == 0) == ("case.approve" in actions)
    _verified(site)


def test_approve_against_refuse(site):
    cases = _cases_in(site, ROUNDS, approved=False, attached=False)
    rcs = _race(site, {"appr": [{"action": "case.approve", "args": {"case_id": c}} for c in cases],
                       "appr2": [{"action": "case.refuse", "args": {"case_id": c, "reason": "no"}} for c in cases]})
    for case, approved, refused in zip(cases, rcs["appr"], rcs["appr2"], strict=True):
        assert sorted([approved, refused])[0] == 0 and sorted([approved, refused])[1] != 0  # exactly one decides
        decisions = [e.action for e in _entries(site, case) if e.action in ("case.approve", "case.refuse")]
        assert decisions == (["case.approve"] if approved == 0 else ["case.refuse"])
        assert _status(site, case) == ("approved" if approved == 0 else "refused")
    _verified(site)


def test_attach_against_close(site):
    cases = _cases_in(site, ROUNDS, approved=True, attached=False)
    call = site["call"]
    rcs = _race(site, {"rev": [{"action": "case.attach", "args": {"case_id": c, "call_id": call}} for c in cases],
                       "adm": [{"action": "case.close", "args": {"case_id": c}} for c in cases]})
    for case, attached, closed in zip(cases, rcs["rev"], rcs["adm"], strict=True):
        assert closed == 0 and _status(site, case) == "closed"
        actions = [e.action for e in _entries(site, case)]
        assert actions in (["case.open", "case.approve", "case.attach", "case.close"],
                           ["case.open", "case.approve", "case.close"]), actions
        with Vault.open(site["config"]) as vault:
            assert (call in _cases.case_call_ids(vault, case)) == (attached == 0) == ("case.attach" in actions)
            refused = [e for e in log_entries(vault, action="case.attach") if e.case_id == case and e.outcome != "ok"]
        assert all("closed" in json.dumps(e.detail) for e in refused)  # refused for the close, nothing else
    _verified(site)


def test_a_read_never_follows_the_close_of_its_case(site):
    cases = _cases_in(site, ROUNDS, approved=True, attached=True)
    call = site["call"]
    rcs = _race(site, {"rev": [{"action": "transcript.read", "args": {"call_id": call, "case_id": c}} for c in cases],
                       "adm": [{"action": "case.close", "args": {"case_id": c}} for c in cases]})
    for case, read, closed in zip(cases, rcs["rev"], rcs["adm"], strict=True):
        assert closed == 0
        actions = [e.action for e in _entries(site, case)]
        assert actions[-1] == "case.close", actions  # no read of content logged after the close
        assert (read == 0) == ("transcript.read" in actions)
        assert read in (0, 4)  # read before the close, or refused: never an internal error
    after = _race(site, {"rev": [{"action": "transcript.read", "args": {"call_id": call, "case_id": c}} for c in cases]})
    assert after["rev"] == [4] * ROUNDS
    _verified(site)
