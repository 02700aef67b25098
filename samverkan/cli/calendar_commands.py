"""`samverkan calendar …`: the Swedish legal calendar on the command line."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError

from .args import parse_period_arg

app = typer.Typer(help="The Swedish legal calendar: lag (1930:173) om beräkning av lagstadgad tid.", no_args_is_help=True)


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
