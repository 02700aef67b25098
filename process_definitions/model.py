"""The process definition format: pydantic models that validate a YAML definition.

The same models publish the JSON Schema (`samverkan schema`) and, later, the typed decision
forms. Structural rules live here; rules across the document (references, cycles, dates
against each other) live in `checks.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StrictBool, StrictInt, model_validator

from samverkan.i18n import N_
from samverkan.calendar import MAX_PERIOD_DAYS, InvalidPeriod, Period, parse_period
from samverkan.patterns import compile_pattern

FORMAT_VERSION = "samverkan/v1"

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# Prefect flow-run input keys accept only these characters, so every id is a slug.
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=1, max_length=63)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time, HH:MM.")]


def _period(value: str) -> str:
    try:
        period = parse_period(value)
    except InvalidPeriod as error:
        raise ValueError(str(error)) from None
    if period.approx_days > MAX_PERIOD_DAYS:
        raise ValueError(f"period {value!r} is longer than ten years")
    return value


def _in_calendar(value: dt.date) -> dt.date:
    # The Swedish holiday data covers these years; a date outside is a typo (2062 for 2026).
    if not 2000 <= value.year <= 2090:
        raise ValueError(f"date {value.isoformat()} is outside the years 2000–2090 the calendar plans for")
    return value


Day = Annotated[dt.date, AfterValidator(_in_calendar)]


PeriodText = Annotated[
    str,
    AfterValidator(_period),
    Field(description="An ISO 8601 period counted per lag (1930:173) §1: P10D, P6W, P1M, P1Y."),
]

# Deliberately strict: an address a person typed wrongly must be rejected, not mailed.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def check_email(value: str) -> str:
    """The address in lower case, or ValueError when it is malformed. Also used by the notice
    renderer: an address that reaches a message header is checked exactly as the definition's."""
    if not _EMAIL.match(value) or ".." in value:
        raise ValueError(f"malformed e-mail address {value!r}")
    return value.lower()


Email = Annotated[str, AfterValidator(check_email), Field(description="An e-mail address.")]


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Basis(StrEnum):
    fixed = "fixed"  # set by a decision
    estimate = "estimate"  # a planning assumption the office may change


class Adjust(StrEnum):
    forward = "forward"  # lag (1930:173) §2: a deadline on a holiday moves to the next weekday
    backward = "backward"  # a "no later than" limit before a fixed event moves to the previous weekday
    none = "none"


class PartyKind(StrEnum):
    region = "region"
    municipality = "municipality"
    delegation = "delegation"
    other = "other"


class Role(StrEnum):
    director_office = "director-office"
    project_lead = "project-lead"
    business_office_head = "business-office-head"
    secretary = "secretary"  # kommunsekreterare / the body's secretary: takes decisions through the council
    registrar = "registrar"
    contact = "contact"


ROLE_NAMES = {  # catalogue texts: shown with samverkan.i18n's _
    Role.director_office: N_("utvecklingsdirektörens kansli"),
    Role.project_lead: N_("projektledare"),
    Role.business_office_head: N_("näringslivschef"),
    Role.secretary: N_("sekreterare"),
    Role.registrar: N_("registrator"),
    Role.contact: N_("kontaktperson"),
}


Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,22}[0-9]$", description="A telephone number, e.g. 090-785 00 00.")]


class Contact(Strict):
    name: Name
    email: Email
    role: Role
    phone: Phone | None = None


class ProcessContact(Strict):
    """Whom every notice names for questions and whom escalations reach besides the director's
    office: one contact of one party, by role (the project lead at the region)."""

    party: Slug
    role: Role


class Party(Strict):
    id: Slug
    name: Name = Field(description="The name people read, with å, ä and ö.")
    kind: PartyKind
    decision_body: Name | None = Field(
        default=None,
        description="The body that takes this party's formal decisions, e.g. Kommunfullmäktige, or Kommunstyrelsen where "
        "the council has delegated the matter. A record field marked `decision_body` must name it.",
    )
    contacts: list[Contact] = Field(default_factory=list)


