"""Refusals as people read them in a run's log: one line, nothing token-shaped in it."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from samverkan.i18n import _
from samverkan.text import safe_line


def one_line(error: BaseException) -> str:
    return safe_line(str(error))


def form_refusal(error: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """A form's validation errors, naming the fields by their labels on the form (`labels`: by
    field id) but never echoing what was typed."""
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(p) for p in problem["loc"])
        where = f"”{labels[where]}”" if labels and where in labels else where or _("svaret")
        what = (_("okänt fält") if problem["type"] == "extra_forbidden" else _("saknas") if problem["type"] == "missing"
                else problem["msg"])
        parts.append(f"{where}: {what}")
    return "; ".join(parts)
