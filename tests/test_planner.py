import pendulum
import pytest

from samverkan.process_definitions.model import Basis, ReminderPolicy
from samverkan.graph import Node
from samverkan.planner import Actual, plan
from samverkan.reminders import reminder_schedule
from tests.conftest import small_definition

D = pendulum.date

MUNICIPALITY_NAMES = {"Åsele kommun", "Vännäs kommun", "Umeå kommun", "Skellefteå kommun", "Malå kommun", "Norsjö kommun"}


def test_default_plan_has_sixteen_adoption_branches_before_the_new_year(default_definition):
    result = plan(default_definition)
    branches = [n for n in result.nodes if n.node.stage == "adoption" and n.node.party]
    assert len(branches) == 16
    assert MUNICIPALITY_NAMES <= {b.party_name for b in branches}
    assert "Region Västerbotten" in {b.party_name for b in branches}
    assert all(b.deadline <= D(2026, 12, 31) and b.finish <= b.deadline for b in branches)
    assert not result.infeasible


def test_adoption_deadline_moves_back_from_new_years_eve(default_definition):
    result = plan(default_definition)
    adoption = result.get("adoption")
    assert adoption.nominal_deadline == D(2026, 12, 31)
    assert adoption.deadline == D(2026, 12, 30)  # Nyårsafton: a limit that cannot be passed moves back
    assert adoption.deadline_basis is Basis.fixed and adoption.hard
    # Each party's own deadline is its council's last meeting that leaves signing its week
    # (by 23 December): Umeå's example council meets on 18 December.
    umea = result.get("adoption", "umea")
    assert umea.latest_finish == D(2026, 12, 23) and umea.deadline == D(2026, 12, 18) and umea.hard


def test_only_the_hard_deadline_and_dates_a_decision_fixed_are_fixed(default_definition):
    result = plan(default_definition)
    # The hard deadlines as the definition gives them (31 December moved back to the 30th by
    # the process's rule), and the dates the seeds fix: the memo, the RUS decision in April.
    fixed = {(n.node.stage, n.node.party): n.deadline for n in result.nodes if n.deadline_fixed}
    assert fixed[("in-force", None)] == fixed[("in-force", "umea")] == D(2027, 1, 1)
    assert fixed[("adoption", None)] == fixed[("signing", "umea")] == D(2026, 12, 30)
    assert fixed[("memo", None)] == D(2025, 10, 17) and fixed[("rus-update", None)] == D(2026, 4, 30)
    assert {stage for stage, _ in fixed} == {"memo", "rus-update", "adoption", "signing", "in-force"}


def test_an_adoption_deadline_derived_from_a_meeting_calendar_is_not_fixed(default_definition):
    result = plan(default_definition)
    branches = [n for n in result.nodes if n.node.stage == "adoption" and n.node.party]
    # Bjurholm's is its example council's last meeting in time, 30 November: a date the
    # calendar gives, not the process's limit, even though missing it breaks that limit.
    bjurholm = result.get("adoption", "bjurholm")
    assert (bjurholm.deadline, bjurholm.deadline_fixed, bjurholm.hard) == (D(2026, 11, 30), False, True)
    assert len(branches) == 16 and not any(b.deadline_fixed for b in branches)
    # Decided or not, the deadline it was measured against stays the meeting's.
    done = plan(default_definition, actuals={Node("adoption", "bjurholm"): Actual(finished=D(2026, 11, 30))})
    assert not done.get("adoption", "bjurholm").deadline_fixed


def test_the_evaluation_late_in_2025_is_an_estimate_not_a_fixed_date(default_definition):
    # The seed says only "under slutet av 2025": the window is a planning estimate.
    assert default_definition.stage("evaluation").timing.basis is Basis.estimate
    result = plan(default_definition)
    evaluation = [n for n in result.nodes if n.node.stage == "evaluation"]
    assert len(evaluation) == 4 and {(n.deadline, n.deadline_basis, n.deadline_fixed) for n in evaluation} == {
        (D(2025, 12, 31), Basis.estimate, False)}
    # An estimate bounds nothing: finishing it in January is late, not a broken fixed date.
    late = plan(default_definition, actuals={Node("evaluation", "delegation-pkd"): Actual(finished=D(2026, 1, 21))})
    assert not [i for i in late.infeasible if i.node.stage == "evaluation"]


def test_a_deadline_counted_from_a_duration_is_not_fixed(default_definition):
    result = plan(default_definition)
    drafting, referral = result.get("drafting"), result.get("referral", "umea")
    assert (drafting.deadline, drafting.deadline_fixed) == (D(2026, 6, 25), False)
    assert (referral.deadline, referral.deadline_fixed) == (D(2026, 9, 17), False)
    fixed_period = small_definition("all", **{"timing: {duration: P4W, basis: estimate}": "timing: {duration: P4W, basis: fixed}"})
    # A fixed period counted from a start that its dependencies set is still not a fixed date.
    assert not any(n.deadline_fixed for n in plan(fixed_period).nodes if n.node.stage == "branches")


