"""The record a simulated transition carries: what a secretary would enter for a decision
(its date, the body, the paragraph, the outcome), made up consistently from the definition."""

from __future__ import annotations

import pendulum

from samverkan.process_definitions.model import Definition, FieldType, RecordField, Stage

from .scenario import Outcome


def record_for(stage: Stage, day: pendulum.Date, number: int, body: str | None = None,
               outcome: Outcome = Outcome.done) -> dict[str, str]:
    """The decision's record. Optional fields are left out: they are what happens after the
    decision (the minutes approved, the approval announced, an appeal, the signature), or what
    a secretary may not have at hand (a diarienummer), recorded by a later step."""
    values = {}
    for field in stage.record:
        if not field.required:
            continue
        if field.type is FieldType.date:
            values[field.id] = day.isoformat()
        elif field.type is FieldType.choice:
            values[field.id] = _choice(field, outcome)
        elif field.reference:
            values[field.id] = f"§{number}"
        else:
            values[field.id] = (body or "Kommunfullmäktige") if field.decision_body or "body" in field.id else "Dnr 2026/17"
    return values


def _choice(field: RecordField, outcome: Outcome) -> str:
    """The value an outcome means: success for done; a "no" (ej …) for rejected; "with
    changes" where the field has such a value for amended."""
    success = field.success or field.choices[0]
    if outcome is Outcome.rejected:
        return next((c for c in field.choices if c.startswith("ej ")), next((c for c in field.choices if c != success), success))
    if outcome is Outcome.amended:
        return next((c for c in field.choices if "ändring" in c), success)
    return success


def decision_body(definition: Definition, stage: Stage, party: str | None) -> str | None:
    """The body the definition says decides: the branch's party's, or the stage owner's."""
    return definition.party(party or stage.owner).decision_body
