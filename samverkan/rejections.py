"""A "no" is a problem: what a rejected (failed) branch or stage blocks, and what has to
happen next. So, in their way, are a split decision and amendments waiting for the
counterparty (follow-ups), and a decision recorded with a warning (taken by another body than
the definition names). Pure: (definition, state) -> explanations, in Swedish for the people
who read them."""

from __future__ import annotations

from dataclasses import dataclass

import pendulum

from samverkan.process_definitions.model import ROLE_NAMES, DecisionOutcome, Definition, StateKind
from samverkan.engine import InstanceState, kind_of, nodes_of, reference_of
from samverkan.graph import Node, branch_parties, join_needed, stage_order
from samverkan.outcomes import decided_text, decided_when, mid_sentence, not_adopted_documents, warning_texts
from samverkan.i18n import _


@dataclass(frozen=True)
class Rejection:
    node: Node
    state: str
    state_name: str
    at: pendulum.DateTime | None
    reference: str | None
    decision_body: str | None
    blocks: tuple[str, ...]  # the stages it keeps from finishing, in process order
    join: str | None  # Swedish: what its stage's join rule needs, for a branch
    next_step: str  # Swedish: what has to happen next
    decided: str | None = None  # Swedish: exactly what was decided, document by document, with date and §
    join_rule: str | None = None  # the first half of `join`: what the stage needs
    join_outcome: str | None = None  # its second: what the "no" means for the stage


@dataclass(frozen=True)
class FollowUp:
    """A decision that is neither an adoption nor a "no" yet: a split decision, or amendments
    the counterparty must answer. Someone other than the party has to act."""

    node: Node
    state_name: str
    decided: str  # "Kommunfullmäktige antog överenskommelsen men inte samverkansavtalet (2026-11-30, §101)"
    who: str  # who acts: "Region Västerbotten (projektledare)"
    next_step: str  # Swedish: the ways on, by the lifecycle's own names


@dataclass(frozen=True)
class DecisionWarning:
    """A recorded decision's warning, shown until the office resolves it (samverkan resolve)."""

    node: Node
    text: str


def failed_nodes(definition: Definition, state: InstanceState) -> list[Node]:
    """The branches, and the stages without branches, that ended without success. The whole of
    a parallel stage is not counted: it fails because of its branches."""
    found = []
    for node in nodes_of(definition):
        stage = definition.stage(node.stage)
        if stage.for_each and node.party is None:
            continue
        if kind_of(definition, stage, state[node].state) is StateKind.failed:
            found.append(node)
    return found


def join_parts(definition: Definition, stage_id: str, failed: int) -> tuple[str, str]:
    """What a stage's join rule needs, and what `failed` "no"s mean for it: ("kräver alla 16
    parter", "högst 15 kan bli klara"), said of the stage."""
    stage = definition.stage(stage_id)
    total = len(branch_parties(definition, stage))
    if stage.for_each and stage.for_each.join == "taking-part":
        return (_("räknar de parter som deltar"),
                _("parten står utanför och de andra {count} går vidare utan den", count=total - failed))
    needed = join_needed(stage, total)
    rule = (_("kräver alla {total} parter", total=total) if needed == total
            else _("kräver {needed} av {total} parter", needed=needed, total=total))
    return rule, _("högst {count} kan bli klara", count=total - failed)


def join_text(definition: Definition, stage_id: str, failed: int) -> str:
    """"kräver alla 16 parter; högst 15 kan bli klara" (of the stage, named by whoever says it)."""
    rule, outcome = join_parts(definition, stage_id, failed)
    stage = definition.stage(stage_id)
    return f"{rule}: {outcome}" if stage.for_each and stage.for_each.join == "taking-part" else f"{rule}; {outcome}"


def blocked_by_failures(definition: Definition, failed: list[Node]) -> dict[str, tuple[Node, ...]]:
    """Per stage, the failed nodes that keep it from finishing (a stage not blocked is absent)."""
    by_stage: dict[str, list[Node]] = {}
    for node in failed:
        stage = definition.stage(node.stage)
        if stage.for_each and stage.for_each.join == "taking-part":
            continue  # a party that says no is outside; the others go on without it
        by_stage.setdefault(node.stage, []).append(node)
    causes: dict[str, tuple[Node, ...]] = {}
    for stage_id in stage_order(definition):
        stage = definition.stage(stage_id)
        own = by_stage.get(stage_id, [])
        if stage.for_each and own:
            total = len(branch_parties(definition, stage))
            own = own if total - len(own) < join_needed(stage, total) else []
        found = dict.fromkeys(own)
        for dependency in stage.depends_on:
            found.update(dict.fromkeys(causes.get(dependency, ())))
        if found:
            causes[stage_id] = tuple(found)
    return causes


