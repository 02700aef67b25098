"""The outbox in the store: queue a notice once, claim it for sending, record what came of it.

Queueing happens in the caller's transaction (a transition's, or the sweep's), so a state
change and the notices it causes are committed together. Claiming takes a lease: a sweep
that dies while sending leaves rows in `sending` until the lease runs out, then another
sweep sends them again; that message carries the same Message-ID (the one repeat a crash can
cause, after the server accepted it and before the row was marked sent)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pendulum
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from samverkan.errors import SamverkanError
from samverkan.store.models import NoticeRow

from .model import Notice, NoticeKind, OutboxState, Recipient, notice_key

GIVE_UP_AFTER = pendulum.duration(days=10)  # still failing this long after it was first due: failed
FIRST_RETRY = pendulum.duration(minutes=5)  # doubled per attempt …
LAST_RETRY = pendulum.duration(hours=4)  # … up to this


def lease_seconds() -> float:
    """How long a claimed row stays with the sweep that claimed it (SAMVERKAN_OUTBOX_LEASE)."""
    text = os.environ.get("SAMVERKAN_OUTBOX_LEASE", "300")
    try:
        value = float(text)
    except ValueError:
        raise SamverkanError(f"SAMVERKAN_OUTBOX_LEASE: {text!r} is not a number of seconds") from None
    if not 0 <= value <= 86400:
        raise SamverkanError(f"SAMVERKAN_OUTBOX_LEASE: {text!r} must be between 0 and 86400 seconds")
    return value


def queue(session: Session, notices: Iterable[Notice], now: pendulum.DateTime, by: str) -> int:
    """Insert the notices not queued before (by identity); returns how many were new. A notice
    without an address is queued already failed, with the reason: surfaced, never dropped."""
    notices = list(notices)
    if not notices:
        return 0
    known = known_keys(session, notices[0].instance_id) if len({n.instance_id for n in notices}) == 1 else set()
    values = [_values(n, now, by) for n in notices if n.key not in known]  # the insert below still guards a race
    if not values:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite  # here: `status` reads the outbox without them

    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(NoticeRow.__table__)
    identity = ["instance_id", "stage", "party", "kind", "due_date", "recipient"]
    # One statement with the rows as parameters (executemany, which SQLAlchemy sends as
    # multi-row inserts): compiled once and cached, where rows written into the statement
    # were compiled afresh for every instance, a third of the sweep's queueing. RETURNING
    # counts what was new: a multi-row insert's rowcount is -1 on PostgreSQL.
    statement = insert.on_conflict_do_nothing(index_elements=identity).returning(NoticeRow.__table__.c.id)
    return len(session.execute(statement, values).all())


def _values(notice: Notice, now: pendulum.DateTime, by: str) -> dict:
    missing = notice.recipient is None
    return dict(
        instance_id=notice.instance_id, stage=notice.stage, party=notice.party, kind=notice.kind_label,
        due_date=notice.due_date, recipient=notice.recipient.email.lower() if notice.recipient else "",
        recipient_name=notice.recipient.name if notice.recipient else None, language=notice.language,
        send_at=notice.send_at, facts=notice.facts, state=(OutboxState.failed if missing else OutboxState.queued).value,
        attempts=0, last_error=notice.missing_reason if missing else None, queued_at=now, queued_by=by[:64],
    )


def prepare(session: Session, instance_id: str, render: Callable[[Notice], tuple[bytes, str]]) -> list[tuple[str, str]]:
    """Render the instance's queued notices that have no message yet, and keep each message:
    a retry then sends exactly the same bytes. One that cannot be rendered (a template error,
    a malformed address, a header injection) is failed with its reason, alone; returns those
    as (key, reason)."""
    failed = []
    rows = session.scalars(select(NoticeRow).where(NoticeRow.instance_id == instance_id, NoticeRow.message.is_(None),
                                                   NoticeRow.state == OutboxState.queued.value))
    for row in rows:
        try:
            row.message, row.message_id = render(notice_of(row))
        except SamverkanError as error:
            row.state, row.last_error = OutboxState.failed.value, error.problems[0]
            failed.append((key_of(row), error.problems[0]))
    session.flush()
    return failed


def known_keys(session: Session, instance_id: str) -> set[str]:
    rows = session.execute(select(NoticeRow.stage, NoticeRow.party, NoticeRow.kind, NoticeRow.due_date, NoticeRow.recipient)
                           .where(NoticeRow.instance_id == instance_id))
    return {notice_key(instance_id, *row) for row in rows}


def key_of(row: NoticeRow) -> str:
    return notice_key(row.instance_id, row.stage, row.party, row.kind, row.due_date, row.recipient)


def notice_of(row: NoticeRow) -> Notice:
    """The notice a row holds, to render it."""
    base, _, sequence = row.kind.rpartition("-")  # before-2, overdue-3; on-day has no sequence
    kind, number = (NoticeKind(base), int(sequence)) if sequence.isdigit() else (NoticeKind(row.kind), 1)
    return Notice(
        instance_id=row.instance_id, kind=kind, sequence=number,
        stage=row.stage, party=row.party, due_date=pendulum.Date(row.due_date.year, row.due_date.month, row.due_date.day),
        send_at=pendulum.instance(row.send_at), recipient=Recipient(row.recipient, row.recipient_name) if row.recipient else None,
        facts=dict(row.facts), language=row.language,
    )


def instances_with_work(session: Session, now: pendulum.DateTime, real_now: pendulum.DateTime) -> list[str]:
    return list(session.scalars(select(NoticeRow.instance_id).where(claimable(now, real_now)).distinct().order_by(NoticeRow.instance_id)))


def claimable(now: pendulum.DateTime, real_now: pendulum.DateTime):
    waiting = and_(NoticeRow.state == OutboxState.queued.value, NoticeRow.send_at <= now,
                   or_(NoticeRow.next_attempt_at.is_(None), NoticeRow.next_attempt_at <= now))
    abandoned = and_(NoticeRow.state == OutboxState.sending.value, NoticeRow.claimed_until < real_now)
    return or_(waiting, abandoned)


def claim(session: Session, instance_id: str, now: pendulum.DateTime, real_now: pendulum.DateTime, who: str,
          limit: int = 200) -> list[NoticeRow]:
    """Take up to `limit` rows due for sending. PostgreSQL: rows another sweep holds are
    skipped (FOR UPDATE SKIP LOCKED); SQLite: the transaction's write lock serialises claims."""
    rows = list(session.scalars(
        select(NoticeRow).where(NoticeRow.instance_id == instance_id, claimable(now, real_now))
        .order_by(NoticeRow.send_at, NoticeRow.id).limit(limit).with_for_update(skip_locked=True)
    ))
    until = real_now.add(seconds=lease_seconds())
    for row in rows:
        row.state, row.claimed_until, row.claimed_by, row.attempts = OutboxState.sending.value, until, who[:200], row.attempts + 1
    session.flush()
    return rows


