"""When reminders about a deadline fall due: a pure function of (policy, deadline, limit).

A reminder never goes out on a Saturday, Sunday, holiday or eve: one due "two weeks before"
on a Sunday goes on the Friday before; an overdue one on the next business day.

`limit` is the last day on which finishing still keeps a hard deadline further on (the
planner's latest finish). Before it there must be time to act: the escalation comes at the
latest `escalate.before_hard` ahead of it, and no overdue reminder comes after it, when they
could change nothing (never in January for a process that enters into force on 1 January)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pendulum

from samverkan.process_definitions.model import Definition, ReminderPolicy
from samverkan.calendar import (
    Period,
    add_period,
    local_datetime,
    next_business_day,
    parse_period,
    previous_business_day,
    subtract_period,
)


class ReminderKind(StrEnum):
    before = "before"
    on_day = "on-day"
    overdue = "overdue"
    escalation = "escalation"


@dataclass(frozen=True)
class Reminder:
    kind: ReminderKind
    at: pendulum.DateTime  # Europe/Stockholm
    sequence: int  # which one of its kind: 1, 2, … (before: in policy order)
    offset: str | None = None  # the policy's period, for before/overdue/escalation

    @property
    def key(self) -> str:
        """Stable identity, so a notice is sent once per node, deadline and reminder."""
        return f"{self.kind.value}:{self.sequence}:{self.at.date().isoformat()}"


def reminder_schedule(policy: ReminderPolicy, deadline: pendulum.Date, limit: pendulum.Date | None = None) -> tuple[Reminder, ...]:
    reminders: list[Reminder] = []
    for index, text in enumerate(policy.before, start=1):
        day = previous_business_day(subtract_period(deadline, parse_period(text)))
        reminders.append(Reminder(ReminderKind.before, local_datetime(day, policy.at), index, text))
    if policy.on_day:
        reminders.append(Reminder(ReminderKind.on_day, local_datetime(previous_business_day(deadline), policy.at), 1))
    if policy.overdue_every:
        every = parse_period(policy.overdue_every)
        for index in range(1, policy.overdue_max + 1):
            # Counted from the deadline each time, so monthly repeats do not drift at month ends.
            day = add_period(deadline, Period(every.years * index, every.months * index, every.weeks * index, every.days * index))
            if limit is not None and next_business_day(day) > limit:
                break
            reminders.append(Reminder(ReminderKind.overdue, local_datetime(next_business_day(day), policy.at), index, policy.overdue_every))
    if policy.escalate:
        day = next_business_day(add_period(deadline, parse_period(policy.escalate.after)))
        if limit is not None:
            day = min(day, previous_business_day(subtract_period(limit, parse_period(policy.escalate.before_hard))))
        reminders.append(Reminder(ReminderKind.escalation, local_datetime(day, policy.at), 1, policy.escalate.after))
    return tuple(sorted(reminders, key=lambda r: (r.at, r.kind.value)))


def in_blackouts(definition: Definition, reminders: tuple[Reminder, ...]) -> tuple[Reminder, ...]:
    """No reminder during a blackout that stops them (July, the Christmas week): one due in it
    goes on the last business day before it, still ahead of what it reminds about."""
    quiet = [(b.start, b.end) for b in definition.meetings.blackouts if b.reminders]
    if not quiet:
        return reminders
    moved = []
    for reminder in reminders:
        day = reminder.at.date()
        period = next(((start, end) for start, end in quiet if start <= day <= end), None)
        if period is not None:
            before = previous_business_day(pendulum.Date(period[0].year, period[0].month, period[0].day).subtract(days=1))
            reminder = Reminder(reminder.kind, local_datetime(before, reminder.at.format("HH:mm")), reminder.sequence, reminder.offset)
        moved.append(reminder)
    return tuple(sorted(moved, key=lambda r: (r.at, r.kind.value)))
