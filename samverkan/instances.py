"""Operations on process instances: start one, make a transition, read its status and its
audit trail. The imperative shell around the engine: each operation loads what it needs,
asks the pure rules, and writes everything the rules decided in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pendulum
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from process_definitions import LoadedDefinition, parse_definition
from process_definitions.model import Definition
from samverkan import engine
from samverkan.auth import Actor, may_transition, who_may
from samverkan.calendar import TIMEZONE
from samverkan.engine import Change, NodeState, TransitionRefused, TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.faults import crash_point
from samverkan.graph import Node
from samverkan.store.database import Database
from samverkan.text import MAX_INSTANCE_ID, SLUG, shown
from samverkan.store.models import DefinitionRow, InstanceRow, NodeRow, TransitionRow



@dataclass(frozen=True)
class Loaded:
    instance: InstanceRow
    definition: Definition
    rows: dict[Node, NodeRow]
    state: dict[Node, NodeState]


@lru_cache(maxsize=32)
def _definition_from_text(sha256: str, text: str) -> Definition:
    """Parsing a definition costs ~40 ms; an instance's text never changes, so keep it."""
    return parse_definition(text, f"stored definition {sha256[:12]}").definition


def start_instance(
    db: Database,
    loaded: LoadedDefinition,
    actor: str,
    now: pendulum.DateTime,
    instance_id: str | None = None,
    started_at: pendulum.DateTime | None = None,
    history: list[TransitionRequest] | None = None,
    history_source: str = "history",
) -> str:
    history = history or []
    # A process under way began at the first date its definition or its history names, not
    # when it was entered here; back-dated transitions are then allowed from that day on.
    started = started_at or min([*(r.at for r in history), earliest_date(loaded.definition), now])
    if started > now:
        raise SamverkanError(f"the start {started.to_datetime_string()} is in the future")
    if instance_id is not None and (len(instance_id) > MAX_INSTANCE_ID or not SLUG.fullmatch(instance_id)):
        raise SamverkanError(f"--instance: {shown(instance_id)} is not a valid id: use lowercase a–z, 0–9 and dashes")
    try:
        with db.transaction() as session:
            definition_row = _register_definition(session, loaded, now)
            instance_id = instance_id or _free_instance_id(session, loaded.definition.id)
            if session.get(InstanceRow, instance_id) is not None:
                raise SamverkanError(f"instance {shown(instance_id)} already exists")
            instance = InstanceRow(id=instance_id, definition_id=definition_row.id, started_at=started,
                                   created_at=now, started_by=actor, last_seq=0)
            session.add(instance)
            state, changes = engine.start(loaded.definition, started)
            rows = {node: NodeRow(instance_id=instance_id, key=node.key, stage=node.stage, party=node.party,
                                  state=s.state, record={}) for node, s in state.items()}
            session.add_all(rows.values())
            _write(session, loaded.definition, instance, rows, changes, actor, now, None)
            current = dict(state)
            for change in changes:
                current[change.node] = change.after
            for index, request in enumerate(history):
                try:
                    applied = engine.decide(loaded.definition, current, request, now)
                except SamverkanError as error:
                    raise SamverkanError(*(f"{history_source}: transitions[{index}] ({_label(request)}): {p}" for p in error.problems)) from None
                _write(session, loaded.definition, instance, rows, applied, actor, now, request)
                for change in applied:
                    current[change.node] = change.after
            crash_point("start-flushed", session)
    except IntegrityError:
        raise SamverkanError(f"instance {shown(instance_id)} already exists (created at the same moment)") from None
    return instance_id


def earliest_date(definition: Definition) -> pendulum.DateTime:
    days = []
    for stage in definition.stages:
        timing = stage.timing
        if timing is not None:
            days += [timing.earliest] if timing.earliest else []
    first = min(days)
    return pendulum.datetime(first.year, first.month, first.day, tz=TIMEZONE)


def _label(request: TransitionRequest) -> str:
    return f"{request.stage}/{request.party}" if request.party else request.stage


def _register_definition(session: Session, loaded: LoadedDefinition, now: pendulum.DateTime) -> DefinitionRow:
    """Pin the exact text; the same id and version must always mean the same text."""
    d = loaded.definition
    row = session.scalars(select(DefinitionRow).where(DefinitionRow.process_id == d.id, DefinitionRow.version == d.version)).first()
    if row is None:
        row = DefinitionRow(process_id=d.id, version=d.version, sha256=loaded.sha256, source=loaded.source[:500],
                            text=loaded.text, registered_at=now)
        session.add(row)
        session.flush()
    elif row.sha256 != loaded.sha256:
        raise SamverkanError(
            f"{loaded.source}: {d.id} version {d.version} is already in use with other content "
            f"(from {row.source}); raise `version` in the file to start with the changed definition"
        )
    return row


