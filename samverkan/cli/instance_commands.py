"""`samverkan start`, `status`, `transition` and `audit`: running process instances."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.i18n import N_, _, n_
from samverkan.text import MAX_FIELD_VALUE, MAX_NAME, MAX_PATH, MAX_REASON, MAX_REFERENCE, MAX_SLUG, inert, shown

from . import context
from .args import checked_instance, checked_text

# Definitions (pydantic), the engine and the store are imported in the commands that use
# them: the command line starts without them.

ActorOpt = Annotated[Optional[str], typer.Option("--actor", envvar="SAMVERKAN_ACTOR", help="Your e-mail address.")]
TokenOpt = Annotated[Optional[str], typer.Option("--token", envvar="SAMVERKAN_TOKEN", help="Your personal token.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("start")(start)
    app.command("status")(status)
    app.command("forecast")(forecast)
    app.command("transition")(transition)
    app.command("resolve")(resolve)
    app.command("audit")(audit)
    app.command("registration-number")(registration_number)


def start(
    path: Annotated[Path, typer.Argument(help="The process definition (YAML).")],
    instance: Annotated[Optional[str], typer.Option("--instance", help="An id for the instance (default: the process id).")] = None,
    history: Annotated[Optional[Path], typer.Option("--history", help="What already happened: back-dated transitions (YAML).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="When the process began (default: the first date the definition names).")] = None,
    registration_number: Annotated[Optional[str], typer.Option(
        "--registration-number", help="The process's diarienummer, e.g. 'RUN 2025/123' (default: the definition's).")] = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Start a process instance, optionally joining it mid-way with its history."""
    from samverkan.process_definitions import load_definition
    from samverkan import instances
    from samverkan.actors import any_actor
    from samverkan.auth import may_start
    from samverkan.clock import parse_moment
    from samverkan.history import as_request, load_history

    checked_text(str(path), "PATH", MAX_PATH)  # its name is stored with the definition
    if history is not None:
        checked_text(str(history), "--history", MAX_PATH)
    instance = checked_instance(instance, "--instance")
    registration_number = _registration_number(registration_number, "--registration-number")
    actor, token = context.credentials(actor, token)
    loaded = load_definition(path)
    requests, started_at, source, illustrative = [], None, "history", None
    if history is not None:
        source, parsed = load_history(history)
        illustrative = instances.illustrative_mark(parsed.note) if parsed.illustrative else None
        requests = [as_request(source, i, entry) for i, entry in enumerate(parsed.transitions)]
        started_at = parse_moment(parsed.started_at, f"{source}: started_at") if parsed.started_at else None
    if as_of is not None:
        started_at = parse_moment(as_of, "--as-of")
    with context.database() as db:
        exists = any_actor(db)
        who = context.actor(db, actor, token) if exists else None
        may_start(who, exists)
        # A fresh install: no one has a token yet, so an --actor given is unproven; not recorded.
        starter = who.email if who else "bootstrap"
        instance_id = instances.start_instance(db, loaded, starter, context.clock(), instance, started_at, requests, source,
                                               illustrative, registration_number)
        simulated = context.store_is_simulated(db)
    started = _("Startade {instance} från {process} version {version}", instance=instance_id, process=loaded.definition.id,
                version=loaded.definition.version)
    if requests:
        started += n_(" med {n} inläst övergång", " med {n} inlästa övergångar", len(requests))
    print(started + ".")
    if illustrative:
        print(illustrative)
    if simulated:
        print(_("varning: {warning}", warning=_(context.SIMULATED_WARNING)), file=sys.stderr)
    print(instance_id)


def _registration_number(value: str | None, what: str) -> str | None:
    """A diarienummer as the registry writes it: one line of text, at most 200 characters."""
    if value is None:
        return None
    value = checked_text(value, what, MAX_NAME).strip()
    if not value or any(not c.isprintable() for c in value):
        raise SamverkanError(f"{what}: {shown(value)} är inget diarienummer; ange det på en rad, t.ex. 'RUN 2025/123'")
    return value


