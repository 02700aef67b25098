"""Every applied transition as a Prefect event, whichever door it came through.

The audit trail is the log; this module tails it. Each transition's event has an id derived
from (instance, seq), and Prefect's event store keeps one event per id: two processes tailing
at once, or a crash between emitting and moving the cursor, never show a transition twice.
The cursor (a Prefect variable per instance) only saves work.
"""

from __future__ import annotations

import uuid

from prefect.events import emit_event
from prefect.variables import Variable
from sqlalchemy import select

from samverkan.calendar import TIMEZONE
from samverkan.store.models import TransitionRow
from samverkan.tasks.store import Snapshot, database
from samverkan.text import mask_tokens

EVENT = "samverkan.transition.applied"
_NAMESPACE = uuid.UUID("6f1c2d0e-5b7a-4c55-9a43-2f0e1f6c7d10")
_BATCH = 500


def event_id(instance_id: str, seq: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{instance_id}/{seq}")


def cursor_name(instance_id: str) -> str:
    return f"samverkan-handelser-{instance_id}"


def _resource(kind: str, value: str, role: str | None = None, name: str | None = None) -> dict[str, str]:
    resource = {"prefect.resource.id": f"samverkan.{kind}.{value}"}
    if role:
        resource["prefect.resource.role"] = role
    if name:
        resource["prefect.resource.name"] = name
    return resource


def transition_event(snapshot: Snapshot, row: TransitionRow) -> dict:
    """The event for one transition: the instance as its resource; stage, party, the states
    it went from and to, and the actor as related resources (so automations can match any)."""
    definition = snapshot.definition
    stage = definition.stage(row.stage)
    states = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
    related = [_resource("stage", row.stage, "stage", stage.name)]
    if row.party:
        related.append(_resource("party", row.party, "party", definition.party(row.party).name))
    related += [
        _resource("state", row.from_state, "from", states.get(row.from_state)),
        _resource("state", row.to_state, "to", states.get(row.to_state)),
        _resource("actor", row.actor, "actor"),
    ]
    return dict(
        event=EVENT,
        id=event_id(snapshot.instance_id, row.seq),
        occurred=row.recorded_at,
        resource=_resource("instance", snapshot.instance_id, name=definition.name),
        related=related,
        payload={
            "seq": row.seq,
            "node": row.node_key,
            "from": row.from_state,
            "to": row.to_state,
            "automatic": row.automatic,
            "occurred_at": row.occurred_at.in_timezone(TIMEZONE).isoformat(),
            "reference": row.reference,
            "reason": mask_tokens(row.reason) if row.reason else None,
        },
    )


def emit_new_transitions(snapshot: Snapshot) -> int:
    """Emit the events for the transitions not yet emitted; returns how many were sent."""
    start = int(Variable.get(cursor_name(snapshot.instance_id), default=0) or 0)
    sent = 0
    while True:
        with database().read() as session:
            rows = list(session.scalars(
                select(TransitionRow)
                .where(TransitionRow.instance_id == snapshot.instance_id, TransitionRow.seq > start,
                       TransitionRow.outcome == "applied")
                .order_by(TransitionRow.seq).limit(_BATCH)))
            events = [transition_event(snapshot, row) for row in rows]
        if not events:
            break
        for event in events:
            emit_event(**event)
        sent += len(events)
        start = events[-1]["payload"]["seq"]
        Variable.set(cursor_name(snapshot.instance_id), start, overwrite=True)
    return sent
