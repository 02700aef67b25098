"""Limits on text a person supplies (command line, history file), checked before anything
reaches the database: PostgreSQL refuses NUL characters and lone surrogates (non-UTF-8
bytes on argv) cannot be encoded at all, and a column's length must not be what refuses."""

from __future__ import annotations

import re

MAX_INSTANCE_ID = 100  # instances.id is VARCHAR(100)
MAX_EMAIL = 254  # the longest address SMTP can deliver (RFC 5321 path limit)
MAX_SLUG = 63  # stage, party, state and field ids
MAX_NAME = 200
MAX_TOKEN = 200  # a real token is 47 characters
MAX_REASON = 2000
MAX_REFERENCE = 200
MAX_FIELD_VALUE = 500
MAX_PATH = 4096

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # always fullmatch: `$` would let "id\n" through


def text_problem(value: str, max_len: int) -> str | None:
    """What is wrong with `value` as stored text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    bad = next((i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        return f"is not valid UTF-8 text (at character {bad + 1}); check the encoding"
    if len(value) > max_len:
        return f"is longer than {max_len} characters ({len(value)})"
    return None


def shown(value: str, limit: int = 60) -> str:
    """`value` quoted for an error line, cut short: an error must stay one readable line."""
    return repr(value if len(value) <= limit else value[:limit] + "…")
