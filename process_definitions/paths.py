"""Where in a definition file a field stands: turns data paths into `FILE:LINE: field` text."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_MESSAGES = {
    "missing": "missing required field",
    "extra_forbidden": "unknown field (misspelt?)",
}


class Locator:
    def __init__(self, source: str) -> None:
        self.source = source
        self._lines: dict[tuple, int] = {}
        self._labels: dict[tuple, str] = {}

    def remember(self, path: tuple, line: int) -> None:
        self._lines.setdefault(path, line)

    def label(self, path: tuple, text: str) -> None:
        """Name a list item by its id, so `stages[drafting]` is read instead of `stages[4]`."""
        self._labels[path] = text

    def line(self, path: tuple) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def at(self, line: int | None) -> str:
        return f"{self.source}:{line}" if line else self.source

    def dotted(self, path: tuple) -> str:
        text = ""
        for depth, part in enumerate(path):
            if isinstance(part, int):
                text += f"[{self._labels.get(path[: depth + 1], part)}]"
            else:
                text += f".{part}" if text else str(part)
        return text

    def problem(self, path: tuple, message: str) -> str:
        field = self.dotted(path)
        return f"{self.at(self.line(path))}: {field + ': ' if field else ''}{message}"

    def label_ids(self, data: Any, path: tuple = ()) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                self.label_ids(value, (*path, key))
        elif isinstance(data, list):
            for index, item in enumerate(data):
                if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
                    self.label((*path, index), item["id"])
                self.label_ids(item, (*path, index))

    def describe_validation_errors(self, error: ValidationError) -> list[str]:
        problems: list[str] = []
        seen: set[tuple] = set()
        for item in error.errors(include_url=False):
            # Drop pydantic's union-member tags such as "literal['all','any']" from the path.
            path = tuple(p for p in item["loc"] if isinstance(p, int) or ("[" not in p and "(" not in p))
            if path in seen:
                continue
            seen.add(path)
            message = _MESSAGES.get(item["type"], item["msg"]).removeprefix("Value error, ")
            if item["type"] not in _MESSAGES and not isinstance(item.get("input"), (dict, list)) and "input" in item:
                shown = repr(item["input"])
                message += f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"
            problems.append(self.problem(path, message))
        return problems
