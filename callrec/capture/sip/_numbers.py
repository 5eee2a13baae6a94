"""Phone numbers from SIP/tel URIs; normalised by :func:`callrec.numbers.normalise_number`, so that
``03-1234-5678``, ``0312345678``, ``+81312345678`` and ``010813…`` compare equal.

Normalised form: E.164 with ``+`` when the number carries a country (``+…``, the international
prefix, or a national trunk ``0`` under the configured country code); anything else (a short
extension such as ``201``) stays as its bare digits. Withheld or non-numeric users give ``None``.
"""

from __future__ import annotations

from callrec.numbers import normalise_number

__all__ = ["normalise_number", "uri_number"]


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
