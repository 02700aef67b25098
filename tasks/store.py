"""The store as the flows see it: one Database per process, and a snapshot of an instance
(definition, state, marks) read in one short transaction. The store is the source of truth;
nothing here keeps state between calls."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from samverkan.engine import InstanceState
from samverkan.graph import Node
from samverkan.instances import load
from samverkan.process_definitions.model import Definition
from samverkan.store.database import Database, database_url
from samverkan.notices import outbox
from samverkan.store.models import InstanceRow, NoticeRow

_lock = threading.Lock()
_database: Database | None = None


def database() -> Database:
    """This process's store (SAMVERKAN_DATABASE_URL, or the SQLite file under SAMVERKAN_HOME);
    made again if that setting has changed since."""
    global _database
    url = database_url()
    with _lock:
        if _database is None or _database.url != url:
            if _database is not None:
                _database.close()
            _database = Database(url)
        return _database


@dataclass(frozen=True)
class Snapshot:
    instance_id: str
    definition: Definition
    state: InstanceState
    marks: tuple[str, ...]
    last_seq: int
    notices: tuple[dict, ...] = ()  # the outbox's latest rows, as plain data
    notice_counts: dict | None = None
    registration_number: str | None = None  # the process's diarienummer: the instance's, else the definition's

    def party_name(self, node: Node) -> str | None:
        return self.definition.party(node.party).name if node.party else None


def read_snapshot(instance_id: str) -> Snapshot:
    with database().read() as session:
        loaded = load(session, instance_id)
        rows = outbox.listing(session, loaded.instance.id, None, NOTICES_SHOWN)
        return Snapshot(loaded.instance.id, loaded.definition, dict(loaded.state), tuple(loaded.marks()),
                        loaded.instance.last_seq, tuple(_plain(r) for r in rows), outbox.counts(session, loaded.instance.id),
                        loaded.registration_number)


NOTICES_SHOWN = 100  # the notices artifact's rows; `samverkan outbox` lists all


def _plain(row: NoticeRow) -> dict:
    return {c: getattr(row, c) for c in ("state", "send_at", "sent_at", "kind", "stage", "party", "recipient", "attempts",
                                         "last_error", "facts")}


def instance_positions() -> dict[str, int]:
    """Every instance with how far its history has come: a change shows as a higher number."""
    with database().read() as session:
        return {row.id: row.last_seq for row in session.execute(select(InstanceRow.id, InstanceRow.last_seq))}
