"""The sweep: queue what every active instance prescribes now, then deliver the outbox.

Queueing is one transaction per instance. Delivery claims rows in batches (a lease), sends
each through a `Sender`, and records the outcomes; a notice that became pointless meanwhile
is cancelled with the reason, and nothing goes out outside the sending hours."""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Protocol

import pendulum
from sqlalchemy import func, select

from samverkan.asyncrun import run_async
from samverkan.calendar import TIMEZONE, is_business_day
from samverkan.clock import Clock
from samverkan.engine import InstanceState
from samverkan.errors import SamverkanError
from samverkan import codes
from samverkan.actors import normalize_email
from samverkan.graph import Node
from samverkan.i18n import speaking
from samverkan.instances import Loaded, load
from samverkan.planner import Plan
from samverkan.process_definitions.model import Definition
from samverkan.store import clock_mode
from samverkan.store.database import Database
from samverkan.store.models import InstanceRow, NoticeRow
from samverkan.text import safe_line

from . import outbox
from .model import Credentials, Notice, link_mark
from .outbox import Outcome, Result
from .policy import Evaluation, due_notices, evaluate, pointless


LEASE_MARGIN_SECONDS = 30  # no send starts this close to the end of the claim's lease


@dataclass(frozen=True)
class SendResult:
    result: Result
    reason: str | None = None
    message_id: str | None = None
    unreachable: bool = False  # the mail server did not answer or refused the connection


# After this many notices in a row could not reach the mail server (timed out, refused,
# dropped), the sweep stops trying in this run: against a server that accepts connections and
# never answers, each try costs the whole timeout. What is left stays queued, with the reason.
BREAKER_AFTER = 2


@dataclass
class Breaker:
    """Counts the notices in a row that could not reach the mail server; open once there are
    BREAKER_AFTER, with the last reason."""

    in_a_row: int = 0
    reason: str | None = None

    @property
    def open(self) -> bool:
        return self.reason is not None

    def saw(self, result: SendResult) -> None:
        if result.unreachable:
            self.in_a_row += 1
            if self.in_a_row >= BREAKER_AFTER and self.reason is None:
                self.reason = result.reason or "e-postservern svarar inte"
        elif result.result is not Result.cancelled:
            self.in_a_row = 0


class Sender(Protocol):
    concurrency: int  # notices in flight at once

    def prepare(self, notice: Notice, now: pendulum.DateTime) -> tuple[bytes, str]:
        """The message as it will be sent, and its Message-ID; a SamverkanError if it cannot be made."""

    async def send(self, notice: Notice, now: pendulum.DateTime, message: bytes | None,
                   credentials: Credentials | None = None) -> SendResult:
        """Send the prepared message (or prepare it now, when it has none), with `credentials`
        put in where it says how to act."""

    async def close(self) -> None: ...


# Where the branch's waiting form is, for a message that says how to act: given by the shell
# that knows the dashboard (the sweep flow asks Prefect); None where none is known.
FormLinks = Callable[[str, Node], "str | None"]


def credentials_for(db: Database, notice: Notice, now: pendulum.DateTime, form_links: FormLinks | None) -> Credentials:
    """A new one-time code for the recipient (if their roles permit the branch: samverkan.codes)
    and the address of the branch's form, for one send of `notice`."""
    node = Node(notice.stage, notice.party or None)
    code = None
    if notice.recipient is not None:
        try:
            email = normalize_email(notice.recipient.email, "recipient")
            with db.transaction() as session:
                code = codes.issue_in(session, email, notice.instance_id, node, now, f"påminnelse {notice.kind_label}")
        except SamverkanError:
            code = None  # an address no actor can have: the message says how to get a code
    return Credentials(code, _form_link(form_links, notice.instance_id, node))


def links_for(notice: Notice, form_links: FormLinks | None) -> Credentials:
    """The page of each branch a digest names, for one send of it."""
    links = tuple((link_mark(stage, party), _form_link(form_links, notice.instance_id, Node(stage, party)))
                  for stage, party in notice.facts["links"])
    return Credentials(None, None, links)


def _form_link(form_links: FormLinks | None, instance_id: str, node: Node) -> str | None:
    """The form's address, if the dashboard can say; a dashboard that cannot (no branch
    deployment yet, Prefect unreachable) costs the message its link, not its delivery: it then
    says to ask the office for the address."""
    if form_links is None:
        return None
    try:
        return form_links(instance_id, node)
    except Exception:  # noqa: BLE001 - any failure of the dashboard's API: the mail goes without the link
        return None


