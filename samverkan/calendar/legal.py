"""Legal due dates: §1 counts the period, §2 moves a last day that falls on a closed day.

Explanations are Swedish (the output people read is Swedish); `Due.reason_en` gives the
English one for messages that are otherwise English."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import pendulum

from samverkan.calendar._dates import to_date
from samverkan.calendar.periods import Period, add_period, parse_period
from samverkan.calendar.swedish import holiday_name, holiday_name_en, next_business_day
from samverkan.text import in_sentence

LAW_SECTION_2 = "lag (1930:173) 2 §"


@dataclass(frozen=True)
class Due:
    """A deadline: `nominal` is the last day by §1, `due` the day an action may still be taken by §2."""

    start: pendulum.Date
    period: Period | None
    nominal: pendulum.Date
    due: pendulum.Date
    reason: str | None  # why due differs from nominal, in Swedish; None when it does not

    @property
    def moved(self) -> bool:
        return self.due != self.nominal

    @property
    def reason_en(self) -> str | None:
        """The same explanation in English."""
        if not self.moved:
            return None
        return f"{self.nominal} is {why_closed_en(self.nominal)}; moved to the next weekday {self.due}"


def legal_due(start: dt.date, period: Period | str | None = None) -> Due:
    """The due date of `period` counted from `start` (or of `start` itself when no period).

    A period may also be given as ISO text ("P1M"); it is parsed with parse_period.
    """
    start_day = to_date(start)
    if isinstance(period, str):
        period = parse_period(period)
    return _legal_due(start_day, period)


@functools.lru_cache(maxsize=16384)
def _legal_due(start_day: pendulum.Date, period: Period | None) -> Due:
    """Pure and asked for again and again (the planner steps back day by day): kept."""
    nominal = add_period(start_day, period) if period is not None else start_day
    due = next_business_day(nominal)
    reason = None
    if due != nominal:
        reason = f"{nominal} är {why_closed(nominal)}; flyttad till nästa vardag {due} ({LAW_SECTION_2})"
    return Due(start=start_day, period=period, nominal=nominal, due=due, reason=reason)


def in_running_text(name: str) -> str:
    """A holiday's name inside a Swedish sentence: 'julafton', 'nationaldagen', but
    'Kristi himmelsfärdsdag' keeps its proper noun."""
    return name if name.startswith("Kristi") else in_sentence(name)


def why_closed(day: pendulum.Date) -> str:
    """'en lördag', 'julafton' or 'en lördag och nationaldagen': why no action can be taken that day."""
    parts = []
    if day.weekday() >= 5:
        parts.append("en lördag" if day.weekday() == 5 else "en söndag")
    name = holiday_name(day)
    if name is not None:
        parts.append(" och ".join(in_running_text(n) for n in name.split("; ")))
    return " och ".join(parts) or "en vardag"


def why_closed_en(day: pendulum.Date) -> str:
    """'a Saturday', 'Julafton (Christmas Eve)' or 'a Saturday and Nationaldagen (National Day)'."""
    parts = []
    if day.weekday() >= 5:
        parts.append("a Saturday" if day.weekday() == 5 else "a Sunday")
    name = holiday_name(day)
    if name is not None:
        english = holiday_name_en(day)
        parts.append(f"{name} ({english})" if english and english != name else name)
    return " and ".join(parts) or "a weekday"
