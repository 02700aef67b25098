"""The pure rules behind the flows: which branch runs Prefect must hold (samverkan.sync) and
how a form's answer becomes a transition request (samverkan.decisions). No Prefect here."""

from __future__ import annotations

import pendulum
import pytest

from samverkan.decisions import CODE, CREDENTIALS, OUTCOME, form_for, request_from_answer
from samverkan.engine import TransitionRequest, decide, start
from samverkan.errors import SamverkanError
from samverkan.graph import Node
from samverkan.sync import ObservedRun, open_branches, parse_run_key, plan_sync, run_key
from tests.conftest import small_definition
from tests.test_engine import apply, req, started

NOW = pendulum.datetime(2026, 4, 1, 12, tz="Europe/Stockholm")


@pytest.fixture
def opened():
    definition = small_definition()
    return definition, apply(definition, started(definition), req("first", "done", "2026-03-02"))


def run(node: Node, number: int, state: str, run_id: str = "r") -> ObservedRun:
    return ObservedRun(f"{run_id}-{node.party}-{number}", node.stage, node.party, number, state)


def test_an_open_parallel_stage_needs_one_waiting_run_per_branch(opened):
    definition, state = opened
    assert open_branches(definition, state) == [Node("branches", p) for p in ("umea", "asele", "vannas")]
    plan = plan_sync(definition, state, [])
    assert [(n.node.party, n.number) for n in plan.create] == [("umea", 0), ("asele", 0), ("vannas", 0)]
    assert len(plan.disagreements) == 3 and not plan.complete and not plan.cancel


def test_nothing_to_do_when_every_open_branch_has_a_waiting_run(opened):
    definition, state = opened
    runs = [run(node, 0, "PAUSED") for node in open_branches(definition, state)]
    assert plan_sync(definition, state, runs).in_agreement


def test_a_recorded_decision_ends_its_waiting_run_and_a_failed_run_is_replaced(opened):
    definition, state = opened
    state = apply(definition, state, req("branches", "done", "2026-03-10", party="umea", paragraph="§1"))
    runs = [run(Node("branches", "umea"), 0, "PAUSED"), run(Node("branches", "asele"), 0, "CRASHED"),
            run(Node("branches", "vannas"), 0, "RUNNING")]
    plan = plan_sync(definition, state, runs)
    assert [(e.run.party, e.state_name, e.succeeded) for e in plan.complete] == [("umea", "Klart", True)]
    assert [(n.node.party, n.number) for n in plan.create] == [("asele", 1)]  # the next key, not the crashed one's
    assert not plan.cancel


def test_a_reopened_branch_gets_a_new_run_and_duplicates_are_cancelled(opened):
    definition, state = opened
    state = apply(definition, state, req("branches", "failed", "2026-03-10", party="asele"))
    umea, asele = Node("branches", "umea"), Node("branches", "asele")
    plan = plan_sync(definition, state, [run(asele, 0, "PAUSED"), run(umea, 0, "PAUSED", "a"), run(umea, 1, "PAUSED", "b")])
    assert [e.run.party for e in plan.complete] == ["asele"] and not plan.complete[0].succeeded
    assert [(r.party, r.number) for r, _ in plan.cancel] == [("umea", 0)]  # the newest waits on
    state = apply(definition, state, req("branches", "done", "2026-03-11", party="asele", paragraph="§2"))
    assert not [n for n in plan_sync(definition, state, [run(asele, 0, "COMPLETED")]).create if n.node == asele]


def test_runs_for_unopened_or_unknown_branches_are_cancelled():
    definition = small_definition()
    state = started(definition)  # "branches" still waits for "first"
    plan = plan_sync(definition, state, [run(Node("branches", "umea"), 0, "PAUSED"), run(Node("nope", "x"), 0, "PAUSED")])
    assert sorted(r.party for r, _ in plan.cancel) == ["umea", "x"] and not plan.create


