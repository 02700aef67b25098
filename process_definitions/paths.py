"""Where in a definition file a field stands: turns data paths into `FILE:LINE: field` text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from .model import SLUG_PATTERN

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
        # One line per place in the file; pydantic reports each member of a union (`join`: all,
        # any or a number) as a separate error at the same place, so their messages are joined.
        found: dict[tuple, tuple[list[str], str]] = {}
        for item in error.errors(include_url=False):
            path = self._data_path(item["loc"], item["type"])
            message, got = _message(item)
            messages, _ = found.setdefault(path, ([], got))
            if message not in messages:
                messages.append(message)
        return [self.problem(path, _either(messages) + got) for path, (messages, got) in found.items()]

    def _data_path(self, loc: tuple, error_type: str) -> tuple:
        """pydantic's error location as a path into the data, without the tags it adds for the
        members of a union (`literal['all','any']`, `constrained-int`): those name no field."""
        path: tuple = ()
        for index, part in enumerate(loc):
            is_missing_field = index == len(loc) - 1 and error_type == "missing"
            if isinstance(part, int) or (*path, part) in self._lines or is_missing_field:
                path = (*path, part)
        return path


def _message(item: dict) -> tuple[str, str]:
    """The message for one pydantic error, and the ` (got …)` that shows the offending value."""
    if item["type"] in _MESSAGES:
        return _MESSAGES[item["type"]], ""
    if item["type"] == "string_pattern_mismatch" and item.get("ctx", {}).get("pattern") == SLUG_PATTERN:
        message = "an id takes only lower-case a-z, digits 0-9 and single hyphens (no capitals, å, ä, ö or spaces)"
    else:
        message = item["msg"].removeprefix("Value error, ")
    value = item.get("input")
    if "input" not in item or isinstance(value, (dict, list)):
        return message, ""
    shown = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else repr(value)
    if item["type"] == "value_error" and shown in message:  # our own validators already name it
        return message, ""
    return message, f" (got {shown[:60] + '…' if len(shown) > 60 else shown})"


def _either(messages: list[str]) -> str:
    first, *others = messages
    return ", or ".join([first, *(m.removeprefix("Input should be ") for m in others)])
