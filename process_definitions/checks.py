"""Rules across a whole definition, after each part has passed the model: ids defined once,
references that resolve, no dependency cycle, groups that are not empty, dates that fit
together, lifecycles the engine can run. Returns every problem, one line each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from samverkan.graph import find_cycle

from .model import DecisionOutcome, Definition, ReminderPolicy, Stage, StateKind
from .paths import Locator


def check_definition(definition: Definition, at: Locator) -> list[str]:
    problems: list[str] = []
    problems += _unique_ids(definition, at)
    if definition.period.end < definition.period.start:
        problems.append(at.problem(("period",), f"ends ({definition.period.end}) before it starts ({definition.period.start})"))
    problems += _escalation(definition, ("reminder_defaults",), definition.reminder_defaults, at)
    problems += _notices(definition, at)
    problems += _process_contact(definition, at)
    problems += _groups(definition, at)
    problems += _lifecycles(definition, at)
    for index, stage in enumerate(definition.stages):
        problems += _stage(definition, stage, ("stages", index), at)
    problems += _stage_cycles(definition, at)
    problems += _meetings(definition, at)
    return problems


def _meetings(d: Definition, at: Locator) -> list[str]:
    """Calendars that name known parties once each, bodies with their meetings once each, and
    blackouts that end after they start; the deciding body is the party's decision_body."""
    problems = []
    party_ids = {p.id for p in d.parties}
    for index, blackout in enumerate(d.meetings.blackouts):
        if blackout.end < blackout.start:
            problems.append(at.problem(("meetings", "blackouts", index), f"ends ({blackout.end}) before it starts ({blackout.start})"))
    seen: set[str] = set()
    for index, calendar in enumerate(d.meetings.calendars):
        here = ("meetings", "calendars", index)
        if calendar.party not in party_ids:
            problems.append(at.problem((*here, "party"), f"unknown party {calendar.party!r}"))
            continue
        if calendar.party in seen:
            problems.append(at.problem((*here, "party"), f"party {calendar.party!r} has two calendars"))
        seen.add(calendar.party)
        twice = _duplicates(b.id for b in calendar.bodies)
        if twice:
            problems.append(at.problem((*here, "bodies"), f"body ids defined twice: {', '.join(sorted(twice))}"))
        for b_index, body in enumerate(calendar.bodies):
            days = _duplicates(day.isoformat() for day in body.meetings)
            if days:
                problems.append(at.problem((*here, "bodies", b_index, "meetings"), f"meetings listed twice: {', '.join(sorted(days))}"))
        party = d.party(calendar.party)
        deciding = calendar.deciding.name
        if party.decision_body and " ".join(deciding.split()).casefold() != " ".join(party.decision_body.split()).casefold():
            problems.append(at.problem((*here, "bodies", len(calendar.bodies) - 1, "name"),
                                       f"the last body decides, but {party.name} decides by {party.decision_body!r} "
                                       f"(parties[{party.id}].decision_body), not {deciding!r}"))
    return problems


def _duplicates(ids: Iterable[str]) -> set[str]:
    return {i for i, n in Counter(ids).items() if n > 1}


def _unique_ids(d: Definition, at: Locator) -> list[str]:
    problems = []
    for key, items in (("parties", d.parties), ("groups", d.groups), ("stages", d.stages), ("lifecycles", d.lifecycles)):
        twice = _duplicates(item.id for item in items)
        for index, item in enumerate(items):
            if item.id in twice and index != next(i for i, x in enumerate(items) if x.id == item.id):
                problems.append(at.problem((key, index, "id"), f"id {item.id!r} is defined twice in {key}"))
    party_ids = {p.id for p in d.parties}
    for index, group in enumerate(d.groups):
        if group.id in party_ids:
            problems.append(at.problem(("groups", index, "id"), f"group id {group.id!r} is also a party id; members would be ambiguous"))
    for p_index, party in enumerate(d.parties):
        twice = _duplicates(c.email for c in party.contacts)
        for c_index, contact in enumerate(party.contacts):
            if contact.email in twice and c_index != next(i for i, c in enumerate(party.contacts) if c.email == contact.email):
                problems.append(at.problem(("parties", p_index, "contacts", c_index, "email"), f"contact {contact.email} is listed twice"))
    return problems


def _groups(d: Definition, at: Locator) -> list[str]:
    problems = []
    party_ids = {p.id for p in d.parties}
    group_ids = {g.id for g in d.groups}
    # A group id that is also a party id is reported by _unique_ids; read such a member as the party.
    nested = {g.id: [m for m in g.members if m in group_ids and m not in party_ids] for g in d.groups}
    cycle = find_cycle(nested)
    for index, group in enumerate(d.groups):
        for m_index, member in enumerate(group.members):
            if member not in party_ids and member not in group_ids:
                problems.append(at.problem(("groups", index, "members", m_index), f"unknown party or group {member!r}"))
        if cycle and group.id == cycle[0]:
            problems.append(at.problem(("groups", index, "members"), f"groups contain each other in a circle: {' -> '.join(cycle)}"))
    if cycle:
        return problems
    for index, group in enumerate(d.groups):
        if not group.members or not [m for m in d.group_members(group.id) if m in party_ids]:
            problems.append(at.problem(("groups", index, "members"), f"group {group.id!r} has no parties"))
    return problems


