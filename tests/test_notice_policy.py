"""The notice policy, pure and fast: when each notice goes, to whom, and when it does not."""

from __future__ import annotations

import pendulum
import pytest

from samverkan.calendar import TIMEZONE, is_business_day
from samverkan.engine import NodeState, TransitionRequest, decide, start
from samverkan.graph import Node
from samverkan.notices.model import NoticeKind, message_id, notice_key
from samverkan.notices.policy import due_notices, evaluate, event_notices, first_slot, pointless, schedule
from samverkan.notifications.dates import long_date
from samverkan.notifications.render import render

from tests.drive import planned_steps
from tests.smtp_servers import SENDER


def local(*args) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=TIMEZONE)


def driven_until(definition, day: pendulum.Date):
    """The default process with every step done on its planned day (16:00) up to `day`, each
    decision's minutes registered three days after it."""
    state, _ = start(definition, local(2025, 10, 1, 9))
    state = dict(state)
    for step in planned_steps(definition, minutes=True):
        if step.day > day:
            break
        at = local(step.day.year, step.day.month, step.day.day, 16)
        request = TransitionRequest(stage=step.stage, party=step.party, to=step.to, at=at, fields=step.fields)
        for change in decide(definition, state, request, at):
            state[change.node] = change.after
    return state


@pytest.fixture(scope="module")
def adoption_phase(default_definition):
    return driven_until(default_definition, pendulum.date(2026, 10, 20))


def test_the_escalation_before_a_hard_deadline_comes_in_time_to_act_never_in_january(default_definition, adoption_phase):
    ev = evaluate(default_definition, adoption_phase, local(2026, 10, 21, 8), "vb")
    item = ev.plan.get("adoption", "vannas")
    ready, chain, escalation = schedule(ev, Node("adoption", "vannas"))
    assert item.latest_finish is not None and item.latest_finish < pendulum.date(2026, 12, 31)
    # at the latest a week (the policy's before_hard) before the last day that keeps entry into force
    assert escalation.at.date() <= item.latest_finish.subtract(weeks=1)
    assert escalation.at.date().year == 2026 and escalation.at.date() > ready.at.date()
    assert not [s for s in chain if s.kind is NoticeKind.overdue and s.at.date() > item.latest_finish]
    assert all(s.at.date() <= pendulum.date(2026, 12, 31) for s in chain)


def test_every_slot_is_at_the_policy_time_on_a_business_day(default_definition, adoption_phase):
    ev = evaluate(default_definition, adoption_phase, local(2026, 10, 21, 8), "vb")
    slots = []
    for node in ev.rows:
        if ev.rows[node].kind.value in ("ready", "active") and node.party:
            ready, chain, escalation = schedule(ev, node)
            slots += [s for s in (ready, *chain, escalation) if s]
    assert len(slots) == 16 * 6  # ready, three before, on the day, the escalation; no overdue after the hard limit
    for slot in slots:
        day = slot.at.in_timezone(TIMEZONE)
        assert is_business_day(day.date()) and day.format("HH:mm") == "08:00", slot  # never a weekend, holiday or eve


@pytest.mark.parametrize(("moment", "expected"), [
    (local(2026, 12, 11, 7, 59), local(2026, 12, 11, 8)),  # a Friday morning: that day
    (local(2026, 12, 11, 8, 0), local(2026, 12, 11, 8)),
    (local(2026, 12, 11, 8, 1), local(2026, 12, 14, 8)),  # after 08:00 on a Friday: Monday
    (local(2026, 12, 23, 16), local(2026, 12, 28, 8)),  # julafton, juldagen, annandag jul and a weekend
    (local(2026, 6, 18, 12), local(2026, 6, 22, 8)),  # midsommarafton (19 June 2026) is closed
    (local(2026, 12, 30, 23, 30), local(2027, 1, 4, 8)),  # nyårsafton, nyårsdagen, a weekend
])
def test_a_notice_caused_at_any_time_goes_at_the_next_slot(moment, expected):
    assert first_slot(moment, "08:00") == expected


