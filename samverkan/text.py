"""Limits on text a person supplies (command line, history file), checked before anything
reaches the database: PostgreSQL refuses NUL characters and lone surrogates (non-UTF-8
bytes on argv) cannot be encoded at all, and a column's length must not be what refuses."""

from __future__ import annotations

import re

from samverkan.i18n import _

MAX_INSTANCE_ID = 100  # instances.id is VARCHAR(100)
MAX_EMAIL = 254  # the longest address SMTP can deliver (RFC 5321 path limit)
MAX_SLUG = 63  # stage, party, state and field ids
MAX_NAME = 200
MAX_TOKEN = 200  # a real token is 47 characters
MAX_CODE = 24  # a one-time code is 19 with its dashes: a form cannot even take a whole token
MAX_REASON = 2000
MAX_REFERENCE = 200
MAX_FIELD_VALUE = 500
MAX_PATH = 4096

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # always fullmatch: `$` would let "id\n" through


def text_problem(value: str, max_len: int) -> str | None:
    """What is wrong with `value` as stored text, or None."""
    if len(value) > max_len:  # first: the other checks scan the whole value
        return _("är längre än {limit} tecken ({length})", limit=max_len, length=len(value))
    if "\x00" in value:
        return _("innehåller ett NUL-tecken")
    bad = _SURROGATE.search(value)
    if bad is not None:
        return _("är inte giltig UTF-8-text (vid tecken {position}); kontrollera teckenkodningen", position=bad.start() + 1)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")  # what non-UTF-8 bytes on argv become


# A personal token (auth.new_token: "svk_" + 43 urlsafe base64 characters). Shorter runs are
# masked too: a token cut short or mistyped by a character is still most of a secret. The
# prefix in any case ("SVK_…"), and the body without it: a run of 30 or more urlsafe base64
# characters with capitals, small letters and digits (no id, slug or UUID here is one).
_TOKEN_SHAPED = re.compile(r"[sS][vV][kK]_[A-Za-z0-9_-]{16,}|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])")
HIDDEN_TOKEN = "svk_…(dold)"  # a mark, not a sentence: the same in every language


def _token_like(run: str) -> bool:
    if run[:4].lower() == "svk_":
        return True
    mixed = any(c.isupper() for c in run) and any(c.islower() for c in run)
    # A whole body (43 characters) lacks a digit about once in 1,400; a shorter run must have one.
    return mixed and (len(run) >= 40 or any(c.isdigit() for c in run))


# A one-time code (auth.new_code): four groups of four, or the sixteen together, with both
# letters and digits (every code has both; words and dates do not take this shape).
_CODE_SHAPED = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z0-9]{4}[- ]){3}[A-Za-z0-9]{4}(?![A-Za-z0-9])"
                          r"|(?<![A-Za-z0-9])[A-Za-z0-9]{16}(?![A-Za-z0-9])")
HIDDEN_CODE = "(engångskod dold)"


def _code_like(run: str) -> bool:
    body = run.replace("-", "").replace(" ", "")
    mixed = any(c.isdigit() for c in body) and any(c.isalpha() for c in body)
    return mixed and (body.isupper() if " " in run else True)  # spaced: as the code is printed


def secret_shaped(text: str) -> list[str]:
    """Every piece of `text` shaped like a personal token or a one-time code."""
    return [m[0] for m in _TOKEN_SHAPED.finditer(text) if _token_like(m[0])] + \
        [m[0] for m in _CODE_SHAPED.finditer(text) if _code_like(m[0])]


def looks_like_token(text: str) -> bool:
    """Whether `text` holds something shaped like a personal token or a one-time code, however
    it is spelled."""
    return any(_token_like(m[0]) for m in _TOKEN_SHAPED.finditer(text)) or \
        any(_code_like(m[0]) for m in _CODE_SHAPED.finditer(text))


