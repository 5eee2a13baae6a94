"""Each role's journey in a real browser, as the role's own OS account, against a real daemon.

A reviewer opens a case and is refused what needs an approval; the approver approves it in their
own page; the reviewer attaches the call, plays it (the audio element plays, the highlighted
transcript line follows it) and exports the case into a folder of their own that passes
``callrec evidence verify``; ops sees a past day with a gap; the maintainer announces a window;
the admin sees people and roles. Refusals are shown and are in the access log; the ui processes'
logs hold no content.
"""

from __future__ import annotations

import datetime as dt
import pwd
import re
import stat
import time
from pathlib import Path

import pytest

from callrec.vault import Vault
from callrec.vault.log import log_entries
from tests.conftest import run_cli
from tests.ui.conftest import CALLER, GAP_DAY, HOTLINE, LINE_ONE, LINE_TWO, REASON, browser_of, shoot, ui_of

pytestmark = pytest.mark.root


def _local(site, delta_h: float) -> str:
    """A datetime-local value (no offset: the configured zone), ``delta_h`` hours from now."""
    moment = dt.datetime.now(site["config"].zone) + dt.timedelta(hours=delta_h)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _log_in(page, ui) -> None:
    """Open the token URL and wait for the page it goes on to (without the token)."""
    page.goto(ui.url)
    page.wait_for_url(lambda url: "token=" not in url, timeout=10000)
    page.wait_for_load_state()


def _refused(site, role: str, action: str) -> list:
    with Vault.open(site["config"]) as vault:
        return [e for e in log_entries(vault) if e.actor == site["accounts"][role] and e.action == action
                and e.outcome == "refused"]


def _refusal_shown(page) -> str:
    box = page.locator(".message.refused")
    assert box.count() >= 1, page.content()[:2000]
    return box.first.inner_text()


def test_case_journey_open_approve_play_export(site, playwright_api):
    rev, appr = ui_of(site, "rev"), ui_of(site, "appr")
    call = site["call"]
    with browser_of(playwright_api, site, "rev") as page:
        _log_in(page, rev)
        assert page.url == f"{rev.origin}/reviewer", "one role: straight to its page, the token gone from the URL"
        assert "自分のケース" in page.locator("h1").inner_text(), "Japanese first"
        shoot(page, "reviewer-my-cases")
        page.fill("#open-case textarea[name=reason]", REASON)
        page.fill("#open-case input[name=from]", _local(site, -3))
        page.fill("#open-case input[name=to]", _local(site, 1))
        page.fill("#open-case input[name=numbers]", "090-1234-5678")
        page.click("#open-case button")
        assert "/cases/" in page.url, page.content()[:1500] + rev.logs()[-1500:]
        case_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator(".status").first.inner_text() == "承認待ち"
        assert page.locator(".facts .numbers").inner_text() == CALLER, "the opener sees the case's numbers"
        assert page.locator("#calls tbody tr").count() == 1, "scoped by number: only the caller's call"
        assert page.locator(f"#call-{call} .number").inner_text() == "", "a call's number only once approved"
        assert page.locator("#unknown-numbers").count() == 1
        shoot(page, "reviewer-case-pending")

        # Before approval the daemon refuses to attach: the page says so and the log has it.
        page.click(f"#call-{call} form button")
        assert "access refused" in _refusal_shown(page)
        shoot(page, "reviewer-refused-before-approval")
        assert _refused(site, "rev", "case.attach")

    with browser_of(playwright_api, site, "appr") as page:
        _log_in(page, appr)
        assert page.url == f"{appr.origin}/approver"
        card = page.locator(f"#case-{case_id}")
        assert REASON in card.inner_text() and site["accounts"]["rev"] in card.inner_text()
        assert card.locator(".numbers").inner_text() == CALLER
        shoot(page, "approver-pending")
        card.locator("form").first.locator("button").click()
        assert "承認しました" in page.locator(".message.ok").inner_text()
        assert page.locator(f"#case-{case_id}").count() == 0

    with browser_of(playwright_api, site, "rev") as page:
        _log_in(page, rev)
        page.goto(f"{rev.origin}/cases/{case_id}")
        assert page.locator(".status").first.inner_text() == "承認済み"
        assert site["accounts"]["appr"] in page.locator("#decision").inner_text()
        assert page.locator(f"#call-{call} .number").inner_text() == CALLER, "approved: its opener sees the number"
        page.click(f"#call-{call} form button")  # attach
        assert page.locator(f"#call-{call} .attached").count() == 1
        shoot(page, "reviewer-case-approved")
        page.click(f"#call-{call} form button")  # play
        _plays_and_follows(page, call)
        _tries_the_network_and_is_stopped(page)
        shoot(page, "reviewer-player")

        page.goto(f"{rev.origin}/cases/{case_id}")
        page.fill("#export input[name=folder]", "case-export")
        page.click("#export button")
        assert "callrec evidence verify" in page.locator(".message.ok").inner_text()
    _export_is_private_and_verifies(site, rev.home / "case-export")

    with browser_of(playwright_api, site, "appr", locale="en-US") as page:
        _log_in(page, appr)
        log = page.locator("#access-log").inner_text()
        assert "play" in log and "export" in log and site["accounts"]["rev"] in log
        assert REASON not in log and "保健所" not in log and CALLER not in log
        shoot(page, "approver-access-log-en")


