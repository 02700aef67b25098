"""Periods counted per lag (1930:173) om beräkning av lagstadgad tid, §1.

A period in weeks ends on the same weekday as the start day; one in months or years ends on
the same day number, or on the last day of the end month when that month is too short
(31 Jan + 1 month = 28 Feb). Days are plain days.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import pendulum

from samverkan.calendar._dates import to_date
from samverkan.text import shown

# [0-9], not \d: \d also matches non-ASCII digits, which int() would silently accept.
_PERIOD = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?")
_EXAMPLES = "expected an ISO 8601 period such as P10D, P6W, P1M or P1Y"
MAX_PERIOD_DAYS = 3660  # ten years: anything longer is a typo, and would overflow the calendar


class InvalidPeriod(ValueError):
    """A period text (or component) that is not a non-negative ISO 8601 date period."""


@dataclass(frozen=True)
class Period:
    """A non-negative calendar period; str() gives the canonical ISO 8601 text."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        for name in ("years", "months", "weeks", "days"):
            value = getattr(self, name)
            # bool is an int; True weeks is a bug somewhere, not a period.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidPeriod(
                    f"invalid period component {name}={value!r}: expected a non-negative integer"
                )

    def __str__(self) -> str:
        text = "".join(
            f"{value}{unit}"
            for value, unit in ((self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D"))
            if value
        )
        return f"P{text or '0D'}"

    @property
    def approx_days(self) -> int:
        """A rough length for sorting and bounds only; never for computing a date."""
        return self.years * 365 + self.months * 30 + self.weeks * 7 + self.days


def parse_period(text: str) -> Period:
    """Parse 'P[nY][nM][nW][nD]' (at least one component; no time part, no signs or fractions)."""
    if isinstance(text, str):
        return _parsed(text)  # the planner parses the same few texts thousands of times a sweep
    return _parse(text)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> Period:
    return _parse(text)


def _parse(text: str) -> Period:
    match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        raise InvalidPeriod(f"invalid period {shown(text)}: {_EXAMPLES}")
    years, months, weeks, days = (int(group) if group else 0 for group in match.groups())
    return Period(years=years, months=months, weeks=weeks, days=days)


def add_period(start: dt.date, period: Period) -> pendulum.Date:
    """The last day of `period` counted from `start` (§1).

    Years and months go together as one count of months (2024-02-29 + P1Y1M = 2025-03-29,
    not 2025-03-28), clamped to the end of a short month; weeks and days are then added.
    """
    day = to_date(start)
    if period.years or period.months:
        day = day.add(years=period.years, months=period.months)
    return day.add(days=period.weeks * 7 + period.days)


def subtract_period(end: dt.date, period: Period) -> pendulum.Date:
    """The day `period` before `end`, e.g. a reminder day before a deadline.

    The mirror of add_period: days and weeks come off first, then months and years (clamped
    to a short month's end), so add then subtract gets back the start unless a month clamped.
    """
    day = to_date(end).subtract(days=period.weeks * 7 + period.days)
    if period.years or period.months:
        day = day.subtract(years=period.years, months=period.months)
    return day
