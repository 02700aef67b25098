"""What a recorded decision says, as a registrar would write it, and the warnings it carries.

A council decides on each document separately: it may adopt the agreement but not the
contract, adopt the contract with changes, or send one back. The record keeps each outcome
(the choice fields with a `success` value); `record_outcome` reads the decision as a whole
(adopted, amended, split, rejected) and `decided_text` says exactly what was decided:
"Kommunfullmäktige antog överenskommelsen men inte samverkansavtalet".

A decision recorded with something the office must look into (taken by another body than
the one the definition names) is recorded all the same, with a warning in its record under
`WARNINGS`, until the office resolves it. Pure: (definition, stage, record) -> values and
Swedish sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from samverkan.process_definitions.model import DecisionOutcome, Definition, RecordField, Stage

# The record key of a decision's warnings: not a field id (those start with a letter), so no
# definition can collide with it. Each: {"id", "text", and once resolved "resolved_at",
# "resolved_by", "resolution"}; "short": the warning in a few words, for a table cell.
WARNINGS = "_warnings"
WRONG_BODY = "decision-body"
APPEAL_GROUNDS = "kommunallagen 13 kap. 8 §"

OUTCOME_WORDS = {
    DecisionOutcome.adopted: "ett antagande",
    DecisionOutcome.amended: "ett antagande med ändringar",
    DecisionOutcome.split: "ett delat beslut",
    DecisionOutcome.rejected: "ett avslag",
}


def outcome_fields(stage: Stage) -> list[RecordField]:
    """The record's outcome per document: the choice fields that say what success is."""
    return [f for f in stage.record if f.success is not None]


def record_outcome(stage: Stage, record: Mapping[str, Any]) -> DecisionOutcome | None:
    """The decision as a whole, from its outcome fields; None when the record has none."""
    fields = [f for f in outcome_fields(stage) if f.id in record]
    if not fields:
        return None
    adopted = sum(record[f.id] == f.success for f in fields)
    amended = sum(f.amended is not None and record[f.id] == f.amended for f in fields)
    if adopted + amended == 0:
        return DecisionOutcome.rejected
    if adopted + amended < len(fields):
        return DecisionOutcome.split
    return DecisionOutcome.amended if amended else DecisionOutcome.adopted


def document_name(spec: RecordField) -> str:
    """The document a field decides on, as a sentence names it: "Beslut om överenskommelsen"
    → "överenskommelsen"."""
    name = spec.name.removeprefix("Beslut om ").strip()
    return mid_sentence(name)


def mid_sentence(name: str) -> str:
    """A name inside a sentence: "Kommunfullmäktige" → "kommunfullmäktige"; an abbreviation
    ("KS", "RUN") stays as it is."""
    return name[:1].lower() + name[1:] if len(name) > 1 and name[1:2].islower() else name


def _joined(names: list[str], word: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def decision_body_of(stage: Stage, record: Mapping[str, Any]) -> str | None:
    """The body the record names as having decided, as recorded."""
    return next((str(record[f.id]) for f in stage.record if f.decision_body and record.get(f.id)), None)


def decided_text(stage: Stage, record: Mapping[str, Any], body: str | None = None) -> str | None:
    """What the body decided, document by document, in one sentence without a full stop:
    "Kommunfullmäktige antog överenskommelsen men inte samverkansavtalet". `body`: who, when
    the record names no body. None for a record without outcome fields."""
    fields = [f for f in outcome_fields(stage) if record.get(f.id)]
    if not fields:
        return None
    adopted, amended, declined, referred, other = [], [], [], [], []
    for spec in fields:
        value, document = str(record[spec.id]), document_name(spec)
        if value == spec.success:
            adopted.append(document)
        elif spec.amended is not None and value == spec.amended:
            amended.append(document)
        elif value.startswith("ej "):
            declined.append(document)
        elif value.startswith("återremitter"):
            referred.append(document)
        else:
            other.append(f"om {document}: {value}")
    clauses = []
    if adopted or amended:
        said = _joined(adopted, "och") if adopted else ""
        if amended:
            said += (" och, med ändringar, " if adopted else "") + _joined(amended, "och") + ("" if adopted else " med ändringar")
        clause = f"antog {said}"
        if declined:
            clause += f" men inte {_joined(declined, 'eller')}"
        if referred:
            clause += f"{' och' if declined else ' men'} återremitterade {_joined(referred, 'och')}"
        clauses.append(clause)
    else:
        if declined:
            clauses.append(f"beslutade att inte anta {_joined(declined, 'eller')}")
        if referred:
            clauses.append(f"återremitterade {_joined(referred, 'och')}")
    if other:
        clauses.append(f"beslutade {_joined(other, 'och')}")
    subject = decision_body_of(stage, record) or body or "Parten"
    return f"{subject} {' och '.join(clauses)}"


def decided_when(stage: Stage, record: Mapping[str, Any]) -> str:
    """" (2026-11-30, §101)": the decision's date and reference, for after a sentence; "" without."""
    date = next((str(record[f.id]) for f in stage.record if f.id == "decision_date" and record.get(f.id)), None)
    reference = next((str(record[f.id]) for f in stage.record if f.reference and record.get(f.id)), None)
    shown = ", ".join(x for x in (date, reference) if x)
    return f" ({shown})" if shown else ""


def not_adopted_documents(stage: Stage, record: Mapping[str, Any]) -> list[str]:
    """The documents a split decision left without adoption: what a new decision is about."""
    return [document_name(f) for f in outcome_fields(stage) if f.id in record
            and record[f.id] != f.success and not (f.amended is not None and record[f.id] == f.amended)]


# --- warnings ---------------------------------------------------------------------------

def decision_body_warning(definition: Definition, stage: Stage, party_id: str, record: Mapping[str, Any]) -> dict | None:
    """A warning when the body named in the record is not the one the definition says decides
    for the party (its council, unless the definition says the matter is delegated)."""
    party = definition.party(party_id)
    if party.decision_body is None:
        return None
    for spec in stage.record:
        value = record.get(spec.id)
        if spec.decision_body and value is not None and not same_name(str(value), party.decision_body):
            return {"id": WRONG_BODY, "short": f"beslutat av {mid_sentence(str(value))}, inte {mid_sentence(party.decision_body)}",
                    "text": (
                f"Beslutet är registrerat som fattat av {mid_sentence(str(value))}, men {party.name} beslutar i "
                f"{mid_sentence(party.decision_body)} enligt processens definition. Ett beslut som fattats av fel organ kan "
                f"upphävas om det överklagas ({APPEAL_GROUNDS}).")}
    return None


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def open_warnings(record: Mapping[str, Any]) -> list[dict]:
    """The warnings of a record the office has not resolved yet."""
    found = record.get(WARNINGS)
    if not isinstance(found, list):
        return []
    return [w for w in found if isinstance(w, dict) and not w.get("resolved_at")]


def warning_texts(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(w.get("text", "")) for w in open_warnings(record))


def warning_labels(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The open warnings in a few words each, for a table cell."""
    return tuple(str(w.get("short") or w.get("text", "")) for w in open_warnings(record))
