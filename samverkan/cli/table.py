"""Plain-text tables for the terminal: columns padded to their widest cell."""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(headings: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [headings, *rows]) for i in range(len(headings))]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in [headings, tuple("-" * w for w in widths), *rows]
    ]
