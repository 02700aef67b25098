"""Swedish legal time: lag (1930:173) §1-§2, holidays, business days and Stockholm local time."""

from __future__ import annotations

import datetime as dt

import holidays
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.calendar import (
    TIMEZONE,
    Due,
    InvalidPeriod,
    OutsideCalendar,
    Period,
    add_business_days,
    add_period,
    business_days_between,
    holiday_name,
    is_business_day,
    is_non_business_day,
    is_public_holiday,
    legal_due,
    local_datetime,
    next_business_day,
    parse_period,
    previous_business_day,
    subtract_period,
    to_date,
)

D = pendulum.date

# --- hand-checked table ------------------------------------------------------------------------
# Each row checked against a printed calendar: (start, period, nominal, due).
LEGAL_CASES = [
    # Julafton Thu; Juldagen Fri, Annandag jul Sat, Sunday.
    ("2026-12-24", None, D(2026, 12, 24), D(2026, 12, 28)),
    # Julafton on a Wednesday: the longest run, five closed days.
    ("2025-12-24", None, D(2025, 12, 24), D(2025, 12, 29)),
    # 31 Jan + 1 month: February has no 31st, so its last day, a Saturday.
    ("2026-01-31", "P1M", D(2026, 2, 28), D(2026, 3, 2)),
    # Leap year: 31 Jan 2028 + 1 month is Tuesday 29 Feb.
    ("2028-01-31", "P1M", D(2028, 2, 29), D(2028, 2, 29)),
    ("2026-05-31", "P1M", D(2026, 6, 30), D(2026, 6, 30)),
    # Midsommarafton Fri 19 June 2026, Midsommardagen Sat.
    ("2026-06-19", None, D(2026, 6, 19), D(2026, 6, 22)),
    ("2025-06-20", None, D(2025, 6, 20), D(2025, 6, 23)),
    # Easter 2026 is 5 April: Långfredagen Fri 3, Annandag påsk Mon 6.
    ("2026-04-03", None, D(2026, 4, 3), D(2026, 4, 7)),
    ("2026-04-06", None, D(2026, 4, 6), D(2026, 4, 7)),
    # Easter 2027 is 28 March: Långfredagen 26 March.
    ("2027-03-26", None, D(2027, 3, 26), D(2027, 3, 30)),
    # Nyårsafton Thu, Nyårsdagen Fri, then the weekend.
    ("2026-12-31", None, D(2026, 12, 31), D(2027, 1, 4)),
    ("2025-12-31", "P1Y", D(2026, 12, 31), D(2027, 1, 4)),
    # Trettondedag jul: Tue 2026, Sat 2029.
    ("2026-01-06", None, D(2026, 1, 6), D(2026, 1, 7)),
    ("2029-01-06", None, D(2029, 1, 6), D(2029, 1, 8)),
    # Nationaldagen: Sat 2026, Fri 2025.
    ("2026-06-06", None, D(2026, 6, 6), D(2026, 6, 8)),
    ("2025-06-06", None, D(2025, 6, 6), D(2025, 6, 9)),
    # Alla helgons dag 2026 is Saturday 31 October.
    ("2026-10-31", None, D(2026, 10, 31), D(2026, 11, 2)),
    # Kristi himmelsfärdsdag Thu 14 May 2026 (Easter + 39).
    ("2026-05-14", None, D(2026, 5, 14), D(2026, 5, 15)),
    # Första maj Fri 2026.
    ("2026-05-01", None, D(2026, 5, 1), D(2026, 5, 4)),
    # Annandag pingst (Mon 25 May 2026) has not been a holiday since 2005.
    ("2026-05-25", None, D(2026, 5, 25), D(2026, 5, 25)),
    # Six weeks from Monday 2 March is Monday 13 April.
    ("2026-03-02", "P6W", D(2026, 4, 13), D(2026, 4, 13)),
    # Ten days from Monday 14 December lands on Julafton.
    ("2026-12-14", "P10D", D(2026, 12, 24), D(2026, 12, 28)),
    # 29 Feb + 1 year: no 29 Feb in 2025, so Friday 28 Feb.
    ("2024-02-29", "P1Y", D(2025, 2, 28), D(2025, 2, 28)),
    # Years and months count together: 29 Feb 2024 + 13 months is 29 March 2025 (a Saturday).
    ("2024-02-29", "P1Y1M", D(2025, 3, 29), D(2025, 3, 31)),
    ("2026-01-21", "P1M10D", D(2026, 3, 3), D(2026, 3, 3)),
    # Ordinary Saturday and Sunday.
    ("2026-03-07", None, D(2026, 3, 7), D(2026, 3, 9)),
    ("2026-03-08", "P0D", D(2026, 3, 8), D(2026, 3, 9)),
    # A plain Wednesday stays.
    ("2026-04-15", None, D(2026, 4, 15), D(2026, 4, 15)),
]


