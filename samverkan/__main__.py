"""The `samverkan` command's entry (also `python -m samverkan`): Ctrl-C first, then the rest.

Python turns Ctrl-C (SIGINT) into a KeyboardInterrupt wherever the program happens to be:
while typer, SQLAlchemy and pydantic import (most of start-up), before main()'s try block,
in a `finally` that closes the database, during exit. main() catches it only inside its try
block; anywhere else a traceback escaped. So this module, importing nothing heavy, installs a
handler before the command line is imported, and the handler ends the process at once: one
line, exit code 130 (128 + SIGINT, what a shell reports for Ctrl-C).

Ending without unwinding is safe for the data: everything a command changes is one database
transaction, and a transaction not committed when its process dies is rolled back by the
database itself (PostgreSQL aborts it when the connection drops; SQLite's journal undoes it
when the file is next opened). A COMMIT already sent either took effect or did not; never
half. Nothing else a command does needs cleaning up."""

from __future__ import annotations

import os
import signal


def _interrupted(signum: int, frame: object) -> None:
    # The line the command line's catalogue has for it (samverkan.i18n), without reading the
    # catalogue: nothing may be loaded here.
    line = b"error: interrupted\n" if os.environ.get("SAMVERKAN_LANGUAGE", "").strip().lower() == "en" else b"fel: avbrutet\n"
    try:
        os.write(2, line)  # unbuffered: no stream, no encoding, no lock
    except OSError:
        pass  # standard error closed: exit all the same
    os._exit(130)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted)
    from samverkan.cli import main as cli_main  # the heavy part: typer, SQLAlchemy, pydantic

    cli_main()


if __name__ == "__main__":
    main()
