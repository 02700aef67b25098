"""Operations on process instances: start one, make a transition, read its status and its
audit trail. The imperative shell around the engine: each operation loads what it needs,
asks the pure rules, and writes everything the rules decided in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import pendulum
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from samverkan.process_definitions import LoadedDefinition, parse_definition
from samverkan.process_definitions.model import Definition, StateKind
from samverkan import engine
from samverkan.auth import Actor, may_transition, who_may
from samverkan.calendar import TIMEZONE
from samverkan.clock import Clock
from samverkan.engine import Change, NodeState, TransitionRefused, TransitionRequest
from samverkan.errors import SamverkanError, StoreUnavailable
from samverkan.faults import crash_point
from samverkan.graph import Node
from samverkan.i18n import N_, _, speaking
from samverkan.names import node_name
from samverkan.store import clock_mode
from samverkan.store.clock_mode import write_time
from samverkan.store.database import Database
from samverkan.text import MAX_INSTANCE_ID, SLUG, shown
from samverkan.store.models import CodeRow, DefinitionRow, InstanceRow, NodeRow, RequestKeyRow, TransitionRow



# An instance started from an illustrative history says so wherever its decisions are shown.
ILLUSTRATIVE = N_("EXEMPEL: påhittade beslut, inte det offentliga diariet")
_ILLUSTRATIVE_REASON = N_("EXEMPEL, påhittat beslut")


@dataclass(frozen=True)
class Loaded:
    instance: InstanceRow
    definition: Definition
    rows: dict[Node, NodeRow]
    state: dict[Node, NodeState]
    illustrative: str | None = None  # the mark (and the history's note) of an illustrative instance
    simulated: bool = False  # the store's clock is simulated: not the public record

    @property
    def registration_number(self) -> str | None:
        """The process's diarienummer: the instance's own, else the definition's."""
        return self.instance.registration_number or self.definition.registration_number

    def marks(self) -> list[str]:
        """What a person must read before the rest: the record is invented, or simulated."""
        return [*([self.illustrative] if self.illustrative else []), *([_(SIMULATED_MARK)] if self.simulated else [])]


SIMULATED_MARK = N_("SIMULERAD: lagret skrevs med fast klocka (SAMVERKAN_NOW) och är inte det offentliga diariet; "
                    "tiderna i det är valda, inte verkliga")


def illustrative_mark(note: str | None) -> str:
    return f"{_(ILLUSTRATIVE)}. {note}" if note else _(ILLUSTRATIVE)


@lru_cache(maxsize=32)
def definition_from_text(sha256: str, text: str) -> Definition:
    """Parsing a definition costs ~40 ms; an instance's text never changes, so keep it."""
    return parse_definition(text, f"stored definition {sha256[:12]}").definition


_PARSED: dict[str, Definition] = {}  # by the stored text's sha256, for stored_definition


def stored_definition(row: DefinitionRow) -> Definition:
    """The definition a stored row pins. The text (some 30 KB) is fetched from the database
    only the first time its sha256 is seen (`load` defers it): loading every instance in a
    sweep read it each time."""
    found = _PARSED.get(row.sha256)
    if found is None:
        found = definition_from_text(row.sha256, row.text)
        if len(_PARSED) >= 32:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[row.sha256] = found
    return found


