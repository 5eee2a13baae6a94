"""Japanese first, English as the alternative: gettext catalogs compiled by Babel and shipped in
the package (``locale/ja/LC_MESSAGES/messages.mo``; the messages' ids are the English text), and
dates and times in the configured zone, written the way each language writes them.

The language is the person's choice on the page (a cookie), else ``[ui] language``, else the
browser's Accept-Language, else Japanese.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.support import NullTranslations, Translations
from flask import g
from werkzeug.wrappers import Request

__all__ = ["LANGUAGES", "LANGUAGE_COOKIE", "choose_language", "gettext", "local_time", "translations"]

#: Japanese first: it is the default wherever nothing says otherwise.
LANGUAGES = ("ja", "en")
LANGUAGE_COOKIE = "callrec_ui_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def choose_language(request: Request, configured: str) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if configured in LANGUAGES:
        return configured
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language``; English is the messages' own text."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def gettext(message: str, **values: object) -> str:
    """``message`` in the request's language, with ``%(name)s`` filled from ``values``."""
    text = translations(g.language).gettext(message)
    return text % values if values else text


def local_time(value: str | float | None, zone: ZoneInfo, language: str) -> str:
    """An ISO 8601 time (as the daemon sends it) or UNIX seconds, in the configured zone."""
    if value is None or value == "":
        return "–"
    if isinstance(value, (int, float)):
        moment = dt.datetime.fromtimestamp(value, zone)
    else:
        moment = dt.datetime.fromisoformat(value)
    return format_datetime(moment, "medium", tzinfo=zone, locale=language)


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks a message for the catalog without translating it here."""
    return message


#: Words the daemon sends as values (roles, statuses, kinds, causes, severities, states) that the
#: templates translate with ``_(value)``: listed here so that they are in the catalog.
VALUE_WORDS = (
    N_("reviewer"), N_("approver"), N_("ops"), N_("maintainer"), N_("admin"),
    N_("pending"), N_("approved"), N_("refused"), N_("closed"), N_("done"),
    N_("call"), N_("test"), N_("ok"), N_("failed"), N_("warning"), N_("critical"),
    N_("service_stopped"), N_("crash"), N_("device_lost"), N_("overflow"), N_("flatline"), N_("maintenance"),
    N_("starting"), N_("capturing"), N_("stopped"), N_("not running"),
)