def _free_instance_id(session: Session, process_id: str) -> str:
    taken = set(session.scalars(select(InstanceRow.id).where(InstanceRow.id.like(f"{process_id}%"))))
    if process_id not in taken:
        return process_id
    return next(f"{process_id}-{n}" for n in range(2, len(taken) + 3) if f"{process_id}-{n}" not in taken)


def load(session: Session, instance_id: str | None, lock: bool = False) -> Loaded:
    instance_id = instance_id or _only_instance(session)
    query = select(InstanceRow).where(InstanceRow.id == instance_id)
    if lock:
        query = query.with_for_update(of=InstanceRow)  # PostgreSQL: transitions on one instance queue here
    instance = session.scalars(query).first()
    if instance is None:
        known = sorted(session.scalars(select(InstanceRow.id)))
        raise SamverkanError(f"unknown instance {shown(instance_id)}; known: {', '.join(known) or 'none (samverkan start)'}")
    definition = _definition_from_text(instance.definition.sha256, instance.definition.text)
    rows = {Node(r.stage, r.party): r for r in session.scalars(select(NodeRow).where(NodeRow.instance_id == instance.id))}
    state = {node: NodeState(r.state, r.ready_at, r.started_at, r.completed_at, r.changed_at, dict(r.record or {}))
             for node, r in rows.items()}
    return Loaded(instance, definition, rows, state)


def _only_instance(session: Session) -> str:
    ids = sorted(session.scalars(select(InstanceRow.id)))
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise SamverkanError("there is no process instance yet; start one with `samverkan start PATH`")
    raise SamverkanError(f"there are {len(ids)} instances; name one: {', '.join(ids)}")


def transition(db: Database, instance_id: str, request: TransitionRequest, actor: Actor, now: pendulum.DateTime) -> list[Change]:
    """Apply one transition and all it causes, atomically; or refuse it and change nothing
    (a refusal for want of permission is itself recorded)."""
    refusal: str | None = None
    try:
        with db.transaction() as session:
            loaded = load(session, instance_id, lock=True)
            _, node = engine.resolve(loaded.definition, request)
            if not may_transition(actor, node):
                refusal = f"{actor.email} may not change {node.key}; only {who_may(loaded.definition, node)} may"
                _record_refusal(session, loaded.instance, node, loaded.state[node].state, request, actor.email, now, refusal)
            else:
                changes = engine.decide(loaded.definition, loaded.state, request, now)
                _write(session, loaded.definition, loaded.instance, loaded.rows, changes, actor.email, now, request)
                crash_point("transition-flushed", session)
    except StaleDataError:
        raise TransitionRefused(f"{request.stage}: the instance changed while this transition was being made; nothing was recorded, try again") from None
    if refusal:
        raise TransitionRefused(refusal)
    crash_point("transition-committed", None)
    return changes


def _write(session: Session, definition: Definition, instance: InstanceRow, rows: dict[Node, NodeRow], changes: list[Change],
           actor: str, now: pendulum.DateTime, request: TransitionRequest | None) -> None:
    cause = None
    for change in changes:
        row = rows[change.node]
        after = change.after
        row.state, row.ready_at, row.started_at = after.state, after.ready_at, after.started_at
        row.completed_at, row.changed_at, row.record = after.completed_at, after.changed_at, dict(after.record)
        instance.last_seq += 1
        manual = not change.automatic
        session.add(TransitionRow(
            instance_id=instance.id,
            seq=instance.last_seq,
            node_key=change.node.key,
            stage=change.node.stage,
            party=change.node.party,
            from_state=change.before,
            to_state=after.state,
            automatic=change.automatic,
            caused_by_seq=None if manual else cause,
            actor=actor,
            occurred_at=change.at,
            recorded_at=now,
            reason=request.reason if manual and request else None,
            reference=(request.reference or engine.reference_of(definition.stage(change.node.stage), after.record)) if manual and request else None,
            record=dict(after.record) if manual and request and after.record else None,
            outcome="applied",
        ))
        if manual:
            cause = instance.last_seq
    session.flush()


def _record_refusal(session: Session, instance: InstanceRow, node: Node, state: str, request: TransitionRequest,
                    actor: str, now: pendulum.DateTime, refusal: str) -> None:
    instance.last_seq += 1
    session.add(TransitionRow(
        instance_id=instance.id, seq=instance.last_seq, node_key=node.key, stage=node.stage, party=node.party,
        from_state=state, to_state=request.to, automatic=False, caused_by_seq=None, actor=actor,
        occurred_at=request.at, recorded_at=now, reason=request.reason, reference=request.reference,
        record=dict(request.fields) or None, outcome="refused", refusal=refusal,
    ))


def audit_rows(db: Database, instance_id: str | None) -> tuple[str, Definition, list[TransitionRow]]:
    with db.transaction() as session:
        loaded = load(session, instance_id)
        rows = list(session.scalars(select(TransitionRow).where(TransitionRow.instance_id == loaded.instance.id).order_by(TransitionRow.seq)))
        return loaded.instance.id, loaded.definition, rows


def instance_count(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InstanceRow)) or 0
