"""Prefect input forms built from a branch's form (samverkan.decisions): typed fields with
Swedish labels, which the Prefect UI shows when a suspended branch run is resumed, and the
Markdown above them that says who decides what, by when."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import Enum
from typing import Any, Literal, Optional

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, create_model

from samverkan.clock import clock_from_env, parse_moment
from samverkan.doors import TRANSITION_FORM
from samverkan.engine import TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.text import MAX_CODE, MAX_FIELD_VALUE, MAX_REASON, MAX_REFERENCE, MAX_SLUG
from samverkan.decisions import OUTCOME, Form, FormField, form_description, form_for
from samverkan.graph import Node
from samverkan.tasks.store import Snapshot


def _annotation(spec: FormField) -> Any:
    # The outcome is the one choice a person must make: a select with no empty option. The
    # record's fields are plain text inputs (a date with the date format, a choice with its
    # choices), empty by default: a step that records nothing needs none of them, and the
    # engine checks them exactly as it checks the command line's --field values.
    if spec.id == OUTCOME:
        return Enum("Utfall", {f"v{i}": choice for i, choice in enumerate(spec.choices)}, type=str)
    if spec.type == "choice":
        return Literal[("", *spec.choices)]
    return str


def _field(spec: FormField) -> Any:
    extra: dict[str, Any] = {"format": "password", "writeOnly": True} if spec.secret else {}
    if spec.type == "date":
        extra["format"] = "date"  # the UI's date picker; the engine checks the value like --field
    limits = {"max_length": spec.max_length} if spec.type == "text" else {}
    default = ... if spec.required else (spec.default or "")
    return Field(default, title=spec.title, description=spec.help, json_schema_extra=extra or None, **limits)


def input_model(form: Form, description: str) -> type[RunInput]:
    """A RunInput subclass for `form`; unknown fields are refused (RunInput forbids extras), so
    an answer cannot smuggle in a time or anything else the form does not ask for."""
    fields = {spec.id: (_annotation(spec), _field(spec)) for spec in form.fields}
    model = create_model("Beslut", __base__=RunInput, **fields)
    return model.with_initial_data(description=description)


def answer_values(model: type[RunInput], raw: str) -> dict[str, Any]:
    """What was typed, validated against the form's own types, with choices as their text."""
    answer = model.model_validate_json(raw)
    return {name: (value.value if isinstance(value, Enum) else value) for name, value in answer.model_dump().items()}


def form_model(snapshot: Snapshot, node: Node, refusal: str | None = None) -> type[RunInput]:
    """The input form for `node` as it stands in `snapshot`, with its description."""
    form = form_for(snapshot.definition, node, snapshot.state[node])
    description = form_description(snapshot.definition, snapshot.state, node, clock_from_env().now(),
                                   list(snapshot.marks), snapshot.instance_id, refusal)
    return input_model(form, description)


class Overgang(BaseModel):
    """A transition as the transition deployment's parameter form asks for it (the same as the
    command line's)."""

    model_config = ConfigDict(extra="forbid")
    # The labels are read once, as the serving process starts, in its language.
    instans: str = Field(title=_("Processinstans"), max_length=100, description=_("T.ex. samverkan-2027-2030."))
    steg: str = Field(title=_("Steg"), max_length=MAX_SLUG, description=_("Stegets id, t.ex. adoption eller drafting."))
    part: Optional[str] = Field(None, title=_("Part"), max_length=MAX_SLUG,
                                description=_("Partens id, för ett parallellt steg, t.ex. asele."))
    till: str = Field(title=_("Nytt läge"), max_length=MAX_SLUG, description=_("Läget att gå till, t.ex. adopted eller done."))
    datum: Optional[dt.date] = Field(None, title=_("Datum då det skedde"),
                                     description=_("Lämnas tomt för i dag. Aldrig i framtiden."))
    kommentar: Optional[str] = Field(None, title=_("Kommentar till diariet"), max_length=MAX_REASON)
    referens: Optional[str] = Field(None, title=_("Paragraf eller referens"), max_length=MAX_REFERENCE,
                                    description=_("T.ex. §187."))
    falt: dict[str, str] = Field(default_factory=dict, title=_("Fält att registrera"),
                                 description=_('T.ex. {"decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige"}.'))


class Bekraftelse(RunInput):
    """The transition deployment's confirmation: a one-time code issued for this very run
    (samverkan.codes), which says who asks. Never a personal token."""

    engangskod: str = Field(title=_("Engångskod för den här körningen"), max_length=MAX_CODE,
                            description=_("16 tecken, t.ex. 7KQ2-…, från kansliet. Den gäller bara den här körningen och "
                                          "bara en gång."),
                            json_schema_extra={"format": "password", "writeOnly": True})


def request_fingerprint(overgang: Overgang) -> str:
    """16 hex characters that name the request exactly: the code for a transition run is bound
    to them (`samverkan token code … --run R --request F`), so parameters changed after the
    office looked (Prefect lets anyone who may open the dashboard edit a run's parameters) make
    the code worthless instead of recording something else under the office's name."""
    canonical = json.dumps(overgang.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16].upper()


def transition_binding(run_id: object, overgang: Overgang) -> str:
    """What a transition run's code is bound to: the run and its request."""
    return f"{run_id}#{request_fingerprint(overgang)}"


def transition_request(overgang: Overgang) -> TransitionRequest:
    """The transition deployment's parameters as the request the command line would make."""
    for key, value in overgang.falt.items():
        if len(key) > MAX_SLUG or len(value) > MAX_FIELD_VALUE:
            raise SamverkanError(_("”Fält att registrera”: fältet {field} eller dess värde är för långt", field=repr(key[:MAX_SLUG])))
    now = clock_from_env().now()
    at = parse_moment(overgang.datum.isoformat(), TRANSITION_FORM.label("at")) if overgang.datum else now
    return TransitionRequest(stage=overgang.steg, party=overgang.part or None, to=overgang.till, at=at,
                             reason=overgang.kommentar or None, reference=overgang.referens or None, fields=dict(overgang.falt),
                             door=TRANSITION_FORM)