def _audio(page, section: str, prop: str):
    return page.evaluate("([s, p]) => document.querySelector(s + ' audio')[p]", [section, prop])


def _wait_audio(page, section: str, prop: str, at_least: float, timeout_s: float) -> None:
    """Poll from Python: the page's policy (no 'unsafe-eval') stops Playwright's in-page polling."""
    deadline = time.monotonic() + timeout_s
    while _audio(page, section, prop) < at_least:
        assert time.monotonic() < deadline, f"audio {prop} stayed below {at_least}"
        page.wait_for_timeout(100)


def _plays_and_follows(page, call: int) -> None:
    section = f"#call-{call}"
    _wait_audio(page, section, "readyState", 2, 15)
    lines = page.locator(f"{section} li[data-start]")
    assert lines.count() == 2
    assert "caller" in lines.nth(0).inner_text() and "staff" in lines.nth(1).inner_text()
    uncertain = page.locator(f"{section} .uncertain")
    assert [uncertain.nth(i).inner_text() for i in range(uncertain.count())] == ["熱", "です"]
    lines.nth(0).click()
    _wait_audio(page, section, "currentTime", 0.5, 10)
    assert page.locator(f"{section} li.current").get_attribute("data-start") == lines.nth(0).get_attribute("data-start")
    _wait_audio(page, section, "currentTime", 3.2, 15)
    page.wait_for_timeout(300)
    assert page.locator(f"{section} li.current").get_attribute("data-start") == lines.nth(1).get_attribute("data-start")
    assert not _audio(page, section, "paused")


def _tries_the_network_and_is_stopped(page) -> None:
    """A script that reaches for another address (here an injected image and a fetch) is stopped
    by the page's Content-Security-Policy before a byte leaves."""
    blocked, violations = [], []
    page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.evaluate("() => { const i = document.createElement('img'); i.src = 'http://127.0.0.1:9/x.png';"
                  " document.body.appendChild(i); fetch('http://127.0.0.1:9/y').catch(() => {}); }")
    page.wait_for_timeout(300)
    assert len(violations) >= 2, violations
    assert ("http://127.0.0.1:9/x.png", "csp") in blocked, blocked