def test_run_keys_round_trip_and_reject_foreign_keys():
    node = Node("adoption", "asele")
    assert parse_run_key(run_key("samverkan-2027-2030", node, 3)) == ("samverkan-2027-2030", node, 3)
    assert parse_run_key(None) is None and parse_run_key("x/y") is None and parse_run_key("a/b/c/d") is None


def test_the_adoption_form_offers_the_lifecycles_steps_and_prefills_the_decision_body(default_definition):
    definition = default_definition
    node = Node("adoption", "asele")
    state = {n: s for n, s in _ready_adoption(definition).items()}
    form = form_for(definition, node, state[node])
    ids = [f.id for f in form.fields]
    assert ids[0] == OUTCOME and ids[-1] == CODE and form.field(CODE).secret
    # The form asks for a one-time code, never a personal token: a token does not even fit.
    assert "e_post" not in ids and form.field(CODE).max_length < 47
    assert {"decision_date", "decision_body", "paragraph", "agreement_outcome", "contract_outcome"} <= set(ids)
    assert form.field("decision_body").default == "Kommunfullmäktige"
    assert form.outcomes["Registrera antagande (Antaget)"] == "adopted"
    # From "ready" a council may also adopt with changes, postpone, or decline.
    assert form.outcomes["Registrera avslag (Ej antaget: parten står utanför)"] == "rejected"
    assert form.outcomes["Registrera antagande med ändringar (Antaget med ändringar: väntar på motpartens svar)"] == "amended"
    assert form.outcomes["Registrera delat beslut (Delvis antaget: uppföljning krävs)"] == "split"
    # The counterparty's answer is recorded later: the decision's form does not ask for it.
    assert "counterparty_answered" not in ids
    assert form.outcomes["Registrera bordläggning (Bordlagt till ett senare sammanträde)"] == "postponed"


def test_an_answer_becomes_the_command_lines_request(default_definition):
    definition = default_definition
    node = Node("adoption", "asele")
    state = _ready_adoption(definition)
    form = form_for(definition, node, state[node])
    answer = {OUTCOME: "Registrera antagande (Antaget)", "decision_date": pendulum.date(2026, 11, 16),
              "decision_body": "Kommunfullmäktige", "paragraph": "§154", "agreement_outcome": "antagen",
              "contract_outcome": "antaget", "kommentar": "  "}
    request = request_from_answer(definition, form, answer, NOW)
    assert (request.stage, request.party, request.to) == ("adoption", "asele", "adopted")
    assert request.at == pendulum.datetime(2026, 11, 16, tz="Europe/Stockholm")  # the decision's day, not a chosen time
    assert request.fields["paragraph"] == "§154" and request.reason is None
    assert not set(CREDENTIALS) & set(request.fields)
    changes = decide(definition, state, request, pendulum.datetime(2026, 11, 23, 9, tz="Europe/Stockholm"))
    assert changes[0].after.state == "adopted"
    # A step that records nothing ignores the record's fields; an unknown outcome is refused.
    begin = request_from_answer(definition, form, {**answer, OUTCOME: "Påbörja beredning (Ärendet bereds)"}, NOW)
    assert begin.to == "in-preparation" and begin.fields == {} and begin.at == NOW
    with pytest.raises(SamverkanError, match=r"”Vad har hänt\?”: 'Antaget i smyg' är inte ett av: Påbörja beredning"):
        request_from_answer(definition, form, {**answer, OUTCOME: "Antaget i smyg"}, NOW)


def _ready_adoption(definition):
    """The default process with every stage before the adoption done."""
    from tests.drive import planned_steps

    state = dict(start(definition, pendulum.datetime(2025, 10, 1, tz="Europe/Stockholm"))[0])
    now = pendulum.datetime(2026, 11, 23, 9, tz="Europe/Stockholm")
    for step in planned_steps(definition):
        if step.stage == "adoption":
            break
        at = pendulum.datetime(step.day.year, step.day.month, step.day.day, tz="Europe/Stockholm")
        for change in decide(definition, state, TransitionRequest(step.stage, step.party, step.to, at, fields=step.fields), now):
            state[change.node] = change.after
    return state
