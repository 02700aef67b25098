"""`samverkan calendar …`: the Swedish legal calendar, and a party's meeting calendar read
from an .ics file, on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.text import shown, shown_path

from . import context
from .args import checked_slug, checked_text, parse_period_arg

if TYPE_CHECKING:
    from samverkan.meetings.ics import BodyMatch, Imported

app = typer.Typer(
    help="The Swedish legal calendar (lag (1930:173) om beräkning av lagstadgad tid), and meeting calendars from .ics files.",
    no_args_is_help=True,
)

MAX_ICS_BYTES = 10 * 1024 * 1024  # a municipality's every committee over several years is a few hundred KiB
BODY_FORMAT = "ID:NAME:PERIOD[:MATCH], e.g. kf:Kommunfullmäktige:P2W"


@app.command("due")
def due(
    date: Annotated[str, typer.Argument(help="The start day, YYYY-MM-DD.")],
    period: Annotated[Optional[str], typer.Argument(help="An ISO 8601 period: P10D, P6W, P1M, P1Y.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON with the nominal day and why it moved.")] = False,
) -> None:
    """The legal last day: DATE plus PERIOD counted per §1, moved per §2 to the next weekday."""
    from samverkan.calendar import OutsideCalendar, holiday_name, legal_due
    from samverkan.clock import parse_day

    start = parse_day(date, "DATE")
    counted = parse_period_arg(period, "PERIOD") if period is not None else None
    try:
        result = legal_due(start, counted)
        nominal_name = holiday_name(result.nominal) or result.nominal.format("dddd", locale="sv")
    except (OutsideCalendar, OverflowError, ValueError) as error:
        # A start near the calendar's edge plus a long period runs past the holiday data.
        what = f"{start.isoformat()} + {counted}" if counted else start.isoformat()
        raise SamverkanError(f"{'PERIOD' if counted else 'DATE'}: {what}: {' '.join(str(error).split()) or 'outside the calendar'}") from None
    if as_json:
        print(json.dumps({
            "start": start.isoformat(),
            "period": str(counted) if counted else None,
            "nominal": result.nominal.isoformat(),
            "due": result.due.isoformat(),
            "moved": result.due != result.nominal,
            "reason": result.reason,
            "reason_en": result.reason_en,
        }, ensure_ascii=False, indent=2))
        return
    print(f"Startdag:        {start.isoformat()}")
    if counted:
        print(f"Tidsfrist:       {counted} (räknad enligt 1 §)")
    print(f"Nominell dag:    {result.nominal.isoformat()} ({nominal_name})")
    if result.reason:
        print(f"Flyttad:         {result.reason}")
    print(result.due.isoformat())


@app.command("import")
def import_ics(
    file: Annotated[Path, typer.Argument(help="An iCalendar file (.ics): the party's published meeting calendar.", show_default=False)],
    party: Annotated[str, typer.Option("--party", help="The party whose calendar it is (its id in the definition).", show_default=False)],
    body: Annotated[Optional[list[str]], typer.Option(
        "--body", metavar="ID:NAME:PERIOD[:MATCH]",
        help="A body to look for, repeated in the order a matter passes them, the deciding body last: its id, name, "
             "how long before a meeting its agenda closes (P2W), and the text that finds its events in SUMMARY or "
             "CATEGORIES (default: the name). Default: the bodies of the party's calendar in the definition.")] = None,
    from_day: Annotated[Optional[str], typer.Option("--from", help="The first day to import, YYYY-MM-DD (default: 1 January).")] = None,
    to_day: Annotated[Optional[str], typer.Option("--to", help="The last day to import, YYYY-MM-DD (default: 31 December of the year of --from, or of this year).")] = None,
    example: Annotated[bool, typer.Option("--example", help="Mark the dates as invented examples (example: true).")] = False,
    source: Annotated[Optional[str], typer.Option("--source", help="Where the dates come from, kept in the calendar (default: the file's name).")] = None,
    definition: Annotated[Optional[Path], typer.Option("--definition", help="The definition the calendar is for (default: the 2027–2030 process).")] = None,
) -> None:
    """Read a party's meetings from an .ics file and print its meetings.calendars entry (YAML)."""
    from samverkan.calendar import TIMEZONE
    from samverkan.clock import parse_day
    from samverkan.meetings.ics import body_problems, calendar_yaml, import_calendar, with_calendar
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from samverkan.process_definitions.yaml_reader import read_file

    name = shown_path(file)
    checked_slug(party, "--party")
    checked_text(source, "--source", 500)
    loaded = load_definition(definition or DEFAULT_DEFINITION)
    d = loaded.definition
    problems: list[str] = []
    if party not in {p.id for p in d.parties}:
        problems.append(f"--party {shown(party)}: unknown party in {loaded.source}; known: {', '.join(p.id for p in d.parties)}")
    bodies = _bodies(body, d, party, name, problems)
    if body and bodies:  # the ones that could be read (none: their problems are said already)
        problems += [f"{name}: {p}" for p in body_problems(bodies)]
    days = {}
    for option, text in (("--from", from_day), ("--to", to_day)):
        if text is not None:
            try:
                days[option] = parse_day(text, option)
            except SamverkanError as error:
                problems += error.problems
    if problems:
        raise SamverkanError(*problems)
    start, end = _range(days.get("--from"), days.get("--to"), context.clock().now().in_timezone(TIMEZONE).date().year)
    data = read_file(file, MAX_ICS_BYTES, SamverkanError, "iCalendar file (.ics)")
    imported = import_calendar(data, source if source is not None else Path(file).name, party, bodies, start, end,
                               example=example, shown_as=name)
    with_calendar(d, imported.calendar, name)  # pasted into this definition, it must load
    sys.stdout.write(calendar_yaml(imported.calendar))
    sys.stderr.write(_summary(name, imported, d.party(party).name, start, end, loaded.source))


