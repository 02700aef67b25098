"""When an adopted decision can no longer be appealed: kommunallagen (2017:725) 13 kap. 5 §.

An appeal (laglighetsprövning) must reach the administrative court within three weeks from
the day it was announced on the municipality's or region's notice board (anslagstavla) that
the minutes were approved (justerade). The three weeks are counted per lag (1930:173): §1,
a period in weeks ends on the same weekday as the day of the announcement; §2, a last day on
a Saturday, Sunday, public holiday, midsummer eve, Christmas eve or New Year's eve moves to
the next weekday. With no appeal, the decision becomes final (vinner laga kraft) the day
after the last day.

Pure: `finality` reads a branch's record, keyed on these record field ids —

- `decision_date`: the day of the decision (optional here: shown when there);
- `minutes_approved`: the day the minutes were approved (protokollet justerat);
- `announced`: the day the approval was announced on the notice board (justeringen anslagen),

each an ISO date text as the engine records it (or a date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pendulum

from samverkan.calendar._dates import to_date
from samverkan.calendar.legal import LAW_SECTION_2, Due, legal_due, why_closed

APPEAL_PERIOD = "P3W"
APPEAL_LAW = "kommunallagen (2017:725) 13 kap. 5 §"

DECIDED = "decision_date"
MINUTES_APPROVED = "minutes_approved"
ANNOUNCED = "announced"


class Finality(StrEnum):
    not_announced = "not-announced"  # adopted, but the approval of the minutes is not yet on the notice board
    open_for_appeal = "open-for-appeal"  # announced: the three weeks are running
    final = "final"  # the period is over: laga kraft (unless appealed, which the record does not know)


@dataclass(frozen=True)
class FinalityState:
    state: Finality
    decided: pendulum.Date | None
    minutes_approved: pendulum.Date | None
    announced: pendulum.Date | None
    appeal: Due | None  # the last day to appeal (`appeal.due`), with why it moved; None until announced
    days_left: int | None = None  # while open: days to the last day (0 on the last day itself)

    @property
    def appeal_until(self) -> pendulum.Date | None:
        return self.appeal.due if self.appeal else None

    @property
    def final_from(self) -> pendulum.Date | None:
        """The day the decision becomes final, if no one appeals: the day after the last day."""
        return self.appeal.due.add(days=1) if self.appeal else None

    @property
    def moved_because(self) -> str | None:
        """Why the last day is not three weeks after the announcement, in Swedish: '2026-12-24 är julafton, lag (1930:173) 2 §'."""
        if self.appeal is None or not self.appeal.moved:
            return None
        return f"{self.appeal.nominal} är {why_closed(self.appeal.nominal)}, {LAW_SECTION_2}"


def appeal_period(announced: dt.date) -> Due:
    """The last day an appeal may reach the court, when the approval of the minutes was
    announced on `announced`: three weeks on (§1), moved forward off a closed day (§2)."""
    return legal_due(announced, APPEAL_PERIOD)


def _day(record: Mapping[str, Any], key: str) -> pendulum.Date | None:
    value = record.get(key)
    return to_date(value) if value not in (None, "") else None


def finality(record: Mapping[str, Any], today: dt.date) -> FinalityState | None:
    """Where an adopted decision stands on its way to laga kraft on `today` (a date, or a
    moment read as its Stockholm day), from its record; None for a record with none of the
    three dates (nothing to say). A date after `today` (a view of an earlier day) had not yet
    happened on that day."""
    decided, approved, announced = (_day(record, key) for key in (DECIDED, MINUTES_APPROVED, ANNOUNCED))
    if decided is None and approved is None and announced is None:
        return None
    day = to_date(today)
    approved, announced = (d if d is not None and d <= day else None for d in (approved, announced))
    if announced is None:
        return FinalityState(Finality.not_announced, decided, approved, None, None)
    appeal = appeal_period(announced)
    if day <= appeal.due:
        return FinalityState(Finality.open_for_appeal, decided, approved, announced, appeal,
                             days_left=appeal.due.toordinal() - day.toordinal())
    return FinalityState(Finality.final, decided, approved, announced, appeal)