# What free text a person gives for the record may not hold: control characters (a newline
# splits a CSV row, an escape drives the reader's terminal), bidirectional overrides (they
# reorder what is shown) and non-characters that cannot be stored.
_NOT_FOR_THE_RECORD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def record_text_problem(value: str) -> str | None:
    """Why `value` may not go into the public record as free text (a comment, a reference, a
    field), in one Swedish line, or None. The one gate every door's text passes: the command
    line, the forms, the transition deployment and histories all reach the engine."""
    bad = _NOT_FOR_THE_RECORD.search(value)
    if bad is not None:
        return _("innehåller ett styrtecken eller osynligt tecken ({char}, tecken {position}); skriv texten utan det",
                 char=_escaped(bad[0]), position=bad.start() + 1)
    if looks_like_token(value):
        return _("det ser ut som en personlig kod; en kod hör aldrig hemma i diariet, som är offentligt. "
                 "Ta bort den (och be kansliet om en ny kod om den har visats för andra)")
    return None
# What an error line must not print as it is: control characters (a newline would split the
# line, an escape sequence would drive the terminal), bidirectional overrides (they reorder
# what is shown) and lone surrogates (non-UTF-8 bytes on argv; they cannot even be encoded).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MAX_ERROR_LINE = 500


def mask_tokens(text: str) -> str:
    """`text` with anything shaped like a personal token or a one-time code hidden: an error may
    be read by others."""
    text = _TOKEN_SHAPED.sub(lambda m: HIDDEN_TOKEN if _token_like(m[0]) else m[0], text)
    return _CODE_SHAPED.sub(lambda m: HIDDEN_CODE if _code_like(m[0]) else m[0], text)


def _escaped(char: str) -> str:
    # A byte that is not UTF-8 arrives from argv as U+DC80..U+DCFF (surrogateescape): show the
    # byte the user typed, \xff, rather than \udcff.
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


def shown(value: object, limit: int = 60) -> str:
    r"""A value a person supplied, quoted for an error line: the one way to echo user input.
    A short prefix only (an error must stay one readable line, however long the input), token-
    shaped text hidden, and control characters and non-UTF-8 bytes escaped (\n, \xff), as
    repr() would, so the line can always be printed."""
    text = mask_tokens(value if isinstance(value, str) else str(value))
    if len(text) > limit:
        text = text[:limit] + "…"
    quote = '"' if "'" in text and '"' not in text else "'"
    body = "".join("\\" + c if c in ("\\", quote) else c if c.isprintable() else _escaped(c) for c in text)
    return quote + body + quote


def safe_line(line: str, limit: int = MAX_ERROR_LINE) -> str:
    """Any line made fit to print, the last defence before standard error: token-shaped text
    hidden, control characters and non-UTF-8 bytes escaped, at most `limit` characters."""
    line = _printable(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def inert(value: object) -> object:
    """A stored value made safe to print in any output (terminal, CSV, JSON): control
    characters and bidi overrides escaped, token-shaped text hidden; dicts and lists through."""
    if isinstance(value, str):
        return _printable(value)
    if isinstance(value, dict):
        return {key: inert(item) for key, item in value.items()}
    if isinstance(value, list):
        return [inert(item) for item in value]
    return value


def _printable(text: str) -> str:
    """Token-shaped text hidden, control characters and non-UTF-8 bytes escaped."""
    return _UNPRINTABLE.sub(lambda m: _escaped(m[0]), mask_tokens(text))


def in_sentence(name: str) -> str:
    """A name or label inside a Swedish sentence: "Kommunfullmäktige i Umeå" → "kommunfullmäktige
    i Umeå", "Ärendet bereds" → "ärendet bereds" (only the first letter; proper nouns after it stay)."""
    return name[:1].lower() + name[1:]


def shown_path(path: object, limit: int = 120) -> str:
    """A file name for a message: whole when short, else its end (the name that says most),
    so that the reason after it still fits on the line."""
    text = _printable(str(path))
    return text if len(text) <= limit else "…" + text[-(limit - 1):]