def test_estimates_chain_from_the_rus_decision_by_legal_counting(default_definition):
    result = plan(default_definition)
    assert result.get("rus-update").finish == D(2026, 4, 30)
    drafting = result.get("drafting")
    assert (drafting.start, drafting.finish) == (D(2026, 4, 30), D(2026, 6, 25))  # P8W keeps the weekday
    assert result.get("referral", "umea").finish == D(2026, 9, 17)  # P12W over the summer
    signing = result.get("signing")
    assert signing.nominal_deadline == D(2026, 12, 31) and signing.finish == D(2026, 12, 28)  # 12-24 is Julafton


def test_critical_path_runs_through_the_rus_decision_not_the_evaluation(default_definition):
    result = plan(default_definition)
    critical = {n.node.stage for n in result.nodes if n.critical}
    assert critical == {"rus-update", "drafting", "referral", "final-proposal", "adoption", "signing", "in-force"}
    slack = {n.node.stage: n.slack_days for n in result.nodes if n.node.party is None}
    # Skellefteå's last council meeting in time (1 December, example calendar) needs the matter
    # with its board by 15 October, the day the final proposal is planned: nothing before the
    # adoption may slip a day.
    skelleftea = result.get("adoption", "skelleftea")
    assert skelleftea.meetings.material_by == result.get("final-proposal").finish == D(2026, 10, 15)
    assert slack["drafting"] == slack["referral"] == slack["final-proposal"] == 0
    # The region decides last (regionfullmäktige 17 December); signing (P1W) lands in the
    # Christmas holidays and moves to 12-28: six days to 23 December, but signing has only two.
    assert slack["adoption"] == 6 and slack["signing"] == 2
    assert slack["evaluation"] > 100 and slack["rus-referral"] > 30


def _delayed(definition, node, days):
    """The plan with `node` done `days` after it was planned, everything before it on time."""
    base = plan(definition)
    target = base.get(node.stage, node.party)
    actuals = {n.node: Actual(finished=n.finish) for n in base.nodes if n.finish <= target.start and n.node != node}
    actuals[node] = Actual(finished=target.finish.add(days=days))
    return plan(definition, actuals=actuals)


@pytest.mark.parametrize("stage", ["rus-update", "drafting", "final-proposal", "signing"])
def test_slack_is_exactly_how_far_a_stage_can_slip(default_definition, stage):
    slack = plan(default_definition).get(stage).slack_days
    assert not _delayed(default_definition, Node(stage, None), slack).infeasible
    assert _delayed(default_definition, Node(stage, None), slack + 1).infeasible


def done_as_planned(definition, *stages):
    planned = plan(definition)
    return {n.node: Actual(finished=n.finish) for n in planned.nodes if n.node.stage in stages}


def test_a_late_drafting_makes_the_plan_infeasible_and_names_it(default_definition):
    earlier = ("memo", "start-proposal", "start-decision", "rus-referral", "rus-update", "evaluation")
    late = {**done_as_planned(default_definition, *earlier), Node("drafting", None): Actual(finished=D(2026, 8, 14))}
    result = plan(default_definition, actuals=late, as_of=D(2026, 8, 14))
    assert result.infeasible
    hard_misses = {(i.node.stage, i.node.party) for i in result.infeasible}
    assert hard_misses == {("adoption", None), ("signing", None), ("in-force", None)}  # branches folded into their stage
    assert {i.cause for i in result.infeasible} == {Node("drafting", None)}
    assert {i.why.value for i in result.infeasible} == {"late"}
    signing = next(i for i in result.infeasible if i.node == Node("signing", None))
    assert signing.days_late == (signing.finish - D(2026, 12, 30)).days > 0


def test_open_work_cannot_finish_in_the_past(default_definition):
    result = plan(default_definition, as_of=D(2026, 11, 22))
    for node in result.nodes:
        assert node.completed is None
        assert node.finish >= D(2026, 11, 22)


def test_actual_dates_replace_estimates(default_definition):
    actuals = {Node("drafting", None): Actual(finished=D(2026, 6, 1))}
    result = plan(default_definition, actuals=actuals)
    assert result.get("drafting").completed == D(2026, 6, 1)
    assert result.get("referral", "umea").start == D(2026, 6, 1)


@pytest.mark.parametrize(("join", "finish"), [("all", D(2026, 4, 20)), ("any", D(2026, 3, 25)), ("2", D(2026, 3, 30))])
def test_join_rule_decides_when_a_parallel_stage_is_done(join, finish):
    definition = small_definition(join)
    actuals = {
        Node("branches", "umea"): Actual(finished=D(2026, 3, 25)),
        Node("branches", "asele"): Actual(finished=D(2026, 3, 30)),
        Node("branches", "vannas"): Actual(finished=D(2026, 4, 20)),
    }
    assert plan(definition, actuals=actuals).get("branches").finish == finish


