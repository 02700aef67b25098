"""The stage table and the timeline, from the status rows: Swedish column names, party
names rather than ids, dates as YYYY-MM-DD in Europe/Stockholm."""

from __future__ import annotations

from samverkan.process_definitions.model import Definition
from samverkan.calendar import TIMEZONE
from samverkan.graph import branch_parties
from samverkan.status import StatusRow

from .words import ASSUMED, NOTHING, day_of, days, nodes_text, responsible


def days_left_text(row: StatusRow) -> str:
    if row.outside_by is not None and not row.failed:
        return "utanför"  # its party said no: not waited for, no countdown
    if row.failed:
        return "avslag"
    if row.blocked_by:
        return "blockerat"
    if row.days_left is None:
        return "klart"
    if row.awaiting_registration:  # its meeting has passed: the decision is probably taken
        return "väntar på registrering"
    if row.days_left < 0:
        return f"{days(-row.days_left)} försenat"  # not "sen": that reads as "ago"
    return "i dag" if row.days_left == 0 else days(row.days_left)


def waiting_text(definition: Definition, row: StatusRow) -> str:
    """On whom: its own owner once it may proceed; else what it waits for, or the "no" that
    keeps it from finishing."""
    if row.outside_by is not None and not row.failed:
        return f"står utanför: {nodes_text(definition, (row.outside_by,))}"
    if row.blocked_by and not row.failed:
        return f"avslag: {nodes_text(definition, row.blocked_by)}"
    if row.waiting_for == (row.node,):
        return owner_text(definition, row)
    return nodes_text(definition, row.waiting_for) or NOTHING


def owner_text(definition: Definition, row: StatusRow) -> str:
    """Who answers for it; a stage's owner that the plan assumes says so (the overview says what)."""
    text = responsible(definition, row.owner, row.responsible_role)
    assumed = row.node.party is None and definition.stage(row.node.stage).assumption is not None
    return f"{text} – {ASSUMED}" if assumed else text


def part_text(definition: Definition, row: StatusRow) -> str:
    if row.node.party:
        return row.party_name or row.node.party
    stage = definition.stage(row.node.stage)
    return f"alla {len(branch_parties(definition, stage))} parter" if stage.for_each else NOTHING


def first_late_and_rejected(rows: list[StatusRow]) -> list[StatusRow]:
    """A "no" first, then what is late (latest first), then the rest in definition order."""
    def rank(item: tuple[int, StatusRow]) -> tuple[int, int, int]:
        index, row = item
        if row.failed:
            return 0, 0, index
        if row.late:
            return 1, row.days_left or 0, index
        return 2, 0, index
    return [row for _, row in sorted(enumerate(rows), key=rank)]


def stage_table(definition: Definition, rows: list[StatusRow]) -> list[dict[str, str]]:
    return [{
        "Steg": row.name,
        "Part": part_text(definition, row),
        "Status": row.state_name,
        "Ansvarig": owner_text(definition, row),
        "Sista dag": row.deadline.isoformat(),
        "Dagar kvar": days_left_text(row),
        "Väntar på": waiting_text(definition, row),
    } for row in first_late_and_rejected(rows)]


def deviation_text(row: StatusRow) -> str:
    """Finished: how far from its deadline; open and past it: how late so far."""
    if row.completed_at is None:
        return f"{days(-row.days_left)} försenat, pågår" if row.late else NOTHING
    diff = row.completed_at.in_timezone(TIMEZONE).date().toordinal() - row.deadline.toordinal()
    if diff == 0:
        return "på dagen"
    return f"{days(diff)} efter" if diff > 0 else f"{days(-diff)} före"


def timeline(definition: Definition, rows: list[StatusRow]) -> list[dict[str, str]]:
    return [{
        "Steg": row.name,
        "Part": part_text(definition, row),
        "Planerat": row.deadline.isoformat(),
        "Faktiskt": day_of(row.completed_at),
        "Avvikelse": deviation_text(row),
    } for row in rows]
