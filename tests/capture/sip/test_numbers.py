"""Numbers as SIP shows them, normalised so that every usual form of one number compares equal."""

from __future__ import annotations

import pytest

from callrec.capture.sip import normalise_number


@pytest.mark.parametrize("raw", ["0312345678", "03-1234-5678", "03 1234 5678", "(03)1234-5678", "+81312345678",
                                 "+81-3-1234-5678", "01081312345678", "%2B81312345678"])
def test_forms_of_one_japanese_number(raw):
    assert normalise_number(raw, "81") == "+81312345678"


def test_other_countries_prefixes_and_extensions():
    assert normalise_number("0049301234567", "49", international_prefix="00") == "+49301234567"
    assert normalise_number("0301234567", "49", international_prefix="00") == "+49301234567"
    assert normalise_number("201", "81") == "201"  # an extension stays bare digits
    assert normalise_number("0312345678", "81") != normalise_number("0312345679", "81")


@pytest.mark.parametrize("raw", [None, "", "anonymous", "Anonymous", "unavailable", "+", "12a4", "sip"])
def test_withheld_or_not_a_number(raw):
    assert normalise_number(raw, "81") is None
