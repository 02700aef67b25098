"""Refusals as people read them in a run's log: one line, nothing token-shaped in it."""

from __future__ import annotations

from pydantic import ValidationError

from samverkan.text import safe_line


def one_line(error: BaseException) -> str:
    return safe_line(str(error))


def form_refusal(error: ValidationError) -> str:
    """A form's validation errors, naming the fields but never echoing what was typed."""
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(p) for p in problem["loc"]) or "svaret"
        what = "okänt fält" if problem["type"] == "extra_forbidden" else "saknas" if problem["type"] == "missing" else problem["msg"]
        parts.append(f"{where}: {what}")
    return "; ".join(parts)
