"""Patterns a definition declares for record fields, compiled for RE2: linear time in the
value's length whatever the pattern, so no pattern (`^(a+)+$`) can hang the engine while it
holds the database's write lock. RE2 refuses what needs backtracking (back-references,
look-around); such a pattern is refused when the definition is read."""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_PATTERN = 500  # a real pattern is a few dozen characters


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own lines to stderr
    options.max_mem = 8 << 20  # bounds what one compiled pattern may take
    return options


_OPTIONS = _options()


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re2._Regexp:
    """The compiled pattern, or ValueError saying why it cannot be used."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"pattern is longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"pattern is not a regular expression the linear-time engine (RE2) accepts: {reason}") from None


def matches(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).fullmatch(value) is not None
