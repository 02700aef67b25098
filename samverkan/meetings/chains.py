"""Which meetings a matter can go through: a pure function of a party's meeting calendar, the
definition's blackouts, and a day.

A matter passes the party's bodies in order (the board prepares, the council decides). It must
be with a body when that body's agenda closes (`agenda_closes` before the meeting, moved back
to a business day); a body can take it up only after the body before it has met on it.
Meetings in a blackout that stops them (July, the Christmas week) are not planned for; one
that only warns (the election: the boards keep meeting, the outgoing council still decides)
lets every meeting count, and a deciding meeting in it carries a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import pendulum

from samverkan.process_definitions.model import Body, Definition, MeetingCalendar
from samverkan.calendar import parse_period, previous_business_day, subtract_period, to_date
from samverkan.i18n import _, n_


@dataclass(frozen=True)
class Sitting:
    """One body's meeting on the matter, and the last day the matter must be with it."""

    body: str
    body_name: str
    day: pendulum.Date
    agenda_closes: pendulum.Date

    @property
    def shown(self) -> str:
        """As people read it: "Kommunfullmäktige 2026-12-14"."""
        return f"{self.body_name} {self.day.isoformat()}"


def meetings_text(count: int) -> str:
    """A slack counted in meetings: "1 möte", "0 möten"."""
    return n_("{n} möte", "{n} möten", count)


def reserve_text(count: int) -> str:
    """The deciding meetings after the expected one that still keep the deadline, in Swedish:
    "inget sammanträde", "1 sammanträde", "2 sammanträden" (followed by "i reserv" in a sentence)."""
    if count <= 0:
        return "inget sammanträde"
    return f"{count} sammanträde" if count == 1 else f"{count} sammanträden"


@dataclass(frozen=True)
class MeetingPlan:
    """A branch decided at meetings: the meetings it is expected to take, and the last ones
    that still keep its deadline. None where the calendar has no such meetings."""

    party: str
    expected: tuple[Sitting, ...] | None
    latest: tuple[Sitting, ...] | None
    slack_meetings: int | None  # deciding meetings after the expected one that still keep the deadline
    example: bool  # the calendar is an invented example
    warnings: tuple[str, ...] = ()  # the expected or last deciding meeting lies in a period that warns (Swedish)

    @property
    def material_by(self) -> pendulum.Date | None:
        """The last day the matter can reach the first body and still be decided in time."""
        return self.latest[0].agenda_closes if self.latest else None

    @property
    def decision(self) -> Sitting | None:
        return self.expected[-1] if self.expected else None

    @property
    def last_decision(self) -> Sitting | None:
        return self.latest[-1] if self.latest else None


def example_note(definition: Definition) -> str | None:
    """The mark every output that uses invented calendars carries, first; None when none is."""
    if not definition.example_calendars:
        return None
    return n_("EXEMPEL: sammanträdesdagarna för {n} part är påhittade exempel, inte partens publicerade kalender",
              "EXEMPEL: sammanträdesdagarna för {n} parter är påhittade exempel, inte parternas publicerade kalendrar",
              len(definition.example_calendars))


def closing_day(body: Body, day: pendulum.Date) -> pendulum.Date:
    return previous_business_day(subtract_period(day, parse_period(body.agenda_closes)))


def usable_meetings(definition: Definition, body: Body) -> list[pendulum.Date]:
    """The body's meetings outside every blackout that stops meetings, in order."""
    closed = [(b.start, b.end) for b in definition.meetings.blackouts if b.stops_meetings]
    return sorted(to_date(day) for day in body.meetings if not any(start <= day <= end for start, end in closed))


def meeting_warning(definition: Definition, sitting: Sitting) -> str | None:
    """A deciding meeting in a blackout that only warns, in Swedish ("Kommunfullmäktige
    2026-10-05 infaller under ”Valet: …” (2026-09-13–2026-10-14): beslutet fattas då av det
    avgående fullmäktige"); None outside every such period."""
    for blackout in definition.meetings.blackouts:
        if blackout.meetings == "warn" and blackout.start <= sitting.day <= blackout.end:
            why = f": {blackout.warning}" if blackout.warning else ""
            return (f"{sitting.body_name} {sitting.day.isoformat()} infaller under ”{blackout.name}” "
                    f"({blackout.start.isoformat()}–{blackout.end.isoformat()}){why}")
    return None


