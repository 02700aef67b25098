"""The time now, injectable: rules take `now` as an argument, the shell asks a Clock.

SAMVERKAN_NOW pins the command line's clock (for simulation, demonstrations and tests). A
pinned clock may write only into a store marked as simulated (samverkan.store.clock_mode):
a live store records every change at the real time."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Protocol

import pendulum

from samverkan.calendar import TIMEZONE
from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.text import shown


class Clock(Protocol):
    pinned: bool  # True when the time is not the real one

    def now(self) -> pendulum.DateTime: ...


class SystemClock:
    pinned = False

    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


@dataclass
class FixedClock:
    at: pendulum.DateTime
    pinned = True

    def now(self) -> pendulum.DateTime:
        return self.at


FIRST_YEAR, LAST_YEAR = 2000, 2090  # what the plans cover; a year outside is a typo (2062 for 2026)

_DAY = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"  # [0-9], not \d: \d also takes non-ASCII digits
_DAY_ONLY = re.compile(_DAY)
# Only these forms: ISO's basic (20260101), week (2026-W01-1) and hour-only (T10) forms are
# legal ISO 8601 but read like typos here, so they are refused rather than guessed at.
_MOMENT = re.compile(_DAY + r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:[0-9]{2})?)?")
_MAX_OFFSET_MINUTES = 14 * 60  # the widest offset in use (Kiribati, +14:00)


def _in_years(text: str, year: int, what: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise SamverkanError(_("{what}: {value} ligger utanför åren {first}–{last}", what=what, value=shown(text),
                               first=FIRST_YEAR, last=LAST_YEAR))


def parse_day(text: str, what: str) -> pendulum.Date:
    """YYYY-MM-DD and nothing else."""
    match = _DAY_ONLY.fullmatch(text.strip())
    try:
        day = dt.date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        day = None
    if day is None:
        raise SamverkanError(_("{what}: {value} är inget datum: skriv ÅÅÅÅ-MM-DD, t.ex. 2026-12-24", what=what,
                               value=shown(text)))
    _in_years(text, day.year, what)
    return pendulum.date(day.year, day.month, day.day)


def parse_moment(text: str, what: str) -> pendulum.DateTime:
    """YYYY-MM-DD (the start of that day), YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, a time
    optionally followed by Z or ±HH:MM; local time (Europe/Stockholm) unless so given."""
    match = _MOMENT.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
        dt.datetime(year, month, day, hour, minute, second)  # only to check that it exists
    except ValueError:
        raise SamverkanError(_("{what}: {value} är inget datum eller klockslag: skriv ÅÅÅÅ-MM-DD eller "
                               "ÅÅÅÅ-MM-DDTHH:MM[:SS], eventuellt följt av Z eller ±HH:MM", what=what,
                               value=shown(text))) from None
    _in_years(text, year, what)
    zone = match[7]
    tz: str | pendulum.Timezone | pendulum.FixedTimezone
    if zone is None:
        _exists_once(dt.datetime(year, month, day, hour, minute, second), what)
        tz = TIMEZONE
    elif zone == "Z":
        tz = pendulum.UTC
    else:
        minutes = int(zone[1:3]) * 60 + int(zone[4:6])
        if int(zone[4:6]) >= 60 or minutes > _MAX_OFFSET_MINUTES:
            raise SamverkanError(_("{what}: {value}: {zone} är ingen tidsskillnad mot UTC (högst ±14:00)", what=what,
                                   value=shown(text), zone=zone))
        tz = pendulum.FixedTimezone((-60 if zone[0] == "-" else 60) * minutes)
    return pendulum.datetime(year, month, day, hour, minute, second, tz=tz)


def _offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _clock(wall: dt.datetime) -> str:
    return wall.strftime("%H:%M:%S" if wall.second else "%H:%M")


def _exists_once(wall: dt.datetime, what: str) -> None:
    """Refuse a local wall time that the clock change skips (spring) or passes twice (autumn):
    pendulum would silently move the first an hour on and pick one of the second."""
    zone = pendulum.timezone(TIMEZONE)
    earlier, later = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    before, after = earlier.utcoffset(), later.utcoffset()
    if before == after:
        return
    # The offset changes at this wall time: find the instant it does (between the two readings).
    low, high = later.astimezone(dt.timezone.utc), earlier.astimezone(dt.timezone.utc)
    low, high = min(low, high), max(low, high)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        low, high = (middle, high) if middle.astimezone(zone).utcoffset() == before else (low, middle)
    change = _("från {before} till {after}", before=_clock((high + before).replace(tzinfo=None)),
               after=_clock((high + after).replace(tzinfo=None)))
    shown_wall = wall.isoformat(timespec="seconds" if wall.second else "minutes")
    # A gap: the wall time read with the offset before the change comes back as another.
    if earlier.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
        instead = _clock(wall + (after - before))
        raise SamverkanError(_("{what}: {wall} finns inte i {zone} (klockan ställdes fram {change} den natten); "
                               "ange {instead} eller en tidsskillnad som {offset}", what=what, wall=shown_wall,
                               zone=TIMEZONE, change=change, instead=instead, offset=_offset(before)))
    raise SamverkanError(_("{what}: {wall} inträffar två gånger i {zone} (klockan ställdes tillbaka {change}); "
                           "lägg till {first} för den första eller {second} för den andra", what=what, wall=shown_wall,
                           zone=TIMEZONE, change=change, first=_offset(before), second=_offset(after)))


def clock_from_env() -> Clock:
    pinned = os.environ.get("SAMVERKAN_NOW")
    return FixedClock(parse_moment(pinned, "SAMVERKAN_NOW")) if pinned else SystemClock()
