"""The page's texts: every message in the code and the templates has a Japanese translation, and
the compiled catalog shipped in the package is the one its source (.po) compiles to."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import callrec.ui

UI = Path(callrec.ui.__file__).parent
PO = UI / "locale" / "ja" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _messages_in_source() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(UI), METHODS, keywords={"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)},
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_message_has_a_japanese_translation():
    with open(PO, "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    source = _messages_in_source()
    assert len(source) > 100
    assert source <= translated, sorted(source - translated)


def test_the_shipped_catalog_is_compiled_from_its_source():
    with open(PO, "rb") as f:
        catalog = read_po(f)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert MO.read_bytes() == compiled.getvalue(), "run tools/ui-catalog.sh"


def test_the_compiled_catalog_is_shipped_as_package_data():
    pyproject = (UI.parent.parent / "pyproject.toml").read_text()
    for pattern in ("ui/templates/*.html", "ui/static/*", "ui/locale/*/LC_MESSAGES/*.mo"):
        assert f'"{pattern}"' in pyproject