class Group(Strict):
    id: Slug
    name: Name
    members: list[Slug] = Field(description="Party ids, or ids of other groups whose members are included.")


class DateRange(Strict):
    start: Day
    end: Day


class DatePoint(Strict):
    date: Day
    basis: Basis


class Timing(Strict):
    """When a stage happens. At most one of `day`, `window`, `duration` (none: a milestone
    that happens as soon as its dependencies are done)."""

    # Not `on`: YAML 1.1 readers (PyYAML's safe_load among them) take the key `on` for true.
    day: Day | None = Field(default=None, description="The stage happens on this one day.")
    window: DateRange | None = Field(default=None, description="The stage happens some day in this window.")
    duration: PeriodText | None = Field(default=None, description="The stage takes this long after it can start.")
    not_before: Day | None = Field(default=None, description="With `duration`: it cannot start before this day.")
    basis: Basis = Field(description="Whether these dates are fixed by a decision or planning estimates.")

    @model_validator(mode="after")
    def _one_kind(self) -> Timing:
        kinds = [name for name in ("day", "window", "duration") if getattr(self, name) is not None]
        if len(kinds) > 1:
            raise ValueError(f"give only one of day, window, duration (got {', '.join(kinds)})")
        if self.not_before is not None and self.duration is None:
            raise ValueError("not_before goes with duration")
        return self

    @property
    def earliest(self) -> dt.date | None:
        """The first day the stage can happen, by its own dates."""
        return self.day or (self.window.start if self.window else None) or self.not_before

    @property
    def latest(self) -> dt.date | None:
        """The day by which its own dates say it has happened (a day, a window's end)."""
        return self.day or (self.window.end if self.window else None)

    @property
    def duration_period(self) -> Period | None:
        return parse_period(self.duration) if self.duration else None


class Deadline(Strict):
    date: Day
    basis: Basis
    hard: StrictBool = Field(default=False, description="Missing it breaks the process; the planner reports a plan that would.")
    adjust: Adjust = Field(
        default=Adjust.forward,
        description="How a deadline on a Saturday, Sunday, holiday or eve moves (lag (1930:173) §2 is forward).",
    )


class StateKind(StrEnum):
    waiting = "waiting"  # dependencies not met; the engine leaves it
    ready = "ready"  # dependencies met; the engine enters it
    active = "active"
    done = "done"  # finished successfully: counts towards a join and releases dependants
    failed = "failed"  # finished without success: counts against a join


class DecisionOutcome(StrEnum):
    """What a decision's record says, read from its outcome fields (those with `success`)."""

    adopted = "adopted"  # every document adopted
    amended = "amended"  # adopted, at least one with changes (a field's `amended` value) the counterparty must accept
    split = "split"  # some documents adopted (or adopted with changes), some not
    rejected = "rejected"  # none adopted


class State(Strict):
    id: Slug
    name: Name = Field(description="Swedish label shown to people.")
    kind: StateKind
    outcome: DecisionOutcome | None = Field(
        default=None,
        description="For a state a decision enters: what its record's outcome fields must say (adopted, amended, split, "
                    "rejected). Without it a done state needs every outcome adopted and a failed state at least one not.",
    )
    at_deciding_body: StrictBool = Field(
        default=False,
        description="For a stage decided at meetings: in this (active) state the matter waits at the deciding body "
                    "(postponed to a later meeting), so only that body's next meeting counts.",
    )
    appealed: StrictBool = Field(
        default=False,
        description="A done state in which the decision is appealed (överklagat): it stands, but is not final (laga kraft) "
                    "until the court has decided. Transitions may lead from a done state into it and out of it.",
    )


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Transition(Strict):
    source: Annotated[list[Slug], BeforeValidator(_as_list)] = Field(alias="from", min_length=1)
    to: Slug
    name: Name | None = None
    requires_record: StrictBool = Field(default=False, description="The stage's record fields must be given.")
    fields: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] | None = Field(
        default=None,
        description="With requires_record: only these record fields, all required, added to what the branch recorded "
                    "before (the announcement of an adopted decision); without it, the whole record.",
    )
    by: Literal["party", "counterparty"] = Field(
        default="party",
        description="Who answers with this transition: the branch's own party, or the stage's counterparty (accepting or "
                    "rejecting an amended contract). A contact of the branch's party may not make a counterparty's transition.",
    )
    partial: StrictBool = Field(
        default=False,
        description="With fields: any of them may be given, at least one; the others stay as recorded (the minutes "
                    "approved recorded before the approval is announced).",
    )

    @model_validator(mode="after")
    def _partial_needs_fields(self) -> Transition:
        if self.partial and self.fields is None:
            raise ValueError("partial goes with fields")
        return self


