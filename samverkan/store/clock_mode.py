"""Whose time a store records. A live store (the public record) records every change at the
real time; only a store marked as simulated accepts a pinned clock (SAMVERKAN_NOW).

A store is marked once, by its first write: simulated if that write came with a pinned clock
into an empty store, live otherwise; a store that held a record before this mark existed is
live (migration 0003). Nothing turns a live store into a simulated one: whoever can only act
through a token cannot choose the time."""

from __future__ import annotations

import pendulum
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from samverkan.clock import Clock
from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.store.models import ActorRow, InstanceRow, SettingRow

KEY = "clock"
LIVE, SIMULATED = "live", "simulated"


def mode(session: Session) -> str | None:
    """live, simulated, or None for a store nothing has been written to yet."""
    row = session.get(SettingRow, KEY)
    return row.value if row else None


def write_time(session: Session, clock: Clock) -> pendulum.DateTime:
    """The time a write in this transaction is recorded at; refuses a pinned clock on a live store."""
    current = mode(session) or _mark(session, clock)
    if clock.pinned and current == LIVE:
        raise SamverkanError(_("SAMVERKAN_NOW: det här lagret är det verkliga diariet och skrivs bara i verklig tid; "
                               "ta bort SAMVERKAN_NOW (en fast klocka skriver bara i ett simulerat lager, se README)"))
    return clock.now()


def _mark(session: Session, clock: Clock) -> str:
    empty = session.scalars(select(InstanceRow.id).limit(1)).first() is None and \
        session.scalars(select(ActorRow.id).limit(1)).first() is None
    value = SIMULATED if clock.pinned and empty else LIVE
    try:
        with session.begin_nested():  # a first write racing ours may have marked it meanwhile
            session.add(SettingRow(key=KEY, value=value))
    except IntegrityError:
        return mode(session) or LIVE
    return value