def next_step(definition: Definition, node: Node) -> str:
    """What has to happen after a "no": the lifecycle's ways out of its failed state."""
    stage = definition.stage(node.stage)
    lifecycle = definition.lifecycle(stage.lifecycle)
    failed = {s.id for s in lifecycle.states if s.kind is StateKind.failed}
    # Out of a "no" to another state (not what is added to it, its minutes), each way once.
    ways = list({(t.name, t.to): t for t in lifecycle.transitions if failed & set(t.source) and t.to not in t.source}.values())
    party = definition.party(node.party or stage.owner)
    body = party.decision_body or party.name
    if not ways:
        return _("nytt beslut krävs, men definitionen har ingen väg vidare efter avslaget: processen måste ändras")
    names = {s.id: s.name for s in lifecycle.states}
    shown = _(" eller ").join(f"”{t.name or names[t.to]}”" for t in ways)
    return _("nytt beslut krävs: ärendet måste tas upp igen i {body} ({ways}), eller processen ändras", body=body, ways=shown)


def rejections(definition: Definition, state: InstanceState) -> list[Rejection]:
    failed = failed_nodes(definition, state)
    causes = blocked_by_failures(definition, failed)
    result = []
    order = stage_order(definition)
    for node in failed:
        stage = definition.stage(node.stage)
        current = state[node]
        names = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
        failed_here = sum(1 for n in failed if n.stage == node.stage)
        result.append(Rejection(
            node=node,
            state=current.state,
            state_name=names[current.state],
            at=current.changed_at,
            reference=reference_of(stage, current.record),
            decision_body=next((str(current.record[f.id]) for f in stage.record if f.decision_body and f.id in current.record), None),
            blocks=tuple(s for s in order if node in causes.get(s, ())),
            join=join_text(definition, node.stage, failed_here) if node.party else None,
            next_step=next_step(definition, node),
            decided=_decided(definition, stage, node, current.record),
            join_rule=join_parts(definition, node.stage, failed_here)[0] if node.party else None,
            join_outcome=join_parts(definition, node.stage, failed_here)[1] if node.party else None,
        ))
    return result


def _decided(definition: Definition, stage, node: Node, record) -> str | None:
    party = definition.party(node.party or stage.owner)
    text = decided_text(stage, record, party.decision_body or party.name)
    return text + decided_when(stage, record) if text else None


def follow_ups(definition: Definition, state: InstanceState) -> list[FollowUp]:
    """The branches whose decision needs someone else to act: a split decision (the stage's
    counterparty follows it up) and amendments waiting for the counterparty's answer."""
    found = []
    for node in nodes_of(definition):
        if node.party is None:
            continue
        stage = definition.stage(node.stage)
        current = state[node]
        awaiting = definition.awaits_counterparty(stage, current.state)
        split = definition.state_outcome(stage.lifecycle, current.state) is DecisionOutcome.split
        decided = _decided(definition, stage, node, current.record)
        if not (awaiting or split) or decided is None:
            continue
        lifecycle = definition.lifecycle(stage.lifecycle)
        names = {s.id: s.name for s in lifecycle.states}
        counterparty = stage.counterparty
        owner, role = (counterparty.party, counterparty.role) if counterparty else (stage.owner, stage.responsible_role)
        who = f"{definition.party(owner).name} ({ROLE_NAMES[role]})"
        party = definition.party(node.party)
        body = mid_sentence(party.decision_body or party.name)

        def way(*kinds: StateKind) -> str:  # the lifecycle's own name for the way on, to a state of these kinds
            found_way = next((t for t in lifecycle.transitions if current.state in t.source
                              and definition.state_kind(stage.lifecycle, t.to) in kinds), None)
            return f" (”{found_way.name or names[found_way.to]}”)" if found_way else ""

        if awaiting:
            step = (f"{who} svarar på ändringarna: godtas de{way(StateKind.done)} är antagandet klart; godtas de "
                    f"inte{way(StateKind.active)} behövs ett nytt beslut i {body}")
        else:
            missing = " och ".join(not_adopted_documents(stage, current.record)) or "det som inte antogs"
            step = (f"{who} följer upp med {party.name}: ett nytt beslut om {missing} i {body}{way(StateKind.active)}, "
                    f"eller att {party.name} står utanför{way(StateKind.failed)}")
        found.append(FollowUp(node, names[current.state], decided, who, step))
    return found


def decision_warnings(definition: Definition, state: InstanceState) -> list[DecisionWarning]:
    """Every recorded decision's warning the office has not resolved, in process order."""
    return [DecisionWarning(node, text) for node in nodes_of(definition) for text in warning_texts(state[node].record)]
