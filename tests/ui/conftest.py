"""A real daemon, real OS accounts, and each account's own ``callrec ui`` process and browser.

``callrec serve`` runs as root (the service account here). Every person is a real account made
with ``useradd``; their ``callrec ui`` runs as them through ``runuser``, in a home directory of
their own, and their Chromium runs as them too (a small wrapper Playwright launches as its
browser: it hands the profile directory to the account and starts the system Chromium through
``runuser``), so the page's check of each connection's account sees the person, not the test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callrec.config import load_config
from callrec.vault import Vault
from callrec.vault.calls import add_transcript
from callrec.vault.people import CallNumbers, write_numbers
from tests.conftest import (
    accounts_skip_reason,
    add_os_account,
    open_dir,
    record_call,
    run_cli,
    start_serve,
    tear_down_site,
    write_config,
)
from tests.health.conftest import DayPlan, build_day, ended_outage

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
#: Content that must never reach a log: transcript words, the case's reason, the caller's number.
LINE_ONE, LINE_TWO = ["もしもし", "熱", "が"], ["はい", "保健所", "です"]
REASON = "自宅で亡くなった相談者への助言を確認"
HOTLINE = "0312345678"
#: The caller of the journeys' call (E.164); the reviewer types it the national way, 090-1234-5678.
CALLER = "+819012345678"
#: A past day with a flatline hour, for the ops page.
GAP_DAY = dt.date(2026, 8, 3)
ROLES = {"rev": ["reviewer"], "appr": ["approver"], "ops": ["ops"], "maint": ["maintainer"], "adm": ["admin"]}

pytestmark = pytest.mark.root


def _skip_reason() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (tools/install.sh --test)"
    return accounts_skip_reason("callrec.ui._app")


def _words(texts: list[str], offset: float, confs: list[float]) -> list[dict]:
    return [{"word": w, "start": offset + i * 0.7, "end": offset + i * 0.7 + 0.6, "conf": c}
            for i, (w, c) in enumerate(zip(texts, confs, strict=True))]


def _fill_vault(config) -> int:
    with Vault.open(config) as vault:
        call = record_call(vault, seconds=6, channels=2)
        add_transcript(vault, call, 0, "vosk", "test", "a" * 64, _words(LINE_ONE, 0.2, [0.95, 0.3, 0.9]),
                       "".join(LINE_ONE))
        add_transcript(vault, call, 1, "vosk", "test", "a" * 64, _words(LINE_TWO, 3.1, [0.9, 0.99, 0.4]),
                       "".join(LINE_TWO))
        with vault.transaction():
            write_numbers(vault, call, CallNumbers("in", CALLER, "+81" + HOTLINE[1:]))
        record_call(vault, seconds=2, started_ts=time.time() - 2 * 3600)  # no known number
        build_day(vault, config, DayPlan(flatline=("13:00", "14:00")), GAP_DAY)
        vault.checkpoint()
    ended_outage(config, time.time())  # a WARNING in the live check until ops acknowledges it
    return call


class Ui:
    """One account's ``callrec ui`` process: its URL, its token, and what it wrote to stdout/stderr."""

    def __init__(self, site: dict, role: str) -> None:
        self.account = site["accounts"][role]
        self.home = site["base"] / f"home-{role}"
        self.home.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(self.home, self.account)
        self.out, self.err = site["base"] / f"ui-{role}.out", site["base"] / f"ui-{role}.err"
        cmd = ["runuser", "-u", self.account, "--", "env", "-u", "XDG_RUNTIME_DIR", f"HOME={self.home}",
               sys.executable, "-m", "callrec", "--config", str(site["config_file"]), "ui", "--no-browser"]
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=self.home)
        self.url = self._wait_for_url()
        self.token = self.url.split("token=")[1]
        self.origin = self.url.split("/?")[0]
        self.port = int(self.origin.rsplit(":", 1)[1])

    def _wait_for_url(self) -> str:
        for _ in range(200):
            found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", self.out.read_text())
            if found:
                return found.group(1)
            assert self.process.poll() is None, self.err.read_text()
            time.sleep(0.1)
        raise AssertionError(f"callrec ui printed no URL: {self.err.read_text()}")

    def logs(self) -> str:
        return self.err.read_text() + self.out.read_text()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def chromium_as(site: dict, account: str) -> Path:
    """An executable Playwright can launch as its browser: the system Chromium, as ``account``."""
    home = site["base"] / f"browser-{account}"
    home.mkdir(exist_ok=True)
    shutil.chown(home, account)
    wrapper = site["base"] / f"chromium-{account}"
    wrapper.write_text(f"""#!/bin/sh
for a in "$@"; do case "$a" in --user-data-dir=*) chown -R {account} "${{a#--user-data-dir=}}";; esac; done
exec runuser -u {account} -- env -u XDG_RUNTIME_DIR HOME={home} {CHROMIUM} "$@"
""")
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture(scope="package")
def site() -> Iterator[dict]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = open_dir("callrec-ui-")
    config_file = write_config(base, f'[capture]\nchannels = 2\nchannel_roles = ["caller", "staff"]\n'
                                     f'[health.cdr]\nhotline_number = "{HOTLINE}"\n')
    config_file.chmod(0o644)
    suffix = secrets.token_hex(3)
    accounts = {role: f"cu{role}{suffix}" for role in [*ROLES, "stranger"]}
    for name in accounts.values():
        add_os_account(name)
    server, uis = None, {}
    try:
        assert run_cli(config_file, "init").returncode == 0
        for role, roles in ROLES.items():
            assert run_cli(config_file, "users", "add", accounts[role], *(f"--role={r}" for r in roles)).returncode == 0
        config = load_config(config_file)
        call = _fill_vault(config)
        server = start_serve(config_file, config)
        yield {"config_file": config_file, "config": config, "accounts": accounts, "call": call, "base": base,
               "uis": uis}
    finally:
        for ui in uis.values():
            ui.stop()
        tear_down_site(server, list(accounts.values()), base)