def test_branch_reminders_follow_the_swedish_calendar(default_definition):
    asele = plan(default_definition).get("adoption", "asele")
    reminders = asele.reminders
    shown = [(r.kind.value, r.offset, r.at.isoformat()) for r in reminders]
    # Signing must follow before 31 December, so the last day to adopt is 23 December: Åsele's
    # example council meets last before it on 4 December, and its board before that on 17
    # November, whose agenda closes two weeks ahead, on 3 November. The reminders aim there, the
    # escalation comes a week (before_hard) ahead of it, and none comes after it.
    assert asele.latest_finish == D(2026, 12, 23) and asele.deadline == D(2026, 12, 4)
    assert asele.act_by == D(2026, 11, 3)
    assert ("before", "P4W", "2026-10-06T08:00:00+02:00") in shown  # summer time still
    assert ("on-day", None, "2026-11-03T08:00:00+01:00") in shown
    assert ("escalation", "P1W", "2026-10-27T08:00:00+01:00") in shown
    assert not [r for r in reminders if r.kind.value == "overdue"] and all(r.at.year == 2026 for r in reminders)
    assert [r.at for r in reminders] == sorted(r.at for r in reminders)


def test_overdue_reminders_follow_the_swedish_calendar():
    # 2026-12-30 + 1 week is Trettondedag jul (2027-01-06): with no hard limit, the overdue notice waits a day.
    schedule = reminder_schedule(ReminderPolicy(overdue_every="P1W", overdue_max=1), D(2026, 12, 30))
    assert [r.at.isoformat() for r in schedule if r.kind.value == "overdue"] == ["2027-01-07T08:00:00+01:00"]


def test_completed_nodes_get_no_reminders(default_definition):
    result = plan(default_definition, actuals={Node("memo", None): Actual(finished=D(2025, 10, 17))})
    assert result.get("memo").reminders == ()
    assert result.get("drafting").reminders


def test_reminders_keep_local_time_across_daylight_saving(default_definition):
    reminders = plan(default_definition).get("rus-update").reminders
    assert {r.at.hour for r in reminders} == {8}
    assert {r.at.utcoffset().total_seconds() / 3600 for r in reminders} == {2.0}  # April/May: summer time


def test_hard_deadline_missed_by_a_fixed_start(default_definition):
    definition = small_definition("all", **{"timing: {day: 2026-03-02, basis: fixed}": "timing: {day: 2026-05-11, basis: fixed}"})
    result = plan(definition)
    [miss] = result.infeasible
    assert (miss.kind.value, miss.node) == ("deadline", Node("last", None))
    # Nothing is behind its own plan: the chain is too long, and its longest estimate is named.
    assert (miss.cause, miss.why.value) == (Node("branches", None), "longest-estimate")
    assert miss.chain[0] == Node("last", None) and miss.chain[-1] == Node("first", None)


def test_a_fixed_date_its_dependencies_make_impossible_is_reported(default_definition):
    late = {Node("rus-referral", None): Actual(finished=D(2026, 5, 15))}  # the RUS decision is fixed to April
    result = plan(default_definition, actuals=late)
    [miss] = [i for i in result.infeasible if i.kind.value == "fixed-date"]
    assert (miss.node, miss.deadline, miss.cause, miss.why.value) == (Node("rus-update", None), D(2026, 4, 30), Node("rus-referral", None), "late")


def test_work_done_after_its_hard_deadline_is_reported_as_missed(default_definition):
    base = plan(default_definition)
    actuals = {n.node: Actual(finished=n.finish) for n in base.nodes if n.node.stage not in ("signing", "in-force")}
    actuals[Node("signing", None)] = Actual(finished=D(2026, 12, 31))
    missed = [i for i in plan(default_definition, actuals=actuals).infeasible if i.kind.value == "missed"]
    assert [(i.node, i.deadline) for i in missed] == [(Node("signing", None), D(2026, 12, 30))]


def test_dates_past_the_calendar_are_a_clear_error(default_definition):
    from samverkan.errors import SamverkanError
    from tests.conftest import small_definition as small

    long = small("all", **{"timing: {duration: P4W, basis: estimate}": "timing: {duration: P10Y, basis: estimate}",
                           "timing: {duration: P2W, basis: estimate}": "timing: {duration: P10Y, basis: estimate}",
                           "timing: {day: 2026-03-02, basis: fixed}": "timing: {day: 2090-03-02, basis: fixed}",
                           "deadline: {date: 2026-05-29, basis: fixed, hard: true}": "deadline: {date: 2090-05-29, basis: fixed, hard: true}"})
    with pytest.raises(SamverkanError, match="steget 'last': dess datum hamnar utanför de år som kalendern känner"):
        plan(long)
