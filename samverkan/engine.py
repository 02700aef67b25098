"""The transition rules: given a definition, an instance's state, a requested transition and
the time now, decide every change it causes, or refuse it with one line per reason.

Pure: no database, no clock. The store loads the state, calls `decide`, and writes the
changes in one transaction. A transition on a branch re-evaluates its stage's join rule;
a stage that becomes done makes the stages waiting on it ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pendulum

from samverkan.process_definitions.model import (Basis, DecisionOutcome, Definition, FieldType, Lifecycle, RecordField, Stage,
                                                 StateKind, Transition)
from samverkan.calendar import TIMEZONE, to_date
from samverkan.doors import COMMAND_LINE, Door
from samverkan.errors import SamverkanError
from samverkan.outcomes import OUTCOME_WORDS, WARNINGS, decided_text, decision_body_warning, open_warnings, record_outcome
from samverkan.graph import Node, branch_parties, join_needed, outside_of, party_dependencies, stage_order
from samverkan.i18n import _
from samverkan.names import node_name, nodes_named
from samverkan.patterns import matches
from samverkan.text import MAX_FIELD_VALUE, record_text_problem, shown


class TransitionRefused(SamverkanError):
    """The transition is not allowed; nothing changes."""


@dataclass(frozen=True)
class NodeState:
    state: str
    ready_at: pendulum.DateTime | None = None  # when its dependencies were all done
    started_at: pendulum.DateTime | None = None  # when work began (first active or later state)
    completed_at: pendulum.DateTime | None = None  # when it entered a done state
    changed_at: pendulum.DateTime | None = None  # when it last changed, in the world's time
    record: Mapping[str, Any] = field(default_factory=dict)


InstanceState = Mapping[Node, NodeState]


@dataclass(frozen=True)
class TransitionRequest:
    stage: str
    party: str | None
    to: str
    at: pendulum.DateTime  # when it happened, which may be in the past
    reason: str | None = None
    reference: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    door: Door = COMMAND_LINE  # where it came from: a refusal names what was filled in as that door does


@dataclass(frozen=True)
class Change:
    node: Node
    before: str
    after: NodeState
    at: pendulum.DateTime
    automatic: bool  # caused by the engine (a join, a dependency released), not by a person


def nodes_of(definition: Definition) -> list[Node]:
    result = []
    for stage in definition.stages:
        result.append(Node(stage.id, None))
        result.extend(Node(stage.id, party) for party in branch_parties(definition, stage))
    return result


def state_of_kind(lifecycle: Lifecycle, kind: StateKind) -> str | None:
    return next((s.id for s in lifecycle.states if s.kind is kind), None)


def kind_of(definition: Definition, stage: Stage, state: str) -> StateKind:
    return definition.state_kind(stage.lifecycle, state)


def start(definition: Definition, at: pendulum.DateTime) -> tuple[dict[Node, NodeState], list[Change]]:
    """A new instance: every node waiting, then the stages that depend on nothing made ready."""
    state: dict[Node, NodeState] = {}
    for node in nodes_of(definition):
        lifecycle = definition.lifecycle(definition.stage(node.stage).lifecycle)
        state[node] = NodeState(state_of_kind(lifecycle, StateKind.waiting))
    changes = _release(definition, state, [s.id for s in definition.stages if not s.depends_on], at)
    return state, changes


def decide(definition: Definition, state: InstanceState, request: TransitionRequest, now: pendulum.DateTime) -> list[Change]:
    """Every change a transition causes, the requested one first; or TransitionRefused."""
    _check_texts(definition, request)
    stage, node = resolve(definition, request)
    lifecycle = definition.lifecycle(stage.lifecycle)
    current = state[node]
    allowed = [t for t in lifecycle.transitions if current.state in t.source]
    transition = next((t for t in allowed if t.to == request.to), None)
    if transition is None:
        raise TransitionRefused(_not_allowed(definition, state, stage, node, request.to, allowed, request.door))
    _check_time(request.door, current, request.at, now)
    record = _check_record(stage, transition, request, current, now)
    to_kind = kind_of(definition, stage, request.to)
    if transition.requires_record and transition.fields is None:  # a decision, not an addition to one
        _check_outcome(definition, stage, node, current.state, request.to, to_kind, record, request.door)
        record = _with_warnings(definition, stage, node, record)
    was_done = kind_of(definition, stage, current.state) is StateKind.done
    after = replace(
        current,
        state=request.to,
        changed_at=request.at,
        started_at=current.started_at or request.at,
        # Adding to a finished decision's record (its announcement) does not move when it finished.
        completed_at=(current.completed_at if was_done else request.at) if to_kind is StateKind.done else None,
        record=record if transition.requires_record else current.record,
    )
    working = dict(state)
    working[node] = after
    changes = [Change(node, current.state, after, request.at, automatic=False)]
    return changes + settle(definition, working, request.at)


@dataclass(frozen=True)
class Resolution:
    """The office's answer to a recorded decision's warnings: why the decision stands (the
    matter was delegated after all, the body was mistyped), and corrections of the decision's
    own fields (the right body; the new decision of the right body, with its date and §)."""

    stage: str
    party: str | None
    reason: str
    at: pendulum.DateTime
    by: str
    fields: Mapping[str, str] = field(default_factory=dict)


def resolve_warnings(definition: Definition, state: InstanceState, resolution: Resolution, now: pendulum.DateTime) -> Change:
    """The change that resolves a branch's open warnings: the branch stays where it is, and its
    record keeps each warning, marked resolved, with when, by whom and why; or TransitionRefused."""
    request = TransitionRequest(resolution.stage, resolution.party, "", resolution.at, reason=resolution.reason,
                                fields=resolution.fields)
    _check_texts(definition, request)
    stage, node = resolve(definition, request)
    current = state[node]
    who = definition.party(node.party or stage.owner).name
    if not resolution.reason.strip():
        raise TransitionRefused(f"{who}: skriv kansliets förklaring (--reason): varför beslutet står sig, eller vad som rättats")
    warnings = current.record.get(WARNINGS) if isinstance(current.record.get(WARNINGS), list) else []
    if not open_warnings(current.record):
        raise TransitionRefused(f"{who}: {stage.name} har ingen varning som behöver redas ut")
    _check_time(request.door, current, resolution.at, now)
    later = {f for t in definition.lifecycle(stage.lifecycle).transitions for f in t.fields or []}
    correctable = {f.id: f for f in stage.record if f.success is None and f.id not in later}
    problems, corrected = [], {}
    for key, value in resolution.fields.items():
        spec = correctable.get(key)
        if spec is None:
            problems.append(f"{who}: fältet {shown(key)} kan inte rättas här (utfallet ändras bara genom ett nytt beslut); "
                            f"de fält som kan rättas är: {', '.join(correctable)}")
            continue
        try:
            corrected[key] = _field_value(spec, value.strip(), current, resolution.at)
        except ValueError as error:
            problems.append(f"{who}: fältet {key!r} ({spec.name}): {error}")
    record = {**current.record, **corrected}
    problems += _order_of_dates(stage.id, stage.record, record, set(corrected))
    if problems:
        raise TransitionRefused(*problems)
    at = resolution.at.in_timezone(TIMEZONE).isoformat()
    record[WARNINGS] = [{**w, "resolved_at": at, "resolved_by": resolution.by, "resolution": resolution.reason.strip()}
                        if isinstance(w, dict) and not w.get("resolved_at") else w for w in warnings]
    return Change(node, current.state, replace(current, record=record), resolution.at, automatic=False)


def settle(definition: Definition, working: dict[Node, NodeState], at: pendulum.DateTime) -> list[Change]:
    """After a change, in process order: joins re-evaluated, and what may now start released
    (a whole stage once all it depends on is done; one party's branch, for a stage that goes
    party by party, once that party's branches before it are done). Updates `working`."""
    changes: list[Change] = []
    away: dict[Node, Node] | None = None  # who stands outside: settling never changes it (only a "no" does)
    for stage_id in stage_order(definition):
        stage = definition.stage(stage_id)
        if stage.for_each and stage.for_each.by_party:
            changes += _release_branches(definition, stage, working, at)
        else:
            changes += _release(definition, working, [stage_id], at)
        if stage.for_each and kind_of(definition, stage, working[Node(stage_id, None)].state) is not StateKind.waiting:
            if away is None and stage.for_each.join == "taking-part":
                away = outside(definition, working)
            changes += _evaluate_join(definition, stage, working, at, away)
    return changes


def answering_party(definition: Definition, state: InstanceState, request: TransitionRequest) -> str | None:
    """The party that answers with this request when it is not the branch's own: the stage's
    counterparty, for a transition it makes (accepting amendments); None otherwise."""
    stage = definition.stage(request.stage)
    node = Node(request.stage, request.party)
    if stage.counterparty is None or node not in state:
        return None
    transition = next((t for t in definition.lifecycle(stage.lifecycle).transitions
                       if state[node].state in t.source and t.to == request.to), None)
    return stage.counterparty.party if transition is not None and transition.by == "counterparty" else None


def resolve(definition: Definition, request: TransitionRequest) -> tuple[Stage, Node]:
    """The stage and node a request names, or a refusal naming what is unknown."""
    stage_ids = [s.id for s in definition.stages]
    door = request.door
    if request.stage not in stage_ids:
        raise TransitionRefused(_("okänt steg {stage}; stegen är: {stages}", stage=shown(request.stage),
                                  stages=", ".join(stage_ids)))
    stage = definition.stage(request.stage)
    parties = branch_parties(definition, stage)
    if stage.for_each is None:
        if request.party is not None:
            raise TransitionRefused(_("”{stage}” görs inte per part; lämna {party} tomt",
                                      stage=stage.name, party=door.label("party")))
        return stage, Node(stage.id, None)
    listed = ", ".join(parties if door.ids else (definition.party(p).name for p in parties))
    if request.party is None:
        raise TransitionRefused(_("”{stage}” görs av varje part för sig; ange parten med {party} (en av: {parties})",
                                  stage=stage.name, party=door.label("party"), parties=listed))
    if request.party not in parties:
        known = {p.id for p in definition.parties}
        message = (_("{party}: {value} är inte part i ”{stage}”; dess parter är: {parties}") if request.party in known
                   else _("{party}: {value} är ingen känd part; parterna i ”{stage}” är: {parties}"))
        raise TransitionRefused(message.format(party=door.label("party"), value=shown(request.party), stage=stage.name,
                                               parties=listed))
    return stage, Node(stage.id, request.party)


def _not_allowed(definition: Definition, state: InstanceState, stage: Stage, node: Node, to: str, allowed: list,
                 door: Door) -> str:
    lifecycle = definition.lifecycle(stage.lifecycle)
    current = state[node]
    names = {s.id: s.name for s in lifecycle.states}
    where = _("{node} är i läget ”{state}”", node=node_name(definition, node), state=names[current.state])
    if to not in names:
        return _("{where}; {to}: {value} är inget läge i det här steget (lägena är: {states})", where=where,
                 to=door.label("to"), value=shown(to), states=door.states(names))
    target = door.state(to, names[to])
    if kind_of(definition, stage, current.state) is StateKind.waiting:
        waits = waiting_for(definition, state, node)
        pending = nodes_named(definition, waits[:4]) + (_(" och {count} till", count=len(waits) - 4) if len(waits) > 4 else "")
        return _("{where}: det väntar på {pending}; det kan inte gå till {to} ännu", where=where, pending=pending, to=target)
    since = _(", sedan {time}", time=current.changed_at.in_timezone(TIMEZONE).to_datetime_string()) if current.changed_at else ""
    if not allowed:
        return _("{where}{since}; det kan inte gå till {to}: läget är slutgiltigt", where=where, since=since, to=target)
    options = ", ".join(door.state(t.to, names[t.to]) for t in allowed)
    return _("{where}{since}; det kan inte gå till {to}, bara till {options}", where=where, since=since, to=target,
             options=options)


def _field_names(definition: Definition, stage_id: str) -> dict[str, str]:
    """The names of a stage's record fields by id (none for a stage that does not exist)."""
    stage = next((s for s in definition.stages if s.id == stage_id), None)
    return {f.id: f.name for f in stage.record} if stage else {}


def _check_texts(definition: Definition, request: TransitionRequest) -> None:
    """The free text of a request, from whichever door it came (record_text_problem)."""
    door, names = request.door, _field_names(definition, request.stage)
    texts = [(door.label("reason"), request.reason), (door.label("reference"), request.reference),
             *((door.field(key, names.get(key)), value) for key, value in request.fields.items())]
    problems = [f"{name}: {problem}" for name, value in texts if value and (problem := record_text_problem(value))]
    if problems:
        raise TransitionRefused(*problems)


def _check_time(door: Door, current: NodeState, at: pendulum.DateTime, now: pendulum.DateTime) -> None:
    local = at.in_timezone(TIMEZONE)
    if at > now:
        raise TransitionRefused(_("{at}: {time} ligger i framtiden (nu är det {now})", at=door.label("at"),
                                  time=local.to_datetime_string(), now=now.in_timezone(TIMEZONE).to_datetime_string()))
    # Day granularity: a stage may finish the same day as what it waits for, whatever the hour.
    for message, bound in ((_("{at}: {day} är före den dag steget kunde påbörjas ({bound})"), current.ready_at),
                           (_("{at}: {day} är före stegets senaste ändring ({bound})"), current.changed_at)):
        if bound is not None and local.date() < bound.in_timezone(TIMEZONE).date():
            raise TransitionRefused(message.format(at=door.label("at"), day=local.to_date_string(),
                                                   bound=bound.in_timezone(TIMEZONE).to_date_string()))


def _check_record(stage: Stage, transition: Transition, request: TransitionRequest, current: NodeState, now) -> dict[str, Any]:
    required = transition.requires_record
    door = request.door
    fields = dict(request.fields)
    reference_field = next((f for f in stage.record if f.reference), None)
    if request.reference is not None and reference_field is not None:
        if reference_field.id in fields and fields[reference_field.id] != request.reference:
            raise TransitionRefused(_("{reference} {value} och {field} säger olika; ange paragrafen en gång",
                                      reference=door.label("reference"), value=shown(request.reference),
                                      field=door.field(reference_field.id, reference_field.name)))
        fields[reference_field.id] = request.reference
    if not required:
        if fields and not (reference_field and set(fields) == {reference_field.id}):
            names = {f.id: f.name for f in stage.record}
            given = ", ".join(door.field(key, names.get(key)) for key in sorted(fields))
            raise TransitionRefused(_("den här övergången registrerar inga uppgifter; lämna {fields} tomt", fields=given))
        return {}
    specs = stage.record
    if transition.fields is not None:  # only these, added to what was recorded: all required, or (partial) any
        specs = [f.model_copy(update={"required": not transition.partial}) for f in stage.record if f.id in transition.fields]
    known = {f.id: f for f in specs}
    unknown = [name for name in fields if name not in known]
    problems = []
    if unknown:  # one line, however many: an error repeats little of what was typed
        names = ", ".join(shown(name, 30) for name in unknown[:3])
        more = _(" och {count} till", count=len(unknown) - 3) if len(unknown) > 3 else ""
        listed = ", ".join(door.field(f.id, f.name) for f in known.values())
        problems.append(_("okänt fält {names}{more}; fälten är: {fields}", names=names, more=more, fields=listed))
    record: dict[str, Any] = dict(current.record) if transition.fields is not None else {}
    for spec in specs:
        value = fields.get(spec.id, "").strip()
        if not value:
            if spec.required:
                give = door.give(spec.id, spec.name)
                if spec.reference and door.ids:
                    give = _("{give} (eller {reference})", give=give, reference=door.label("reference"))
                problems.append(_("{field} saknas: {give}", field=door.field(spec.id, spec.name), give=give))
            continue
        try:
            record[spec.id] = _field_value(spec, value, current, request.at, door)
        except ValueError as error:
            problems.append(f"{door.field(spec.id, spec.name)}: {error}")
    where = f"{request.stage}/{request.party}" if request.party else request.stage
    if transition.partial and not problems and not any(fields.get(spec.id, "").strip() for spec in specs):
        problems.append(f"{where}: ange minst ett av fälten " + ", ".join(f"{spec.id} ({spec.name})" for spec in specs))
    problems += _order_of_dates(where, stage.record, record, set(fields))
    if problems:
        raise TransitionRefused(*problems)
    return record


def _order_of_dates(where: str, specs: list[RecordField], record: Mapping[str, Any], given: set[str]) -> list[str]:
    """Dates that follow one another in law (decided, minutes approved, announced) in that order:
    one given needs the one before it, recorded before or given with it. In Swedish: the office
    reads these lines."""
    names = {spec.id: spec.name for spec in specs}
    problems = []
    names = {spec.id: spec.name for spec in specs}
    for spec in specs:
        earlier = spec.not_before
        if not earlier or spec.id not in record:
            continue
        if earlier not in record:
            if spec.id in given:
                problems.append(f"{where}: {spec.name} ({spec.id}) kan inte registreras innan {names[earlier]} ({earlier}) "
                                f"är registrerat: ange båda, eller {earlier} först")
        elif record[spec.id] < record[earlier]:
            problems.append(f"{where}: {spec.name} ({spec.id}) {record[spec.id]} kan inte vara före "
                            f"{names[earlier]} ({earlier}) {record[earlier]}")
    return problems


def _field_value(spec: RecordField, value: str, current: NodeState, at: pendulum.DateTime,
                 door: Door = COMMAND_LINE) -> Any:
    if len(value) > MAX_FIELD_VALUE:  # first: a pattern on a huge value could take very long
        raise ValueError(_("är längre än {limit} tecken", limit=MAX_FIELD_VALUE))
    if spec.type is FieldType.date:
        try:
            day = to_date(value)
        except (ValueError, TypeError):
            raise ValueError(_("{value} är inget datum: skriv ÅÅÅÅ-MM-DD", value=shown(value))) from None
        happened = at.in_timezone(TIMEZONE).date()
        if day > happened:
            raise ValueError(_("{value} är efter själva övergången ({day}); ange i {at} den dag det hände",
                               value=value, day=happened.isoformat(), at=door.label("at")))
        if current.ready_at is not None and day < current.ready_at.in_timezone(TIMEZONE).date():
            raise ValueError(_("{value} är före den dag steget kunde påbörjas ({day})", value=value,
                               day=current.ready_at.in_timezone(TIMEZONE).to_date_string()))
        return day.isoformat()
    if spec.type is FieldType.choice and value not in (spec.choices or []):
        raise ValueError(_("{value} är inte ett av: {choices}", value=shown(value), choices=", ".join(spec.choices or [])))
    if spec.pattern and not matches(spec.pattern, value):
        raise ValueError(_("{value} har inte den form som väntas: {form}", value=shown(value), form=spec.help or spec.pattern))
    return value


def _with_warnings(definition: Definition, stage: Stage, node: Node, record: dict[str, Any]) -> dict[str, Any]:
    """The decision as recorded, with a warning for what the office must look into: a body
    other than the one the definition says decides for the party (the branch's, or the stage
    owner's) is recorded, not refused, since the decision exists and may be annulled on appeal."""
    warning = decision_body_warning(definition, stage, node.party or stage.owner, record)
    return {**record, WARNINGS: [warning]} if warning else record


def _check_outcome(definition: Definition, stage: Stage, node: Node, from_state: str, to: str, to_kind: StateKind,
                   record: Mapping[str, Any], door: Door = COMMAND_LINE) -> None:
    """A record must agree with where the branch goes: 'adopted' with both documents
    adopted, 'rejected' with at least one not. Fields with a `success` value say which; a
    state with an `outcome` (a split decision, an amendment) asks exactly for that."""
    outcomes = [f for f in stage.record if f.success is not None and f.id in record]
    if not outcomes:
        return
    failed = [f for f in outcomes if record[f.id] != f.success]
    if to_kind is StateKind.done and failed:
        raise TransitionRefused(*(_("{field} är {value}; för att registrera ett antagande ska det vara ”{success}” "
                                    "(registrera annars ett avslag)", field=door.field(f.id, f.name),
                                    value=shown(record[f.id]), success=f.success) for f in failed))
    if to_kind is StateKind.failed and not failed:
        said_each = ", ".join(_("{field} är ”{value}”", field=door.field(f.id, f.name), value=f.success) for f in outcomes)
        raise TransitionRefused(_("{said}: allt antogs, och det är inget avslag", said=said_each))
    wanted = definition.state_outcome(stage.lifecycle, to)
    said = record_outcome(stage, record)
    who = definition.party(node.party or stage.owner)
    if wanted is not None and said is not wanted:
        decided = decided_text(stage, record, who.decision_body) or ""
        fitting = next((t for t in definition.lifecycle(stage.lifecycle).transitions if from_state in t.source
                        and t.requires_record and definition.state_outcome(stage.lifecycle, t.to) is said), None)
        hint = f": välj ”{fitting.name or fitting.to}”" if fitting else ""
        raise TransitionRefused(f"{who.name}: {decided}. Det är {OUTCOME_WORDS[said]}, inte {OUTCOME_WORDS[wanted]}{hint}.")
    counterparty = stage.counterparty
    if said is DecisionOutcome.amended and counterparty is not None and counterparty.party == who.id:
        raise TransitionRefused(
            f"{who.name} är själv motpart i samverkansavtalen och kan inte anta med ändringar som den själv ska godta: "
            "registrera ett antagande, ett delat beslut eller ett avslag.")


def _evaluate_join(definition: Definition, stage: Stage, working: dict[Node, NodeState], at: pendulum.DateTime,
                   away: dict[Node, Node] | None = None) -> list[Change]:
    """The whole of a parallel stage follows its branches: done once the join rule is met,
    failed while it cannot be met, ready otherwise."""
    lifecycle = definition.lifecycle(stage.lifecycle)
    parties = branch_parties(definition, stage)
    if stage.for_each.join == "taking-part":  # the parties outside are not waited for
        away = outside(definition, working) if away is None else away
        parties = [p for p in parties if Node(stage.id, p) not in away]
    branches = [working[Node(stage.id, p)] for p in parties]
    kinds = [kind_of(definition, stage, b.state) for b in branches]
    needed = join_needed(stage, len(branches))
    done = sorted(b.completed_at for b, k in zip(branches, kinds) if k is StateKind.done)
    failed = sum(k is StateKind.failed for k in kinds)
    whole_node = Node(stage.id, None)
    whole = working[whole_node]
    if kind_of(definition, stage, whole.state) is StateKind.done:
        return []  # a stage once done stays done: what it released cannot be taken back
    if branches and len(done) >= needed:
        target, completed = state_of_kind(lifecycle, StateKind.done), done[needed - 1]
    elif (not branches or len(branches) - failed < needed) and state_of_kind(lifecycle, StateKind.failed):
        target, completed = state_of_kind(lifecycle, StateKind.failed), None
    else:
        target, completed = state_of_kind(lifecycle, StateKind.ready), None
    if target == whole.state:
        return []
    # Completions may be recorded out of order: the whole changed when the join was met.
    after = replace(whole, state=target, changed_at=completed or at, completed_at=completed)
    working[whole_node] = after
    return [Change(whole_node, whole.state, after, after.changed_at, automatic=True)]


def _release(definition: Definition, working: dict[Node, NodeState], candidates: list[str], at: pendulum.DateTime) -> list[Change]:
    """Stages whose dependencies are now all done become ready, with their branches."""
    changes = []
    for stage_id in candidates:
        stage = definition.stage(stage_id)
        lifecycle = definition.lifecycle(stage.lifecycle)
        whole = working[Node(stage_id, None)]
        if kind_of(definition, stage, whole.state) is not StateKind.waiting or (stage.for_each and stage.for_each.by_party):
            continue
        done_at = []
        for dependency in stage.depends_on:
            dep_stage = definition.stage(dependency)
            dep = working[Node(dependency, None)]
            if kind_of(definition, dep_stage, dep.state) is not StateKind.done:
                break
            done_at.append(dep.completed_at)
        else:
            released = max(done_at, default=at)
            ready_at = max(released, _fixed_earliest(stage) or released)
            ready = state_of_kind(lifecycle, StateKind.ready)
            for node in [Node(stage_id, None), *(Node(stage_id, p) for p in branch_parties(definition, stage))]:
                before = working[node]
                after = replace(before, state=ready, ready_at=ready_at, changed_at=released)
                working[node] = after
                changes.append(Change(node, before.state, after, released, automatic=True))
    return changes


def _release_branches(definition: Definition, stage: Stage, working: dict[Node, NodeState], at: pendulum.DateTime) -> list[Change]:
    """A stage that goes party by party: each waiting branch whose own dependencies are done
    becomes ready; the whole becomes ready with its first branch."""
    lifecycle = definition.lifecycle(stage.lifecycle)
    ready = state_of_kind(lifecycle, StateKind.ready)
    changes = []
    for party in branch_parties(definition, stage):
        node = Node(stage.id, party)
        before = working[node]
        if kind_of(definition, stage, before.state) is not StateKind.waiting:
            continue
        done_at = []
        for dependency in party_dependencies(definition, stage, party):
            dep = working[dependency]
            if kind_of(definition, definition.stage(dependency.stage), dep.state) is not StateKind.done:
                break
            done_at.append(dep.completed_at)
        else:
            released = max(done_at, default=at)
            ready_at = max(released, _fixed_earliest(stage) or released)
            after = replace(before, state=ready, ready_at=ready_at, changed_at=released)
            working[node] = after
            changes.append(Change(node, before.state, after, released, automatic=True))
    whole_node = Node(stage.id, None)
    whole = working[whole_node]
    if changes and kind_of(definition, stage, whole.state) is StateKind.waiting:
        first = min(changes, key=lambda c: c.after.ready_at)
        after = replace(whole, state=ready, ready_at=first.after.ready_at, changed_at=first.at)
        working[whole_node] = after
        changes.insert(0, Change(whole_node, whole.state, after, first.at, automatic=True))
    return changes


def outside(definition: Definition, state: InstanceState) -> dict[Node, Node]:
    """The branches whose party no longer takes part, each with the "no" that put it outside."""
    failed = {node for node, s in state.items() if node.party is not None
              and kind_of(definition, definition.stage(node.stage), s.state) is StateKind.failed}
    return outside_of(definition, failed)


def reference_of(stage: Stage, record: Mapping[str, Any]) -> str | None:
    """The decision reference in a record (the field marked `reference`), if any."""
    spec = next((f for f in stage.record if f.reference), None)
    return record.get(spec.id) if spec else None


def _fixed_earliest(stage: Stage) -> pendulum.DateTime | None:
    """A date fixed by a decision bounds when a stage can happen: entry into force is not
    before 2027-01-01, whatever is done before it. Estimates bound nothing."""
    timing = stage.timing
    if timing is None or timing.basis is not Basis.fixed or timing.earliest is None:
        return None
    day = timing.earliest
    return pendulum.datetime(day.year, day.month, day.day, tz=TIMEZONE)


def waiting_for(definition: Definition, state: InstanceState, node: Node) -> list[Node]:
    """What a node waits on: its unfinished dependencies (for a parallel dependency, the
    branches not yet done), or, once it may proceed, itself (its owner must act)."""
    stage = definition.stage(node.stage)
    own_kind = kind_of(definition, stage, state[node].state)
    if own_kind is StateKind.done:
        return []
    if own_kind is not StateKind.waiting:
        if node.party is None and stage.for_each:
            return [Node(stage.id, p) for p in branch_parties(definition, stage)
                    if kind_of(definition, stage, state[Node(stage.id, p)].state) is not StateKind.done]
        return [node]
    return unfinished_dependencies(definition, state, stage, node.party)


def unfinished_dependencies(definition: Definition, state: InstanceState, stage: Stage, party: str | None = None) -> list[Node]:
    """What a waiting stage, and each of its branches alike, still waits for (a branch of a
    stage that goes party by party: its own party's)."""
    if party is not None and stage.for_each and stage.for_each.by_party:
        return [d for d in party_dependencies(definition, stage, party)
                if kind_of(definition, definition.stage(d.stage), state[d].state) is not StateKind.done]
    pending: list[Node] = []
    for dependency in stage.depends_on:
        dep_stage = definition.stage(dependency)
        if kind_of(definition, dep_stage, state[Node(dependency, None)].state) is StateKind.done:
            continue
        if dep_stage.for_each:
            pending += [Node(dependency, p) for p in branch_parties(definition, dep_stage)
                        if kind_of(definition, dep_stage, state[Node(dependency, p)].state) is not StateKind.done]
        else:
            pending.append(Node(dependency, None))
    return pending