class Lifecycle(Strict):
    id: Slug
    name: Name
    states: list[State] = Field(min_length=2)
    transitions: list[Transition] = Field(min_length=1)


class FieldType(StrEnum):
    text = "text"
    date = "date"
    choice = "choice"


class RecordField(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)]
    name: Name
    type: FieldType
    required: StrictBool = True
    choices: list[Name] | None = None
    pattern: str | None = Field(default=None, description="A regular expression a text value must match.")
    reference: StrictBool = Field(default=False, description="This field is the decision reference (e.g. the § number).")
    decision_body: StrictBool = Field(
        default=False,
        description="This text field names the body that decided; it must be the `decision_body` of the branch's party "
        "(of the stage's owner, for a stage without branches), compared case-insensitively. Parties without one are not checked.",
    )
    not_before: str | None = Field(
        default=None, description="For a date: the id of a date field this one cannot be before (announced after approved)."
    )
    success: str | None = Field(
        default=None,
        description="For a choice: the value that means success. Entering a done state needs it; a failed state needs a field without it.",
    )
    amended: str | None = Field(
        default=None,
        description="For a choice with `success`: the value that means adopted with changes (antaget med ändringar), which "
                    "the stage's counterparty must accept.",
    )
    help: str | None = None

    @model_validator(mode="after")
    def _choices_match_type(self) -> RecordField:
        if self.type is FieldType.choice and not self.choices:
            raise ValueError("a choice field needs choices")
        if self.type is not FieldType.choice and self.choices:
            raise ValueError(f"choices go with type choice, not {self.type.value}")
        if self.decision_body and self.type is not FieldType.text:
            raise ValueError(f"decision_body goes with type text, not {self.type.value}")
        if self.success is not None and self.success not in (self.choices or []):
            raise ValueError(f"success {self.success!r} is not one of the field's choices")
        if self.amended is not None and (self.success is None or self.amended not in (self.choices or []) or self.amended == self.success):
            raise ValueError(f"amended {self.amended!r} must be one of the field's choices, other than its success value")
        if self.pattern is not None:
            compile_pattern(self.pattern)  # ValueError says why it cannot be used
        return self


class Escalation(Strict):
    after: PeriodText = Field(description="How long after the deadline an open item escalates.")
    to_party: Slug
    to_role: Role
    before_hard: PeriodText = Field(
        default="P1W",
        description="Before a hard deadline there must be time to act: an item still open this long before "
                    "the last day that keeps it escalates then at the latest, never after it.",
    )


class ReminderPolicy(Strict):
    before: list[PeriodText] = Field(default_factory=list, description="Reminders this long before the deadline.")
    on_day: StrictBool = True
    overdue_every: PeriodText | None = Field(default=None, description="Repeat a reminder this often once late.")
    overdue_max: StrictInt = Field(default=4, ge=0, le=52)
    at: ClockTime = "08:00"
    to_roles: list[Role] = Field(
        default_factory=list,
        description="Contact roles of the responsible party that receive the reminders; empty: the stage's responsible role.",
    )
    escalate: Escalation | None = None


class Digest(Strict):
    to_party: Slug
    to_role: Role
    weekday: Literal[1, 2, 3, 4, 5] = Field(default=1, description="ISO weekday: 1 is Monday; a closed day moves it to the next business day.")
    at: ClockTime = "08:00"


