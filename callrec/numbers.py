"""Phone numbers, normalised so that ``03-1234-5678``, ``0312345678``, ``+81312345678`` and
``010 81 3 1234 5678`` compare equal.

Normalised form: E.164 with ``+`` when the number carries a country (``+…``, the international
prefix, or a national trunk ``0`` under the configured country code); anything else (a short
extension such as ``201``) stays as its bare digits. A withheld or non-numeric caller gives
``None``. Messages about a number never repeat it (DESIGN.md invariant 9).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from callrec.errors import UsageError

__all__ = ["BadNumber", "normalise_number", "parse_number"]

#: Visual separators RFC 3966 allows inside a phone number.
_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"\+?[0-9]+")
#: Japan's international call prefix (``010``).
INTERNATIONAL_PREFIX = "010"
#: Longest number E.164 allows, plus the ``+``.
_MAX_LENGTH = 16


class BadNumber(UsageError):
    """{0}: not a telephone number; give it as dialled (0312345678) or in E.164 (+81312345678)"""


def normalise_number(raw: str | None, country_code: str, international_prefix: str = INTERNATIONAL_PREFIX) -> str | None:
    """The number in ``raw`` in normalised form, or ``None`` when it holds no number (withheld)."""
    if not raw:
        return None
    text = _SEPARATORS.sub("", unquote(raw))
    if not _DIGITS.fullmatch(text) or len(text) > _MAX_LENGTH + len(international_prefix):
        return None
    if text.startswith("+"):
        return text
    if international_prefix and text.startswith(international_prefix) and len(text) > len(international_prefix) + 4:
        return "+" + text[len(international_prefix):]
    if text.startswith("0") and len(text) > 1:
        return "+" + country_code + text[1:]
    return text


def parse_number(raw: str, country_code: str, what: str = "--number") -> str:
    """A number a person typed, normalised; :class:`BadNumber` (naming ``what``, not the value) otherwise."""
    number = normalise_number(raw.strip(), country_code)
    if number is None or len(number.lstrip("+")) < 3:
        raise BadNumber(what)
    return number