def start_instance(
    db: Database,
    loaded: LoadedDefinition,
    actor: str,
    clock: Clock,
    instance_id: str | None = None,
    started_at: pendulum.DateTime | None = None,
    history: list[TransitionRequest] | None = None,
    history_source: str = "history",
    illustrative: str | None = None,
    registration_number: str | None = None,
) -> str:
    """Start an instance. `registration_number`: its diarienummer, where the definition gives
    none or the registry gave this instance another. `illustrative`, the mark of an invented history (see
    `illustrative_mark`), is kept without a schema change: in the record of the instance's
    first audit row (the start's own release, which records nothing else), and in the reason
    of every transition the history applies, so each exported row says it too."""
    history = history or []
    if instance_id is not None and (len(instance_id) > MAX_INSTANCE_ID or not SLUG.fullmatch(instance_id)):
        raise SamverkanError(_("--instance: {value} är inget giltigt id: använd små bokstäver a–z, siffror 0–9 och "
                               "bindestreck", value=shown(instance_id)))
    try:
        with db.transaction() as session:
            now = write_time(session, clock)
            # A process under way began at the first date its definition or its history names, not
            # when it was entered here; back-dated transitions are then allowed from that day on.
            started = started_at or min([*(r.at for r in history), earliest_date(loaded.definition), now])
            if started > now:
                raise SamverkanError(_("starten {time} ligger i framtiden", time=started.in_timezone(TIMEZONE).to_datetime_string()))
            definition_row = _register_definition(session, loaded, now)
            instance_id = instance_id or _free_instance_id(session, loaded.definition.id)
            if session.get(InstanceRow, instance_id) is not None:
                raise SamverkanError(_("instansen {value} finns redan", value=shown(instance_id)))
            instance = InstanceRow(id=instance_id, definition_id=definition_row.id, started_at=started,
                                   created_at=now, started_by=actor, last_seq=0, registration_number=registration_number)
            session.add(instance)
            state, changes = engine.start(loaded.definition, started)
            rows = {node: NodeRow(instance_id=instance_id, key=node.key, stage=node.stage, party=node.party,
                                  state=s.state, record={}) for node, s in state.items()}
            session.add_all(rows.values())
            _write(session, loaded.definition, instance, rows, changes, actor, now, None)
            if illustrative:
                first = session.scalars(select(TransitionRow).where(TransitionRow.instance_id == instance_id,
                                                                    TransitionRow.seq == 1)).one()
                first.record = {"illustrative": True, "note": illustrative}
                invented = _(_ILLUSTRATIVE_REASON)
                history = [replace(r, reason=f"{invented}: {r.reason}" if r.reason else invented)
                           for r in history]
            current = dict(state)
            for change in changes:
                current[change.node] = change.after
            for index, request in enumerate(history):
                try:
                    applied = engine.decide(loaded.definition, current, request, now)
                except SamverkanError as error:
                    raise SamverkanError(*(f"{history_source}: transitions[{index}] ({_label(request)}): {p}"
                                           for p in error.problems)) from None
                _write(session, loaded.definition, instance, rows, applied, actor, now, request)
                for change in applied:
                    current[change.node] = change.after
            crash_point("start-flushed", session)
    except IntegrityError:
        raise SamverkanError(_("instansen {value} finns redan (skapad i samma ögonblick)", value=shown(instance_id))) from None
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
        raise SamverkanError(_(
            "{source}: {process} version {version} används redan med annat innehåll (från {earlier}); höj `version` "
            "i filen för att starta med den ändrade definitionen", source=loaded.source, process=d.id, version=d.version,
            earlier=row.source))
    return row


def _free_instance_id(session: Session, process_id: str) -> str:
    taken = set(session.scalars(select(InstanceRow.id).where(InstanceRow.id.like(f"{process_id}%"))))
    if process_id not in taken:
        return process_id
    return next(f"{process_id}-{n}" for n in range(2, len(taken) + 3) if f"{process_id}-{n}" not in taken)


def load(session: Session, instance_id: str | None, lock: bool = False) -> Loaded:
    instance_id = instance_id or _only_instance(session)
    query = select(InstanceRow).where(InstanceRow.id == instance_id).options(
        joinedload(InstanceRow.definition).defer(DefinitionRow.text))  # see stored_definition
    if lock:
        query = query.with_for_update(of=InstanceRow)  # PostgreSQL: transitions on one instance queue here
    instance = session.scalars(query).first()
    if instance is None:
        known = sorted(session.scalars(select(InstanceRow.id)))
        raise SamverkanError(_("okänd instans {value}; de som finns: {known}", value=shown(instance_id),
                               known=", ".join(known) or _("inga (samverkan start)")))
    definition = stored_definition(instance.definition)
    rows = {Node(r.stage, r.party): r for r in session.scalars(select(NodeRow).where(NodeRow.instance_id == instance.id))}
    state = {node: NodeState(r.state, r.ready_at, r.started_at, r.completed_at, r.changed_at, dict(r.record or {}))
             for node, r in rows.items()}
    return Loaded(instance, definition, rows, state, illustrative_of(session, instance.id), clock_mode.mode(session) == clock_mode.SIMULATED)


def illustrative_of(session: Session, instance_id: str) -> str | None:
    """The illustrative mark stored at the start, or None for a real instance."""
    first = session.scalars(select(TransitionRow.record).where(TransitionRow.instance_id == instance_id,
                                                              TransitionRow.seq == 1)).first()
    if isinstance(first, dict) and first.get("illustrative") is True:
        return str(first.get("note") or _(ILLUSTRATIVE))
    return None