@dataclass
class SweepReport:
    now: pendulum.DateTime
    queued: int = 0
    would_queue: list[Notice] = field(default_factory=list)  # --dry-run: new notices
    would_send: int = 0  # --dry-run: queued notices due now
    sent: int = 0
    retried: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: list[tuple[str, str]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # instances outside their sending hours now
    # The mail server could not be reached several times in a row: the sweep stopped trying.
    stopped: str | None = None


def in_sending_hours(definition: Definition, now: pendulum.DateTime) -> bool:
    local = now.in_timezone(TIMEZONE)
    hhmm = local.format("HH:mm")
    return is_business_day(local.date()) and definition.notices.send_from <= hhmm <= definition.notices.send_until


def active_instances(db: Database, instance_id: str | None = None) -> list[str]:
    with db.read() as session:
        if instance_id:
            return [load(session, instance_id).instance.id]  # an unknown id is refused in one line
        return list(session.scalars(select(InstanceRow.id).order_by(InstanceRow.id)))


class Plans:
    """The plans the queueing made, for the delivery to reuse. A plan is a pure function of the
    definition, the state and the day, and it is most of what evaluating an instance costs:
    delivery, which evaluates every instance with work again, takes the plan made when the
    instance was queued if its state is still the same and the day too, and plans anew if not
    (a transition in between, or a sweep across midnight)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Definition, InstanceState, pendulum.Date, Plan]] = {}

    def keep(self, ev: Evaluation) -> None:
        self._kept[ev.instance_id] = (ev.definition, ev.state, _day(ev.now), ev.plan)

    def get(self, loaded: Loaded, now: pendulum.DateTime) -> Plan | None:
        kept = self._kept.get(loaded.instance.id)
        if kept is None:
            return None
        definition, state, day, plan = kept
        same = definition is loaded.definition and day == _day(now) and state == loaded.state
        return plan if same else None


def _day(moment: pendulum.DateTime) -> pendulum.Date:
    return moment.in_timezone(TIMEZONE).date()


def _evaluation(session, loaded: Loaded, now: pendulum.DateTime) -> Evaluation:
    """As the policy sees the instance when it queues: with the failed notices the digest lists."""
    return evaluate(loaded.definition, loaded.state, now, loaded.instance.id, loaded.marks(),
                    outbox.failed_for_digest(session, loaded.instance.id))


def _due(session, loaded: Loaded, now: pendulum.DateTime) -> tuple[Evaluation, list[Notice]]:
    """What is due, its facts said in the language the notices are written in (the definition's),
    whatever language this process speaks."""
    with speaking(loaded.definition.notices.language):
        ev = _evaluation(session, loaded, now)
        return ev, due_notices(ev)


def queue_due(db: Database, clock: Clock, report: SweepReport, instance_id: str | None = None, dry_run: bool = False,
              sender: Sender | None = None, plans: Plans | None = None) -> None:
    """Queue every notice due at the clock's time, one transaction per instance; with a sender,
    render each new one in the same transaction (a notice that cannot be made fails there).
    `plans` keeps each instance's plan for the delivery that follows."""
    for name in active_instances(db, instance_id):
        if dry_run:
            with db.read() as session:
                loaded = load(session, name)
                notices = _due(session, loaded, report.now)[1]
                known = outbox.known_keys(session, name)
                report.would_queue += [n for n in notices if n.key not in known]
            continue
        with db.transaction() as session:
            now = clock_mode.write_time(session, clock)
            loaded = load(session, name)
            ev, notices = _due(session, loaded, now)
            report.queued += outbox.queue(session, notices, now, "sweep")
            if plans is not None:
                plans.keep(ev)
            if sender is not None:
                report.failed += outbox.prepare(session, name, lambda notice: sender.prepare(notice, now))


def sweeper_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def deliver_due(db: Database, clock: Clock, sender: Sender, report: SweepReport, instance_id: str | None = None,
                      batch: int = 50, plans: Plans | None = None, form_links: FormLinks | None = None) -> None:
    """Send what is due in the outbox; every outcome recorded, none lost. `plans`: what the
    queueing planned, reused where the instance has not changed since."""
    now = report.now
    who = sweeper_name()
    breaker = Breaker()
    with db.read() as session:
        names = outbox.instances_with_work(session, now, pendulum.now("UTC"))
    for name in names:
        if instance_id and name != instance_id:
            continue
        if breaker.open:
            break
        with db.read() as session:  # for the sending hours and what became pointless
            loaded = load(session, name)
        if not in_sending_hours(loaded.definition, now):  # the definition says: no need to evaluate
            report.closed.append(name)
            continue
        ev = evaluate(loaded.definition, loaded.state, now, loaded.instance.id, loaded.marks(),
                      planned=plans.get(loaded, now) if plans else None)
        while True:
            claimed_at = pendulum.now("UTC")
            with db.transaction() as session:
                claimed = [(row.id, outbox.notice_of(row), row.message)
                           for row in outbox.claim(session, name, now, claimed_at, who, batch)]
            if not claimed:
                break
            # Stop sending what the lease no longer covers: another sweep may have taken it over.
            lease = outbox.lease_seconds()  # 0: no lease (one sweep at a time, as in tests)
            lease_ends = claimed_at.add(seconds=lease - min(LEASE_MARGIN_SECONDS, lease / 10)) if lease else None
            await _send_batch(db, ev, sender, claimed, report, who, lease_ends, breaker, form_links)
            if breaker.open:
                report.stopped = (f"e-postservern gick inte att nå {breaker.in_a_row} gånger i rad ({breaker.reason}); "
                                  "resten av utskicken väntar kvar i kön till nästa utskick")
                with db.transaction() as session:
                    outbox.note_waiting(session, f"väntar: {report.stopped}", now, pendulum.now("UTC"))
                break


async def _send_batch(db: Database, ev: Evaluation, sender: Sender, claimed: list[tuple[int, Notice, bytes | None]],
                      report: SweepReport, who: str, lease_ends: pendulum.DateTime | None, breaker: Breaker | None = None,
                      form_links: FormLinks | None = None) -> None:
    """Send the claimed notices; a recorder commits outcomes as they come (group commit, in a
    thread, while sending goes on), so a crash can forget at most the few sent meanwhile."""
    pending: list[Outcome] = []
    limit = asyncio.Semaphore(max(1, sender.concurrency))
    arrived = asyncio.Event()
    sending_done = False

    def record(outcomes: list[Outcome]) -> None:
        with db.transaction() as session:
            outbox.record(session, outcomes, ev.now, who)

    async def recorder() -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            while pending:
                taken = pending[:]
                del pending[:len(taken)]
                await asyncio.to_thread(record, taken)
            if sending_done:
                return

    async def one(row_id: int, notice: Notice, message: bytes | None) -> None:
        try:
            why = pointless(ev, notice.kind, notice.stage, notice.party, notice.due_date, notice.facts)
            if why:
                result = SendResult(Result.cancelled, why)
            else:
                async with limit:
                    if lease_ends is not None and pendulum.now("UTC") >= lease_ends:
                        return  # left in `sending`: the next sweep takes it when the lease has run out
                    if breaker is not None and breaker.open:
                        result = SendResult(Result.retry, f"inte försökt: e-postservern svarade inte ({breaker.reason})")
                    else:
                        credentials = None
                        if notice.facts.get("form_code"):
                            credentials = await asyncio.to_thread(credentials_for, db, notice, ev.now, form_links)
                        elif notice.facts.get("links"):
                            credentials = await asyncio.to_thread(links_for, notice, form_links)
                        result = await sender.send(notice, ev.now, message, credentials)
                        if breaker is not None:
                            breaker.saw(result)
        except Exception as error:  # noqa: BLE001 - one notice's trouble must not cost the others their record
            result = SendResult(Result.retry, safe_line(f"{type(error).__name__}: {error}"))
        pending.append(Outcome(row_id, result.result, result.reason, result.message_id))
        _count(report, notice.key, result)
        arrived.set()

    recording = asyncio.create_task(recorder())
    try:
        await asyncio.gather(*(one(*item) for item in claimed))
    finally:
        sending_done = True  # what was sent is recorded even when the batch stops half-way
        arrived.set()
        await recording


def _count(report: SweepReport, key: str, result: SendResult) -> None:
    if result.result is Result.sent:
        report.sent += 1
    elif result.result is Result.retry:
        report.retried.append((key, result.reason or ""))
    elif result.result is Result.failed:
        report.failed.append((key, result.reason or ""))
    else:
        report.cancelled.append((key, result.reason or ""))


def due_for_sending(db: Database, now: pendulum.DateTime, instance_id: str | None = None) -> int:
    """--dry-run: how many queued notices a sweep now would try to send."""
    with db.read() as session:
        query = select(func.count()).select_from(NoticeRow).where(outbox.claimable(now, pendulum.now("UTC")))
        if instance_id:
            query = query.where(NoticeRow.instance_id == instance_id)
        return session.scalar(query) or 0


def sweep(db: Database, clock: Clock, sender: Sender | None, instance_id: str | None = None, dry_run: bool = False,
          deliver: bool = True, form_links: FormLinks | None = None) -> SweepReport:
    """Queue, then deliver: what `samverkan sweep` and the sweep deployment run."""
    report = SweepReport(now=clock.now())
    plans = Plans()
    queue_due(db, clock, report, instance_id, dry_run, sender, plans)
    if dry_run:
        report.would_send = due_for_sending(db, report.now, instance_id)
        return report
    if deliver:
        if sender is None:
            raise SamverkanError("no mail server configured: set SAMVERKAN_SMTP_HOST and SAMVERKAN_SMTP_FROM (see README)")
        run_async(_deliver_and_close(db, clock, sender, report, instance_id, plans, form_links))
    return report


async def _deliver_and_close(db: Database, clock: Clock, sender: Sender, report: SweepReport, instance_id: str | None,
                             plans: Plans, form_links: FormLinks | None = None) -> None:
    try:
        await deliver_due(db, clock, sender, report, instance_id, plans=plans, form_links=form_links)
    finally:
        await sender.close()


__all__ = ["Sender", "SendResult", "SweepReport", "deliver_due", "in_sending_hours", "queue_due", "sweep"]