@pytest.mark.parametrize(("start", "period", "nominal", "due"), LEGAL_CASES)
def test_legal_due_table(start, period, nominal, due):
    result = legal_due(dt.date.fromisoformat(start), parse_period(period) if period else None)
    assert (result.nominal, result.due) == (nominal, due)
    assert result.moved == (due != nominal)
    if due == nominal:
        assert result.reason is None
    else:
        assert result.reason.startswith(f"{nominal} är ")
        assert result.reason.endswith(f"flyttad till nästa vardag {due} (lag (1930:173) 2 §)")
        assert "\n" not in result.reason
        assert result.reason_en.startswith(f"{nominal} is ")
        assert result.reason_en.endswith(f"moved to the next weekday {due}")


def test_legal_due_reasons():
    assert legal_due(D(2026, 12, 24)).reason_en == (
        "2026-12-24 is Julafton (Christmas Eve); moved to the next weekday 2026-12-28"
    )
    assert legal_due(D(2026, 1, 31), Period(months=1)).reason_en == (
        "2026-02-28 is a Saturday; moved to the next weekday 2026-03-02"
    )
    assert legal_due(D(2026, 6, 6)).reason_en == (
        "2026-06-06 is a Saturday and Nationaldagen (National Day); moved to the next weekday 2026-06-08"
    )


def test_legal_due_fields_and_text_period():
    result = legal_due(dt.datetime(2026, 1, 31, 12, 0), "P1M")
    assert result == Due(
        start=D(2026, 1, 31),
        period=Period(months=1),
        nominal=D(2026, 2, 28),
        due=D(2026, 3, 2),
        reason="2026-02-28 är en lördag; flyttad till nästa vardag 2026-03-02 (lag (1930:173) 2 §)",
    )
    assert type(result.due) is pendulum.Date


SUBTRACT_CASES = [
    ("2023-03-31", "P1M", D(2023, 2, 28)),
    ("2024-03-31", "P1M", D(2024, 2, 29)),
    ("2025-02-28", "P1Y", D(2024, 2, 28)),
    ("2026-04-13", "P6W", D(2026, 3, 2)),
    ("2026-12-28", "P7D", D(2026, 12, 21)),
    ("2026-03-03", "P1M10D", D(2026, 1, 21)),  # mirror of the add case in the table
]


@pytest.mark.parametrize(("end", "period", "expected"), SUBTRACT_CASES)
def test_subtract_period_table(end, period, expected):
    assert subtract_period(to_date(end), parse_period(period)) == expected


def test_holiday_names_and_kinds():
    assert holiday_name(D(2026, 1, 1)) == "Nyårsdagen"
    assert holiday_name(D(2026, 12, 24)) == "Julafton"
    assert holiday_name(D(2026, 6, 19)) == "Midsommarafton"
    assert holiday_name(D(2026, 12, 31)) == "Nyårsafton"
    assert holiday_name(D(2026, 3, 7)) is None  # a Saturday is closed but not a holiday
    assert holiday_name(D(2026, 4, 15)) is None
    assert is_public_holiday(D(2026, 12, 25))
    assert not is_public_holiday(D(2026, 12, 24))  # the eves are closed days, not public holidays
    assert is_non_business_day(D(2026, 12, 24))
    assert not is_public_holiday(D(2026, 3, 8))  # Sundays are not listed as holidays


def test_eves_match_the_holidays_de_facto_category():
    for year in range(2020, 2041):
        ours = {
            day
            for day in (dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366))
            if day.year == year and holiday_name(day) in {"Midsommarafton", "Julafton", "Nyårsafton"}
        }
        assert ours == set(holidays.Sweden(years=year, categories=("de_facto",))), year


def test_outside_the_holiday_data_is_refused():
    with pytest.raises(OutsideCalendar, match="2101"):
        is_business_day(D(2101, 1, 3))
    with pytest.raises(OutsideCalendar):
        business_days_between(D(2100, 12, 1), D(2101, 1, 10))