def _only_instance(session: Session) -> str:
    ids = sorted(session.scalars(select(InstanceRow.id)))
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise SamverkanError(_("det finns ingen processinstans ännu; starta en med `samverkan start PATH`"))
    raise SamverkanError(_("det finns {count} instanser; ange en: {ids}", count=len(ids), ids=", ".join(ids)))


def transition(db: Database, instance_id: str, request: TransitionRequest, actor: Actor, clock: Clock,
               key: str | None = None) -> list[Change]:
    """Apply one transition and all it causes, atomically; or refuse it and change nothing
    (a refusal for want of permission is itself recorded).

    With a `key` (a form's answer: its run and input) the request is recorded at most once:
    the key is written in the same transaction, and the same key again changes nothing and
    returns no changes (or raises the refusal it met the first time). So an answer can be
    recorded before it is deleted from Prefect, and recorded again after a crash, safely."""
    refusal: str | None = None
    try:
        with db.transaction() as session:
            loaded = load(session, instance_id, lock=True)
            if key is not None and (earlier := session.get(RequestKeyRow, key)) is not None:
                if earlier.outcome == "applied":
                    return []
                refusal = session.scalars(select(TransitionRow.refusal).where(
                    TransitionRow.instance_id == loaded.instance.id, TransitionRow.seq == earlier.seq)).first() or _("avvisat")
                raise TransitionRefused(refusal)
            now = write_time(session, clock)
            _stage, node = engine.resolve(loaded.definition, request)
            # The whole request is checked before anything is written, a refusal included: the
            # public record holds only requests that would have been valid from someone allowed.
            changes = engine.decide(loaded.definition, loaded.state, request, now)
            answering = engine.answering_party(loaded.definition, loaded.state, request)
            if not may_transition(actor, node, answering):
                refusal = _("{email} får inte ändra {node}; det får bara {who}", email=actor.email,
                            node=node_name(loaded.definition, node), who=who_may(loaded.definition, node, answering))
                seq = _record_refusal(session, loaded.instance, node, loaded.state[node].state, request, actor.email, now, refusal)
            else:
                _write(session, loaded.definition, loaded.instance, loaded.rows, changes, actor.email, now, request)
                _queue_notices(session, loaded, changes, now)
                _withdraw_codes(session, loaded, changes, now)
                seq = loaded.instance.last_seq
            if key is not None:
                session.add(RequestKeyRow(key=key, instance_id=loaded.instance.id, seq=seq,
                                          outcome="refused" if refusal else "applied", recorded_at=now))
            crash_point("transition-flushed", session)
    except StaleDataError:
        raise StoreUnavailable(_("instansen ändrades medan övergången gjordes; inget registrerades, försök igen")) from None
    if refusal:
        raise TransitionRefused(refusal)
    crash_point("transition-committed", None)
    return changes


def resolve_warnings(db: Database, instance_id: str, resolution: engine.Resolution, actor: Actor,
                     clock: Clock) -> tuple[Change, str]:
    """The office resolves a recorded decision's warnings (a decision by another body than the
    definition names), in one transaction: the record keeps the warning, marked resolved, and
    the audit trail a row with who, when and why. Only the director's office may. Returns the
    change and, in Swedish, whose decision it was."""
    refusal: str | None = None
    try:
        with db.transaction() as session:
            loaded = load(session, instance_id, lock=True)
            now = write_time(session, clock)
            change = engine.resolve_warnings(loaded.definition, loaded.state, replace(resolution, by=actor.email), now)
            request = TransitionRequest(change.node.stage, change.node.party, change.after.state, resolution.at,
                                        reason=resolution.reason.strip())
            if not actor.is_director_office:
                refusal = f"{actor.email} får inte reda ut varningar; det gör regionala utvecklingsdirektörens kansli"
                _record_refusal(session, loaded.instance, change.node, change.before, request, actor.email, now, refusal)
            else:
                _write(session, loaded.definition, loaded.instance, loaded.rows, [change], actor.email, now, request)
            stage = loaded.definition.stage(change.node.stage)
            whose = f"{loaded.definition.party(change.node.party or stage.owner).name}, {stage.name}"
    except StaleDataError:
        raise StoreUnavailable(f"{resolution.stage}: the instance changed meanwhile; nothing was recorded, try again") from None
    if refusal:
        raise TransitionRefused(refusal)
    return change, whose


