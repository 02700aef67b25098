"""A whole process in simulated time, with everything real but the clock: a fresh store
(SQLite, in a temporary folder, marked simulated), the engine's transitions as a scenario
makes them, and each simulated weekday at 08:00 the sweep, which queues, renders and sends
every notice due over SMTP to a server inside the process.

The clock jumps from one moment to the next (a sweep, a transition); nothing waits. A run
ends at `until`, or once the process is complete and the outbox has sent all it holds."""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pendulum
from sqlalchemy import func, select

from samverkan import engine
from samverkan.actors import grant_role
from samverkan.auth import Actor, Grant, GrantRole
from samverkan.calendar import TIMEZONE
from samverkan.clock import FixedClock
from samverkan.graph import Node
from samverkan.instances import earliest_date, load, start_instance, transition
from samverkan.notices.sweep import sweep
from samverkan.notifications.sender import MailSender
from samverkan.notifications.smtp_settings import SmtpSettings
from samverkan.planner import plan
from samverkan.process_definitions import LoadedDefinition
from samverkan.process_definitions.model import Definition
from samverkan.store.database import Database
from samverkan.store.models import NoticeRow

from .mailbox import Delivered, Mailbox
from .runs import completed_on, fixed_day
from .scenario import Scenario
from .script import Act, Script, apply, local_day

INSTANCE = "simulering"
ACTOR = Actor("simulering@samverkan.example.org", (Grant(GrantRole.director_office),))
SENDER = "Samverkan (simulering) <simulering@samverkan.example.org>"
SWEEP_HOUR = 8


@dataclass(frozen=True)
class StageRow:
    node: Node
    name: str
    party_name: str | None
    planned_finish: pendulum.Date
    planned_deadline: pendulum.Date
    hard: bool
    ready_at: pendulum.DateTime | None
    simulated_done: pendulum.Date | None
    state: str
    state_name: str
    outside: bool

    @property
    def days_late(self) -> int | None:
        """Past its planned deadline: by how many days; None when in time or not due yet."""
        if self.simulated_done is None:
            return None
        late = (self.simulated_done - self.planned_deadline).days
        return late if late > 0 else None


@dataclass
class Timeline:
    definition: Definition
    scenario: Scenario
    seed: int
    start: pendulum.DateTime
    until: pendulum.Date
    stages: list[StageRow] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)
    notices: list[Delivered] = field(default_factory=list)
    sweeps: list[pendulum.DateTime] = field(default_factory=list)
    completed_on: pendulum.Date | None = None
    in_force_on: pendulum.Date | None = None
    outbox: dict[str, int] = field(default_factory=dict)  # notices left by state (queued, failed …)
    seconds: float = 0.0

    @property
    def notices_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(n.kind for n in self.notices).items()))

    @property
    def notices_by_recipient(self) -> dict[str, int]:
        return dict(sorted(Counter(n.recipient for n in self.notices).items(), key=lambda item: (-item[1], item[0])))

    def missed_by_party(self) -> list[StageRow]:
        """Per party, the first of its branches that missed a hard deadline (what follows it
        misses too): the parties that do not make it."""
        first: dict[str, StageRow] = {}
        for row in self.missed_hard():
            if row.node.party and row.node.party not in first:
                first[row.node.party] = row
        return list(first.values())

    def missed_hard(self) -> list[StageRow]:
        """Branches and stages with a hard deadline not done by it, save those outside."""
        return [row for row in self.stages if row.hard and not row.outside
                and (row.simulated_done is None or row.simulated_done > row.planned_deadline)
                and row.planned_deadline <= self.until]


class _Clock(FixedClock):
    """The simulation's clock: pinned (the store is simulated), moved by the run."""


def simulate(loaded: LoadedDefinition, until: pendulum.Date, scenario: Scenario, seed: int,
             mail_dir: Path | None = None) -> Timeline:
    started = time.perf_counter()
    definition = loaded.definition
    start = earliest_date(definition)
    timeline = Timeline(definition, scenario, seed, start, until)
    # In memory where the system offers it (tmpfs): a throwaway store need not wait for the disk.
    memory = Path("/dev/shm")
    folder_in = str(memory) if memory.is_dir() and os.access(memory, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="samverkan-simulering-", dir=folder_in) as folder, Mailbox(mail_dir) as mailbox:
        db = Database(f"sqlite:///{Path(folder) / 'simulering.db'}")
        try:
            _run(db, loaded, timeline, mailbox)
        finally:
            db.close()
    timeline.seconds = time.perf_counter() - started
    return timeline


