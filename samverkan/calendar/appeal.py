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
- `appeal_court`, `appeal_case`: the court trying an appeal and its case number (målnummer);
- `appeal_decided`: the day the court's ruling became final (laga kraft),

each date an ISO date text as the engine records it (or a date). An appealed decision (the
branch in a state marked `appealed`) stands, but is not final until the court has decided;
once the appeal is rejected, it is final from the day the court's ruling became final.
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
APPEAL_COURT = "appeal_court"
APPEAL_CASE = "appeal_case"
APPEAL_DECIDED = "appeal_decided"


class Finality(StrEnum):
    not_announced = "not-announced"  # adopted, but the approval of the minutes is not yet on the notice board
    open_for_appeal = "open-for-appeal"  # announced: the three weeks are running
    appealed = "appealed"  # a court tries an appeal: final only once it has decided
    final = "final"  # the period is over with no appeal recorded, or the appeal was rejected: laga kraft


@dataclass(frozen=True)
class FinalityState:
    state: Finality
    decided: pendulum.Date | None
    minutes_approved: pendulum.Date | None
    announced: pendulum.Date | None
    appeal: Due | None  # the last day to appeal (`appeal.due`), with why it moved; None until announced
    days_left: int | None = None  # while open: days to the last day (0 on the last day itself)
    court: str | None = None  # appealed: the court trying it, and its case number
    case: str | None = None
    appeal_decided: pendulum.Date | None = None  # the day the court's ruling became final

    @property
    def appeal_until(self) -> pendulum.Date | None:
        return self.appeal.due if self.appeal else None

    @property
    def final_from(self) -> pendulum.Date | None:
        """The day the decision becomes (or became) final: the day after the last day to
        appeal, if no one appeals; after an appeal, the day the court's ruling became final;
        None while a court tries it."""
        if self.state is Finality.appealed:
            return None
        if self.appeal_decided is not None:
            return self.appeal_decided
        return self.appeal.due.add(days=1) if self.appeal else None

    @property
    def final_text(self) -> str | None:
        """When it is final, in Swedish, never a bare date before it is: '2026-12-12';
        'tidigast 2026-12-12, om ingen överklagar' while the three weeks run; 'först när
        domstolen har avgjort målet (Förvaltningsrätten i Umeå, mål 1234-26)' while a court
        tries it; None until the approval of the minutes is announced."""
        if self.state is Finality.appealed:
            where = ", ".join(x for x in (self.court, f"mål {self.case}" if self.case else None) if x)
            return "först när domstolen har avgjort målet" + (f" ({where})" if where else "")
        if self.state is Finality.open_for_appeal:
            return f"tidigast {self.final_from.isoformat()}, om ingen överklagar"
        if self.state is Finality.final:
            return self.final_from.isoformat()
        return None

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


def finality(record: Mapping[str, Any], today: dt.date, appealed: bool = False) -> FinalityState | None:
    """Where an adopted decision stands on its way to laga kraft on `today` (a date, or a
    moment read as its Stockholm day), from its record; None for a record with none of the
    three dates (nothing to say). A date after `today` (a view of an earlier day) had not yet
    happened on that day. `appealed`: the branch is in its appealed state, so a court tries the
    decision; a record with the day the court's ruling became final (the appeal rejected) is
    final from that day."""
    decided, approved, announced = (_day(record, key) for key in (DECIDED, MINUTES_APPROVED, ANNOUNCED))
    if decided is None and approved is None and announced is None:
        return None
    day = to_date(today)
    approved, announced = (d if d is not None and d <= day else None for d in (approved, announced))
    court, case = (str(record[key]) if record.get(key) else None for key in (APPEAL_COURT, APPEAL_CASE))
    ruled = _day(record, APPEAL_DECIDED)
    appeal = appeal_period(announced) if announced is not None else None
    if appealed or (ruled is not None and ruled > day):
        return FinalityState(Finality.appealed, decided, approved, announced, appeal, court=court, case=case)
    if ruled is not None:
        return FinalityState(Finality.final, decided, approved, announced, appeal, court=court, case=case, appeal_decided=ruled)
    if announced is None:
        return FinalityState(Finality.not_announced, decided, approved, None, None)
    if day <= appeal.due:
        return FinalityState(Finality.open_for_appeal, decided, approved, announced, appeal,
                             days_left=appeal.due.toordinal() - day.toordinal())
    return FinalityState(Finality.final, decided, approved, announced, appeal)
