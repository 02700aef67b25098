"""The `samverkan` command line: loads, calls the core, prints. Every refusal is one line per
problem on standard error and exit code 2; nothing a user types can produce a traceback."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from samverkan import i18n
from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.text import safe_line

from . import (actor_commands, calendar_commands, db_commands, definition_commands, instance_commands, notice_commands,
               prefect_commands, simulate_commands, token_commands)

app = typer.Typer(
    name="samverkan",
    help="Samverkan: process orchestration for the agreement on regional development 2027–2030.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
definition_commands.register(app)
instance_commands.register(app)
actor_commands.register(app)
notice_commands.register(app)
simulate_commands.register(app)
prefect_commands.register(app)
app.add_typer(calendar_commands.app, name="calendar")
app.add_typer(token_commands.app, name="token")
app.add_typer(db_commands.app, name="db")


@app.callback()
def _options(
    language: Annotated[Optional[str], typer.Option(
        "--language", metavar="sv|en",
        help="The language of everything printed: sv (default) or en; also the setting SAMVERKAN_LANGUAGE.")] = None,
) -> None:
    if language is not None:
        problem = i18n.language_problem(language)
        if problem:
            raise SamverkanError(f"--language: {problem}")
        i18n.choose(language)

EXIT_USAGE = 2


def _error(line: str) -> None:
    """Print one error line, whatever it holds. Messages echo user input through
    text.shown(); this catches what slips past (typer's own messages, a library's text): the
    line is capped, token-shaped text hidden and non-UTF-8 bytes escaped, and writing it
    cannot fail on encoding, whatever standard error's encoding is."""
    line = safe_line(line) + "\n"
    stream = sys.stderr
    try:
        stream.write(line)
    except UnicodeEncodeError:  # e.g. PYTHONIOENCODING=ascii:strict
        stream.write(line.encode(stream.encoding or "ascii", "backslashreplace").decode(stream.encoding or "ascii"))
    stream.flush()


_command = None


def _click_command():
    """typer builds the click command tree from every command's signature on each call: once
    is enough in a process that runs the command line many times (a test, a simulation)."""
    global _command
    if _command is None:
        _command = typer.main.get_command(app)
    return _command


def main(argv: list[str] | None = None) -> None:
    with i18n.kept():  # --language holds for this command only (the tests run many in one process)
        _main(argv)


def _setting_problem() -> str | None:
    value = os.environ.get(i18n.LANGUAGE_SETTING, "")
    problem = i18n.language_problem(value) if value.strip() else None
    return f"{i18n.LANGUAGE_SETTING}: {problem}" if problem else None


def _main(argv: list[str] | None) -> None:
    try:
        problem = _setting_problem()
        if problem:
            raise SamverkanError(problem)
        result = _click_command().main(args=argv, prog_name="samverkan", standalone_mode=False)
    except SamverkanError as error:
        for problem in error.problems:
            _error(_("fel: {problem}", problem=problem))
        sys.exit(EXIT_USAGE)
    except typer.TyperException as error:  # typer's (vendored) click: usage errors
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if type(error).__name__ == "NoArgsIsHelpError":
            print(message, file=sys.stderr)  # the help text itself
        else:
            _error(_("fel: {problem}", problem=" ".join(message.split())))
        sys.exit(EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        _error(_("fel: avbrutet"))
        sys.exit(130)
    except Exception as error:
        if _is_database_error(error):  # one that escaped the store's own translation: still no SQL text
            from samverkan.store.database import database_error

            _error(_("fel: {problem}", problem=database_error(error, None).problems[0]))
            sys.exit(EXIT_USAGE)
        # a bug: say so in one line, never a traceback
        what = f"{type(error).__name__}: {' '.join(str(error).split())}"
        _error(_("fel: internt fel ({error}); rapportera det, tack", error=what))
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _is_database_error(error: Exception) -> bool:
    """SQLAlchemy's DBAPIError, checked without importing SQLAlchemy: a command that never
    loaded it cannot have raised one, and the command line starts without it."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError)
