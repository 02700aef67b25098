"""The three weeks for an appeal (kommunallagen (2017:725) 13 kap. 5 §), counted by lag
(1930:173): §1, a period in weeks ends on the same weekday as the day of the announcement;
§2, a last day on a Saturday, Sunday, public holiday, midsummer eve, Christmas eve or New
Year's eve moves to the next weekday. The decision becomes final the day after the last day.

Every expected date below was worked out by hand with a calendar, not by running the code:
the weekday of each date is written next to it."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from samverkan.calendar.appeal import APPEAL_LAW, APPEAL_PERIOD, Finality, appeal_period, finality

D = pendulum.date

# (announced, three weeks later (§1), the last day to appeal (§2), why it moved)
CASES = [
    # 1. Fri 2026-11-20 + 3 weeks = Fri 2026-12-11, an ordinary Friday: no move. Final Sat 2026-12-12.
    (D(2026, 11, 20), D(2026, 12, 11), D(2026, 12, 11), None),
    # 2. Thu 2026-12-03 + 3 weeks = Thu 2026-12-24, julafton. Fri 25 juldagen, Sat 26 annandag jul,
    #    Sun 27: the next weekday is Mon 2026-12-28.
    (D(2026, 12, 3), D(2026, 12, 24), D(2026, 12, 28), "julafton"),
    # 3. Thu 2026-12-10 + 3 weeks = Thu 2026-12-31, nyårsafton. Fri 2027-01-01 nyårsdagen, Sat 2,
    #    Sun 3: Mon 2027-01-04.
    (D(2026, 12, 10), D(2026, 12, 31), D(2027, 1, 4), "nyårsafton"),
    # 4. Fri 2026-05-29 + 3 weeks = Fri 2026-06-19, midsommarafton (the Friday of 19-25 June).
    #    Sat 20 midsommardagen, Sun 21: Mon 2026-06-22.
    (D(2026, 5, 29), D(2026, 6, 19), D(2026, 6, 22), "midsommarafton"),
    # 5. An announcement dated on a Saturday (a digital notice board): Sat 2026-11-21 + 3 weeks =
    #    Sat 2026-12-12; Sun 13: Mon 2026-12-14.
    (D(2026, 11, 21), D(2026, 12, 12), D(2026, 12, 14), "en lördag"),
    # 6. Easter 2027 is Sunday 28 March. Fri 2027-03-05 + 3 weeks = Fri 2027-03-26, långfredagen;
    #    Sat 27, Sun 28 påskdagen, Mon 29 annandag påsk: Tue 2027-03-30.
    (D(2027, 3, 5), D(2027, 3, 26), D(2027, 3, 30), "långfredagen"),
    # 7. Mon 2027-03-08 + 3 weeks = Mon 2027-03-29, annandag påsk: Tue 2027-03-30.
    (D(2027, 3, 8), D(2027, 3, 29), D(2027, 3, 30), "annandag påsk"),
    # 8. Kristi himmelsfärdsdag 2027 is Easter + 39 days = Thu 6 May. Thu 2027-04-15 + 3 weeks =
    #    Thu 2027-05-06: Fri 2027-05-07 (a "klämdag" is an ordinary weekday in law).
    (D(2027, 4, 15), D(2027, 5, 6), D(2027, 5, 7), "Kristi himmelsfärdsdag"),
    # 9. Nationaldagen 6 June 2027 is a Sunday. Sun 2027-05-16 + 3 weeks = Sun 2027-06-06 (both a
    #    Sunday and the national day): Mon 2027-06-07.
    (D(2027, 5, 16), D(2027, 6, 6), D(2027, 6, 7), "en söndag och nationaldagen"),
    # 10. Nationaldagen on a weekday: 6 June 2028 is a Tuesday. Tue 2028-05-16 + 3 weeks =
    #     Tue 2028-06-06: Wed 2028-06-07.
    (D(2028, 5, 16), D(2028, 6, 6), D(2028, 6, 7), "nationaldagen"),
    # 11. Annandag pingst is no public holiday since 2005: Pentecost 2027 is Sun 16 May, so Mon
    #     2027-04-26 + 3 weeks = Mon 2027-05-17 is an ordinary Monday: no move.
    (D(2027, 4, 26), D(2027, 5, 17), D(2027, 5, 17), None),
    # 12. Trettondedag jul: Wed 2026-12-16 + 3 weeks = Wed 2027-01-06, across the new year:
    #     Thu 2027-01-07.
    (D(2026, 12, 16), D(2027, 1, 6), D(2027, 1, 7), "trettondedag jul"),
    # 13. Första maj 2026 is a Friday: Fri 2026-04-10 + 3 weeks = Fri 2026-05-01; Sat 2, Sun 3:
    #     Mon 2026-05-04.
    (D(2026, 4, 10), D(2026, 5, 1), D(2026, 5, 4), "första maj"),
    # 14. Alla helgons dag is the Saturday of 31 Oct-6 Nov: Sat 2026-10-31. Sat 2026-10-10 +
    #     3 weeks = Sat 2026-10-31; Sun 1 Nov: Mon 2026-11-02.
    (D(2026, 10, 10), D(2026, 10, 31), D(2026, 11, 2), "en lördag och alla helgons dag"),
    # 15. The day before julafton is an ordinary Wednesday: Wed 2026-12-02 + 3 weeks =
    #     Wed 2026-12-23, no move; the decision is final on julafton itself (finality is no
    #     action to take, and §2 does not move it).
    (D(2026, 12, 2), D(2026, 12, 23), D(2026, 12, 23), None),
]


@pytest.mark.parametrize(("announced", "nominal", "last_day", "why"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_last_day_to_appeal_is_three_weeks_on_moved_off_a_closed_day(announced, nominal, last_day, why):
    due = appeal_period(announced)
    assert (due.start, due.nominal, due.due) == (announced, nominal, last_day)
    if why is None:
        assert not due.moved and due.reason is None
    else:
        assert due.moved and due.reason.startswith(f"{nominal} är {why}; flyttad till nästa vardag {last_day}")
        assert "lag (1930:173) 2 §" in due.reason


def test_the_law_and_the_period_are_named():
    assert APPEAL_PERIOD == "P3W" and APPEAL_LAW == "kommunallagen (2017:725) 13 kap. 5 §"
    assert appeal_period(dt.date(2026, 11, 20)).due == D(2026, 12, 11)  # a plain datetime.date works too


ADOPTED = {"decision_date": "2026-11-17", "paragraph": "§ 88"}
ANNOUNCED = {**ADOPTED, "minutes_approved": "2026-11-19", "announced": "2026-11-20"}


def test_an_adopted_decision_not_yet_announced():
    f = finality(ADOPTED, D(2026, 11, 18))
    assert f.state is Finality.not_announced and f.state.value == "not-announced"
    assert (f.decided, f.minutes_approved, f.announced, f.appeal, f.appeal_until, f.final_from, f.days_left) == (
        D(2026, 11, 17), None, None, None, None, None, None)
    approved = finality({**ADOPTED, "minutes_approved": "2026-11-19"}, D(2026, 11, 19))
    assert approved.state is Finality.not_announced and approved.minutes_approved == D(2026, 11, 19)


def test_open_for_appeal_counts_down_to_the_last_day_then_final_the_day_after():
    # Announced Fri 2026-11-20; last day Fri 2026-12-11; final Sat 2026-12-12.
    on_the_day = finality(ANNOUNCED, D(2026, 11, 20))
    assert on_the_day.state is Finality.open_for_appeal and on_the_day.days_left == 21
    assert (on_the_day.appeal_until, on_the_day.final_from) == (D(2026, 12, 11), D(2026, 12, 12))
    assert finality(ANNOUNCED, D(2026, 12, 10)).days_left == 1
    last = finality(ANNOUNCED, D(2026, 12, 11))
    assert last.state is Finality.open_for_appeal and last.days_left == 0
    final = finality(ANNOUNCED, D(2026, 12, 12))
    assert final.state is Finality.final and final.days_left is None and final.final_from == D(2026, 12, 12)
    # 23:30 UTC on 11 December is already 00:30 on 12 December in Stockholm.
    assert finality(ANNOUNCED, pendulum.datetime(2026, 12, 11, 23, 30, tz="UTC")).state is Finality.final


def test_a_moved_last_day_says_why():
    # Announced Thu 2026-12-03: three weeks end on julafton; the last day is Mon 2026-12-28.
    f = finality({**ADOPTED, "minutes_approved": "2026-12-02", "announced": "2026-12-03"}, D(2026, 12, 24))
    assert f.state is Finality.open_for_appeal and f.days_left == 4
    assert (f.appeal.nominal, f.appeal_until, f.final_from) == (D(2026, 12, 24), D(2026, 12, 28), D(2026, 12, 29))
    assert f.moved_because == "2026-12-24 är julafton, lag (1930:173) 2 §"
    assert finality(ANNOUNCED, D(2026, 11, 25)).moved_because is None


def test_a_view_of_an_earlier_day_does_not_see_what_had_not_happened():
    assert finality(ANNOUNCED, D(2026, 11, 19)).state is Finality.not_announced
    assert finality(ANNOUNCED, D(2026, 11, 19)).minutes_approved == D(2026, 11, 19)
    assert finality(ANNOUNCED, D(2026, 11, 18)).minutes_approved is None


def test_a_record_with_none_of_the_dates_has_nothing_to_say():
    assert finality({}, D(2026, 11, 18)) is None
    assert finality({"paragraph": "§ 88"}, D(2026, 11, 18)) is None