def _lifecycles(d: Definition, at: Locator) -> list[str]:
    problems = []
    for index, cycle in enumerate(d.lifecycles):
        here = ("lifecycles", index)
        found_before = len(problems)
        state_ids = [s.id for s in cycle.states]
        for s_index, state in enumerate(cycle.states):
            if state.id in _duplicates(state_ids) and s_index != state_ids.index(state.id):
                problems.append(at.problem((*here, "states", s_index, "id"), f"state {state.id!r} is defined twice"))
        kinds = Counter(s.kind for s in cycle.states)
        for s_index, state in enumerate(cycle.states):
            if state.appealed and state.kind is not StateKind.done:
                problems.append(at.problem((*here, "states", s_index, "appealed"),
                                           f"an appealed decision still stands: state {state.id!r} must be of kind done"))
        for kind in (StateKind.waiting, StateKind.ready):
            if kinds[kind] != 1:
                problems.append(at.problem((*here, "states"), f"needs exactly one state of kind {kind.value} (has {kinds[kind]})"))
        if kinds[StateKind.done] < 1:
            problems.append(at.problem((*here, "states"), "needs at least one state of kind done"))
        kind_of = {s.id: s.kind for s in cycle.states}
        for t_index, transition in enumerate(cycle.transitions):
            if transition.fields is not None and transition.source == [transition.to] and transition.to in kind_of:
                # Adds to the record where the branch stands (an adopted decision's announcement).
                if not transition.requires_record:
                    problems.append(at.problem((*here, "transitions", t_index, "fields"), "fields go with requires_record: true"))
                continue
            for f_index, source in enumerate(transition.source):
                if source not in kind_of:
                    problems.append(at.problem((*here, "transitions", t_index, "from", f_index), f"unknown state {source!r}"))
                elif kind_of[source] is StateKind.waiting:
                    problems.append(at.problem((*here, "transitions", t_index, "from", f_index),
                                               f"state {source!r} is left only by the engine, when dependencies are done"))
                elif kind_of[source] is StateKind.done and not _appeal_step(cycle, source, transition.to):
                    # What a done stage released (the stages after it) cannot be taken back; only
                    # an appeal, and the court's ruling on it, move a decision that stands.
                    problems.append(at.problem((*here, "transitions", t_index, "from", f_index),
                                               f"state {source!r} is done and final; no transition may leave it"))
            if transition.to not in kind_of:
                problems.append(at.problem((*here, "transitions", t_index, "to"), f"unknown state {transition.to!r}"))
            elif kind_of[transition.to] in (StateKind.waiting, StateKind.ready):
                problems.append(at.problem((*here, "transitions", t_index, "to"),
                                           f"state {transition.to!r} is entered only by the engine"))
            elif transition.to in transition.source:
                problems.append(at.problem((*here, "transitions", t_index), f"a transition from {transition.to!r} to itself"))
        if len(problems) > found_before:
            continue  # reachability needs one ready state and known states
        reachable = _reachable(cycle)
        for s_index, state in enumerate(cycle.states):
            if state.kind is not StateKind.waiting and state.id not in reachable:
                problems.append(at.problem((*here, "states", s_index), f"state {state.id!r} can never be reached"))
            elif state.kind in (StateKind.ready, StateKind.active) and not _can_finish(cycle, state.id):
                # A branch moved there could never finish: the whole process would wait on it forever.
                problems.append(at.problem((*here, "states", s_index), f"from state {state.id!r} no state of kind done or failed can be reached"))
    return problems


def _appeal_step(cycle, source: str, to: str) -> bool:
    """A decision that stands is appealed (into a state marked `appealed`), and the court's
    ruling takes it out of that state: to done (the appeal rejected) or failed (annulled)."""
    appealed = {s.id for s in cycle.states if s.appealed}
    return to in appealed or source in appealed


def _can_finish(cycle, state_id: str) -> bool:
    finished = {s.id for s in cycle.states if s.kind in (StateKind.done, StateKind.failed)}
    return bool(_reachable(cycle, state_id) & finished)


def _reachable(cycle, start: str | None = None) -> set[str]:
    start = start or next(s.id for s in cycle.states if s.kind is StateKind.ready)
    reached, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        for transition in cycle.transitions:
            if state in transition.source and transition.to not in reached:
                reached.add(transition.to)
                frontier.append(transition.to)
    return reached


