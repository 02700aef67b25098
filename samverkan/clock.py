"""The time now, injectable: rules take `now` as an argument, the shell asks a Clock.

SAMVERKAN_NOW pins the command line's clock (for simulation, demonstrations and tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import pendulum

from samverkan.calendar import TIMEZONE
from samverkan.errors import SamverkanError


class Clock(Protocol):
    def now(self) -> pendulum.DateTime: ...


class SystemClock:
    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


@dataclass
class FixedClock:
    at: pendulum.DateTime

    def now(self) -> pendulum.DateTime:
        return self.at


def parse_moment(text: str, what: str) -> pendulum.DateTime:
    """YYYY-MM-DD (the start of that day) or YYYY-MM-DDTHH:MM[:SS][offset]; local time
    (Europe/Stockholm) unless an offset is given."""
    try:
        value = pendulum.parse(text.strip(), tz=TIMEZONE, strict=True, exact=True)
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        value = None
    if isinstance(value, pendulum.Date) and not isinstance(value, pendulum.DateTime):
        value = pendulum.datetime(value.year, value.month, value.day, tz=TIMEZONE)
    if not isinstance(value, pendulum.DateTime) or len(text.strip()) < 10:
        raise SamverkanError(f"{what}: invalid date or time {text!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    if not 2000 <= value.year <= 2090:
        raise SamverkanError(f"{what}: {text!r} is outside the years 2000–2090")
    return value


def clock_from_env() -> Clock:
    pinned = os.environ.get("SAMVERKAN_NOW")
    return FixedClock(parse_moment(pinned, "SAMVERKAN_NOW")) if pinned else SystemClock()