class NoticeSettings(Strict):
    language: Literal["sv", "en"] = Field(default="sv", description="The language notices are written in.")
    send_from: ClockTime = Field(default="07:00", description="No notice goes out before this local time on a business day.")
    send_until: ClockTime = Field(default="17:00", description="… nor after this one: a notice due later waits for the next business day.")
    ready: StrictBool = Field(default=True, description="Tell the responsible party when a stage or branch can be started.")
    confirmation: StrictBool = Field(default=True, description="Confirm a recorded decision to its party.")
    digest: Digest | None = Field(default=None, description="A weekly digest to the director's office.")

    @model_validator(mode="after")
    def _window(self) -> NoticeSettings:
        if self.send_from >= self.send_until:
            raise ValueError(f"send_from {self.send_from} must be before send_until {self.send_until}")
        return self


class Body(Strict):
    id: Slug
    name: Name = Field(description="The body, as its party names it: Kommunstyrelsen, Kommunfullmäktige.")
    agenda_closes: PeriodText = Field(description="A matter must be with the body this long before a meeting (its agenda closes).")
    meetings: list[Day] = Field(default_factory=list, description="The days the body meets.")


class MeetingCalendar(Strict):
    party: Slug
    example: StrictBool = Field(
        default=False,
        description="The dates are invented examples, not the party's published calendar; every output that uses them says so.",
    )
    source: str | None = Field(default=None, max_length=500, description="Where the dates come from: a web page, an imported file.")
    bodies: list[Body] = Field(
        min_length=1, description="The bodies a matter passes, in order: the ones before the last prepare it, the last decides."
    )

    @property
    def deciding(self) -> Body:
        return self.bodies[-1]


class Blackout(Strict):
    id: Slug
    name: Name = Field(description="Swedish, as shown: Sommaruppehåll, Julveckan, Valet (nya fullmäktige tillträder 15 oktober).")
    start: Day
    end: Day
    meetings: StrictBool | Literal["warn"] = Field(
        default=True,
        description="true: no meeting in it is planned for (July, the Christmas week). false: meetings go on as usual. "
                    "warn: every body's meetings go on as planned, and a deciding body's meeting in it is warned about "
                    "(the election: the boards, whose term runs to 31 December, keep meeting; the outgoing council "
                    "still decides, with a warning).",
    )
    warning: Name | None = Field(
        default=None, description="With meetings: warn, what a decision at a meeting in it means, in Swedish, shown with it."
    )
    reminders: StrictBool = Field(default=True, description="No reminder is sent in it; one due in it goes before it.")

    @property
    def stops_meetings(self) -> bool:
        return self.meetings is True


class Meetings(Strict):
    blackouts: list[Blackout] = Field(default_factory=list)
    calendars: list[MeetingCalendar] = Field(default_factory=list, description="One per party whose decisions are taken at meetings.")


class ForEach(Strict):
    group: Slug
    join: Literal["all", "any", "taking-part"] | Annotated[StrictInt, Field(ge=1)] = Field(
        default="all",
        description="How many branches must be done for the stage to be done: all, any, a number, or taking-part: "
                    "every party still taking part (a party whose branch here or before said no is outside, and not waited for).",
    )
    by_party: StrictBool = Field(
        default=False,
        description="Each branch waits only for its own party's branch of the parallel stages it depends on (one party's "
                    "signing follows its own adoption), not for the whole stage.",
    )


class Counterparty(Strict):
    """The other side of each branch's own contract (the region, in each municipality's
    samverkansavtal): it accepts or rejects a contract adopted with changes, and follows up a
    split decision."""

    party: Slug
    role: Role = Field(description="The counterparty's contact role that answers and follows up, e.g. project-lead.")
    answer_within: PeriodText = Field(
        default="P2W", description="How long the counterparty is expected to take to answer amendments: a planning estimate.")


