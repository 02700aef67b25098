"""The words the dashboard uses for days, dates and who is meant."""

from __future__ import annotations

import pendulum

from samverkan.process_definitions.model import ROLE_NAMES, Definition, Role
from samverkan.calendar import TIMEZONE
from samverkan.graph import Node
from samverkan.i18n import _, n_

NOTHING = "–"  # an empty cell: a blank one reads as missing data
ASSUMED = "antaget i planen"  # beside an owner the plan assumes (a stage's `assumption`)


def days(n: int) -> str:
    text = n_("{n} dag", "{n} dagar", abs(n))
    return text if n >= 0 else "-" + text


def day_of(moment: pendulum.DateTime | None) -> str:
    return moment.in_timezone(TIMEZONE).date().isoformat() if moment else NOTHING


def party_name(definition: Definition, party: str | None) -> str:
    return definition.party(party).name if party else NOTHING


def responsible(definition: Definition, owner: str, role: str) -> str:
    return f"{definition.party(owner).name} ({_(ROLE_NAMES[Role(role)])})"


def nodes_text(definition: Definition, nodes: tuple[Node, ...] | list[Node], limit: int = 4) -> str:
    """Nodes by their Swedish names, branches gathered under their stage: "Antagande …:
    Bjurholms kommun, Dorotea kommun och 9 till"."""
    by_stage: dict[str, list[str]] = {}
    for node in nodes:
        by_stage.setdefault(node.stage, [])
        if node.party:
            by_stage[node.stage].append(definition.party(node.party).name)
    parts = []
    for stage_id, parties in by_stage.items():
        name = definition.stage(stage_id).name
        if not parties:
            parts.append(name)
            continue
        shown = ", ".join(parties[:limit]) + (_(" och {count} till", count=len(parties) - limit) if len(parties) > limit else "")
        parts.append(f"{name}: {shown}")
    return "; ".join(parts)