def _run(db: Database, loaded: LoadedDefinition, timeline: Timeline, mailbox: Mailbox) -> None:
    definition = loaded.definition
    clock = _Clock(timeline.start)
    start_instance(db, loaded, ACTOR.email, clock, instance_id=INSTANCE)
    _grant_contacts(db, definition, clock)
    with db.read() as session:
        state = dict(load(session, INSTANCE).state)
    script = Script(definition, timeline.scenario, random.Random(timeline.seed), record_minutes=True)
    pending: list[Act] = script.next_acts(state, timeline.start.date())
    settings = SmtpSettings(sender=SENDER, host=mailbox.host, port=mailbox.port, security="none", rate=0)
    day = local_day(timeline.start)
    while day <= timeline.until:
        moment = pendulum.datetime(day.year, day.month, day.day, SWEEP_HOUR, tz=TIMEZONE)
        if day.day_of_week not in (pendulum.SATURDAY, pendulum.SUNDAY) and moment > timeline.start:
            clock.at = moment
            mailbox.day = day
            sweep(db, clock, MailSender(settings), form_links=_simulated_form)  # a sweep closes its sender, as a real one does
            timeline.sweeps.append(moment)
            if timeline.completed_on and not _outbox_busy(db):
                break  # complete, and every notice it caused has gone
        while due := sorted((a for a in pending if a.day <= day), key=lambda a: (a.day, a.node.key)):
            act = due[0]  # one at a time: an act can open nodes whose own acts fall on this day too
            pending.remove(act)
            clock.at = act.at
            changes = transition(db, INSTANCE, act.request(), ACTOR, clock)
            apply(state, changes)
            timeline.acts.append(act)
            pending += script.next_acts(state, day, [c.node for c in changes])
        if timeline.completed_on is None:
            timeline.completed_on = completed_on(definition, state)  # None while anything is open
        day = day.add(days=1)
    timeline.notices = list(mailbox.received)
    timeline.stages = _rows(definition, state)
    timeline.in_force_on = max((r.simulated_done for r in timeline.stages if fixed_day(definition.stage(r.node.stage))
                                and r.simulated_done and r.node.party is None), default=None) if timeline.completed_on else None
    with db.read() as session:
        timeline.outbox = dict(session.execute(select(NoticeRow.state, func.count()).group_by(NoticeRow.state)).all())


def _grant_contacts(db: Database, definition: Definition, clock: _Clock) -> None:
    """As the office sets a process up: each party's contacts may decide their party's
    branches, so that every reminder brings its recipient a one-time code."""
    for party in definition.parties:
        for contact in party.contacts:
            grant_role(db, contact.email, Grant(GrantRole.party_contact, party=party.id), ACTOR, clock, name=contact.name,
                       known=[definition])


def _simulated_form(instance_id: str, node: Node) -> str:
    """Where the branch's form would be: the dashboard's public address (PREFECT_UI_URL, as
    the real link is made) and a run id fixed by the branch, since no Prefect runs here."""
    base = os.environ.get("PREFECT_UI_URL", "http://127.0.0.1:4200").rstrip("/")
    return f"{base}/runs/flow-run/{uuid.uuid5(uuid.NAMESPACE_URL, f'samverkan:{instance_id}:{node.key}')}"


def _outbox_busy(db: Database) -> bool:
    with db.read() as session:
        return session.scalars(select(NoticeRow.id).where(NoticeRow.state.in_(("queued", "sending"))).limit(1)).first() is not None


def _rows(definition: Definition, state) -> list[StageRow]:
    planned = plan(definition)
    away = engine.outside(definition, state)
    rows = []
    for item in planned.nodes:
        current = state[item.node]
        stage = definition.stage(item.node.stage)
        lifecycle = definition.lifecycle(stage.lifecycle)
        rows.append(StageRow(
            item.node, item.name, item.party_name, item.planned_finish, item.deadline, item.hard, current.ready_at,
            local_day(current.completed_at) if current.completed_at else None, current.state,
            next(s.name for s in lifecycle.states if s.id == current.state), item.node in away))
    return rows
