import pendulum

from samverkan.process_definitions.model import ReminderPolicy
from samverkan.reminders import ReminderKind, reminder_schedule

D = pendulum.date


def days(schedule, kind):
    return [r.at.date().isoformat() for r in schedule if r.kind is kind]


def test_a_reminder_due_on_a_weekend_goes_out_the_business_day_before():
    # 2026-12-30 - P1W = 2026-12-23 (Wednesday, stays); - P3D = 2026-12-27 (Sunday) -> Wednesday 23rd (24th is Julafton)
    schedule = reminder_schedule(ReminderPolicy(before=["P1W", "P3D"]), D(2026, 12, 30))
    assert days(schedule, ReminderKind.before) == ["2026-12-23", "2026-12-23"]
    assert {r.sequence for r in schedule if r.kind is ReminderKind.before} == {1, 2}
    assert len({r.key for r in schedule}) == len(schedule)  # each reminder has its own identity


def test_monthly_overdue_reminders_do_not_drift_at_month_end():
    schedule = reminder_schedule(ReminderPolicy(on_day=False, overdue_every="P1M", overdue_max=3), D(2027, 1, 29))
    # Feb 29 does not exist in 2027 -> Feb 28 (a Sunday) -> Mar 1; then Mar 29 (Annandag påsk) -> Mar 30;
    # then Apr 29: counted from the deadline, not from Mar 1, so the 29th is kept.
    assert days(schedule, ReminderKind.overdue) == ["2027-03-01", "2027-03-30", "2027-04-29"]


def test_reminders_are_at_the_local_hour_in_winter_and_summer():
    winter = reminder_schedule(ReminderPolicy(at="07:30"), D(2026, 12, 15))
    summer = reminder_schedule(ReminderPolicy(at="07:30"), D(2026, 6, 15))
    assert {(r.at.hour, r.at.minute, r.at.utcoffset().total_seconds()) for r in winter} == {(7, 30, 3600)}
    assert {(r.at.hour, r.at.minute, r.at.utcoffset().total_seconds()) for r in summer} == {(7, 30, 7200)}


def test_no_reminders_when_the_policy_asks_for_none():
    assert reminder_schedule(ReminderPolicy(before=[], on_day=False), D(2027, 1, 1)) == ()