def test_business_day_helpers():
    assert next_business_day(D(2026, 12, 24)) == D(2026, 12, 28)
    assert previous_business_day(D(2026, 12, 28)) == D(2026, 12, 28)
    assert previous_business_day(D(2027, 1, 3)) == D(2026, 12, 30)
    assert add_business_days(D(2026, 12, 23), 1) == D(2026, 12, 28)
    assert add_business_days(D(2026, 12, 28), -1) == D(2026, 12, 23)
    assert add_business_days(D(2026, 12, 26), 0) == D(2026, 12, 28)  # n=0: first day one can act
    assert add_business_days(D(2026, 4, 15), 0) == D(2026, 4, 15)
    assert business_days_between(D(2026, 12, 23), D(2026, 12, 28)) == 1
    assert business_days_between(D(2026, 12, 28), D(2026, 12, 23)) == -1
    assert business_days_between(D(2026, 4, 15), D(2026, 4, 15)) == 0
    # 2026 has 261 weekdays; ten closed days fall on one (Nyårsdagen, Trettondedag jul,
    # Långfredagen, Annandag påsk, Första maj, Kristi himmelsfärdsdag, Midsommarafton, Julafton,
    # Juldagen, Nyårsafton); Nationaldagen, Midsommardagen, Alla helgons dag and Annandag jul are
    # Saturdays.
    assert business_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 261 - 10


def test_inputs_convert_to_pendulum_dates():
    assert to_date(dt.date(2026, 1, 2)) == D(2026, 1, 2)
    assert type(to_date(dt.date(2026, 1, 2))) is pendulum.Date
    assert to_date("2026-01-02") == D(2026, 1, 2)
    # 23:30 UTC on New Year's Eve is already New Year's Day in Stockholm.
    assert to_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone.utc)) == D(2027, 1, 1)
    assert to_date(dt.datetime(2026, 12, 31, 23, 30)) == D(2026, 12, 31)
    assert type(next_business_day(dt.date(2026, 12, 24))) is pendulum.Date
    for bad in ("2026-1-2", "20260102", "2026-02-30", ""):
        with pytest.raises(ValueError, match="invalid date"):
            to_date(bad)
    with pytest.raises(TypeError):
        to_date(20260102)


# --- local time across DST ----------------------------------------------------------------------


def test_local_datetime_follows_dst():
    before = local_datetime(D(2026, 3, 28))
    assert (before.hour, before.minute, before.utcoffset()) == (8, 0, dt.timedelta(hours=1))
    change_day = local_datetime(D(2026, 3, 29))  # clocks go forward at 02:00 this day
    assert (change_day.hour, change_day.minute, change_day.utcoffset()) == (8, 0, dt.timedelta(hours=2))
    assert change_day.isoformat() == "2026-03-29T08:00:00+02:00"
    autumn = local_datetime(D(2026, 10, 25))  # clocks go back at 03:00 this day
    assert autumn.isoformat() == "2026-10-25T08:00:00+01:00"
    assert local_datetime(dt.date(2026, 7, 1), "17:45").isoformat() == "2026-07-01T17:45:00+02:00"
    assert local_datetime(D(2026, 3, 28)).timezone_name == TIMEZONE
    # 24 hours of wall clock, 23 real hours.
    assert change_day - before == pendulum.duration(hours=23)


def test_local_datetime_edge_times():
    assert local_datetime(D(2026, 3, 29), "02:30").isoformat() == "2026-03-29T03:30:00+02:00"  # gap
    assert local_datetime(D(2026, 10, 25), "02:30").isoformat() == "2026-10-25T02:30:00+01:00"  # fold


@pytest.mark.parametrize("bad", ["8:00", "24:00", "08:60", "08:00:00", "0800", "", " 08:00", "08:00\n"])
def test_local_datetime_rejects_bad_times(bad):
    with pytest.raises(ValueError, match="invalid time"):
        local_datetime(D(2026, 1, 2), bad)


# --- parse_period ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period", "canonical"),
    [
        ("P10D", Period(days=10), "P10D"),
        ("P6W", Period(weeks=6), "P6W"),
        ("P1M", Period(months=1), "P1M"),
        ("P1Y", Period(years=1), "P1Y"),
        ("P0D", Period(), "P0D"),
        ("P0Y", Period(), "P0D"),
        ("P1M10D", Period(months=1, days=10), "P1M10D"),
        ("P1Y2M3W4D", Period(1, 2, 3, 4), "P1Y2M3W4D"),
        ("P01M", Period(months=1), "P1M"),
        ("P2W3D", Period(weeks=2, days=3), "P2W3D"),
    ],
)
def test_parse_period_good(text, period, canonical):
    assert parse_period(text) == period
    assert str(period) == canonical
    assert parse_period(str(period)) == period


@pytest.mark.parametrize(
    "text",
    ["P", "P1H", "PT1H", "P1DT1H", "1M", "P-1D", "", "P1.5D", "P8X", "p1d", "P1d", "P1D ", " P1D",
     "P1D\n", "P1D1M", "P1M1Y", "P1Y1Y", "PD", "P١D", "P+1D"],
)
def test_parse_period_bad(text):
    with pytest.raises(InvalidPeriod) as raised:
        parse_period(text)
    message = str(raised.value)
    assert message == (
        f"invalid period {text!r}: expected an ISO 8601 period such as P10D, P6W, P1M or P1Y"
    )
    assert "\n" not in message
    assert isinstance(raised.value, ValueError)


