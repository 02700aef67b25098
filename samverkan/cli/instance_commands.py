"""`samverkan start`, `status`, `transition` and `audit`: running process instances."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from process_definitions import load_definition
from samverkan import instances
from samverkan.actors import any_actor
from samverkan.calendar import TIMEZONE
from samverkan.clock import parse_moment
from samverkan.engine import TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.history import as_request, load_history
from samverkan.status import status_rows

from . import context
from .status_output import status_as_json, status_as_table

ActorOpt = Annotated[Optional[str], typer.Option("--actor", envvar="SAMVERKAN_ACTOR", help="Your e-mail address.")]
TokenOpt = Annotated[Optional[str], typer.Option("--token", envvar="SAMVERKAN_TOKEN", help="Your personal token.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("start")(start)
    app.command("status")(status)
    app.command("transition")(transition)
    app.command("audit")(audit)


def start(
    path: Annotated[Path, typer.Argument(help="The process definition (YAML).")],
    instance: Annotated[Optional[str], typer.Option("--instance", help="An id for the instance (default: the process id).")] = None,
    history: Annotated[Optional[Path], typer.Option("--history", help="What already happened: back-dated transitions (YAML).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="When the process began (default: the first date the definition names).")] = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Start a process instance, optionally joining it mid-way with its history."""
    loaded = load_definition(path)
    requests, started_at, source = [], None, "history"
    if history is not None:
        source, parsed = load_history(history)
        requests = [as_request(source, i, entry) for i, entry in enumerate(parsed.transitions)]
        started_at = parse_moment(parsed.started_at, f"{source}: started_at") if parsed.started_at else None
    if as_of is not None:
        started_at = parse_moment(as_of, "--as-of")
    now = context.clock().now()
    with context.database() as db:
        if any_actor(db):
            who = context.actor(db, actor, token)
            if not who.is_director_office:
                raise SamverkanError(f"{who.email} may not start a process; that may the director's office")
            starter = who.email
        else:
            starter = actor or "bootstrap"  # a fresh install: no one has a token yet
        instance_id = instances.start_instance(db, loaded, starter, now, instance, started_at, requests, source)
    print(f"Startade {instance_id} från {loaded.definition.id} version {loaded.definition.version}"
          f"{f' med {len(requests)} inlästa övergångar' if requests else ''}.")
    print(instance_id)


def status(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (may be left out when there is one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Judge deadlines at this time (YYYY-MM-DD[THH:MM]).")] = None,
) -> None:
    """Every stage and branch: state, owner, deadline, days left or late, what it waits for."""
    now = parse_moment(as_of, "--as-of") if as_of else context.clock().now()
    with context.database() as db, db.transaction() as session:
        loaded = instances.load(session, instance)
        rows = status_rows(loaded.definition, loaded.state, now)
        instance_id = loaded.instance.id
    sys.stdout.write(status_as_json(instance_id, loaded.definition, rows, now) if as_json
                     else status_as_table(instance_id, loaded.definition, rows, now))


def _fields(pairs: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SamverkanError(f"--field: expected key=value, got {pair!r}")
        if key.strip() in fields:
            raise SamverkanError(f"--field: {key.strip()!r} is given twice")
        fields[key.strip()] = value.strip()
    return fields


def transition(
    instance: Annotated[str, typer.Argument(help="The instance.")],
    stage: Annotated[str, typer.Argument(help="The stage id, e.g. adoption.")],
    to: Annotated[str, typer.Option("--to", help="The state to go to, e.g. adopted.")],
    party: Annotated[Optional[str], typer.Option("--party", help="The branch's party, for a parallel stage.")] = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
    at: Annotated[Optional[str], typer.Option("--at", help="When it happened (default now): YYYY-MM-DD[THH:MM].")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why, for the record.")] = None,
    reference: Annotated[Optional[str], typer.Option("--reference", help="The decision reference, e.g. §187.")] = None,
    field: Annotated[list[str], typer.Option("--field", help="A recorded field, key=value (repeatable).")] = [],  # noqa: B006
) -> None:
    """Record a transition: a stage or branch moves to a new state, with who, when and why."""
    now = context.clock().now()
    request = TransitionRequest(
        stage=stage, party=party, to=to,
        at=parse_moment(at, "--at") if at else now,
        reason=reason, reference=reference, fields=_fields(field),
    )
    with context.database() as db:
        who = context.actor(db, actor, token)
        changes = instances.transition(db, instance, request, who, now)
    for change in changes:
        marker = "  (följd)" if change.automatic else ""
        print(f"{change.node.key}: {change.before} -> {change.after.state}{marker}")


AUDIT_COLUMNS = ("seq", "recorded_at", "occurred_at", "instance", "stage", "party", "party_name", "from_state", "to_state",
                 "automatic", "caused_by_seq", "actor", "reason", "reference", "record", "outcome", "refusal")


def audit(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (may be left out when there is one).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
) -> None:
    """The full audit trail, fit to be filed: every transition, who, when, reference, refusals."""
    if fmt not in ("csv", "json"):
        raise SamverkanError(f"--format: {fmt!r} is not csv or json")
    with context.database() as db:
        instance_id, definition, rows = instances.audit_rows(db, instance)
    parties = {p.id: p.name for p in definition.parties}
    records = [{
        "seq": r.seq, "recorded_at": r.recorded_at.in_timezone(TIMEZONE).isoformat(),
        "occurred_at": r.occurred_at.in_timezone(TIMEZONE).isoformat(),
        "instance": instance_id, "stage": r.stage, "party": r.party, "party_name": parties.get(r.party) if r.party else None,
        "from_state": r.from_state, "to_state": r.to_state, "automatic": r.automatic, "caused_by_seq": r.caused_by_seq,
        "actor": r.actor, "reason": r.reason, "reference": r.reference, "record": r.record, "outcome": r.outcome,
        "refusal": r.refusal,
    } for r in rows]
    if fmt == "json":
        print(json.dumps({"instance": instance_id, "process": definition.id, "transitions": records}, ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "record": json.dumps(record["record"], ensure_ascii=False) if record["record"] else ""})
    sys.stdout.write(out.getvalue())
