"""Dates and lists in words for the reader's language, from CLDR (babel): "onsdag 30 december
2026", "Wednesday 30 December 2026". No hand-written month or weekday names.

Facts hold dates as ISO strings; the filters accept those as well as date objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_date
from babel.lists import format_list

LANGUAGES = ("sv", "en")  # the template folders; Swedish is the default


def as_date(value: dt.date | str) -> dt.date:
    """A date from a fact: an ISO string ("2026-12-30") or a date. A datetime is cut to its day."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)  # ValueError names the value
    raise TypeError(f"expected a date or an ISO date string, got {type(value).__name__}")


def long_date(value: dt.date | str, language: str = "sv") -> str:
    """With the weekday: "onsdag 30 december 2026", "Wednesday 30 December 2026"."""
    return format_date(as_date(value), "EEEE d MMMM y", locale=language)


def short_date(value: dt.date | str, language: str = "sv") -> str:
    """Without the weekday: "30 december 2026", "30 December 2026"."""
    return format_date(as_date(value), "d MMMM y", locale=language)


def words(value: str | Sequence[str], language: str = "sv") -> str:
    """A list in words: "a, b och c", "a, b, and c". A single string is returned as it is."""
    if isinstance(value, str):
        return value
    return format_list([str(v) for v in value], locale=language)


def filters(language: str) -> dict[str, object]:
    """The jinja filters for one language: `{{ deadline|long_date }}`."""
    return {
        "long_date": lambda value: long_date(value, language),
        "short_date": lambda value: short_date(value, language),
        "words": lambda value: words(value, language),
    }