def test_parse_period_rejects_non_text():
    with pytest.raises(InvalidPeriod, match="None"):
        parse_period(None)


def test_period_rejects_bad_components():
    for kwargs in ({"days": -1}, {"weeks": 1.5}, {"months": True}):
        with pytest.raises(InvalidPeriod):
            Period(**kwargs)


def test_period_approx_days():
    assert Period(1, 2, 3, 4).approx_days == 365 + 60 + 21 + 4
    assert sorted([Period(months=1), Period(days=10), Period(weeks=6)], key=lambda p: p.approx_days) == [
        Period(days=10),
        Period(months=1),
        Period(weeks=6),
    ]


# --- properties -----------------------------------------------------------------------------------

# The holiday data ends with 2100; keep every date these reach (start + period, then up to five
# closed days) inside it.
single_days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 20))
start_days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
periods = st.builds(
    Period,
    years=st.integers(0, 3),
    months=st.integers(0, 24),
    weeks=st.integers(0, 104),
    days=st.integers(0, 400),
)
optional_periods = st.none() | periods


@settings(max_examples=300)
@given(start_days, optional_periods)
def test_due_is_the_first_business_day_from_nominal(start, period):
    result = legal_due(start, period)
    assert is_business_day(result.due)
    assert result.due >= result.nominal
    assert (result.due - result.nominal).in_days() <= 5
    day = result.nominal
    while day < result.due:
        assert is_non_business_day(day)
        day = day.add(days=1)
    assert (result.reason is None) == (result.due == result.nominal)


@given(start_days, st.integers(0, 520))
def test_weeks_keep_the_weekday(start, n):
    end = add_period(start, Period(weeks=n))
    assert end.weekday() == start.weekday()
    assert end == start + dt.timedelta(days=7 * n)


@given(start_days, st.integers(0, 120), st.integers(0, 10))
def test_months_keep_the_day_number_or_clamp(start, months, years):
    end = add_period(start, Period(years=years, months=months))
    total = start.year * 12 + start.month - 1 + years * 12 + months
    assert (end.year, end.month) == (total // 12, total % 12 + 1)
    if end.day != start.day:
        assert end.day < start.day
        assert end.add(days=1).day == 1  # clamped: the last day of a shorter month


@given(start_days, st.integers(0, 520), st.integers(0, 2000))
def test_weeks_and_days_round_trip(start, weeks, days):
    period = Period(weeks=weeks, days=days)
    assert subtract_period(add_period(start, period), period) == start


@given(start_days.filter(lambda d: d.day <= 28), periods)
def test_any_period_round_trips_when_no_month_clamps(start, period):
    # subtract_period takes days off before months, so it undoes add_period exactly when no
    # month end clamps the day number.
    assert subtract_period(add_period(start, period), period) == start


@given(single_days)
def test_next_business_day_is_idempotent(day):
    once = next_business_day(day)
    assert next_business_day(once) == once
    assert previous_business_day(previous_business_day(day)) == previous_business_day(day)


@given(single_days)
def test_previous_and_next_bracket_the_day(day):
    assert previous_business_day(day) <= day <= next_business_day(day)
    assert is_business_day(day) == (previous_business_day(day) == day == next_business_day(day))


@given(
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)).filter(is_business_day),
    st.integers(1, 250),
)
def test_business_days_between_inverts_add_business_days(start, n):
    forward = add_business_days(start, n)
    assert business_days_between(start, forward) == n
    assert is_business_day(forward)
    # Backwards the count (backward, start] includes start itself, so this needs start to be a
    # business day just as the forward case does not.
    backward = add_business_days(start, -n)
    assert business_days_between(start, backward) == -n


@given(start_days, st.integers(0, 60))
def test_business_days_between_matches_counting_one_by_one(start, span):
    end = to_date(start).add(days=span)
    counted = sum(is_business_day(to_date(start).add(days=i)) for i in range(1, span + 1))
    assert business_days_between(start, end) == counted
    assert business_days_between(end, start) == -counted


def test_sweden_loaded_alone_is_the_librarys_sweden():
    """The calendar loads holidays' Sweden without the other countries: the same holidays."""
    import holidays

    from samverkan.calendar import swedish

    for year in (swedish.FIRST_YEAR, 2026, 2027, 2030, swedish.LAST_YEAR):
        for language in ("sv", "en_US"):
            assert dict(swedish._Sweden(years=year, language=language, include_sundays=False)) == dict(
                holidays.Sweden(years=year, language=language, include_sundays=False))
    assert (swedish.FIRST_YEAR, swedish.LAST_YEAR) == (holidays.Sweden.start_year, holidays.Sweden.end_year)
