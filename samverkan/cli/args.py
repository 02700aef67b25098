"""Parsing what a user types on the command line into checked values."""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.text import MAX_INSTANCE_ID, MAX_NAME, MAX_SLUG, SLUG, shown, text_problem

if TYPE_CHECKING:
    from samverkan.calendar import Period


def parse_period_arg(text: str, what: str) -> Period:
    from samverkan.calendar import MAX_PERIOD_DAYS, InvalidPeriod, parse_period

    try:
        period = parse_period(text.strip())
    except InvalidPeriod as error:
        raise SamverkanError(f"{what}: {error}") from None
    # As in a definition: longer is a typo, and would run past the calendar (or overflow it).
    if period.approx_days > MAX_PERIOD_DAYS:
        raise SamverkanError(_("{what}: perioden {value} är längre än tio år", what=what, value=shown(text)))
    return period


@overload
def checked_text(value: str, what: str, max_len: int) -> str: ...
@overload
def checked_text(value: None, what: str, max_len: int) -> None: ...
def checked_text(value: str | None, what: str, max_len: int) -> str | None:
    """`value` unchanged if it can be stored as text of at most `max_len` characters."""
    if value is not None:
        problem = text_problem(value, max_len)
        if problem:
            raise SamverkanError(f"{what}: {problem}")
    return value


@overload
def checked_slug(value: str, what: str, max_len: int = MAX_SLUG) -> str: ...
@overload
def checked_slug(value: None, what: str, max_len: int = MAX_SLUG) -> None: ...
def checked_slug(value: str | None, what: str, max_len: int = MAX_SLUG) -> str | None:
    """An id: lowercase a–z, 0–9 and single dashes between."""
    if value is not None:
        checked_text(value, what, max_len)
        if not value:
            raise SamverkanError(_("{what}: är tomt; ange ett id", what=what))
        if not SLUG.fullmatch(value):
            raise SamverkanError(_("{what}: {value} är inget giltigt id: använd små bokstäver a–z, siffror 0–9 och enkla "
                                   "bindestreck", what=what, value=shown(value)))
    return value


def checked_instance(value: str | None, what: str) -> str | None:
    """None only when the argument was left out: an empty one is a mistake, not "the only one"."""
    if value == "":
        raise SamverkanError(_("{what}: är tomt; ange en instans", what=what))
    return checked_slug(value, what, MAX_INSTANCE_ID)


def checked_name(value: str | None, what: str = "--name") -> str | None:
    """A person's name, shown in tables: one line of printable text."""
    checked_text(value, what, MAX_NAME)
    if value is not None and any(not c.isprintable() for c in value):
        raise SamverkanError(_("{what}: innehåller ett styrtecken (radbrytning, tabb eller escape); skriv namnet på en rad",
                               what=what))
    return value