def test_a_sweep_that_did_not_run_for_weeks_sends_only_the_latest_reminder(default_definition, adoption_phase):
    # Vännäs has been open since October: by 30 December its reminders 4, 2 and 1 weeks before
    # and on the day its board's agenda closed for the last meeting that could decide (12
    # November, for the council on 14 December) have all passed; only the newest is due, with the
    # escalation. Nothing overdue follows: after that day a reminder can change nothing.
    ev = evaluate(default_definition, adoption_phase, local(2026, 12, 30, 8), "vb")
    due = due_notices(ev)
    mine = [n for n in due if n.party == "vannas" and n.stage == "adoption"]
    assert {n.kind_label for n in mine} == {"on-day"}
    party = {n.recipient.email for n in mine}
    assert party == {"kommunsekreterare@vannas.example.org", "naringsliv@vannas.example.org"}
    assert {n.due_date for n in mine} == {pendulum.date(2026, 12, 14)}
    assert {n.send_at for n in mine} == {local(2026, 11, 12, 8).in_timezone("UTC")}
    # The sixteen open branches, none even registered as under preparation, escalate each the
    # first business day after the last agenda that could keep its deadline closed (not before:
    # until then it may be with its board unregistered); those that escalate on the same day go
    # in one message per recipient, naming them all.
    escalations = [n for n in due if n.kind is NoticeKind.escalation]
    assert {(n.stage, n.party) for n in escalations} == {("adoption", "")}
    escalated = {n.recipient.email for n in escalations}
    # to whoever can act on it: the project lead and the director's office, not the council's secretary
    assert escalated == {"projektledare@region-vasterbotten.example.org", "utvecklingsdirektor@region-vasterbotten.example.org"}
    by_day: dict = {}
    for n in escalations:
        by_day.setdefault(n.due_date, []).append(n)
    assert all(len(group) == 2 for group in by_day.values())  # one per recipient and day
    named = [p for group in by_day.values() for p in group[0].facts["parties"]]
    assert sorted(named) == sorted(default_definition.party(p).name for p in default_definition.group_members("signatories"))
    together = next(group[0] for group in by_day.values() if "Lycksele kommun" in group[0].facts["parties"])
    assert together.due_date == pendulum.date(2026, 11, 17) and together.facts["party_name"] == "Bjurholms kommun och Lycksele kommun"
    # Branches escalating together need not share a deadline (each is its own council's last
    # meeting): the message gives each its own, and its deadline (the subject, the calendar
    # event) is the first of them, not whichever branch the definition happens to list first.
    own = {default_definition.party(p).name: ev.rows[Node("adoption", p)].deadline for p in ("bjurholm", "lycksele")}
    assert len(set(own.values())) == 2
    assert {name: pendulum.parse(day).date() for name, day in together.facts["party_deadlines"]} == own
    assert together.facts["deadline"] == min(own.values()).isoformat()
    plain = " ".join(render(together, SENDER, ev.now).get_body(("plain",)).get_content().split())
    assert all(f"{name} ({long_date(day)})" in plain for name, day in own.items()), plain


def test_a_transition_causes_ready_notices_and_a_confirmation(default_definition):
    state = driven_until(default_definition, pendulum.date(2026, 10, 20))
    at = local(2026, 11, 3, 15)
    step = next(s for s in planned_steps(default_definition) if s.stage == "adoption" and s.party == "umea")
    fields = {**step.fields, "decision_date": "2026-11-03"}
    request = TransitionRequest(stage="adoption", party="umea", to="adopted", at=at, fields=fields)
    changes = decide(default_definition, state, request, at)
    after = dict(state) | {c.node: c.after for c in changes}
    notices = event_notices(evaluate(default_definition, after, at, "vb"), changes)
    # Umeå's decision is confirmed, and its own signing may start at once (signing goes party by
    # party): a ready notice for that branch alone.
    assert {(n.kind, n.stage, n.party) for n in notices} == {(NoticeKind.confirmation, "adoption", "umea"),
                                                             (NoticeKind.ready, "signing", "umea")}
    confirmation = next(n for n in notices if n.kind is NoticeKind.confirmation)
    assert confirmation.send_at == local(2026, 11, 4, 8).in_timezone("UTC")
    assert ["Beslutsdatum", "2026-11-03"] in confirmation.facts["record"]
    assert confirmation.facts["party_name"] == "Umeå kommun" and confirmation.facts["outcome"] == "Antaget"


