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
from samverkan.store.database import Database
from samverkan.store.models import InstanceRow

_lock = threading.Lock()
_database: Database | None = None


def database() -> Database:
    """This process's store (SAMVERKAN_DATABASE_URL, or the SQLite file under SAMVERKAN_HOME)."""
    global _database
    with _lock:
        if _database is None:
            _database = Database()
        return _database


@dataclass(frozen=True)
class Snapshot:
    instance_id: str
    definition: Definition
    state: InstanceState
    marks: tuple[str, ...]
    last_seq: int

    def party_name(self, node: Node) -> str | None:
        return self.definition.party(node.party).name if node.party else None


def read_snapshot(instance_id: str) -> Snapshot:
    with database().read() as session:
        loaded = load(session, instance_id)
        return Snapshot(loaded.instance.id, loaded.definition, dict(loaded.state), tuple(loaded.marks()),
                        loaded.instance.last_seq)


def instance_positions() -> dict[str, int]:
    """Every instance with how far its history has come: a change shows as a higher number."""
    with database().read() as session:
        return {row.id: row.last_seq for row in session.execute(select(InstanceRow.id, InstanceRow.last_seq))}
