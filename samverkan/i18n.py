"""What a person reads, in their language: Swedish by default, English with the setting
`SAMVERKAN_LANGUAGE=en` (or the command line's `--language en`).

Every text a user sees is written in the code in Swedish, the language its readers use, and
marked for extraction: `_("… {name} …", name=value)` translates now, `n_(singular, plural, n)`
picks the form for a count, and `N_("…")` only marks a text that is translated where it is
used (a table of words kept at module level). The catalogues, one per language, are
`samverkan/locale/<language>/LC_MESSAGES/samverkan.po`, kept in git: the Swedish one lets a
wording be corrected without touching the code, the English one translates. They are read at
run time with babel (gettext's format, compiled in memory), so an editable install and a
clean clone need no build step. `scripts/update-catalogues` extracts the marked texts and
adds the new ones to both; tests/test_messages.py checks that none lacks a translation.

Pure: no database, no network; the language is read from the environment on each call
unless a caller has chosen one for what it does (`speaking`).
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LANGUAGE_SETTING = "SAMVERKAN_LANGUAGE"
DOMAIN = "samverkan"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_chosen: ContextVar[str | None] = ContextVar("samverkan_language", default=None)


def language() -> str:
    """The language to speak now: the one a caller chose, else the setting, else Swedish (a
    setting no catalogue exists for is Swedish too; the command line refuses it first)."""
    chosen = _chosen.get() or os.environ.get(LANGUAGE_SETTING, "").strip().lower() or DEFAULT_LANGUAGE
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def language_problem(value: str) -> str | None:
    """Why `value` is not a language this program speaks, in one line; None if it is one."""
    if value.strip().lower() in LANGUAGES:
        return None
    from samverkan.text import shown

    return _("{value} är inget språk som finns; välj ett av: {languages}", value=shown(value, 20),
             languages=", ".join(LANGUAGES))


def choose(code: str) -> None:
    """Speak `code` from now on (the command line's --language): in this context, and, through
    the setting, in the threads and processes started from here (`samverkan up` serves its
    flows in both). See `kept`."""
    code = code.strip().lower()
    _chosen.set(code)
    os.environ[LANGUAGE_SETTING] = code


@contextmanager
def kept() -> Iterator[None]:
    """Whatever language is chosen within is forgotten after it (a command run in-process)."""
    token = _chosen.set(_chosen.get())
    setting = os.environ.get(LANGUAGE_SETTING)
    try:
        yield
    finally:
        _chosen.reset(token)
        if setting is None:
            os.environ.pop(LANGUAGE_SETTING, None)
        else:
            os.environ[LANGUAGE_SETTING] = setting


@contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Everything said within, in `code` (None: as the setting says)."""
    token = _chosen.set(code.strip().lower() if code else None)
    try:
        yield
    finally:
        _chosen.reset(token)


@lru_cache(maxsize=len(LANGUAGES))
def _catalogue(code: str) -> gettext.NullTranslations:
    """The language's catalogue, read from its .po and compiled in memory (a few ms, once)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():  # the texts in the code are Swedish: they are their own translation
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: an unchecked translation is not shown
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, its {placeholders} filled from `values`."""
    text = _catalogue(language()).gettext(message)
    return text.format(**values) if values else text


def n_(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The form of a text for `count` ({n} in it is the count), in the current language."""
    text = _catalogue(language()).ngettext(singular, plural, count)
    return text.format(n=count, **values)


def long_date(day) -> str:
    """A day as a sentence says it: "1 januari 2027" (CLDR's month names, in the current language)."""
    from babel.dates import format_date

    return format_date(day, "d MMMM y", locale=language())


def N_(message: str, /) -> str:
    """Marks a text for the catalogue where it is kept, to be translated with `_` where it is shown."""
    return message


EXTRACTION_KEYWORDS = {"_": (1,), "n_": (1, 2), "N_": (1,)}
# The packages whose texts people read (the notices' templates have catalogues of their own).
SOURCE_FOLDERS = ("samverkan", "flows", "tasks", "process_definitions")


def extract_messages(root: Path) -> dict[str | tuple[str, str], list[tuple[str, int]]]:
    """Every marked text under `root`'s source folders, with where it is used: what the
    catalogues must hold. A text built with an f-string cannot be looked up and is reported
    by babel, not extracted; tests/test_messages.py forbids it."""
    from babel.messages.extract import extract_from_dir

    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for folder in SOURCE_FOLDERS:
        base = root / folder
        for filename, line, message, _comments, _context in extract_from_dir(
                base, method_map=[("**.py", "python")], keywords=EXTRACTION_KEYWORDS, comment_tags=(),
                strip_comment_tags=True):
            found.setdefault(message, []).append((f"{folder}/{filename}", line))
    return found
