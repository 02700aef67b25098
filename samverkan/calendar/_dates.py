"""Date conversion and local time: every time in Samverkan is Swedish wall-clock time."""

from __future__ import annotations

import datetime as dt
import re

import pendulum

from samverkan.text import shown

TIMEZONE = "Europe/Stockholm"

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def to_date(value: dt.date | str) -> pendulum.Date:
    """A pendulum.Date from a date, a datetime or an ISO text 'YYYY-MM-DD'.

    An aware datetime counts by its Stockholm calendar day (23:30 UTC on 31 Dec is already
    1 Jan in Sweden); a naive one is taken as local wall time already.
    """
    if isinstance(value, dt.datetime):  # before dt.date: datetime is a subclass of date
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = pendulum.instance(value).in_timezone(TIMEZONE)
        return pendulum.date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        if type(value) is pendulum.Date:
            return value
        return pendulum.date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            # fromisoformat alone would also take '20260101' and week dates; insist on YYYY-MM-DD.
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"invalid date {shown(value)}: expected YYYY-MM-DD") from None
        return pendulum.date(parsed.year, parsed.month, parsed.day)
    raise TypeError(f"expected a date or a 'YYYY-MM-DD' text, got {type(value).__name__}")


def local_datetime(d: dt.date | str, time_text: str = "08:00") -> pendulum.DateTime:
    """The aware Europe/Stockholm DateTime for wall-clock time `time_text` ('HH:MM') on day `d`.

    The offset follows the day (+01:00 in winter, +02:00 in summer). A time inside the spring
    DST gap (02:00-02:59 on the last Sunday of March) is moved forward an hour, and an ambiguous
    autumn time (02:00-02:59 on the last Sunday of October) takes the second, winter-time,
    occurrence (fold=1).
    """
    match = _TIME.fullmatch(time_text) if isinstance(time_text, str) else None
    if match is None:
        raise ValueError(f"invalid time {shown(time_text)}: expected HH:MM on a 24-hour clock, such as 08:00")
    day = to_date(d)
    hour, minute = int(match[1]), int(match[2])
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=TIMEZONE, fold=1)
