"""The doors a request comes through, and how each names what a person filled in: a refusal
names the field in the words of the door it came from (the form's label on a form, `--party`
only on the command line), so that whoever reads it knows what to correct. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from samverkan.i18n import N_, _


@dataclass(frozen=True)
class Door:
    """How one door names the parts of a request. Labels are catalogue texts (translated when
    shown) or the definition's own field names. `field`: how a record field is named, with
    {id} and {name}; `give`: how to give a missing one. `ids`: the door asks for ids (stage,
    party, state), so a refusal lists them as it must be typed; a form lists names."""

    party: str
    to: str
    at: str
    reason: str
    reference: str
    field_label: str
    give_label: str
    ids: bool

    def field(self, field_id: str, name: str | None = None) -> str:
        return _(self.field_label, id=field_id, name=name or field_id)

    def give(self, field_id: str, name: str | None = None) -> str:
        return _(self.give_label, id=field_id, name=name or field_id)

    def label(self, part: str) -> str:
        """`party`, `to`, `at`, `reason` or `reference`, as this door names it."""
        label: str = getattr(self, part)
        return _(label)

    def state(self, state_id: str, name: str) -> str:
        """A state a request may go to: as it is typed on a door that takes ids (with its name),
        else by its name."""
        return _("{id} (”{name}”)", id=state_id, name=name) if self.ids else f"”{name}”"

    def states(self, names: dict[str, str]) -> str:
        """Every state of a lifecycle, for a refusal: just the ids on a door that takes them (the
        line stays short), else the names."""
        return ", ".join(names) if self.ids else ", ".join(f"”{name}”" for name in names.values())


COMMAND_LINE = Door(party=N_("--party"), to=N_("--to"), at=N_("--at"), reason=N_("--reason"),
                    reference=N_("--reference"), field_label=N_("--field {id}"), give_label=N_("ange --field {id}=…"),
                    ids=True)

# The transition deployment's form (tasks/forms.py, Overgang): ids typed into labelled fields.
TRANSITION_FORM = Door(party=N_("”Part”"), to=N_("”Nytt läge”"), at=N_("”Datum då det skedde”"),
                       reason=N_("”Kommentar till diariet”"), reference=N_("”Paragraf eller referens”"),
                       field_label=N_("”Fält att registrera”: {id}"), give_label=N_("ange {id} i ”Fält att registrera”"),
                       ids=True)

HISTORY_FILE = Door(party=N_("party"), to=N_("to"), at=N_("at"), reason=N_("reason"), reference=N_("reference"),
                    field_label=N_("fields.{id}"), give_label=N_("ange fields.{id}"), ids=True)


def branch_form(at_field: str | None) -> Door:
    """A branch's decision form (samverkan.decisions): each field by its label on the form.
    `at_field`: the label of the date that says when it happened, if the answer gave one."""
    return Door(party=N_("”Part”"), to=N_("”Vad har hänt?”"),
                at=f"”{at_field}”" if at_field else N_("”Vad har hänt?”"),
                reason=N_("”Kommentar till diariet”"), reference=N_("”Paragraf”"),
                field_label=N_("”{name}”"), give_label=N_("fyll i ”{name}”"), ids=False)
