"""A fair socket (issue 18, items 4 and 5), with real OS accounts against a real daemon
(``callrec serve``): while eight accounts without a role flood refusals or stall uploads and an
approver leaves long replies unread, ops' ``health check`` and the maintainer's ``status`` still
get answers; the flood's refusals are counted exactly in a bounded log; a daemon that answers
but is stuck is "busy" (UNKNOWN), never "not running"."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest

from callrec.config import load_config
from callrec.vault import SERVICE_ACTOR, Vault, entries
from callrec.vault.log import verify_chain_since_last
from callrec.vault.people import add_user
from tests.access.socket_clients import CLIENT
from tests.conftest import (
    accounts_skip_reason,
    add_os_account,
    open_dir,
    run_cli,
    start_serve,
    tear_down_site,
    write_config,
)

pytestmark = [pytest.mark.root]

STRANGERS = 8


@pytest.fixture(scope="module")
def site():
    reason = accounts_skip_reason()
    if reason:
        pytest.skip(reason)
    base = open_dir("callrec-fair-")
    suffix = secrets.token_hex(3)
    people = {"ops": f"crfops{suffix}", "maint": f"crfmnt{suffix}", "appr": f"crfapr{suffix}"}
    strangers = [f"crfs{i}{suffix}" for i in range(STRANGERS)]
    for name in [*people.values(), *strangers]:
        add_os_account(name)
    try:
        config_file = write_config(base, "")
        config_file.chmod(0o644)
        config = load_config(config_file)
        assert run_cli(config_file, "init").returncode == 0
        with Vault.open(config) as vault:
            for role, name in (("ops", people["ops"]), ("maintainer", people["maint"]), ("approver", people["appr"])):
                add_user(vault, "root", name, [role])
            with vault.transaction():  # a long log: log.show replies of a few MB
                for i in range(20000):
                    vault.log(SERVICE_ACTOR, "test.filler", detail={"n": i, "pad": "x" * 64})
            vault.checkpoint()
            assert verify_chain_since_last(vault) == []  # as the daemon's checks job did before the flood
        yield {"base": base, "config_file": config_file, "config": config, "people": people, "strangers": strangers}
    finally:
        tear_down_site(None, [*people.values(), *strangers], base)


def _clients(site, accounts, seconds: float, conns: int, mode: str) -> list[subprocess.Popen]:
    script = site["base"] / "client.py"
    script.write_text(CLIENT)
    procs = [subprocess.Popen(["runuser", "-u", name, "--", sys.executable, str(script), str(site["config"].socket_path),
                               str(seconds), str(conns), mode], stdout=subprocess.PIPE, text=True, cwd="/",
                              start_new_session=True) for name in accounts]
    for p in procs:
        assert p.stdout.readline().strip() == "started"
    return procs


def _finish(procs) -> int:
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=90)
        total += int(out.split()[-1])
    return total


def _kill(procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_ops_and_the_maintainer_get_answers_while_others_flood_and_stall(site):
    server = start_serve(site["config_file"], site["config"])
    procs = []
    try:
        half = site["strangers"][:STRANGERS // 2]
        procs += _clients(site, half, 14, 8, "refuse")
        procs += _clients(site, site["strangers"][STRANGERS // 2:], 14, 8, "upload")
        procs += _clients(site, [site["people"]["appr"]], 14, 8, "unread")
        time.sleep(2)  # let the flood and the stalls take what they can
        waits = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for who, argv in (("ops", ("health", "check")), ("maint", ("status", "--json"))):
                started = time.monotonic()
                done = run_cli(site["config_file"], *argv, user=site["people"][who])
                waits.append(time.monotonic() - started)
                assert "busy" not in done.stdout + done.stderr, (who, done)
                if who == "ops":  # (``callrec serve`` records nothing: the check says so, and no more)
                    assert done.returncode in (0, 1, 2) and "daemon not running" not in done.stdout, done.stdout
                else:
                    assert done.returncode == 0 and json.loads(done.stdout)["calls_today"] == 0, done.stderr
        assert max(waits) < 10, waits  # a CLI process start-up included; bench_fairness measures the latency
    finally:
        _kill(procs)
        server.terminate()
        server.wait(30)


def test_a_refusal_flood_is_counted_exactly_in_a_bounded_log(site):
    config = site["config"]
    with Vault.open(config) as vault:
        before = len(entries(vault.conn))
    witness_before = len(config.witness_path.read_text().splitlines())
    server = start_serve(site["config_file"], config)
    try:
        refused = _finish(_clients(site, site["strangers"], 6, 4, "refuse"))
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, server.stderr.read()
    assert refused > 200, refused
    with Vault.open(config) as vault:
        new = [e for e in entries(vault.conn)[before:] if e.actor in site["strangers"]]
    assert sum(e.detail.get("count", 1) for e in new) == refused  # nothing lost, nothing made up
    minutes = {(e.actor, e.action, int(e.ts // 60)) for e in new}
    assert len(new) <= 2 * len(minutes) + STRANGERS, [(e.actor, e.action, e.detail) for e in new]
    assert len(config.witness_path.read_text().splitlines()) - witness_before <= 4


def test_a_daemon_that_answers_nothing_is_busy_not_dead(site):
    server = start_serve(site["config_file"], site["config"])
    try:
        server.send_signal(signal.SIGSTOP)  # connect() still succeeds (the kernel's queue); no reply comes
        started = time.monotonic()
        done = run_cli(site["config_file"], "health", "check", user=site["people"]["ops"])
        assert time.monotonic() - started < 30
        assert done.returncode == 3, (done.stdout, done.stderr)
        assert "daemon busy" in done.stdout and "not running" not in done.stdout, done.stdout
        status = run_cli(site["config_file"], "log", "head", user=site["people"]["ops"])
        assert status.returncode == 3 and "daemon busy" in status.stderr, status.stderr
    finally:
        server.send_signal(signal.SIGCONT)
        server.terminate()
        rc = server.wait(30)
    assert rc == 0, server.stderr.read()  # it took SIGCONT and stopped cleanly
