"""Japanese first: the person's choice, else ``[ui] language``, else the browser's, else Japanese;
times in the configured zone, as each language writes them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from callrec.ui._i18n import LANGUAGE_COOKIE, choose_language, local_time, translations


def _request(accept: str | None = None, cookie: str | None = None) -> Request:
    headers = {"Accept-Language": accept} if accept else {}
    if cookie:
        headers["Cookie"] = f"{LANGUAGE_COOKIE}={cookie}"
    return Request(EnvironBuilder(headers=headers).get_environ())


@pytest.mark.parametrize("accept, cookie, configured, expected", [
    (None, None, "auto", "ja"),
    ("fr-FR,de;q=0.8", None, "auto", "ja"),
    ("en-US,en;q=0.9,ja;q=0.5", None, "auto", "en"),
    ("ja,en;q=0.5", None, "auto", "ja"),
    ("en-US", None, "ja", "ja"),
    ("ja", None, "en", "en"),
    ("ja", "en", "ja", "en"),
    ("en", "ja", "auto", "ja"),
    ("en", "xx", "auto", "en"),
])
def test_the_language_is_chosen_japanese_first(accept, cookie, configured, expected):
    assert choose_language(_request(accept, cookie), configured) == expected


def test_japanese_comes_from_the_compiled_catalog_and_english_is_the_message():
    assert translations("ja").gettext("Pending cases") == "承認待ちのケース"
    assert translations("en").gettext("Pending cases") == "Pending cases"


def test_times_are_shown_in_the_configured_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_time("2026-08-03T04:00:00+00:00", tokyo, "ja") == "2026/08/03 13:00:00"
    assert local_time("2026-08-03T04:00:00+00:00", tokyo, "en").startswith("Aug 3, 2026, 1:00:00")
    assert local_time(1785729600.0, ZoneInfo("Europe/Berlin"), "ja") == "2026/08/03 6:00:00"
    assert local_time(None, tokyo, "ja") == "–"