def registration_number(
    instance: Annotated[str, typer.Argument(help="The instance.")],
    number: Annotated[str, typer.Argument(help="The process's diarienummer, e.g. 'RUN 2025/123'.")],
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Give an instance the process's diarienummer, shown in the decision register (`audit --register`)."""
    from samverkan import instances

    instance = checked_instance(instance, "INSTANCE")
    number = _registration_number(number, "NUMMER")
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        who = context.actor(db, actor, token)
        instance_id = instances.set_registration_number(db, instance, number, who)
    print(f"Processens diarienummer för {instance_id}: {number}")


def status(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (may be left out when there is one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Judge deadlines at this time (YYYY-MM-DD[THH:MM]).")] = None,
) -> None:
    """Every stage and branch: state, owner, deadline, days left or late, what it waits for."""
    from samverkan import instances
    from samverkan.clock import parse_moment
    from samverkan.notices import outbox
    from samverkan.rejections import follow_ups, rejections
    from samverkan.status import status_rows

    from .status_output import status_as_dict, status_as_table

    instance = checked_instance(instance, "INSTANCE")
    now = parse_moment(as_of, "--as-of") if as_of is not None else context.clock().now()
    with context.database() as db, db.read() as session:
        loaded = instances.load(session, instance)
        rows = status_rows(loaded.definition, loaded.state, now)
        found = rejections(loaded.definition, loaded.state)
        follow = follow_ups(loaded.definition, loaded.state)
        instance_id = loaded.instance.id
        notices = outbox.counts(session, instance_id)
    if as_json:
        document = status_as_dict(instance_id, loaded.definition, rows, now, loaded.illustrative, found, loaded.simulated, follow)
        document["notices"] = notices  # the outbox by state: a failed notice is surfaced here too
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(status_as_table(instance_id, loaded.definition, rows, now, loaded.illustrative, found, loaded.marks(),
                                     follow))
    if notices.get("failed"):
        print(_("UTSKICK SOM MISSLYCKATS: {count} (se `samverkan outbox {instance} --state failed`)",
                count=notices["failed"], instance=instance_id))


def forecast(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (may be left out when there is one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each party's expected decision meeting, its slack, the parties at risk and why, the critical path."""
    from samverkan import instances
    from samverkan.calendar import TIMEZONE
    from samverkan.forecast import forecast as make_forecast
    from samverkan.meetings.chains import example_note

    from .forecast_output import forecast_as_dict, forecast_as_table

    instance = checked_instance(instance, "INSTANCE")
    today = context.clock().now().in_timezone(TIMEZONE).date()
    with context.database() as db, db.read() as session:
        loaded = instances.load(session, instance)
        result = make_forecast(loaded.definition, loaded.state, today)
        instance_id, marks = loaded.instance.id, loaded.marks()
    if as_json:
        sys.stdout.write(json.dumps(forecast_as_dict(result, instance_id, marks), ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(forecast_as_table(result, loaded.definition, instance_id, marks, example_note(loaded.definition)))


def _fields(pairs: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = checked_text(key.strip(), "--field", MAX_SLUG)
        if not sep or not key:
            raise SamverkanError(_("--field: skriv fält=värde, inte {value}", value=shown(pair)))
        if key in fields:
            raise SamverkanError(_("--field: {value} anges två gånger", value=shown(key)))
        fields[key] = checked_text(value.strip(), f"--field {key}", MAX_FIELD_VALUE)
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
    from samverkan import instances
    from samverkan.clock import parse_moment
    from samverkan.engine import TransitionRequest
    from samverkan.names import change_text

    instance = checked_instance(instance, "INSTANCE")
    actor, token = context.credentials(actor, token)
    clock = context.clock()
    now = clock.now()
    request = TransitionRequest(
        stage=checked_text(stage, "STAGE", MAX_SLUG), party=checked_text(party, "--party", MAX_SLUG),
        to=checked_text(to, "--to", MAX_SLUG),
        at=parse_moment(at, "--at") if at is not None else now,
        reason=checked_text(reason, "--reason", MAX_REASON), reference=checked_text(reference, "--reference", MAX_REFERENCE),
        fields=_fields(field),
    )
    with context.database() as db:
        who = context.actor(db, actor, token)
        changes = instances.transition(db, instance, request, who, clock)
        definition = _definition_of(db, instance) if changes else None
    for change in changes:
        marker = _("  (följd)") if change.automatic else ""
        print(change_text(definition, change.node, change.before, change.after.state) + marker)
    if changes:
        _warn_about(definition, changes, now)


def _warn_about(definition, changes, now) -> None:
    """Recorded, but worth a word: minutes approved or announced late (kommunallagen 8 kap. 12 §)."""
    from samverkan.calendar import TIMEZONE
    from samverkan.names import node_name
    from samverkan.status import change_warnings

    today = now.in_timezone(TIMEZONE).date()
    for change in changes:
        if not change.automatic:
            for warning in change_warnings(definition, change.node, change.after, today):
                print(f"varning: {node_name(definition, change.node)}: {warning}", file=sys.stderr)


def resolve(
    instance: Annotated[str, typer.Argument(help="The instance.")],
    stage: Annotated[str, typer.Argument(help="The stage id, e.g. adoption.")],
    reason: Annotated[str, typer.Option("--reason", help="The office's explanation, for the record.")],
    party: Annotated[Optional[str], typer.Option("--party", help="The branch's party, for a parallel stage.")] = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
    at: Annotated[Optional[str], typer.Option("--at", help="When it was resolved (default now): YYYY-MM-DD[THH:MM].")] = None,
    field: Annotated[list[str], typer.Option("--field", help="A correction of the decision's record, key=value (repeatable).")] = [],  # noqa: B006
) -> None:
    """Resolve a recorded decision's warnings (a decision by another body than the definition names)."""
    from samverkan import instances
    from samverkan.clock import parse_moment
    from samverkan.engine import Resolution

    instance = checked_instance(instance, "INSTANCE")
    actor, token = context.credentials(actor, token)
    clock = context.clock()
    resolution = Resolution(stage=checked_text(stage, "STAGE", MAX_SLUG), party=checked_text(party, "--party", MAX_SLUG),
                            reason=checked_text(reason, "--reason", MAX_REASON),
                            at=parse_moment(at, "--at") if at is not None else clock.now(), by="", fields=_fields(field))
    with context.database() as db:
        who = context.actor(db, actor, token)
        _resolved, whose = instances.resolve_warnings(db, instance, resolution, who, clock)
    print(f"{whose}: varningen är utredd och markerad som löst ({resolution.reason.strip()}).")


def _definition_of(db, instance: str):
    from samverkan import instances

    with db.read() as session:
        return instances.load(session, instance).definition


AUDIT_COLUMNS = ("seq", "recorded_at", "occurred_at", "instance", "stage", "party", "party_name", "from_state", "to_state",
                 "automatic", "caused_by_seq", "actor", "reason", "reference", "record", "outcome", "refusal", "attempts")
# The CSV is for people (a registrar files it as it is): its headings and values in words, the
# stages, parties and states by name. The JSON keeps the ids as well, for scripts.
CSV_COLUMNS = (N_("Löpnummer"), N_("Registrerad"), N_("Inträffade"), N_("Instans"), N_("Steg"), N_("Part"), N_("Från läge"),
               N_("Till läge"), N_("Automatisk"), N_("Orsakad av nr"), N_("Aktör"), N_("Kommentar"), N_("Referens"),
               N_("Uppgifter"), N_("Utfall"), N_("Avvisning"), N_("Försök"))
_OUTCOMES = {"applied": N_("registrerad"), "refused": N_("avvisad")}


def audit(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (may be left out when there is one).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv or json (default csv); with --register also text (its default).")] = None,
    register: Annotated[bool, typer.Option("--register", help="The decision register: one row per party, what a registrar files.")] = False,
) -> None:
    """The full audit trail, fit to be filed: every transition, who, when, reference, refusals.
    With --register, the decision register beside it: per party the body, date, §, diarienummer,
    outcome, minutes approved and announced, laga kraft, protokollsutdrag and signature."""
    from samverkan import instances
    from samverkan.calendar import TIMEZONE

    instance = checked_instance(instance, "INSTANCE")
    if register:
        return _register(instance, fmt or "text")
    fmt = fmt or "csv"
    if fmt not in ("csv", "json"):
        raise SamverkanError(_("--format: {value} är varken csv eller json", value=shown(fmt)))
    with context.database() as db:
        instance_id, definition, rows, illustrative = instances.audit_rows(db, instance)
    parties = {p.id: p.name for p in definition.parties}
    records = [{
        "seq": r.seq, "recorded_at": r.recorded_at.in_timezone(TIMEZONE).isoformat(),
        "occurred_at": r.occurred_at.in_timezone(TIMEZONE).isoformat(),
        "instance": instance_id, "stage": r.stage, "party": r.party, "party_name": parties.get(r.party) if r.party else None,
        "from_state": r.from_state, "to_state": r.to_state, "automatic": r.automatic, "caused_by_seq": r.caused_by_seq,
        "actor": r.actor, "reason": r.reason, "reference": r.reference, "record": r.record, "outcome": r.outcome,
        "refusal": r.refusal, "attempts": r.attempts,
        "stage_name": _stage_name(definition, r.stage), "from_state_name": _state_name(definition, r.stage, r.from_state),
        "to_state_name": _state_name(definition, r.stage, r.to_state),
    } for r in rows]
    # What was stored before the text gate, or came in some other way, cannot drive a terminal
    # or a spreadsheet: every value escaped as it goes out.
    records = [inert(record) for record in records]
    if fmt == "json":
        marks = {"illustrative": illustrative is not None, "illustrative_note": illustrative}
        print(json.dumps({"instance": instance_id, "process": definition.id, **marks, "transitions": records},
                         ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_(column) for column in CSV_COLUMNS])
    for record in records:
        row = [record["seq"], record["recorded_at"], record["occurred_at"], record["instance"], record["stage_name"],
               record["party_name"] or "", record["from_state_name"], record["to_state_name"],
               _("ja") if record["automatic"] else _("nej"), record["caused_by_seq"] or "", record["actor"],
               record["reason"] or "", record["reference"] or "", _record_text(definition, record["stage"], record["record"]),
               _(_OUTCOMES[record["outcome"]]) if record["outcome"] in _OUTCOMES else record["outcome"],
               record["refusal"] or "", record["attempts"] or ""]
        writer.writerow([_no_formula(value) for value in row])
    sys.stdout.write(out.getvalue())


def _register(instance: str | None, fmt: str) -> None:
    """`audit --register`: the decision register as of now, in Swedish, to be filed as it is."""
    from samverkan import instances
    from samverkan.calendar import TIMEZONE
    from samverkan.dashboard.register import headings, register_entries, register_rows

    from .register_output import register_as_csv, register_as_dict, register_as_text

    if fmt not in ("text", "csv", "json"):
        raise SamverkanError(f"--format: {shown(fmt)} är inte text, csv eller json")
    now = context.clock().now()
    with context.database() as db, db.read() as session:
        loaded = instances.load(session, instance)
        today = now.in_timezone(TIMEZONE).date()
        columns = headings(loaded.definition)
        # What was stored before the text gate, or came in some other way, is escaped as it goes out.
        rows = [inert(row) for row in register_rows(loaded.definition, loaded.state, today)]
        entries = [inert(entry) for entry in register_entries(loaded.definition, loaded.state, today)]
        about = {"instance": loaded.instance.id, "process": loaded.definition.name,
                 "registration_number": inert(loaded.registration_number), "as_of": now, "marks": loaded.marks()}
    if fmt == "json":
        sys.stdout.write(json.dumps(register_as_dict(about, entries), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        sys.stdout.write(register_as_csv(about, columns, rows, _no_formula))
    else:
        sys.stdout.write(register_as_text(about, columns, rows))


def _stage_name(definition, stage_id: str) -> str:
    return next((s.name for s in definition.stages if s.id == stage_id), stage_id)


def _state_name(definition, stage_id: str, state: str) -> str:
    from samverkan.names import state_name

    return state_name(definition, stage_id, state) if any(s.id == stage_id for s in definition.stages) else state


def _record_text(definition, stage_id: str, record: dict | None) -> str:
    """What a transition recorded, field by field in the definition's words: "Beslutsdatum:
    2026-11-20; Paragraf: §147"; the start of an illustrative instance, by its mark."""
    if not record:
        return ""
    if record.get("illustrative") is True:
        return str(record.get("note") or "")
    stage = next((s for s in definition.stages if s.id == stage_id), None)
    names = {f.id: f.name for f in stage.record} if stage else {}
    return "; ".join(f"{names.get(key, key)}: {value}" for key, value in record.items())


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _no_formula(value: object) -> object:
    """A cell a spreadsheet would run as a formula (a reason "=HYPERLINK(…)") gets a leading
    quote, so it shows as text (OWASP's advice for CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value