def ui_of(site: dict, role: str) -> Ui:
    """The account's ``callrec ui``, started on first use and kept for the tests of this package."""
    if role not in site["uis"]:
        site["uis"][role] = Ui(site, role)
    return site["uis"][role]


@pytest.fixture(scope="package")
def playwright_api():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        yield pw


@contextlib.contextmanager
def browser_of(pw, site: dict, role: str, locale: str = "ja-JP"):
    """A page in a Chromium running as the role's account. On leaving, every request the page made
    must have gone to a ``callrec ui`` on 127.0.0.1 (or been the token file): nothing from the network."""
    account = site["accounts"][role]
    browser = pw.chromium.launch(executable_path=str(chromium_as(site, account)), args=ARGS)
    seen: list[str] = []
    try:
        page = browser.new_context(locale=locale, viewport={"width": 1100, "height": 800}).new_page()
        page.on("request", lambda r: seen.append(r.url))
        yield page
    finally:
        browser.close()
    assert seen and all(re.match(r"(http://127\.0\.0\.1:\d+/|file:///)", url) for url in seen), seen


def shoot(page, name: str) -> None:
    """A screenshot of the whole page into $CALLREC_UI_SHOTS (docs/ui/ when regenerating them)."""
    target = os.environ.get("CALLREC_UI_SHOTS")
    if target:
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def http_as(site: dict, role: str, requests: list[dict]) -> list[dict]:
    """Send raw HTTP requests from the role's account (a small Python client under runuser): each
    ``{"method", "path", "headers", "body"}``; returns ``{"status", "headers", "body"}`` or
    ``{"error"}`` per request."""
    script = site["base"] / "http_client.py"
    if not script.exists():
        script.write_text(_CLIENT)
        script.chmod(0o644)
    done = subprocess.run(["runuser", "-u", site["accounts"][role], "--", sys.executable, str(script)],
                          input=json.dumps(requests), capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


_CLIENT = '''
import http.client, json, sys
out = []
for r in json.load(sys.stdin):
    conn = http.client.HTTPConnection("127.0.0.1", r["port"], timeout=10)
    try:
        conn.putrequest(r["method"], r["path"], skip_host=True, skip_accept_encoding=True)
        body = r.get("body", "").encode()
        for k, v in {"Host": f"127.0.0.1:{r['port']}", **r.get("headers", {})}.items():
            conn.putheader(k, v)
        if body:
            conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        out.append({"status": resp.status, "headers": dict(resp.getheaders()), "body": body})
    except OSError as exc:
        out.append({"error": str(exc)})
    finally:
        conn.close()
print(json.dumps(out))
'''
