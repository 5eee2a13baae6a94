"""The package's index.html in a real headless Chromium (Playwright driving the system browser)."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture
def page(exported):
    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (tools/install.sh --test)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_player_seeks_highlights_marks_and_stays_offline(page, exported):
    package, inside = exported[1], exported[3]
    requests, blocked, violations = [], [], []
    page.on("requestfinished", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto((package / "index.html").as_uri())
    section = f"#call-{inside[0]}"
    page.wait_for_function(f"document.querySelector('{section} audio').readyState >= 1", timeout=15000)

    lines = page.locator(f"{section} li[data-start]")
    assert lines.count() == 2
    assert "caller" in lines.nth(0).inner_text() and "staff" in lines.nth(1).inner_text()
    assert lines.nth(1).inner_text().startswith("00:00:03.100")
    uncertain = page.locator(f"{section} .uncertain")
    assert [uncertain.nth(i).inner_text() for i in range(uncertain.count())] == ["熱", "です"]

    lines.nth(1).click()
    page.wait_for_function(f"document.querySelector('{section} audio').currentTime >= 3.1", timeout=5000)
    assert page.evaluate(f"document.querySelector('{section} audio').currentTime") < 5.5
    assert page.locator(f"{section} li.current").get_attribute("data-start") == lines.nth(1).get_attribute("data-start")

    status = page.locator("#verification").inner_text()
    assert "callrec evidence verify" in status and exported[2] in status and "did NOT verify" not in status

    # A page that tries the network is stopped by the policy, and nothing but the package was loaded.
    page.evaluate("() => { const i = document.createElement('img'); i.src = 'http://127.0.0.1:9/x.png';"
                  " document.body.appendChild(i); fetch('http://127.0.0.1:9/y').catch(() => {}); }")
    page.wait_for_timeout(300)
    assert violations, "the Content-Security-Policy did not report the blocked requests"
    assert [b for b in blocked if not b[0].startswith("file:")] == [("http://127.0.0.1:9/x.png", "csp")], blocked
    assert requests and all(url.startswith(package.as_uri()) for url in requests), requests
