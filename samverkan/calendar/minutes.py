"""When the minutes of a decision must be approved and the approval announced: kommunallagen
(2017:725) 8 kap. 12 §.

The minutes (protokollet) must be approved (justeras) at the latest 14 days after the meeting,
and that they were approved must be announced on the notice board (anslagstavlan) at the
latest two days after the approval. A last day on a Saturday, Sunday, public holiday,
midsummer eve, Christmas eve or New Year's eve moves to the next weekday (lag (1930:173) 2 §).

Pure: `minutes_check` reads a branch's record (the fields `decision_date`, `minutes_approved`
and `announced`, as in `appeal.py`) and says, in Swedish, what is late on a given day: an
approval or an announcement not registered after its last day, or registered later than the
law allows. Registered is what the record knows; the minutes may well be approved and not yet
registered, and the lines say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from samverkan.calendar._dates import to_date
from samverkan.calendar.appeal import ANNOUNCED, DECIDED, MINUTES_APPROVED
from samverkan.calendar.legal import LAW_SECTION_2, Due, legal_due, why_closed

MINUTES_LAW = "kommunallagen (2017:725) 8 kap. 12 §"
APPROVE_WITHIN = "P14D"  # after the meeting
ANNOUNCE_WITHIN = "P2D"  # after the approval


class Missing(StrEnum):
    approval = "approval"  # the approval of the minutes (justeringen) is not registered
    announcement = "announcement"  # approved, but the announcement (anslaget) is not registered


@dataclass(frozen=True)
class MinutesCheck:
    decided: dt.date
    approve_by: Due  # the last day to approve the minutes
    approved: dt.date | None
    announce_by: Due | None  # the last day to announce the approval; None until approved
    announced: dt.date | None
    missing: Missing | None  # what is still to be registered, once its last day has passed
    warnings: tuple[str, ...]  # Swedish, one sentence each

    @property
    def missing_due(self) -> Due | None:
        """The last day of what is missing."""
        if self.missing is Missing.approval:
            return self.approve_by
        return self.announce_by if self.missing is Missing.announcement else None


def approve_by(decided: dt.date) -> Due:
    return legal_due(decided, APPROVE_WITHIN)


def announce_by(approved: dt.date) -> Due:
    return legal_due(approved, ANNOUNCE_WITHIN)


def latest_text(due: Due) -> str:
    """'2026-12-01 (kommunallagen …)', or '2026-11-23 (kommunallagen …; 2026-11-21 är en
    lördag, lag (1930:173) 2 §)': the last day, with the law and why it moved."""
    moved = f"; {due.nominal.isoformat()} är {why_closed(due.nominal)}, {LAW_SECTION_2}" if due.moved else ""
    return f"{due.due.isoformat()} ({MINUTES_LAW}{moved})"


def _day(record: Mapping[str, Any], key: str) -> dt.date | None:
    value = record.get(key)
    return to_date(value) if value not in (None, "") else None


def _days(n: int) -> str:
    return f"{n} dag" if n == 1 else f"{n} dagar"


def minutes_check(record: Mapping[str, Any], today: dt.date) -> MinutesCheck | None:
    """The minutes of a decision on `today`; None for a record without a decision date. Dates
    after `today` (a view of an earlier day) had not yet been registered then."""
    decided = _day(record, DECIDED)
    if decided is None:
        return None
    day = to_date(today)
    approved, announced = (d if d is not None and d <= day else None
                           for d in (_day(record, MINUTES_APPROVED), _day(record, ANNOUNCED)))
    approval_due = approve_by(decided)
    announce_due = announce_by(approved) if approved is not None else None
    warnings = []
    missing = None
    if approved is None:
        if day > approval_due.due:
            missing = Missing.approval
            warnings.append(f"Justeringen är inte registrerad: protokollet från sammanträdet {decided.isoformat()} skulle ha "
                            f"justerats senast {latest_text(approval_due)}.")
    else:
        if approved > approval_due.due:
            warnings.append(f"Protokollet justerades {approved.isoformat()}, {_days((approved - decided).days)} efter "
                            f"sammanträdet {decided.isoformat()}; det ska justeras inom 14 dagar, senast "
                            f"{latest_text(approval_due)}.")
        if announced is None and day > announce_due.due:
            missing = Missing.announcement
            warnings.append(f"Anslaget är inte registrerat: att protokollet justerades {approved.isoformat()} skulle ha "
                            f"anslagits på anslagstavlan senast {latest_text(announce_due)}.")
        elif announced is not None and announced > announce_due.due:
            warnings.append(f"Justeringen anslogs {announced.isoformat()}, {_days((announced - approved).days)} efter "
                            f"justeringen {approved.isoformat()}; den ska anslås inom två dagar, senast "
                            f"{latest_text(announce_due)}.")
    return MinutesCheck(decided, approval_due, approved, announce_due, announced, missing, tuple(warnings))