def _sittings(definition: Definition, calendar: MeetingCalendar, body: Body) -> tuple[tuple[pendulum.Date, pendulum.Date], ...]:
    """(meeting, agenda closes) for each usable meeting, in order; computed once per definition."""
    return definition.cached_sittings(calendar.party, body.id, lambda: tuple(
        (day, closing_day(body, day)) for day in usable_meetings(definition, body)))


def expected_chain(definition: Definition, calendar: MeetingCalendar, available: pendulum.Date,
                   from_body: int | None = None) -> tuple[Sitting, ...] | None:
    """The first meetings the matter can go through once it is available on `available`.
    from_body: the matter is with that body already (in preparation: the first; postponed: the
    deciding one), so its agenda no longer matters and the bodies before it are behind it."""
    chain: list[Sitting] = []
    ready = to_date(available)
    for index, body in enumerate(calendar.bodies):
        if from_body is not None and index < from_body:
            continue
        with_body = index == from_body
        found = next(((d, c) for d, c in _sittings(definition, calendar, body) if (d >= ready if with_body else c >= ready)), None)
        if found is None:
            return None
        day, closes = found
        chain.append(Sitting(body.id, body.name, day, closes))
        ready = day  # the next body's agenda must close on or after the day this one met
    return tuple(chain)


def latest_chain(definition: Definition, calendar: MeetingCalendar, limit: pendulum.Date) -> tuple[Sitting, ...] | None:
    """The last meetings that still decide by `limit`: the deciding body's last meeting on or
    before it, and, going back, each body's last meeting before the next one's agenda closes."""
    chain: list[Sitting] = []
    bound = to_date(limit)
    for body in reversed(calendar.bodies):
        found = next(((d, c) for d, c in reversed(_sittings(definition, calendar, body)) if d <= bound), None)
        if found is None:
            return None
        day, closes = found
        chain.append(Sitting(body.id, body.name, day, closes))
        bound = min(closes, day.subtract(days=1))  # the body before meets by the day this agenda closes
    return tuple(reversed(chain))


def chain_under_way(definition: Definition, calendar: MeetingCalendar, since: pendulum.Date,
                    today: pendulum.Date) -> tuple[Sitting, ...] | None:
    """The meetings of a matter that has been with the first body since `since`. The preparing
    bodies' meetings are not recorded, so those already past are taken as held on it; once
    the deciding meeting of that chain has passed with no decision, the matter waits for the
    deciding body's next meeting."""
    chain = expected_chain(definition, calendar, min(since, today), from_body=0)
    if chain is None or chain[-1].day >= today:
        return chain  # None: the bodies before the deciding one do not meet on it in time
    return expected_chain(definition, calendar, today, from_body=len(calendar.bodies) - 1)


def current_chain(definition: Definition, calendar: MeetingCalendar, available: pendulum.Date,
                  from_body: int | None = None, since: pendulum.Date | None = None) -> tuple[Sitting, ...] | None:
    """The meetings a matter is expected to take from `available`, wherever it is: not yet sent,
    with a body already (`from_body`), or with the first body since `since`."""
    if from_body == 0 and since is not None:
        return chain_under_way(definition, calendar, since, available)
    return expected_chain(definition, calendar, available, from_body)


def meeting_plan(definition: Definition, party: str, available: pendulum.Date, limit: pendulum.Date | None,
                 from_body: int | None = None, since: pendulum.Date | None = None) -> MeetingPlan:
    """since: the day the matter reached the first body (from_body 0), when that is known."""
    calendar = definition.meeting_calendar(party)
    assert calendar is not None, party  # the checks require one for every branch decided at meetings
    expected = current_chain(definition, calendar, available, from_body, since)
    latest = latest_chain(definition, calendar, limit) if limit is not None else None
    slack = None
    if expected and latest:
        deciding = [d for d, _closes in _sittings(definition, calendar, calendar.deciding)]
        slack = deciding.index(latest[-1].day) - deciding.index(expected[-1].day)
    deciding_sittings = dict.fromkeys(chain[-1] for chain in (expected, latest) if chain)
    warnings = tuple(w for w in (meeting_warning(definition, s) for s in deciding_sittings) if w)
    return MeetingPlan(party, expected, latest, slack, calendar.example, warnings)
