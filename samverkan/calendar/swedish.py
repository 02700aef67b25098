"""Swedish public holidays, the three eves and business days per lag (1930:173) §2.

A "business day" here is what the law calls a weekday (vardag) on which an action can be
taken: not a Saturday or Sunday, not a public holiday (allmän helgdag) and not midsummer eve,
Christmas eve or New Year's eve, which §2 treats like holidays.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import sys
import types
from functools import lru_cache

import pendulum

from samverkan.calendar._dates import to_date


def _load_sweden() -> type:
    """holidays.Sweden, without the other 200-odd countries: `holidays.countries` imports them
    all in its __init__ (0.15 s, half of a command's start), though sweden.py needs none of
    them. Its module is loaded under a bare stand-in for the package, which is then taken
    away again, so a later `import holidays.countries` is the library's own, whole. Should the
    library's layout change, the ordinary (slower) way."""
    import holidays

    if "holidays.countries" in sys.modules:
        return holidays.Sweden
    try:
        spec = importlib.util.find_spec("holidays.countries")
        stand_in = types.ModuleType("holidays.countries")
        stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules["holidays.countries"] = stand_in
        try:
            module = importlib.import_module("holidays.countries.sweden")
        finally:
            sys.modules.pop("holidays.countries", None)
            sys.modules.pop("holidays.countries.sweden", None)
        return module.Sweden
    except Exception:  # noqa: BLE001 - any surprise: the library's own way
        return holidays.Sweden


_Sweden = _load_sweden()

# Outside these years holidays.Sweden returns no holidays at all; refuse rather than treat
# every weekday of 2101 as a business day.
FIRST_YEAR: int = _Sweden.start_year
LAST_YEAR: int = _Sweden.end_year

MIDSUMMER_EVE = "Midsommarafton"
CHRISTMAS_EVE = "Julafton"
NEW_YEARS_EVE = "Nyårsafton"
_EVES_EN = {MIDSUMMER_EVE: "Midsummer Eve", CHRISTMAS_EVE: "Christmas Eve", NEW_YEARS_EVE: "New Year's Eve"}


class OutsideCalendar(ValueError):
    """A date in a year the holiday data does not cover."""


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise OutsideCalendar(
            f"no Swedish holiday data for {year}: the calendar covers {FIRST_YEAR}-{LAST_YEAR}"
        )


def _eves(year: int) -> dict[dt.date, str]:
    # Midsummer eve is the Friday of 19-25 June (the rule since 1953, the first year covered).
    june_19 = dt.date(year, 6, 19)
    midsummer_eve = june_19 + dt.timedelta(days=(4 - june_19.weekday()) % 7)
    return {
        midsummer_eve: MIDSUMMER_EVE,
        dt.date(year, 12, 24): CHRISTMAS_EVE,
        dt.date(year, 12, 31): NEW_YEARS_EVE,
    }


@lru_cache(maxsize=None)
def _public_holidays(year: int) -> dict[dt.date, str]:
    _check_year(year)
    return dict(_Sweden(years=year, language="sv", include_sundays=False))


@lru_cache(maxsize=None)
def _english_names(year: int) -> dict[dt.date, str]:
    names = dict(_Sweden(years=year, language="en_US", include_sundays=False))
    names.update({day: _EVES_EN[name] for day, name in _eves(year).items()})
    return names


@lru_cache(maxsize=None)
def _closed_days(year: int) -> dict[dt.date, str]:
    """Public holidays and the three eves of `year`, Swedish names."""
    closed = dict(_public_holidays(year))
    for day, name in _eves(year).items():
        closed[day] = f"{closed[day]}; {name}" if day in closed else name  # never happens today
    return closed


@lru_cache(maxsize=None)
def _closed_weekdays(year: int) -> tuple[dt.date, ...]:
    """The closed days of `year` that fall Monday-Friday, sorted: what weekday counting must skip."""
    return tuple(sorted(day for day in _closed_days(year) if day.weekday() < 5))


def holiday_name(d: dt.date) -> str | None:
    """The Swedish name of the public holiday or eve on `d` ("Nyårsdagen", "Julafton"), else None.

    Days with two holidays give both, joined by '; ' (as the holidays package does).
    """
    day = to_date(d)
    return _closed_days(day.year).get(day)


def holiday_name_en(d: dt.date) -> str | None:
    """The English name of the holiday or eve on `d`, for messages; None on an ordinary day."""
    day = to_date(d)
    if holiday_name(day) is None:
        return None
    return _english_names(day.year).get(day)


def is_public_holiday(d: dt.date) -> bool:
    """True on an allmän helgdag other than a Sunday; the three eves are not public holidays."""
    day = to_date(d)
    return day in _public_holidays(day.year)


def is_non_business_day(d: dt.date) -> bool:
    """True on Saturday, Sunday, a public holiday, Midsommarafton, Julafton or Nyårsafton."""
    day = to_date(d)
    _check_year(day.year)
    return day.weekday() >= 5 or day in _closed_days(day.year)


def is_business_day(d: dt.date) -> bool:
    return not is_non_business_day(d)


def next_business_day(d: dt.date) -> pendulum.Date:
    """`d` itself if it is a business day, else the first business day after it."""
    return _next_business_day(to_date(d))


@functools.lru_cache(maxsize=8192)
def _next_business_day(day: pendulum.Date) -> pendulum.Date:
    while is_non_business_day(day):
        day = day.add(days=1)
    return day


def previous_business_day(d: dt.date) -> pendulum.Date:
    """`d` itself if it is a business day, else the last business day before it."""
    return _previous_business_day(to_date(d))


@functools.lru_cache(maxsize=8192)
def _previous_business_day(day: pendulum.Date) -> pendulum.Date:
    while is_non_business_day(day):
        day = day.subtract(days=1)
    return day


def add_business_days(d: dt.date, n: int) -> pendulum.Date:
    """The n-th business day after `d` (n > 0) or before it (n < 0); `d` itself is never counted.

    So business_days_between(d, add_business_days(d, n)) == n for n > 0 whatever `d` is.
    n == 0 gives next_business_day(d): "zero business days from a Saturday" is read as the
    first day one can act, not the Saturday itself.
    """
    day = to_date(d)
    if n == 0:
        return next_business_day(day)
    step = 1 if n > 0 else -1
    remaining = abs(n)
    while remaining:
        day = day.add(days=step)
        if is_business_day(day):
            remaining -= 1
    return day


def _weekdays_through(day: dt.date) -> int:
    """Monday-Friday days from 0001-01-01 (a Monday) to `day`, inclusive."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def business_days_between(a: dt.date, b: dt.date) -> int:
    """The business days in the half-open interval (a, b]; negative (-(count in (b, a])) if b < a."""
    start, end = to_date(a), to_date(b)
    if end < start:
        return -business_days_between(end, start)
    _check_year(start.year)
    _check_year(end.year)
    # Count weekdays arithmetically, then take off closed weekdays: fast over long spans.
    count = _weekdays_through(end) - _weekdays_through(start)
    for year in range(start.year, end.year + 1):
        count -= sum(1 for day in _closed_weekdays(year) if start < day <= end)
    return count
