"""Stages, branches and states as people read them: by the names the definition gives them,
never by their ids (which are for the command line and the files). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from samverkan.graph import Node
from samverkan.i18n import _

if TYPE_CHECKING:
    from samverkan.process_definitions.model import Definition


def stage_name(definition: Definition, stage_id: str) -> str:
    return definition.stage(stage_id).name


def node_name(definition: Definition, node: Node) -> str:
    """"Antagande av överenskommelse och samverkansavtal (Åsele kommun)", or the stage alone."""
    name = stage_name(definition, node.stage)
    return _("{stage} ({party})", stage=name, party=definition.party(node.party).name) if node.party else name


def state_name(definition: Definition, stage_id: str, state: str) -> str:
    lifecycle = definition.lifecycle(definition.stage(stage_id).lifecycle)
    return next((s.name for s in lifecycle.states if s.id == state), state)


def nodes_named(definition: Definition, nodes: Iterable[Node]) -> str:
    return ", ".join(node_name(definition, node) for node in nodes)


def stages_named(definition: Definition, stage_ids: Iterable[str]) -> str:
    """Stages by name, each once, in the order given: "Antagande …, Undertecknande"."""
    return ", ".join(stage_name(definition, s) for s in dict.fromkeys(stage_ids))


def change_text(definition: Definition, node: Node, before: str, after: str) -> str:
    """One recorded change: "Antagande av … (Storumans kommun): Ärendet bereds → Antaget"."""
    return _("{node}: {before} → {after}", node=node_name(definition, node),
             before=state_name(definition, node.stage, before), after=state_name(definition, node.stage, after))
