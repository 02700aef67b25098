"""The decision register as a registrar files it: a Swedish text with a table (one row per
party), a CSV with Swedish headings that stands on its own row by row, or JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from samverkan.calendar import TIMEZONE
from samverkan.dashboard.register import NOTE, PARTY

from .table import table_lines

NOT_GIVEN = ("inte angivet (ange det med `samverkan registration-number INSTANS NUMMER`, "
             "eller registration_number i definitionen)")

# Columns the CSV adds before the register's own, so that each row says what it belongs to.
PROCESS = "Process"
PROCESS_NUMBER = "Processens diarienummer"
INSTANCE = "Instans"
AS_OF = "Utdrag per"
MARKS = "Märkning"


def _day(about: Mapping[str, Any]) -> str:
    return about["as_of"].in_timezone(TIMEZONE).date().isoformat()


def register_as_text(about: Mapping[str, Any], columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """The heading (the process, its diarienummer, the instance and the day), the marks, the
    table without the notes column, then each party's notes under it."""
    lines = [f"Beslutsregister: {about['process']}", f"Diarienummer: {about['registration_number'] or NOT_GIVEN}",
             f"Instans {about['instance']}, utdrag per {_day(about)}", *about["marks"], ""]
    shown = [c for c in columns if c != NOTE]
    lines += table_lines(shown, [[row[c] for c in shown] for row in rows])
    notes = [(row[PARTY], row[NOTE]) for row in rows if row[NOTE] != "–"]
    if notes:
        lines += ["", f"{NOTE}ar:"] + [f"  {party}: {note}" for party, note in notes]
    return "\n".join(lines) + "\n"


def register_as_csv(about: Mapping[str, Any], columns: Sequence[str], rows: Sequence[Mapping[str, str]],
                    cell: Callable[[object], object]) -> str:
    """One line per party, Swedish headings; every row names the process, its diarienummer, the
    instance, the day of the extract and its marks (EXEMPEL, SIMULERAD), so a row filed alone
    still says what it is. `cell` makes a value safe for a spreadsheet."""
    out = io.StringIO()
    fields = [PROCESS, PROCESS_NUMBER, INSTANCE, AS_OF, *columns, MARKS]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    common = {PROCESS: about["process"], PROCESS_NUMBER: about["registration_number"] or "", INSTANCE: about["instance"],
              AS_OF: _day(about), MARKS: " ".join(about["marks"])}
    for row in rows:
        writer.writerow({key: cell(value) for key, value in {**common, **row}.items()})
    return out.getvalue()


def register_as_dict(about: Mapping[str, Any], rows: Sequence[Mapping[str, str]]) -> dict:
    return {"instance": about["instance"], "process": about["process"], "registration_number": about["registration_number"],
            "as_of": about["as_of"].in_timezone(TIMEZONE).isoformat(), "marks": list(about["marks"]), "parties": list(rows)}