class Result(StrEnum):
    sent = "sent"
    retry = "retry"  # a temporary failure: try again later
    failed = "failed"  # a permanent one
    cancelled = "cancelled"  # pointless by now


@dataclass(frozen=True)
class Outcome:
    row_id: int
    result: Result
    reason: str | None = None
    message_id: str | None = None


def note_waiting(session: Session, reason: str, now: pendulum.DateTime, real_now: pendulum.DateTime) -> int:
    """Every queued row due now, left unsent by a sweep that stopped trying, says why; it stays
    queued (its attempts unchanged) for the next sweep. Returns how many."""
    result = session.execute(update(NoticeRow).where(NoticeRow.state == OutboxState.queued.value, claimable(now, real_now))
                             .values(last_error=reason))
    return result.rowcount or 0


def record(session: Session, outcomes: Sequence[Outcome], now: pendulum.DateTime, who: str) -> None:
    """What came of claimed rows; a row another sweep has taken over since (its lease ran out) is left to it."""
    rows = {r.id: r for r in session.scalars(select(NoticeRow).where(NoticeRow.id.in_([o.row_id for o in outcomes])))}
    for outcome in outcomes:
        row = rows.get(outcome.row_id)
        if row is None or row.state != OutboxState.sending.value or row.claimed_by != who[:200]:
            continue
        row.claimed_until = row.claimed_by = None
        row.message_id = outcome.message_id or row.message_id
        if outcome.result is Result.sent:
            row.state, row.sent_at, row.last_error, row.next_attempt_at = OutboxState.sent.value, now, None, None
        elif outcome.result is Result.retry and now - _first_due(row) < GIVE_UP_AFTER:
            wait = min(FIRST_RETRY * 2 ** max(0, row.attempts - 1), LAST_RETRY)
            row.state, row.last_error, row.next_attempt_at = OutboxState.queued.value, outcome.reason, now + wait
        elif outcome.result is Result.retry:
            row.state = OutboxState.failed.value
            row.last_error = f"gav upp efter {row.attempts} försök på {GIVE_UP_AFTER.in_days()} dagar: {outcome.reason}"
        else:
            row.state, row.last_error = outcome.result.value, outcome.reason
    session.flush()


def _first_due(row: NoticeRow) -> pendulum.DateTime:
    """Since when it could have gone: a notice caught up late is given the full time too."""
    return max(pendulum.instance(row.send_at), pendulum.instance(row.queued_at))


def failed_for_digest(session: Session, instance_id: str, limit: int = 40) -> list[dict]:
    """What has not got through, for the digest: the failed notices, and those still queued
    after a failed try (the mail server down, a sweep that stopped trying), each with why."""
    not_through = or_(NoticeRow.state == OutboxState.failed.value,
                      and_(NoticeRow.state == OutboxState.queued.value, NoticeRow.last_error.is_not(None)))
    rows = session.scalars(select(NoticeRow).where(NoticeRow.instance_id == instance_id, not_through,
                                                   NoticeRow.kind != NoticeKind.digest.value)
                           .order_by(NoticeRow.id.desc()).limit(limit))
    return [{"recipient": r.recipient or "–", "kind": r.kind, "stage_name": (r.facts or {}).get("stage_name") or r.stage,
             "party_name": (r.facts or {}).get("party_name"),
             "reason": (r.last_error or "okänt fel") if r.state == OutboxState.failed.value
             else f"ligger kvar i kön för ett nytt försök: {r.last_error}"} for r in rows]


def counts(session: Session, instance_id: str | None = None) -> dict[str, int]:
    query = select(NoticeRow.state, func.count()).group_by(NoticeRow.state)
    if instance_id:
        query = query.where(NoticeRow.instance_id == instance_id)
    return {state: n for state, n in session.execute(query)}


def listing(session: Session, instance_id: str | None, state: OutboxState | None, limit: int) -> list[NoticeRow]:
    query = select(NoticeRow).order_by(NoticeRow.send_at.desc(), NoticeRow.id.desc()).limit(limit)
    if instance_id:
        query = query.where(NoticeRow.instance_id == instance_id)
    if state:
        query = query.where(NoticeRow.state == state.value)
    return list(session.scalars(query))