class Stage(Strict):
    id: Slug
    name: Name
    description: str | None = None
    owner: Slug = Field(description="The party that owns the stage (coordinates it, for a parallel stage).")
    responsible_role: Role = Field(description="The role that answers for the stage (in the branch's party, per branch).")
    assumption: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="What the plan assumes about the stage that its sources do not say (who proposes, which body), and "
                    "what they do say: one Swedish sentence or two, shown beside the stage's owner wherever it is presented.",
    )
    depends_on: list[Slug] = Field(default_factory=list)
    timing: Timing | None = None
    deadline: Deadline | None = None
    for_each: ForEach | None = Field(default=None, description="Run one branch per party of a group.")
    lifecycle: Slug
    record: list[RecordField] = Field(default_factory=list, description="What a branch must record when it finishes.")
    reminders: ReminderPolicy | None = None
    counterparty: Counterparty | None = Field(
        default=None, description="Who answers a branch's amendments and follows up its split decision (see Counterparty).")
    at_meetings: StrictBool = Field(
        default=False,
        description="Decided at meetings: each branch passes its party's bodies in the order of its meeting calendar "
                    "(meetings.calendars), prepared by the ones before the last and decided by the last.",
    )


class Definition(Strict):
    format: Literal["samverkan/v1"] = Field(description="The version of this file format.")
    id: Slug
    version: Annotated[StrictInt, Field(ge=1)] = Field(
        description="Raise it on every change: running instances keep the version they started with."
    )
    name: Name
    registration_number: Name | None = Field(
        default=None,
        description="The process's diarienummer in the owner's registry (e.g. RUN 2025/123), shown in the decision "
                    "register; an instance may be given its own (`samverkan start --registration-number`).",
    )
    timezone: Literal["Europe/Stockholm"] = "Europe/Stockholm"
    calendar: Literal["SE"] = Field(default="SE", description="Swedish public holidays and lag (1930:173).")
    period: DateRange = Field(description="The period the process prepares, e.g. the agreement's 2027–2030.")
    contact: ProcessContact | None = Field(
        default=None, description="The process's own contact: named in every notice for questions, and told of every escalation.")
    reminder_defaults: ReminderPolicy = Field(default_factory=ReminderPolicy)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    meetings: Meetings = Field(default_factory=Meetings, description="Meeting calendars and the periods without meetings.")
    parties: list[Party] = Field(min_length=1)
    groups: list[Group] = Field(default_factory=list)
    lifecycles: list[Lifecycle] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)

    # Look-ups by id, made once: the planner and the status view ask for every node. The first
    # of a duplicated id wins, as a scan would find it (the checks refuse duplicates anyway).
    # The hot look-ups read `__pydantic_private__` directly: `self._x` goes through pydantic's
    # `__getattr__`, which made up a fifth of the time of a policy evaluation.
    _parties: dict[str, Party] = PrivateAttr(default_factory=dict)
    _stages: dict[str, Stage] = PrivateAttr(default_factory=dict)
    _lifecycles: dict[str, Lifecycle] = PrivateAttr(default_factory=dict)
    _state_kinds: dict[tuple[str, str], StateKind] = PrivateAttr(default_factory=dict)
    _members: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)
    _calendars: dict[str, MeetingCalendar] = PrivateAttr(default_factory=dict)
    _sittings: dict[tuple[str, str], tuple] = PrivateAttr(default_factory=dict)  # the planner's cache, per body
    _derived: dict[tuple, Any] = PrivateAttr(default_factory=dict)  # what the graph derives from the stages

    def model_post_init(self, _context: object) -> None:
        for index, items in ((self._parties, self.parties), (self._stages, self.stages), (self._lifecycles, self.lifecycles)):
            for item in items:
                index.setdefault(item.id, item)
        for cycle in self._lifecycles.values():
            for state in cycle.states:
                self._state_kinds.setdefault((cycle.id, state.id), state.kind)
        for calendar in self.meetings.calendars:
            self._calendars.setdefault(calendar.party, calendar)

    def meeting_calendar(self, party_id: str) -> MeetingCalendar | None:
        return self.__pydantic_private__["_calendars"].get(party_id)

    def cached_sittings(self, party_id: str, body_id: str, compute) -> tuple:
        """A body's usable meetings with their agenda closing days, worked out once per
        definition (it is immutable): the planner asks for them for every branch and day."""
        key = (party_id, body_id)
        if key not in self.__pydantic_private__["_sittings"]:
            self.__pydantic_private__["_sittings"][key] = compute()
        return self.__pydantic_private__["_sittings"][key]

    def derived(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Something worked out from the definition alone (the stages' order, a branch's
        dependencies), once: a simulation asks for it thousands of times a second."""
        cache = self.__pydantic_private__["_derived"]
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @property
    def example_calendars(self) -> list[str]:
        """The parties whose meeting calendars are invented examples: outputs must say so."""
        return [c.party for c in self.meetings.calendars if c.example]

    def party(self, party_id: str) -> Party:
        return self.__pydantic_private__["_parties"][party_id]

    def stage(self, stage_id: str) -> Stage:
        return self.__pydantic_private__["_stages"][stage_id]

    def lifecycle(self, lifecycle_id: str) -> Lifecycle:
        return self.__pydantic_private__["_lifecycles"][lifecycle_id]

    def state_kind(self, lifecycle_id: str, state_id: str) -> StateKind:
        return self.__pydantic_private__["_state_kinds"][lifecycle_id, state_id]

    def state_outcome(self, lifecycle_id: str, state_id: str) -> DecisionOutcome | None:
        return next((s.outcome for s in self.lifecycle(lifecycle_id).states if s.id == state_id), None)

    def awaits_counterparty(self, stage: Stage, state_id: str) -> bool:
        """In this state the branch waits for the stage's counterparty to answer (amendments)."""
        if stage.counterparty is None:
            return False
        return self.derived(("awaits-counterparty", stage.lifecycle, state_id), lambda: any(
            t.by == "counterparty" and state_id in t.source for t in self.lifecycle(stage.lifecycle).transitions))

    def counterparty_acts(self, stage: Stage, state_id: str) -> bool:
        """In this state the stage's counterparty must act on the branch: answer its amendments,
        or follow up its split decision."""
        return stage.counterparty is not None and (
            self.awaits_counterparty(stage, state_id) or self.state_outcome(stage.lifecycle, state_id) is DecisionOutcome.split)

    def state_at_deciding_body(self, lifecycle_id: str, state_id: str) -> bool:
        return any(s.id == state_id and s.at_deciding_body for s in self.lifecycle(lifecycle_id).states)

    def state_appealed(self, lifecycle_id: str, state_id: str) -> bool:
        return any(s.id == state_id and s.appealed for s in self.lifecycle(lifecycle_id).states)

    def group_members(self, group_id: str) -> list[str]:
        """The party ids of a group, nested groups expanded, in order of first mention."""
        if group_id not in self.__pydantic_private__["_members"]:
            self.__pydantic_private__["_members"][group_id] = self._expand_group(group_id)
        return list(self.__pydantic_private__["_members"][group_id])

    def _expand_group(self, group_id: str) -> tuple[str, ...]:
        groups = {g.id: g for g in self.groups}
        seen: dict[str, None] = {}  # ordered, with constant-time membership

        def expand(gid: str, trail: tuple[str, ...]) -> None:
            for member in groups[gid].members:
                if member in groups and member not in trail:
                    expand(member, (*trail, member))
                elif member not in groups:
                    seen.setdefault(member)

        expand(group_id, (group_id,))
        return tuple(seen)

    def process_contact(self) -> tuple[Party, Contact] | None:
        """The process's own contact and the party it belongs to, if the definition names one."""
        if self.contact is None:
            return None
        party = self.party(self.contact.party)
        found = next((c for c in party.contacts if c.role is self.contact.role), None)
        return (party, found) if found else None

    def reminder_policy(self, stage: Stage) -> ReminderPolicy:
        return stage.reminders or self.reminder_defaults