def test_a_finished_or_moved_item_makes_its_queued_notice_pointless(default_definition, adoption_phase):
    ev = evaluate(default_definition, adoption_phase, local(2026, 10, 21, 8), "vb")
    open_row = ev.rows[Node("adoption", "vannas")]
    assert pointless(ev, NoticeKind.before, "adoption", "vannas", open_row.deadline) is None
    assert "fristen är nu" in pointless(ev, NoticeKind.before, "adoption", "vannas", open_row.deadline.subtract(days=3))
    assert "klart" in pointless(ev, NoticeKind.before, "drafting", "", pendulum.date(2026, 6, 1)).lower()
    assert pointless(ev, NoticeKind.confirmation, "drafting", "", pendulum.date(2026, 6, 1)) is None


def test_the_digest_goes_weekly_on_the_first_business_day(default_definition, adoption_phase):
    easter_monday = local(2026, 4, 6, 9)  # annandag påsk: the digest waits for Tuesday
    assert not [n for n in due_notices(evaluate(default_definition, adoption_phase, easter_monday, "vb")) if n.kind is NoticeKind.digest]
    tuesday = [n for n in due_notices(evaluate(default_definition, adoption_phase, local(2026, 4, 7, 8), "vb")) if n.kind is NoticeKind.digest]
    assert [(n.due_date, n.recipient.email) for n in tuesday] == [(pendulum.date(2026, 4, 6), "utvecklingsdirektor@region-vasterbotten.example.org")]


def test_a_party_without_an_address_is_a_failed_notice_with_its_reason(default_definition, adoption_phase):
    data = default_definition.model_dump(by_alias=True)
    next(p for p in data["parties"] if p["id"] == "vannas")["contacts"] = []
    broken = type(default_definition).model_validate(data)
    ev = evaluate(broken, adoption_phase, local(2026, 12, 30, 8), "vb")
    missing = [n for n in due_notices(ev) if n.party == "vannas" and n.kind is NoticeKind.on_day]
    assert len(missing) == 1 and missing[0].recipient is None
    assert "Vännäs kommun har ingen kontakt" in missing[0].missing_reason


def test_identity_and_message_id_are_stable():
    key = notice_key("vb", "adoption", "vannas", "before-2", pendulum.date(2026, 12, 30), "KS@Vannas.example.org")
    assert key == "vb/adoption/vannas/before-2/2026-12-30/ks@vannas.example.org"
    assert message_id(key, "region.example.org") == message_id(key, "region.example.org")
    assert message_id(key, "region.example.org").startswith("<samverkan.") and message_id(key, "x.example.org").endswith("@x.example.org>")


def test_nothing_is_due_once_the_process_is_finished(default_definition):
    state = driven_until(default_definition, pendulum.date(2027, 1, 1))
    assert all(isinstance(s, NodeState) for s in state.values())
    assert due_notices(evaluate(default_definition, state, local(2027, 1, 11, 8), "vb")) == []


def _escalated(ev) -> set[tuple[str, str]]:
    return {(n.stage, p) for n in due_notices(ev) if n.kind is NoticeKind.escalation
            for p in (n.facts.get("party_ids") or [n.party])}


