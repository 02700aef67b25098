"""A decision as a form asks for it: what a branch's form holds, and how an answer becomes the
same TransitionRequest that `samverkan transition` makes.

Pure: the flows build their Prefect input form from `form_for`, and hand what a person typed to
`request_from_answer`; the engine then applies exactly the rules it applies to the command line.
A form carries no time of its own: when it happened is the decision's date (checked like
`--at`, never in the future), and when it was recorded is the server's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum

from samverkan.clock import parse_moment
from samverkan.doors import branch_form
from samverkan.engine import InstanceState, NodeState, TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.graph import Node
from samverkan.i18n import _
from samverkan.names import node_name
from samverkan.process_definitions.model import Definition, FieldType, RecordField, Stage, Transition
from samverkan.status import status_rows
from samverkan.text import MAX_CODE, MAX_FIELD_VALUE, MAX_REASON, shown

# The form's own fields, beside the stage's record fields.
OUTCOME = "utfall"
REASON = "kommentar"
CODE = "engangskod"  # a one-time code (samverkan.codes); a personal token is never typed into Prefect
CREDENTIALS = (CODE,)


@dataclass(frozen=True)
class FormField:
    id: str
    title: str
    type: str  # "choice", "date" or "text"
    required: bool
    choices: tuple[str, ...] = ()
    help: str | None = None
    default: str | None = None
    secret: bool = False
    max_length: int = MAX_FIELD_VALUE


@dataclass(frozen=True)
class Form:
    node: Node
    fields: tuple[FormField, ...]
    outcomes: Mapping[str, str]  # the outcome as shown -> the state it leads to
    recorded: frozenset[str]  # the outcomes whose transition records the decision's fields
    # The outcomes whose transition records only some of the fields (the minutes, an appeal):
    # what is typed in the form's other fields is not theirs, and is left out of the request.
    only: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def field(self, field_id: str) -> FormField:
        return next(f for f in self.fields if f.id == field_id)


def outcome_label(transition_name: str, state_name: str) -> str:
    return _("{transition} ({state})", transition=transition_name, state=state_name)


def form_for(definition: Definition, node: Node, current: NodeState) -> Form:
    """The form for a branch in its current state: the transitions it can take, the stage's
    record fields (prefilled with the party's decision body), and who is acting."""
    stage = definition.stage(node.stage)
    lifecycle = definition.lifecycle(stage.lifecycle)
    names = {s.id: s.name for s in lifecycle.states}
    possible = [t for t in lifecycle.transitions if current.state in t.source]
    outcomes = {outcome_label(t.name or t.to, names[t.to]): t.to for t in possible}
    recorded = frozenset(outcome_label(t.name or t.to, names[t.to]) for t in possible if t.requires_record)
    only = {outcome_label(t.name or t.to, names[t.to]): frozenset(t.fields) for t in possible if t.fields is not None}
    if not outcomes:
        raise SamverkanError(_("{node}: inget leder vidare från läget ”{state}”; det finns inget att besluta",
                               node=node_name(definition, node), state=names[current.state]))
    party = definition.party(node.party) if node.party else None
    fields = [FormField(OUTCOME, _("Vad har hänt?"), "choice", True, tuple(outcomes),
                        help=_("Välj det som har beslutats eller skett."))]
    for spec in asked_fields(definition, stage, possible):
        fields.append(FormField(
            spec.id, spec.name, spec.type.value, False,
            choices=tuple(spec.choices or ()),
            help=" ".join(filter(None, [spec.help, _("Krävs för att registrera ett beslut.") if spec.required else None])) or None,
            default=party.decision_body if spec.decision_body and party is not None else None,
        ))
    fields += [
        FormField(REASON, _("Kommentar till diariet"), "text", False, max_length=MAX_REASON),
        FormField(CODE, _("Engångskod"), "text", True, secret=True, max_length=MAX_CODE,
                  help=_("Koden i den senaste påminnelsen om det här beslutet (16 tecken, t.ex. 7KQ2-…). Den gäller "
                         "bara det här beslutet och bara en gång. Skriv aldrig din personliga kod här.")),
    ]
    return Form(node, tuple(fields), outcomes, recorded, only)


def asked_fields(definition: Definition, stage: Stage, possible: list[Transition]) -> list[RecordField]:
    """The record fields a form asks for. A step that adds to a finished decision's record
    (`fields`: the minutes approved and announced) asks for just those; the decision itself
    leaves out the optional fields such a later step records, since they come after it."""
    recording = [t for t in possible if t.requires_record]
    if recording and all(t.fields is not None for t in recording):
        wanted = {f for t in recording for f in t.fields}
        return [spec for spec in stage.record if spec.id in wanted]
    later = {f for t in definition.lifecycle(stage.lifecycle).transitions if t.fields is not None and t not in possible
             for f in t.fields}
    return [spec for spec in stage.record if spec.required or spec.id not in later]


def request_from_answer(definition: Definition, form: Form, answer: Mapping[str, Any],
                        now: pendulum.DateTime) -> TransitionRequest:
    """What a person answered, as the request the command line would make. The latest date
    given (the decision's; the announcement's, for the minutes approved and announced) is when
    it happened; without one, it happened now."""
    stage = definition.stage(form.node.stage)
    label = answer.get(OUTCOME)
    if label not in form.outcomes:
        raise SamverkanError(_("”{field}”: {value} är inte ett av: {choices}", field=form.field(OUTCOME).title,
                               value=shown(label), choices=", ".join(form.outcomes)))
    to = form.outcomes[label]
    fields: dict[str, str] = {}
    asked = {f.id for f in form.fields} & form.only.get(label, frozenset(spec.id for spec in stage.record))
    if label in form.recorded:  # a step that records nothing ignores what was typed in the record's fields
        for spec in stage.record:
            value = answer.get(spec.id)
            if spec.id in asked and value not in (None, ""):
                fields[spec.id] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    dates = [(fields[spec.id], spec) for spec in stage.record if spec.type is FieldType.date and spec.id in fields]
    moments = [(parse_moment(value, f"”{spec.name}”"), spec.name) for value, spec in dates]
    at, at_field = max(moments, key=lambda moment: moment[0]) if moments else (now, None)
    reason = answer.get(REASON)
    return TransitionRequest(stage=form.node.stage, party=form.node.party, to=to, at=at,
                             reason=str(reason).strip() or None if reason else None, fields=fields,
                             door=branch_form(at_field))


def form_description(definition: Definition, state: InstanceState, node: Node, now: pendulum.DateTime,
                     marks: list[str], instance_id: str, refusal: str | None = None) -> str:
    """What the person answering needs on the form itself (Markdown): who, what, by when."""
    stage = definition.stage(node.stage)
    party = definition.party(node.party) if node.party else definition.party(stage.owner)
    row = next(r for r in status_rows(definition, state, now) if r.node == node)
    # The heading first: a form shows the start of its description most prominently.
    lines = [f"## {party.name}: {stage.name}", "", *(f"> **{mark}**\n" for mark in marks)]
    if stage.description:
        lines += [stage.description, ""]
    lines.append(_("- **Läge nu:** {state}", state=row.state_name))
    lines.append(_("- **Sista dag:** {day}", day=row.deadline.isoformat())
                 + (f" ({row.deadline_reason})" if row.deadline_reason else ""))
    if party.decision_body:
        lines.append(_("- **Beslutande organ:** {body}", body=party.decision_body))
    if stage.assumption and node.party is None:  # the owner above is the plan's assumption
        lines.append(f"- **Antaget i planen:** {stage.assumption}")
    lines.append(_("- **Process:** {process} (`{instance}`)", process=definition.name, instance=instance_id))
    if refusal:
        lines += ["", _("**Förra svaret avvisades:** {refusal}", refusal=refusal), "",
                  _("Inget registrerades. Rätta och skicka igen.")]
    lines += ["", _("Svaret prövas med samma regler som `samverkan transition`. Ange engångskoden från den senaste "
                    "påminnelsen om beslutet; saknar du en, be kansliet om en (`samverkan token code`). Koden gäller bara "
                    "det här beslutet, och bara en gång.")]
    return "\n".join(lines)
