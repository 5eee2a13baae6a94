"""Who may talk to a person's ``callrec ui``: only that person's account, with the token (then its
cookie), from the page's own origin and host, and for a change with the page's CSRF token.

Requests are made by a small HTTP client run as a real OS account (``http_as``), so that headers a
browser would never send (another Origin, another Host) can be sent too.
"""

from __future__ import annotations

import re
import stat
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from callrec.ui._app import create_app
from tests.ui.conftest import Ui, http_as, ui_of

pytestmark = pytest.mark.root


def _cookie(site, role: str, ui) -> str:
    (welcome,) = http_as(site, role, [{"port": ui.port, "method": "GET", "path": f"/?token={ui.token}"}])
    assert welcome["status"] == 200 and 'content="0;url=/"' in welcome["body"] and ui.token not in welcome["body"]
    set_cookie = welcome["headers"]["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    return set_cookie.split(";")[0]


def _routes(site) -> list[tuple[str, str]]:
    """Every route of the page, with made-up ids, and its methods."""
    app = create_app(site["config"], 1)
    out = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int" in m.group(0) else "x", rule.rule)
        path = path.replace("<path:filename>", "ui.css")
        out += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_every_route_needs_the_token_or_its_cookie(site):
    ui = ui_of(site, "rev")
    routes = _routes(site)
    assert len(routes) > 15
    wrong = ui.token[:-2] + ("AA" if not ui.token.endswith("AA") else "BB")
    asked = [{"port": ui.port, "method": m, "path": p, "body": "csrf=x" if m == "POST" else ""} for m, p in routes]
    asked += [{"port": ui.port, "method": "GET", "path": f"/?token={wrong}"},
              {"port": ui.port, "method": "GET", "path": "/reviewer", "headers": {"Cookie": "callrec_ui_1=forged"}}]
    for request, reply in zip(asked, http_as(site, "rev", asked), strict=True):
        assert reply["status"] == 403, (request, reply)
        assert "refused" in reply["body"]


def test_the_cookie_opens_the_page_with_a_strict_policy(site):
    ui = ui_of(site, "rev")
    cookie = _cookie(site, "rev", ui)
    (page,) = http_as(site, "rev", [{"port": ui.port, "method": "GET", "path": "/reviewer",
                                     "headers": {"Cookie": cookie}}])
    assert page["status"] == 200
    csp = page["headers"]["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe" not in csp and "http" not in csp
    assert page["headers"]["X-Frame-Options"] == "DENY" and page["headers"]["Cache-Control"] == "no-store"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page["body"]), "the page loads nothing from elsewhere"


@pytest.mark.parametrize("headers, why", [
    ({"Origin": "http://evil.example"}, "Origin"),
    ({"Origin": "null"}, "Origin"),
    ({"Origin": "http://127.0.0.1:1"}, "Origin"),
    ({"Host": "evil.example"}, "Host"),
    ({"Host": "evil.example:{port}"}, "Host"),
    ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site"),
    ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site"),
])
def test_another_site_or_host_is_refused_even_with_the_cookie(site, headers, why):
    ui = ui_of(site, "rev")
    cookie = _cookie(site, "rev", ui)
    headers = {k: v.format(port=ui.port) for k, v in headers.items()}
    asked = [{"port": ui.port, "method": m, "path": p, "headers": {"Cookie": cookie, **headers},
              "body": "reason=x&from=today&to=now" if m == "POST" else ""}
             for m, p in (("GET", "/reviewer"), ("POST", "/reviewer/open"))]
    for reply in http_as(site, "rev", asked):
        assert reply["status"] == 403 and why in reply["body"], reply


def test_a_change_needs_the_pages_csrf_token(site):
    ui = ui_of(site, "rev")
    cookie = _cookie(site, "rev", ui)
    same = {"Cookie": cookie, "Origin": ui.origin}
    (page,) = http_as(site, "rev", [{"port": ui.port, "method": "GET", "path": "/reviewer", "headers": same}])
    csrf = re.search(r'name="csrf" value="([^"]+)"', page["body"]).group(1)
    form = "reason=csrf-probe&from=-1h&to=now"
    replies = http_as(site, "rev", [
        {"port": ui.port, "method": "POST", "path": "/reviewer/open", "headers": same, "body": form},
        {"port": ui.port, "method": "POST", "path": "/reviewer/open", "headers": same, "body": f"{form}&csrf=x{csrf}"},
        {"port": ui.port, "method": "POST", "path": "/reviewer/open", "headers": same, "body": f"{form}&csrf={csrf}"},
    ])
    assert [r["status"] for r in replies] == [403, 403, 303]
    assert all("CSRF" in r["body"] for r in replies[:2])


@pytest.mark.parametrize("role", ["stranger", "ops"])
def test_another_account_is_refused_with_the_right_token(site, role):
    ui = ui_of(site, "rev")
    replies = http_as(site, role, [{"port": ui.port, "method": "GET", "path": f"/?token={ui.token}"},
                                   {"port": ui.port, "method": "GET", "path": "/reviewer"}])
    for reply in replies:
        assert reply.get("status") == 403 and "another account" in reply["body"], reply
    assert "refused a connection from another account" in ui.err.read_text()


def test_the_test_process_itself_is_another_account(site):
    ui = ui_of(site, "rev")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(ui.url, timeout=10)
    assert refused.value.code == 403


def test_the_token_file_is_private_and_goes_with_the_process(site):
    ui = Ui(site, "maint")
    try:
        path = Path(re.search(r"or the file (\S+)", ui.out.read_text()).group(1))
        info, folder = path.stat(), path.parent.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and stat.S_IMODE(folder.st_mode) == 0o700
        assert info.st_uid == folder.st_uid != 0
        assert ui.token in path.read_text()
    finally:
        ui.stop()
    assert not path.exists() and not path.parent.exists()