def _withdraw_codes(session: Session, loaded: Loaded, changes: list[Change], now: pendulum.DateTime) -> None:
    """A decision taken spends every live one-time code for it (samverkan.codes), in the same
    transaction: a code in an old reminder can no longer touch a finished branch."""
    for change in changes:
        stage = loaded.definition.stage(change.node.stage)
        if engine.kind_of(loaded.definition, stage, change.after.state) not in (StateKind.done, StateKind.failed):
            continue
        party = CodeRow.party.is_(None) if change.node.party is None else CodeRow.party == change.node.party
        session.execute(update(CodeRow).where(CodeRow.instance_id == loaded.instance.id, CodeRow.stage == change.node.stage,
                                              party, CodeRow.spent_at.is_(None)).values(spent_at=now, spent_how="withdrawn"))


def _queue_notices(session: Session, loaded: Loaded, changes: list[Change], now: pendulum.DateTime) -> None:
    """The notices a transition causes (a ready notice, a confirmation), in its own transaction:
    committed together with the change, or not at all."""
    from samverkan.notices import outbox
    from samverkan.notices.policy import evaluate, event_notices

    after = dict(loaded.state)
    for change in changes:
        after[change.node] = change.after
    with speaking(loaded.definition.notices.language):  # what a notice says is in its own language
        ev = evaluate(loaded.definition, after, now, loaded.instance.id, loaded.marks())
        notices = event_notices(ev, changes)
    outbox.queue(session, notices, now, f"transition #{loaded.instance.last_seq}")


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
                    actor: str, now: pendulum.DateTime, refusal: str) -> int:
    """A refused attempt, kept short: the request is valid (checked first), but whoever made
    it was not allowed, so what it says is kept only as far as it identifies the attempt. One
    row per actor, branch and day: a later attempt that day adds to its count, so an outsider
    cannot fill the public record. Returns the row's seq."""
    local = now.in_timezone(TIMEZONE)
    day_start = local.start_of("day").in_timezone("UTC")
    earlier = session.scalars(select(TransitionRow).where(
        TransitionRow.instance_id == instance.id, TransitionRow.outcome == "refused", TransitionRow.actor == actor,
        TransitionRow.node_key == node.key, TransitionRow.recorded_at >= day_start,
        TransitionRow.recorded_at < day_start.add(days=1)).order_by(TransitionRow.seq.desc()).limit(1)).first()
    if earlier is not None:
        earlier.attempts = (earlier.attempts or 1) + 1
        session.flush()
        return earlier.seq
    instance.last_seq += 1
    session.add(TransitionRow(
        instance_id=instance.id, seq=instance.last_seq, node_key=node.key, stage=node.stage, party=node.party,
        from_state=state, to_state=request.to, automatic=False, caused_by_seq=None, actor=actor,
        occurred_at=request.at, recorded_at=now, reason=_cut(request.reason), reference=_cut(request.reference),
        record={key: _cut(value) for key, value in request.fields.items()} or None, outcome="refused", refusal=refusal,
    ))
    return instance.last_seq


REFUSED_TEXT_LIMIT = 120


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= REFUSED_TEXT_LIMIT else text[: REFUSED_TEXT_LIMIT - 1] + "…"


def set_registration_number(db: Database, instance_id: str | None, number: str, actor: Actor) -> str:
    """Give an instance the process's diarienummer (the director's office only); returns the
    instance's id. The registry's number, as it is written: text, not checked against a form."""
    if not actor.is_director_office:
        raise SamverkanError(f"{actor.email} får inte ange processens diarienummer; det får bara utvecklingsdirektörens kansli")
    with db.transaction() as session:
        loaded = load(session, instance_id, lock=True)
        loaded.instance.registration_number = number
        return loaded.instance.id


def audit_rows(db: Database, instance_id: str | None) -> tuple[str, Definition, list[TransitionRow], str | None]:
    with db.read() as session:
        loaded = load(session, instance_id)
        rows = list(session.scalars(select(TransitionRow).where(TransitionRow.instance_id == loaded.instance.id).order_by(TransitionRow.seq)))
        return loaded.instance.id, loaded.definition, rows, loaded.illustrative


def instance_count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(InstanceRow)) or 0