def test_a_decision_planned_for_its_deadline_is_no_alarm_while_its_meeting_is_ahead(default_definition):
    # The RUS decision is planned for regionfullmäktige on its deadline, 30 April 2026: a week
    # before, nothing says it will be missed, so nothing escalates (it used to, on 23 April).
    state = driven_until(default_definition, pendulum.date(2026, 4, 22))
    assert state[Node("rus-update", None)].state in ("ready", "in-preparation")
    for day in (pendulum.date(2026, 4, 23), pendulum.date(2026, 4, 29), pendulum.date(2026, 4, 30)):
        assert ("rus-update", "") not in _escalated(evaluate(default_definition, state, local(day.year, day.month, day.day, 8), "vb"))
    # Its deadline passed with nothing recorded: now it is a fact, and it escalates.
    assert ("rus-update", "") in _escalated(evaluate(default_definition, state, local(2026, 5, 4, 8), "vb"))


def test_a_forgotten_registration_earns_reminders_not_an_escalation_until_the_last_agenda_closed(default_definition, adoption_phase):
    # Vännäs's matter is still "Beslutsunderlag skickat": never registered as under preparation.
    # Past the day it had to reach the board it may well be there, unregistered: the party is
    # reminded, nobody is alarmed, until the last agenda that keeps its deadline has closed.
    ev = evaluate(default_definition, adoption_phase, local(2026, 10, 21, 8), "vb")
    meetings = ev.plan.get("adoption", "vannas").meetings
    first_close, last_close = meetings.latest[0].agenda_closes, meetings.latest[-1].agenda_closes
    assert first_close < last_close
    between = first_close.add(days=1)
    while not is_business_day(between):
        between = between.add(days=1)
    ev = evaluate(default_definition, adoption_phase, local(between.year, between.month, between.day, 8), "vb")
    assert ("adoption", "vannas") not in _escalated(ev)
    after = next(d for d in (last_close.add(days=n) for n in range(1, 8)) if is_business_day(d))
    ev = evaluate(default_definition, adoption_phase, local(after.year, after.month, after.day, 8), "vb")
    assert ("adoption", "vannas") in _escalated(ev)


def test_a_meeting_passed_without_a_registered_decision_asks_to_register_it_and_escalates_only_after_the_minutes_are_due(
        default_definition, adoption_phase):
    # The decision was probably taken and not yet registered: until its minutes must be approved
    # (14 days) the party is asked to register it, and nobody is alarmed.
    state = dict(adoption_phase)
    at = local(2026, 10, 21, 16)
    for change in decide(default_definition, state, TransitionRequest("adoption", "vannas", "in-preparation", at), at):
        state[change.node] = change.after
    last = evaluate(default_definition, state, local(2026, 10, 22, 8), "vb").plan.get("adoption", "vannas").meetings.latest[-1]
    on_the_day = evaluate(default_definition, state, local(last.day.year, last.day.month, last.day.day, 8), "vb")
    assert ("adoption", "vannas") not in _escalated(on_the_day)
    after = next(d for d in (last.day.add(days=n) for n in range(1, 8)) if is_business_day(d))
    ev = evaluate(default_definition, state, local(after.year, after.month, after.day, 8), "vb")
    assert ("adoption", "vannas") not in _escalated(ev)
    [asked] = [n for n in due_notices(ev) if n.party == "vannas" and n.recipient.email.startswith("kommunsekreterare")]
    minutes_by = pendulum.parse(asked.facts["awaiting_registration"]["minutes_by"]).date()
    assert asked.kind is NoticeKind.overdue and asked.facts["deadline"] == minutes_by.isoformat()
    message = render(asked, SENDER, ev.now)
    words = " ".join(message.get_body(("plain",)).get_content().split())
    assert message["Subject"] == ("[EXEMPEL] Registrera beslutet: Antagande av överenskommelse och samverkansavtal – Vännäs kommun, "
                                  f"senast {minutes_by.day} december 2026")
    assert f"Kommunfullmäktige sammanträdde {long_date(last.day)}, men inget beslut är registrerat i Samverkan." in words
    later = next(d for d in (minutes_by.add(days=n) for n in range(1, 8)) if is_business_day(d))
    assert ("adoption", "vannas") in _escalated(evaluate(default_definition, state, local(later.year, later.month, later.day, 8), "vb"))
