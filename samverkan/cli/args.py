"""Parsing what a user types on the command line into checked values."""

from __future__ import annotations

import datetime as dt

import pendulum

from samverkan.calendar import InvalidPeriod, Period, parse_period, to_date
from samverkan.errors import SamverkanError


def parse_day(text: str, what: str) -> pendulum.Date:
    try:
        return to_date(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise SamverkanError(f"{what}: invalid date {text!r}: expected YYYY-MM-DD, e.g. 2026-12-24") from None


def parse_period_arg(text: str, what: str) -> Period:
    try:
        return parse_period(text.strip())
    except InvalidPeriod as error:
        raise SamverkanError(f"{what}: {error}") from None
