"""A scenario: what happens in a simulated run of a process, stage by stage, and how much
chance plays in it.

    name: Utkastet sex veckor sent
    seed: 7                       # optional; --seed overrides it
    spread:                       # optional: random spread around the definition's estimates
      early: 10%                  # work done up to 10 % of its estimated time early ...
      late: 30%                   # ... or up to 30 % late (triangular, most likely on time)
      send_within: P2W            # a decision's material reaches the first body within this
      postpone: 5%                # the chance that a deciding meeting postpones the matter
    steps:                        # per stage, or per branch with `party`
      - {stage: drafting, late: P6W}
      - {stage: adoption, party: vannas, outcome: rejected}
      - {stage: adoption, party: umea, outcome: amended, renegotiation: P3W, amendments: accepted}
      - {stage: referral, party: mala, done_on: 2026-08-28}

Without a scenario everything happens as planned: each stage on the day the plan says, each
decision at the first meeting it can reach. Checked against the definition before a run:
one line per problem, naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from samverkan.calendar import parse_period
from samverkan.calendar.periods import InvalidPeriod, Period
from samverkan.errors import SamverkanError
from samverkan.graph import branch_parties
from samverkan.history import validation_problems
from samverkan.process_definitions.model import Definition, StateKind
from samverkan.process_definitions.yaml_reader import decode, parse_yaml, read_file
from samverkan.text import MAX_REASON, MAX_SLUG, record_text_problem, shown, shown_path, text_problem

MAX_BYTES = 256 * 1024
KIND = "scenario file"
_PERCENT = re.compile(r"([0-9]{1,3}(?:[.,][0-9]+)?) ?%")


def _share(value: object) -> float:
    """A probability or a share: 0.3, 30 % or "30%"."""
    if isinstance(value, bool):
        raise ValueError("must be a share: 0.3 or 30%")
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{shown(value, 20)} is not a share: write 0.3 or 30%")
        value = float(match[1].replace(",", ".")) / 100
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{value!r} is not a share between 0 and 1 (0 %–100 %)")
    return float(value)


def _period(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a period such as P2W or P10D")
    try:
        parse_period(value)
    except InvalidPeriod as error:
        raise ValueError(str(error)) from None
    return value


def _slug(value: object) -> str:
    if not isinstance(value, str) or text_problem(value, MAX_SLUG) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
        raise ValueError(f"{shown(str(value), 40)} is not an id (lowercase a–z, 0–9 and dashes)")
    return value


Share = Annotated[float, BeforeValidator(_share)]
PeriodText = Annotated[str, BeforeValidator(_period)]
Id = Annotated[str, BeforeValidator(_slug)]


class Outcome(StrEnum):
    done = "done"  # the stage's own done state: adopted, answered, done
    rejected = "rejected"  # a decision that says no: the party stands outside
    amended = "amended"  # adopted with changes: the counterparty accepts them (adopted) or not (decided again)
    postponed = "postponed"  # postponed to the deciding body's next meeting


class Spread(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    early: Share = Field(default=0.1, description="Work on an estimate can be done this share of its time early.")
    late: Share = Field(default=0.3, description="... or this share late; most likely on time (triangular).")
    send_within: PeriodText = Field(default="P2W", description="A decision's material reaches the first body within this.")
    postpone: Share = Field(default=0.05, description="The chance that a deciding meeting postpones the matter.")

    @property
    def send_days(self) -> int:
        return parse_period(self.send_within).approx_days


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Id
    party: Id | None = Field(default=None, description="One branch; without it, every branch of the stage.")
    late: PeriodText | None = Field(default=None, description="Done this long after the plan (or the first meeting) says.")
    done_on: dt.date | None = Field(default=None, description="Done on this day.")
    outcome: Outcome = Outcome.done
    renegotiation: PeriodText = Field(default="P3W", description="After `amended`: how long the counterparty takes to answer.")
    amendments: Literal["accepted", "rejected"] = Field(
        default="accepted", description="After `amended`: whether the counterparty accepts the changes (the branch is "
                                        "adopted) or not (the party decides again, at the next meeting it can reach).")

    @model_validator(mode="after")
    def _one_timing(self) -> Step:
        if self.late is not None and self.done_on is not None:
            raise ValueError("give `late` or `done_on`, not both")
        return self

    @property
    def late_period(self) -> Period | None:
        return parse_period(self.late) if self.late else None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, BeforeValidator(lambda v: _text(v))] | None = None
    seed: int | None = Field(default=None, ge=0)
    spread: Spread | None = Field(default=None, description="Random spread; none: everything as planned.")
    steps: list[Step] = Field(default_factory=list)

    def step_for(self, stage: str, party: str | None) -> Step | None:
        """The step that applies to a node: its own branch's first, else the stage's."""
        own = next((s for s in self.steps if s.stage == stage and s.party == party and party is not None), None)
        return own or next((s for s in self.steps if s.stage == stage and s.party is None), None)


def _text(value: object) -> str:
    # Printed by `samverkan simulate`: no control character (an escape drives the terminal).
    if not isinstance(value, str) or text_problem(value, MAX_REASON) or record_text_problem(value):
        raise ValueError("must be a line of text, without control characters")
    return value


AS_PLANNED = Scenario(name="Som planerat")
WITH_SPREAD = Scenario(name="Som planerat, med normal spridning", spread=Spread())


def load_scenario(path: Path, definition: Definition) -> Scenario:
    source = shown_path(path)
    text = decode(read_file(path, MAX_BYTES, kind=KIND), source)
    data, _ = parse_yaml(text, source, kind=KIND)
    try:
        scenario = Scenario.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise SamverkanError(*validation_problems(source, error)) from None
    problems = scenario_problems(scenario, definition)
    if problems:
        raise SamverkanError(*(f"{source}: {p}" for p in problems))
    return scenario


def scenario_problems(scenario: Scenario, definition: Definition) -> list[str]:
    """What in the scenario does not fit the definition: one line per step."""
    problems = []
    stages = {s.id: s for s in definition.stages}
    seen: set[tuple[str, str | None]] = set()
    for index, step in enumerate(scenario.steps):
        where = f"steps[{index}]"
        stage = stages.get(step.stage)
        if stage is None:
            problems.append(f"{where}.stage: {shown(step.stage)} is not a stage of {definition.id} "
                            f"(stages: {', '.join(stages)})")
            continue
        if (step.stage, step.party) in seen:
            problems.append(f"{where}: a second step for {step.stage}" + (f"/{step.party}" if step.party else ""))
        seen.add((step.stage, step.party))
        if step.party is not None:
            parties = branch_parties(definition, stage) if stage.for_each else []
            if step.party not in parties:
                problems.append(f"{where}.party: {shown(step.party)} has no branch in {step.stage}"
                                + (f" (its parties: {', '.join(parties)})" if parties else " (the stage has no branches)"))
        if stage.for_each and step.party is None and step.outcome is not Outcome.done:
            problems.append(f"{where}.outcome: {step.outcome} needs a party: one branch decides so, not all")
        if step.outcome is not Outcome.done:
            states = {s.id: s.kind for s in definition.lifecycle(stage.lifecycle).states}
            wanted = {Outcome.rejected: StateKind.failed, Outcome.amended: StateKind.active, Outcome.postponed: StateKind.active}
            if not stage.at_meetings or step.outcome.value not in states or states[step.outcome.value] is not wanted[step.outcome]:
                problems.append(f"{where}.outcome: {step.outcome} is not a way {step.stage} can end "
                                "(only a stage decided at meetings can be rejected, amended or postponed)")
    return problems