def _bodies(specs: list[str] | None, definition, party: str, name: str, problems: list[str]) -> list[BodyMatch]:
    """--body as given, or the bodies of the party's calendar in the definition."""
    from samverkan.meetings.ics import BodyMatch

    if not specs:
        calendar = definition.meeting_calendar(party)
        if calendar is None:
            if any(p.id == party for p in definition.parties):
                problems.append(f"--body: {party} has no meeting calendar in the definition; give its bodies with --body "
                                f"{BODY_FORMAT}, in the order a matter passes them, the deciding body last")
            return []
        return [BodyMatch(b.id, b.name, b.agenda_closes) for b in calendar.bodies]
    bodies = []
    for spec in specs:
        parts = spec.split(":", 3)
        if len(parts) < 3:
            problems.append(f"{name}: --body {shown(spec)}: expected {BODY_FORMAT}")
            continue
        body_id, body_name, period = (p.strip() for p in parts[:3])
        bodies.append(BodyMatch(body_id, body_name, period, parts[3].strip() if len(parts) == 4 else None))
    return bodies


def _range(start, end, this_year: int):
    """--from and --to, each defaulting to its end of the other's calendar year, or of this one."""
    import datetime as dt

    year = start.year if start is not None else end.year if end is not None else this_year
    first = dt.date(start.year, start.month, start.day) if start is not None else dt.date(year, 1, 1)
    last = dt.date(end.year, end.month, end.day) if end is not None else dt.date(first.year, 12, 31)
    return first, last


def _summary(name: str, imported: Imported, party_name: str, start, end, definition: str) -> str:
    calendar = imported.calendar
    lines = [f"{name}: {imported.events} events read; {party_name}, {start.isoformat()} to {end.isoformat()}:"]
    lines += [f"  {b.id} ({b.name}): {imported.meetings[b.id]} meetings" for b in calendar.bodies]
    ignored = imported.ignored_by_reason()
    if ignored:
        lines.append("  ignored: " + "; ".join(f"{count} {reason}" for reason, count in ignored.items()))
    if calendar.example:
        lines.append("  marked as invented examples (example: true)")
    lines.append(f"Paste the entry under meetings.calendars in {definition}, in place of {calendar.party}'s calendar.")
    return "\n".join(lines) + "\n"
