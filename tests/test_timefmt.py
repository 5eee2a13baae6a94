"""Time arguments as operators write them: ISO, days, today/yesterday, relative forms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callrec.errors import UsageError
from callrec.timefmt import day_bounds, format_ts, format_ts_many, parse_day, parse_time, parse_window

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 8, 3, 10, 30, tzinfo=TOKYO).timestamp()


def test_days_in_the_configured_zone():
    assert parse_day("today", TOKYO, now=NOW) == dt.date(2026, 8, 3)
    assert parse_day("Yesterday", TOKYO, now=NOW) == dt.date(2026, 8, 2)
    assert parse_day("-7d", TOKYO, now=NOW) == dt.date(2026, 7, 27)
    assert parse_day("2026-01-31", TOKYO, now=NOW) == dt.date(2026, 1, 31)
    start, end = day_bounds(dt.date(2026, 8, 3), TOKYO)
    assert end - start == 86400
    assert dt.datetime.fromtimestamp(start, TOKYO).hour == 0


def test_times_relative_iso_and_whole_days():
    assert parse_time("-12h", TOKYO, now=NOW) == NOW - 12 * 3600
    assert parse_time("-30m", TOKYO, now=NOW) == NOW - 1800
    assert parse_time("now", TOKYO, now=NOW) == NOW
    assert parse_time("2026-08-03T09:00:00", TOKYO) == dt.datetime(2026, 8, 3, 9, tzinfo=TOKYO).timestamp()
    assert parse_time("2026-08-03T00:00:00+00:00", TOKYO) == dt.datetime(2026, 8, 3, tzinfo=dt.UTC).timestamp()
    start, end = day_bounds(dt.date(2026, 8, 2), TOKYO)
    assert parse_time("yesterday", TOKYO, now=NOW) == start
    assert parse_time("yesterday", TOKYO, now=NOW, end=True) == end


def test_window_defaults_to_today_so_far_and_refuses_reversed_bounds():
    assert parse_window(None, None, TOKYO, now=NOW) == (day_bounds(dt.date(2026, 8, 3), TOKYO)[0], NOW)
    assert parse_window("2026-08-01", "2026-08-01", TOKYO, now=NOW) == day_bounds(dt.date(2026, 8, 1), TOKYO)
    with pytest.raises(UsageError, match="after --to"):
        parse_window("2026-08-03", "2026-08-01", TOKYO, now=NOW)


@pytest.mark.parametrize("text", ["tomorrowish", "3d", "-7x", "2026-13-01", ""])
def test_bad_times_name_the_option_and_the_forms(text):
    with pytest.raises(UsageError, match="--from") as err:
        parse_time(text, TOKYO, "--from", now=NOW)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/London", "America/St_Johns", "Australia/Lord_Howe"])
def test_times_formatted_in_bulk_are_the_times_formatted_one_by_one(zone):
    """Every half second over the hours around the zone's changes in 2026 (Lord Howe's half-hour
    change falls inside a UTC hour, St John's at a half hour), fractions that round up into the
    next second, minute or day, and missing ends."""
    zone = ZoneInfo(zone)
    year = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() + h * 3600 for h in range(366 * 24)]
    changes = [t for t in year
               if dt.datetime.fromtimestamp(t, zone).utcoffset() != dt.datetime.fromtimestamp(t + 3600, zone).utcoffset()]
    stamps = [t + k / 2 + f for t in changes for k in range(-2, 2 * 7200 + 4) for f in (0.0, 0.4999996)]
    stamps += [NOW + 0.9999996, NOW - 0.0005, 0.0, 1.5e-7, None, day_bounds(dt.date(2026, 8, 3), zone)[1] - 2e-7]
    assert len(changes) == (0 if str(zone) == "Asia/Tokyo" else 2)
    assert format_ts_many(stamps, zone) == [format_ts(t, zone) for t in stamps]
    assert format_ts_many([], zone) == []


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/London", "America/St_Johns"])
def test_times_outside_the_common_case_are_formatted_in_bulk_the_same(zone):
    """Before 1970, a year of five digits, a zone's local mean time (an offset with seconds),
    alone and mixed with ordinary times."""
    zone = ZoneInfo(zone)
    odd = [-86400.25, -1.0, dt.datetime(1880, 5, 1, tzinfo=dt.UTC).timestamp() + 0.5,
           dt.datetime(9999, 6, 1, tzinfo=dt.UTC).timestamp() + 0.123]
    for stamps in ([t] for t in odd):
        assert format_ts_many(stamps, zone) == [format_ts(t, zone) for t in stamps]
    assert format_ts_many([*odd, NOW, None], zone) == [format_ts(t, zone) for t in [*odd, NOW, None]]
    assert format_ts_many([None], zone) == [None]


# -- bounded values: any text is a time in range or a one-line usage error ------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from callrec.timefmt import MAX_TS, MIN_TS  # noqa: E402

ZONES = st.sampled_from([TOKYO, ZoneInfo("UTC"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")])
#: Texts near the forms the parsers take: dates of any year, ISO times, relative amounts, noise.
TIMES = (st.dates().map(str) | st.datetimes().map(lambda d: d.isoformat())
         | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
         | st.integers(0, 10**12).map(lambda n: f"-{n}d") | st.integers(0, 10**12).map(lambda n: f"-{n}h")
         | st.sampled_from(["9999-12-31", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00", "nan", "inf",
                            "1e308", "-0d", "today", "yesterday", "now"]) | st.text(max_size=30))


def _one_line(exc: UsageError) -> None:
    assert "\n" not in str(exc) and len(str(exc)) < 400


@settings(max_examples=400, deadline=None)
@given(text=TIMES, zone=ZONES, end=st.booleans())
def test_any_time_text_is_a_time_in_range_or_a_usage_error(text, zone, end):
    try:
        ts = parse_time(text, zone, "--to", now=NOW, end=end)
    except UsageError as exc:
        _one_line(exc)
        return
    assert MIN_TS <= ts <= MAX_TS + 2 * 86400
    format_ts(ts, zone)  # and every later step can take it


@settings(max_examples=400, deadline=None)
@given(text=TIMES, zone=ZONES)
def test_any_day_text_is_a_day_in_range_or_a_usage_error(text, zone):
    try:
        day = parse_day(text, zone, now=NOW)
    except UsageError as exc:
        _one_line(exc)
        return
    start, end = day_bounds(day, zone)
    assert format_ts(start, zone) and format_ts(end, zone)


@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-31T23:59:59", "0001-01-01", "-99999999999d", "2200-01-01"])
def test_far_dates_are_one_line_usage_errors_in_windows(text):
    with pytest.raises(UsageError, match="out of range|is not"):
        parse_window("2026-01-01", text, TOKYO, now=NOW)
    with pytest.raises(UsageError):
        parse_window(text, None, TOKYO, now=NOW)
