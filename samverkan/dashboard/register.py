"""The decision register: one row per party of the stage where each party takes its formal
decision, with what a registrar files beside the transition trail (the body, the date, the §,
the diarienummer, the outcome, the minutes approved and announced, when it is final, the
protokollsutdrag received and who signed it and when). Swedish headings; pure: (definition,
state, day) -> rows, for `samverkan audit --register` and the dashboard.

Keyed on record field ids, as `calendar/appeal.py` is: a definition without one of them shows
'–' in its column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum

from samverkan.calendar.appeal import ANNOUNCED, APPEAL_CASE, APPEAL_COURT, APPEAL_DECIDED, DECIDED, MINUTES_APPROVED, Finality
from samverkan.engine import InstanceState, reference_of
from samverkan.graph import Node, branch_parties
from samverkan.process_definitions.model import Definition, Stage
from samverkan.status import finality_of, minutes_of

from .adoption import EXTRACT_RECEIVED, REGISTRATION_NUMBER, SIGNED_BY, SIGNED_ON, _outcome_heading, adoption_stage
from .words import NOTHING

PARTY = "Part"
BODY = "Beslutande organ"
DATE = "Beslutsdatum"
PARAGRAPH = "Paragraf"
NUMBER = "Diarienummer"
OUTCOME = "Utfall"
APPROVED = "Protokollet justerat"
ANNOUNCED_HEADING = "Justeringen anslagen"
FINAL = "Laga kraft"
EXTRACT = "Protokollsutdrag mottaget"
SIGNED = "Undertecknat av"
SIGNED_DATE = "Undertecknat den"
NOTE = "Anmärkning"


def headings(definition: Definition) -> list[str]:
    """The register's columns, in order: the outcome of each document where the record has
    them ("Överenskommelsen", "Samverkansavtalet") after the diarienummer."""
    stage = adoption_stage(definition)
    outcomes = [_outcome_heading(f) for f in stage.record if f.success is not None] if stage else []
    return [PARTY, BODY, DATE, PARAGRAPH, NUMBER, *outcomes, OUTCOME, APPROVED, ANNOUNCED_HEADING, FINAL, EXTRACT,
            SIGNED, SIGNED_DATE, NOTE]


def _value(record: Mapping[str, Any], key: str | None) -> str | None:
    value = record.get(key) if key else None
    return str(value) if value not in (None, "") else None


def _body_field(stage: Stage) -> str | None:
    return next((f.id for f in stage.record if f.decision_body), None)


def _appeal_note(record: Mapping[str, Any], finality) -> str | None:
    """The appeal in words: where it is tried and how it ended."""
    court, case = record.get(APPEAL_COURT), record.get(APPEAL_CASE)
    if not court and not case:
        return None
    where = ", ".join(str(x) for x in (court, f"mål {case}" if case else None) if x)
    decided = record.get(APPEAL_DECIDED)
    if not decided or (finality is not None and finality.state is Finality.appealed):
        return f"Överklagat: {where}."
    # Still a decision that stands (done): the appeal was rejected; otherwise it was annulled.
    ruling = "Överklagandet avslogs" if finality is not None else "Beslutet upphävdes"
    return f"{ruling} ({where}); domstolens avgörande vann laga kraft {decided}."


def _final(finality) -> str | None:
    """As the matrix says it, but shorter for an appeal: the court and case are in the notes."""
    if finality is not None and finality.state is Finality.appealed:
        return "när domstolen har avgjort målet"
    return finality.final_text if finality is not None else None


def register_entries(definition: Definition, state: InstanceState, today: pendulum.Date) -> list[dict[str, Any]]:
    """One entry per party in the definition's order, for machines (JSON): English keys, None
    where nothing is recorded. `today` says whether an announced decision is final yet."""
    stage = adoption_stage(definition)
    if stage is None:
        return []
    states = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
    outcomes = [f for f in stage.record if f.success is not None]
    entries = []
    for party in branch_parties(definition, stage):
        current = state[Node(stage.id, party)]
        record = current.record
        finality = finality_of(definition, stage, current, today)
        minutes = minutes_of(definition, stage, current, today)
        notes = [note for note in (_appeal_note(record, finality),) if note] + list(minutes.warnings if minutes else ())
        entries.append({
            "party": party,
            "party_name": definition.party(party).name,
            "decision_body": _value(record, _body_field(stage)),
            "decision_date": _value(record, DECIDED),
            "paragraph": reference_of(stage, record),
            "registration_number": _value(record, REGISTRATION_NUMBER),
            "outcomes": {f.id: _value(record, f.id) for f in outcomes},
            "state": current.state,
            "state_name": states[current.state],
            "minutes_approved": _value(record, MINUTES_APPROVED),
            "announced": _value(record, ANNOUNCED),
            "finality": finality.state.value if finality is not None else None,
            "final_from": finality.final_from.isoformat() if finality is not None and finality.final_from else None,
            "final_text": _final(finality),
            "appeal": ({"court": _value(record, APPEAL_COURT), "case": _value(record, APPEAL_CASE),
                        "decided": _value(record, APPEAL_DECIDED)} if record.get(APPEAL_COURT) or record.get(APPEAL_CASE) else None),
            "extract_received": _value(record, EXTRACT_RECEIVED),
            "signed_by": _value(record, SIGNED_BY),
            "signed_on": _value(record, SIGNED_ON),
            "notes": notes,
        })
    return entries


def register_rows(definition: Definition, state: InstanceState, today: pendulum.Date) -> list[dict[str, str]]:
    """The entries as people read them: Swedish headings (`headings`), '–' where nothing is
    recorded; a party that has not decided shows its state."""
    stage = adoption_stage(definition)
    outcome_names = {f.id: _outcome_heading(f) for f in stage.record if f.success is not None} if stage else {}
    rows = []
    for entry in register_entries(definition, state, today):
        row = {PARTY: entry["party_name"], BODY: entry["decision_body"], DATE: entry["decision_date"],
               PARAGRAPH: entry["paragraph"], NUMBER: entry["registration_number"]}
        row.update({outcome_names[key]: value for key, value in entry["outcomes"].items()})
        row.update({OUTCOME: entry["state_name"], APPROVED: entry["minutes_approved"], ANNOUNCED_HEADING: entry["announced"],
                    FINAL: entry["final_text"], EXTRACT: entry["extract_received"], SIGNED: entry["signed_by"],
                    SIGNED_DATE: entry["signed_on"], NOTE: " ".join(entry["notes"])})
        rows.append({key: value or NOTHING for key, value in row.items()})
    return rows
