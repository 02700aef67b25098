"""The dependency graph of a process: stages expanded into nodes, one per branch of a
parallel stage, in an order where every node comes after what it depends on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samverkan.process_definitions.model import Definition, Stage


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle as `[a, b, …, a]`, or None. `edges` maps a node to what it depends on."""
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as error:
        cycle = list(reversed(error.args[1]))  # graphlib lists it dependant-last
        return cycle
    return None


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Dependencies first; ties broken by the order given, so output is stable."""
    position = {node: index for index, node in enumerate(edges)}
    sorter = TopologicalSorter(edges)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda node: position.get(node, len(position)))
        order.extend(ready)
        sorter.done(*ready)
    return order


@dataclass(frozen=True)
class Node:
    """One unit the engine tracks: a stage, or one party's branch of a parallel stage."""

    stage: str
    party: str | None  # the branch's party; None for a stage that is not parallel

    @property
    def key(self) -> str:
        return f"{self.stage}/{self.party}" if self.party else self.stage


def branch_parties(definition: Definition, stage: Stage) -> list[str]:
    return definition.group_members(stage.for_each.group) if stage.for_each else []


def join_needed(stage: Stage, branches: int) -> int:
    """How many of a parallel stage's branches must be done for the stage to be done."""
    join = stage.for_each.join
    return branches if join in ("all", "taking-part") else 1 if join == "any" else join


def stage_order(definition: Definition) -> list[str]:
    return list(definition.derived(("stage_order",), lambda: tuple(
        topological_order({s.id: list(s.depends_on) for s in definition.stages}))))


def dependants(definition: Definition) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {s.id: [] for s in definition.stages}
    for stage in definition.stages:
        for dependency in stage.depends_on:
            result[dependency].append(stage.id)
    return result


def party_dependencies(definition: Definition, stage: Stage, party: str) -> list[Node]:
    """What one branch of a stage that goes party by party waits for: its own party's branch of
    each parallel stage before it that has one, the whole of every other."""
    return list(definition.derived(("party_dependencies", stage.id, party),
                                   lambda: tuple(_party_dependencies(definition, stage, party))))


def _party_dependencies(definition: Definition, stage: Stage, party: str) -> list[Node]:
    nodes = []
    for dependency in stage.depends_on:
        dep_stage = definition.stage(dependency)
        own = dep_stage.for_each is not None and party in branch_parties(definition, dep_stage)
        nodes.append(Node(dependency, party if own else None))
    return nodes


def outside_of(definition: Definition, failed: set[Node]) -> dict[Node, Node]:
    """The branches whose party no longer takes part, each with the "no" that put it outside:
    a failed branch of a stage that joins the parties taking part, and, party by party, the
    branches after it. A new decision brings the party back."""
    found: dict[Node, Node] = {}
    for stage_id in stage_order(definition):
        stage = definition.stage(stage_id)
        if not stage.for_each or stage.for_each.join != "taking-part":
            continue
        for party in branch_parties(definition, stage):
            node = Node(stage_id, party)
            if node in failed:
                found[node] = node
            elif stage.for_each.by_party:
                cause = next((found[d] for d in party_dependencies(definition, stage, party) if d in found), None)
                if cause is not None:
                    found[node] = cause
    return found
