"""The stage table and the timeline, from the status rows: column names in words, stage and
party names rather than ids, dates as YYYY-MM-DD in Europe/Stockholm."""

from __future__ import annotations

from samverkan.process_definitions.model import Definition
from samverkan.calendar import TIMEZONE
from samverkan.graph import branch_parties
from samverkan.i18n import _, n_
from samverkan.status import StatusRow

from .words import ASSUMED, NOTHING, day_of, days, nodes_text, responsible


def days_left_text(row: StatusRow) -> str:
    if row.outside_by is not None and not row.failed:
        return _("utanför")  # its party said no: not waited for, no countdown
    if row.failed:
        return _("avslag")
    if row.blocked_by:
        return _("blockerat")
    if row.days_left is None:
        return _("klart")
    if row.awaiting_registration:  # its meeting has passed: the decision is probably taken
        return _("väntar på registrering")
    if row.days_left < 0:
        return n_("{n} dag försenat", "{n} dagar försenat", -row.days_left)
    return _("i dag") if row.days_left == 0 else days(row.days_left)


def waiting_text(definition: Definition, row: StatusRow) -> str:
    """On whom: its own owner once it may proceed; else what it waits for, or the "no" that
    keeps it from finishing."""
    if row.outside_by is not None and not row.failed:
        return _("står utanför: {node}", node=nodes_text(definition, (row.outside_by,)))
    if row.blocked_by and not row.failed:
        return _("avslag: {nodes}", nodes=nodes_text(definition, row.blocked_by))
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
    return _("alla {count} parter", count=len(branch_parties(definition, stage))) if stage.for_each else NOTHING


def first_late_and_rejected(rows: list[StatusRow]) -> list[StatusRow]:
    """A "no" first, then what is late (latest first), then the rest in definition order."""
    def rank(item: tuple[int, StatusRow]) -> tuple[int, int, int]:
        index, row = item
        if row.failed:
            return 0, 0, index
        if row.late:
            return 1, row.days_left or 0, index
        return 2, 0, index
    return [row for _index, row in sorted(enumerate(rows), key=rank)]


def stage_table(definition: Definition, rows: list[StatusRow]) -> list[dict[str, str]]:
    return [{
        _("Steg"): row.name,
        _("Part"): part_text(definition, row),
        _("Status"): row.state_name,
        _("Ansvarig"): owner_text(definition, row),
        _("Sista dag"): row.deadline.isoformat(),
        _("Dagar kvar"): days_left_text(row),
        _("Väntar på"): waiting_text(definition, row),
    } for row in first_late_and_rejected(rows)]


def deviation_text(row: StatusRow) -> str:
    """Finished: how far from its deadline; open and past it: how late so far."""
    if row.completed_at is None:
        return n_("{n} dag försenat, pågår", "{n} dagar försenat, pågår", -row.days_left) if row.late else NOTHING
    diff = row.completed_at.in_timezone(TIMEZONE).date().toordinal() - row.deadline.toordinal()
    if diff == 0:
        return _("på dagen")
    return n_("{n} dag efter", "{n} dagar efter", diff) if diff > 0 else n_("{n} dag före", "{n} dagar före", -diff)


def timeline(definition: Definition, rows: list[StatusRow]) -> list[dict[str, str]]:
    return [{
        _("Steg"): row.name,
        _("Part"): part_text(definition, row),
        _("Planerat"): row.deadline.isoformat(),
        _("Faktiskt"): day_of(row.completed_at),
        _("Avvikelse"): deviation_text(row),
    } for row in rows]
