"""Phone numbers from SIP/tel URIs, normalised so that ``03-1234-5678``, ``0312345678``,
``+81312345678`` and ``010813…`` compare equal.

Normalised form: E.164 with ``+`` when the number carries a country (``+…``, the international
prefix, or a national trunk ``0`` under the configured country code); anything else (a short
extension such as ``201``) stays as its bare digits. Withheld or non-numeric users give ``None``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["normalise_number", "uri_number"]

#: Visual separators RFC 3966 allows inside a phone number.
_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"\+?[0-9]+")


def normalise_number(raw: str | None, country_code: str, international_prefix: str = "010") -> str | None:
    """The number in ``raw`` in normalised form, or ``None`` when it holds no number."""
    if not raw:
        return None
    text = _SEPARATORS.sub("", unquote(raw))
    if not _DIGITS.fullmatch(text):
        return None
    if text.startswith("+"):
        return text
    if international_prefix and text.startswith(international_prefix) and len(text) > len(international_prefix) + 4:
        return "+" + text[len(international_prefix) :]
    if text.startswith("0") and len(text) > 1:
        return "+" + country_code + text[1:]
    return text


def uri_number(uri: str | None) -> str | None:
    """The user part of a ``sip:``/``sips:``/``tel:`` URI (parameters dropped), not yet normalised."""
    if not uri:
        return None
    uri = uri.strip()
    if uri.startswith("<"):
        uri = uri[1:].split(">", 1)[0]
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme == "tel":
        return rest.split(";", 1)[0]
    if scheme not in ("sip", "sips") or "@" not in rest:
        return None
    user = rest.split("@", 1)[0]
    return user.split(";", 1)[0]