def _stage(d: Definition, stage: Stage, here: tuple, at: Locator) -> list[str]:
    problems = []
    party_ids = {p.id for p in d.parties}
    stage_ids = {s.id for s in d.stages}
    group_ids = {g.id for g in d.groups}
    if stage.owner not in party_ids:
        problems.append(at.problem((*here, "owner"), f"unknown party {stage.owner!r}"))
    for index, dependency in enumerate(stage.depends_on):
        if dependency == stage.id:
            problems.append(at.problem((*here, "depends_on", index), "a stage cannot depend on itself"))
        elif dependency not in stage_ids:
            problems.append(at.problem((*here, "depends_on", index), f"unknown stage {dependency!r}"))
    if len(set(stage.depends_on)) != len(stage.depends_on):
        problems.append(at.problem((*here, "depends_on"), "lists a stage twice"))
    lifecycle = next((c for c in d.lifecycles if c.id == stage.lifecycle), None)
    if lifecycle is None:
        problems.append(at.problem((*here, "lifecycle"), f"unknown lifecycle {stage.lifecycle!r}"))
    elif stage.record and not any(t.requires_record for t in lifecycle.transitions):
        problems.append(at.problem((*here, "record"), f"lifecycle {lifecycle.id!r} never asks for the record"))
    if lifecycle is not None:
        known = {f.id for f in stage.record}
        for t_index, transition in enumerate(lifecycle.transitions):
            missing = [f for f in transition.fields or [] if f not in known]
            if missing:
                problems.append(at.problem((*here, "lifecycle"), f"lifecycle {lifecycle.id!r} transition {t_index + 1} records "
                                                                 f"{', '.join(missing)}, which the stage's record does not have"))
    for f_index, spec in enumerate(stage.record):
        if spec.not_before is not None and not any(f.id == spec.not_before and f.type.value == "date" for f in stage.record):
            problems.append(at.problem((*here, "record", f_index, "not_before"), f"{spec.not_before!r} is not a date field of this record"))
    if len(_duplicates(f.id for f in stage.record)):
        problems.append(at.problem((*here, "record"), f"field ids defined twice: {', '.join(sorted(_duplicates(f.id for f in stage.record)))}"))
    problems += _timing(stage, here, at)
    branch_parties = [stage.owner]
    if stage.for_each:
        if stage.for_each.group not in group_ids:
            problems.append(at.problem((*here, "for_each", "group"), f"unknown group {stage.for_each.group!r}"))
            branch_parties = []
        else:
            branch_parties = [p for p in d.group_members(stage.for_each.group) if p in party_ids]
            join = stage.for_each.join
            if isinstance(join, int) and join > len(branch_parties):
                problems.append(at.problem((*here, "for_each", "join"),
                                           f"needs {join} branches but group {stage.for_each.group!r} has {len(branch_parties)} parties"))
    if stage.at_meetings:
        for party_id in branch_parties:
            if party_id in party_ids and d.meeting_calendar(party_id) is None:
                problems.append(at.problem((*here, "at_meetings"), f"party {party_id!r} has no meeting calendar (meetings.calendars)"))
    if stage.for_each and stage.for_each.by_party and not any(
            dep in stage_ids and d.stage(dep).for_each for dep in stage.depends_on):
        problems.append(at.problem((*here, "for_each", "by_party"), "no stage it depends on runs per party"))
    for party_id in branch_parties:
        if party_id in party_ids and not any(c.role is stage.responsible_role for c in d.party(party_id).contacts):
            problems.append(at.problem((*here, "responsible_role"),
                                       f"party {party_id!r} has no contact with role {stage.responsible_role.value!r}"))
    policy = d.reminder_policy(stage)
    if policy.to_roles:
        where = (*here, "reminders", "to_roles") if stage.reminders else ("reminder_defaults", "to_roles")
        roles = ", ".join(r.value for r in policy.to_roles)
        for party_id in branch_parties:
            if party_id in party_ids and not any(c.role in policy.to_roles for c in d.party(party_id).contacts):
                problems.append(at.problem(where, f"party {party_id!r} has no contact with any of the roles {roles}: its reminders would reach no one"))
    if stage.reminders:  # reminder_defaults are checked once, in check_definition
        problems += _escalation(d, (*here, "reminders"), stage.reminders, at)
    problems += _counterparty(d, stage, lifecycle, here, at)
    return problems


