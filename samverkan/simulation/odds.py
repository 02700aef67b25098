"""A probabilistic forecast: the rest of the process run many times from what is recorded
today, with the spread a scenario gives around the definition's estimates and meetings;
per party, how often its decision comes by the hard deadline and at which meeting; for the
whole process, how its completion date falls. Pure: (definition, state, today, scenario)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pendulum

from samverkan.calendar import to_date
from samverkan.graph import Node, branch_parties
from samverkan.process_definitions.model import Definition, Stage, StateKind

from .runs import Run, completed_on, runs
from .scenario import Scenario
from .script import local_day


@dataclass(frozen=True)
class PartyOdds:
    party: str
    name: str
    decided: float  # share of runs with the decision (a yes) by the hard deadline
    outside: float  # share of runs where the party said no
    recorded: pendulum.Date | None  # already decided: the day
    meeting: pendulum.Date | None  # the most likely day of the decision, in the runs where it came
    meeting_share: float  # how often it was that day
    body: str | None  # the body that decides


@dataclass(frozen=True)
class Odds:
    as_of: pendulum.Date
    runs: int
    seed: int
    scenario: str
    stage: Stage  # the stage decided by the parties, at their meetings
    deadline: pendulum.Date
    parties: list[PartyOdds]
    completions: list[pendulum.Date | None]  # one per run, None: not complete by `until`
    until: pendulum.Date

    @property
    def complete_by_deadline(self) -> float:
        return sum(1 for d in self.completions if d and d <= self.deadline) / self.runs

    def completion_quantile(self, q: float) -> pendulum.Date | None:
        """The day by which a share q of the runs are complete; None if fewer than q ever are."""
        done = sorted(d for d in self.completions if d)
        needed = max(1, round(q * self.runs))
        return done[needed - 1] if len(done) >= needed else None

    def completion_by_month(self) -> list[tuple[str, float]]:
        months = Counter(d.format("YYYY-MM") if d else "senare" for d in self.completions)
        return [(month, count / self.runs) for month, count in sorted(months.items(), key=lambda m: (m[0] == "senare", m[0]))]


def decided_stage(definition: Definition) -> Stage | None:
    """The stage each party decides at its meetings, with a hard deadline (the adoption)."""
    return next((s for s in definition.stages if s.at_meetings and s.for_each and s.deadline and s.deadline.hard), None)


def odds(definition: Definition, state, today: pendulum.Date, until: pendulum.Date, scenario: Scenario, count: int,
         seed: int) -> Odds:
    stage = decided_stage(definition)
    if stage is None:
        from samverkan.errors import SamverkanError

        raise SamverkanError(f"{definition.id}: no stage is decided by the parties at their meetings against a hard "
                             "deadline; there is nothing to give odds for")
    deadline = to_date(stage.deadline.date)
    results = runs(definition, state, today, until, scenario, count, seed)
    parties = [_party(definition, stage, party, state, results, deadline) for party in branch_parties(definition, stage)]
    return Odds(today, count, seed, scenario.name or "", stage, deadline, parties,
                [completed_on(definition, r.state) for r in results], until)


def _party(definition: Definition, stage: Stage, party: str, state, results: list[Run], deadline: pendulum.Date) -> PartyOdds:
    node = Node(stage.id, party)
    recorded = state[node].completed_at
    days: Counter[pendulum.Date] = Counter()
    outside = 0
    for result in results:
        current = result.state[node]
        kind = definition.state_kind(stage.lifecycle, current.state)
        if kind is StateKind.done and current.completed_at:
            days[local_day(current.completed_at)] += 1
        elif kind is StateKind.failed:
            outside += 1
    by_deadline = sum(count for day, count in days.items() if day <= deadline)
    meeting, times = days.most_common(1)[0] if days else (None, 0)
    calendar = definition.meeting_calendar(party)
    return PartyOdds(party, definition.party(party).name, by_deadline / len(results), outside / len(results),
                     local_day(recorded) if recorded else None, meeting, times / len(results),
                     calendar.bodies[-1].name if calendar else definition.party(party).decision_body)


def percent(share: float) -> str:
    """62 %, in the Swedish way (a space before the sign); "<1 %" and ">99 %" at the ends."""
    value = share * 100
    if 0 < value < 0.5:
        return "<1 %"
    if 99.5 <= value < 100:
        return ">99 %"
    return f"{round(value)} %"
