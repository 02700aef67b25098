"""Text people supplied (references, decision bodies, a history's note), made safe to put in
Markdown: one line, with nothing that starts a table cell, a link, emphasis or HTML."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_BREAKS = re.compile(r"\s+")  # newlines, tabs, U+2028 and the like end a table row or a list item


def md_text(value: object) -> str:
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", str(value)).strip())