def _export_is_private_and_verifies(site, out) -> None:
    uid = pwd.getpwnam(site["accounts"]["rev"]).pw_uid
    assert (out.stat().st_uid, stat.S_IMODE(out.stat().st_mode)) == (uid, 0o700)
    assert {(p.stat().st_uid, stat.S_IMODE(p.stat().st_mode)) for p in out.rglob("*") if p.is_file()} == {(uid, 0o600)}
    checked = run_cli(site["config_file"], "evidence", "verify", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_token_file_opens_the_page_as_the_browser_would(site, playwright_api):
    """What ``callrec ui`` opens without --no-browser: its private file, which goes on to the token URL."""
    rev = ui_of(site, "rev")
    token_file = Path(re.search(r"or the file (\S+)", rev.out.read_text()).group(1))
    with browser_of(playwright_api, site, "rev") as page:
        page.goto(token_file.as_uri())
        page.wait_for_url(f"{rev.origin}/reviewer", timeout=10000)
        assert page.locator("h1").inner_text() == "自分のケース"
        assert rev.token not in page.url


def test_ops_sees_a_day_with_a_gap_and_is_refused_cases(site, playwright_api):
    ops = ui_of(site, "ops")
    with browser_of(playwright_api, site, "ops") as page:
        _log_in(page, ops)
        assert page.url == f"{ops.origin}/ops"
        assert "service_gaps" in page.locator("#check").inner_text()
        shoot(page, "ops-acknowledge")
        page.click("#acks button[data-check=service_gaps]")
        assert "service_gaps" in page.locator(".message.ok").inner_text()
        assert page.locator("#acks button[data-check=service_gaps]").count() == 0, "acknowledged: no longer a warning"
        page.fill("input[name=date]", GAP_DAY.isoformat())
        page.click("form.inline button")
        gaps = page.locator("#gaps").inner_text()
        assert "無音（入力なし）" in gaps and "13:00:00" in gaps and "14:00:00" in gaps
        assert page.locator("#timeline rect.gap").count() == 1
        assert page.locator("#timeline rect.call").count() == 5
        assert "flatline" in page.locator("#findings").inner_text()
        assert "95.8%" in page.locator("#coverage").inner_text()
        shoot(page, "ops-day-with-gap")
        assert page.locator("nav a").all_inner_texts() == ["運用担当"], "ops sees only the ops page"

        response = page.goto(f"{ops.origin}/reviewer")
        assert response.status == 403
        assert "access refused" in _refusal_shown(page)
    assert _refused(site, "ops", "case.list")


def test_maintainer_announces_a_window_and_sees_a_bad_one_refused(site, playwright_api):
    maint = ui_of(site, "maint")
    with browser_of(playwright_api, site, "maint") as page:
        _log_in(page, maint)
        assert page.url == f"{maint.origin}/maintainer"
        assert page.locator("#status").count() == 1
        page.fill("#announce input[name=from]", _local(site, 24))
        page.fill("#announce input[name=to]", _local(site, 25))
        page.fill("#announce input[name=reason]", "交換機ファームウェア更新")
        page.click("#announce button")
        assert page.locator(".message.ok").count() == 1
        assert "交換機ファームウェア更新" in page.locator("#windows").inner_text()
        future = page.locator("#windows tr", has_text="交換機ファームウェア更新")
        starts = time.time() + 3
        page.fill("#announce input[name=from]", dt.datetime.fromtimestamp(starts, site["config"].zone).strftime(
            "%Y-%m-%dT%H:%M:%S"))
        page.fill("#announce input[name=to]", _local(site, 1))
        page.fill("#announce input[name=reason]", "録音機の再起動")
        page.click("#announce button")
        running = page.locator("#windows tr", has_text="録音機の再起動")
        assert running.locator("button.cancel").count() == 1 and running.locator("button.end").count() == 0
        page.wait_for_timeout(max(0.0, starts + 1 - time.time()) * 1000)
        page.reload()
        running.locator("button.end").click()
        assert page.locator(".message.ok").count() == 1
        assert "早期終了" in running.locator(".state").inner_text() and running.locator("button").count() == 0
        assert future.locator("button.cancel").count() == 1
        shoot(page, "maintainer")
        future.locator("button.cancel").click()
        assert "取消" in future.locator(".state").inner_text() and future.locator("button").count() == 0
        page.fill("#announce input[name=from]", _local(site, 30))
        page.fill("#announce input[name=to]", _local(site, 29))
        page.fill("#announce input[name=reason]", "逆順の予定")
        page.click("#announce button")
        assert "--to must be after --from" in _refusal_shown(page)
        assert "逆順の予定" not in page.locator("#windows").inner_text()


def test_admin_sees_people_roles_retention_and_backups_and_grants_a_role(site, playwright_api):
    adm = ui_of(site, "adm")
    appr = site["accounts"]["appr"]
    with browser_of(playwright_api, site, "adm") as page:
        _log_in(page, adm)
        users = page.locator("#users").inner_text()
        assert all(site["accounts"][r] in users for r in ("rev", "appr", "ops", "maint", "adm"))
        assert page.locator("#retention").count() == 1 and page.locator("#backup").count() == 1
        shoot(page, "admin")
        page.fill("#add-user input[name=name]", appr)
        page.select_option("#add-user select[name=role]", "ops")
        page.click("#add-user button >> nth=0")
        assert page.locator(".message.ok").count() == 1
        assert "運用担当" in page.locator("#users tr", has_text=appr).inner_text()
        page.fill("#add-user input[name=name]", appr)
        page.select_option("#add-user select[name=role]", "ops")
        page.click("#add-user button >> nth=1")
        assert "運用担当" not in page.locator("#users tr", has_text=appr).inner_text()

        page.click("button[lang=en]")
        page.goto(f"{adm.origin}/admin")
        assert page.locator("h1").first.inner_text() == "People and roles"


def test_an_account_without_a_role_is_refused_and_logged(site, playwright_api):
    stranger = ui_of(site, "stranger")
    with browser_of(playwright_api, site, "stranger") as page:
        _log_in(page, stranger)
        assert "not a callrec user" in _refusal_shown(page)
        assert page.locator("nav a").count() == 0
        shoot(page, "no-role")
    assert _refused(site, "stranger", "whoami")


def test_no_content_in_the_ui_processes_logs(site):
    """Run after the journeys: what each ui process wrote names routes and refusals, nothing else."""
    if len(site["uis"]) < 2:
        pytest.skip("needs the journeys above in the same run")
    words = [*LINE_ONE, *LINE_TWO[1:], REASON, "交換機ファームウェア更新", HOTLINE, "case-export", CALLER,
             "090-1234-5678"]
    for ui in site["uis"].values():
        logs = ui.logs()
        assert "callrec ui: GET" in logs
        for word in words:
            assert word not in logs, (ui.account, word)
        assert ui.token not in ui.err.read_text(), "the token is printed once on stdout, never logged"
        assert not re.search(r"/(cases|play|media)/[0-9A-Za-z_-]+", logs.replace("<int:case_id>", "").replace(
            "<int:call_id>", "").replace("<key>", "")), "a path with an id or a key was logged"