def _counterparty(d: Definition, stage: Stage, lifecycle, here: tuple, at: Locator) -> list[str]:
    """A counterparty names a party with a contact in its role; a lifecycle whose transitions
    the counterparty answers needs one, and a contract adopted with changes needs an answer."""
    problems = []
    counterparty = stage.counterparty
    if counterparty is not None:
        party = next((p for p in d.parties if p.id == counterparty.party), None)
        if party is None:
            problems.append(at.problem((*here, "counterparty", "party"), f"unknown party {counterparty.party!r}"))
        elif not any(c.role is counterparty.role for c in party.contacts):
            problems.append(at.problem((*here, "counterparty", "role"),
                                       f"party {party.id!r} has no contact with role {counterparty.role.value!r}"))
    if lifecycle is None:
        return problems
    if counterparty is None and any(t.by == "counterparty" for t in lifecycle.transitions):
        problems.append(at.problem((*here, "lifecycle"), f"lifecycle {lifecycle.id!r} has transitions the counterparty makes "
                                                         "(by: counterparty), but the stage names no counterparty"))
    outcomes = {s.outcome for s in lifecycle.states if s.outcome is not None}
    if outcomes and not any(f.success is not None for f in stage.record):
        problems.append(at.problem((*here, "record"), f"lifecycle {lifecycle.id!r} has states with an outcome, but no record "
                                                      "field says what success is (success)"))
    if DecisionOutcome.amended in outcomes and not any(f.amended for f in stage.record):
        problems.append(at.problem((*here, "record"), f"lifecycle {lifecycle.id!r} has a state with outcome amended, but no "
                                                      "record field has an amended value"))
    return problems


def _escalation(d: Definition, here: tuple, policy: ReminderPolicy, at: Locator) -> list[str]:
    escalate = policy.escalate
    if escalate is None:
        return []
    party = next((p for p in d.parties if p.id == escalate.to_party), None)
    if party is None:
        return [at.problem((*here, "escalate", "to_party"), f"unknown party {escalate.to_party!r}")]
    if not any(c.role is escalate.to_role for c in party.contacts):
        return [at.problem((*here, "escalate", "to_role"), f"party {party.id!r} has no contact with role {escalate.to_role.value!r}")]
    return []


def _process_contact(d: Definition, at: Locator) -> list[str]:
    if d.contact is None:
        return []
    party = next((p for p in d.parties if p.id == d.contact.party), None)
    if party is None:
        return [at.problem(("contact", "party"), f"unknown party {d.contact.party!r}")]
    if not any(c.role is d.contact.role for c in party.contacts):
        return [at.problem(("contact", "role"), f"party {party.id!r} has no contact with role {d.contact.role.value!r}")]
    return []


def _notices(d: Definition, at: Locator) -> list[str]:
    settings = d.notices
    problems = []
    policies = [("reminder_defaults", d.reminder_defaults)] + [(f"stages.{s.id}", s.reminders) for s in d.stages if s.reminders]
    for where, policy in policies:
        if not settings.send_from <= policy.at <= settings.send_until:
            problems.append(at.problem(("notices", "send_from"), f"{where} sends at {policy.at}, outside the sending hours "
                                                                 f"{settings.send_from}–{settings.send_until}"))
    digest = settings.digest
    if digest is not None:
        if not settings.send_from <= digest.at <= settings.send_until:
            problems.append(at.problem(("notices", "digest", "at"), f"{digest.at} is outside the sending hours {settings.send_from}–{settings.send_until}"))
        party = next((p for p in d.parties if p.id == digest.to_party), None)
        if party is None:
            problems.append(at.problem(("notices", "digest", "to_party"), f"unknown party {digest.to_party!r}"))
        elif not any(c.role is digest.to_role for c in party.contacts):
            problems.append(at.problem(("notices", "digest", "to_role"), f"party {party.id!r} has no contact with role {digest.to_role.value!r}"))
    return problems


def _timing(stage: Stage, here: tuple, at: Locator) -> list[str]:
    problems = []
    timing, deadline = stage.timing, stage.deadline
    if not stage.depends_on and (timing is None or timing.earliest is None):
        problems.append(at.problem((*here, "timing"), "a stage that depends on nothing needs a date: timing.day, timing.window or timing.not_before"))
    if timing is None:
        return problems
    if timing.window and timing.window.end < timing.window.start:
        problems.append(at.problem((*here, "timing", "window"), f"ends ({timing.window.end}) before it starts ({timing.window.start})"))
    earliest = timing.earliest
    if deadline and earliest and deadline.date < earliest:
        problems.append(at.problem((*here, "deadline", "date"), f"deadline {deadline.date} is before the stage can start ({earliest})"))
    return problems


def _stage_cycles(d: Definition, at: Locator) -> list[str]:
    stage_ids = {s.id for s in d.stages}
    if len(stage_ids) < len(d.stages):
        return []  # a stage id defined twice (reported already) would make up a cycle
    cycle = find_cycle({s.id: [x for x in s.depends_on if x in stage_ids and x != s.id] for s in d.stages})
    if not cycle:
        return []
    index = next(i for i, s in enumerate(d.stages) if s.id == cycle[0])
    return [at.problem(("stages", index, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")]
