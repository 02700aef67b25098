"""Everything the flow dashboard shows about one instance, as plain data that any renderer
(Prefect artifacts, a web page, a test) can take: pure (definition, state, time) -> Dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pendulum

from samverkan.process_definitions.model import Definition
from samverkan.engine import InstanceState
from samverkan.rejections import decision_warnings, follow_ups, rejections
from samverkan.calendar import TIMEZONE
from samverkan.forecast import forecast
from samverkan.meetings.chains import example_note
from samverkan.status import plan_for, status_rows

from .adoption import Progress, adoption_stage, matrix, progress
from .summary import finality_markdown, minutes_markdown, summary_markdown
from .forecast import forecast_markdown, forecast_table
from .register import register_rows
from .tables import stage_table, timeline

if TYPE_CHECKING:  # the store's types only: building a dashboard needs no database
    from samverkan.instances import Loaded

__all__ = ["Dashboard", "Progress", "dashboard", "dashboard_of"]


@dataclass(frozen=True)
class Dashboard:
    instance_id: str
    marks: list[str]  # illustrative or simulated: shown before anything else, on every artifact
    stages: list[dict[str, str]]  # Steg, Part, Status, Ansvarig, Sista dag, Dagar kvar, Väntar på (in the language spoken)
    matrix: list[dict[str, str]]  # per party: Part, the outcomes, Beslutande organ, Beslutsdatum, Paragraf,
    # Protokollet justerat, Justeringen anslagen, Laga kraft, Status
    progress: Progress
    timeline: list[dict[str, str]]  # Steg, Part, Planerat, Faktiskt, Avvikelse
    summary_markdown: str
    forecast: list[dict[str, str]]  # per party: Part, Läge, Orsak, the meetings; at risk first
    # The decision register (samverkan.dashboard.register), per party, and the process's diarienummer.
    register: list[dict[str, str]] = field(default_factory=list)
    registration_number: str | None = None


def dashboard(definition: Definition, state: InstanceState, now: pendulum.DateTime, instance_id: str,
              marks: list[str], registration_number: str | None = None) -> Dashboard:
    """`registration_number`: the instance's own diarienummer, if it has one (else the definition's)."""
    today = now.in_timezone(TIMEZONE).date()
    planned = plan_for(definition, state, today)
    rows = status_rows(definition, state, now, planned)
    done = progress(definition, state)
    ahead = forecast(definition, state, today, planned)
    note = example_note(definition)
    marks = [*marks, *([note] if note else [])]
    return Dashboard(
        instance_id=instance_id,
        marks=marks,
        stages=stage_table(definition, rows),
        matrix=matrix(definition, state, today),
        progress=done,
        timeline=timeline(definition, rows),
        # The marks first, then who is at risk or outside, then the decisions not yet final, then
        # the minutes late to approve, announce or register.
        summary_markdown=summary_markdown(definition, rows, rejections(definition, state), done, adoption_stage(definition),
                                          now, instance_id, marks,
                                          lead=[forecast_markdown(ahead), finality_markdown(rows), minutes_markdown(rows)],
                                          follow=follow_ups(definition, state), warned=decision_warnings(definition, state)),
        forecast=forecast_table(ahead),
        register=register_rows(definition, state, today),
        registration_number=registration_number or definition.registration_number,
    )


def dashboard_of(loaded: Loaded, now: pendulum.DateTime) -> Dashboard:
    """The dashboard of an instance as the store loaded it, with its marks."""
    return dashboard(loaded.definition, loaded.state, now, loaded.instance.id, loaded.marks(), loaded.registration_number)
