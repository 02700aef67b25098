"""The transition rules, the permission rule and the status view, as pure functions: no
database and no clock (every `now` is given explicitly, in Swedish local time)."""

from __future__ import annotations

import copy
import re

import pendulum
import pytest

from samverkan.process_definitions.model import StateKind
from samverkan.auth import Actor, Grant, GrantRole, may_transition, new_token, token_hash, who_may
from samverkan.engine import (
    NodeState, TransitionRefused, TransitionRequest, decide, kind_of, nodes_of, reference_of, start, waiting_for,
)
from samverkan.graph import Node
from samverkan.planner import plan
from samverkan.status import status_rows
from tests.conftest import small_definition

TZ = "Europe/Stockholm"
NOW = pendulum.datetime(2026, 4, 1, 12, tz=TZ)
BRANCHES = [Node("branches", p) for p in ("umea", "asele", "vannas")]


def t(text: str) -> pendulum.DateTime:
    """A local time: '2026-03-10' is noon that day."""
    return pendulum.parse(text if " " in text else f"{text} 12:00", tz=TZ)


def req(stage: str, to: str, at: str, party: str | None = None, reference: str | None = None, **fields: str) -> TransitionRequest:
    return TransitionRequest(stage, party, to, t(at), reference=reference, fields=fields)


def started(definition, at: str = "2026-03-01 08:00") -> dict:
    return dict(start(definition, t(at))[0])


def apply(definition, state: dict, *requests: TransitionRequest, now: pendulum.DateTime = NOW) -> dict:
    """The state after each request in turn; decide must leave its input as it was."""
    state = dict(state)
    for request in requests:
        snapshot = copy.deepcopy(state)
        changes = decide(definition, state, request, now)
        assert state == snapshot
        for change in changes:
            state[change.node] = change.after
    return state


def refused(definition, state: dict, request: TransitionRequest, *words: str, now: pendulum.DateTime = NOW) -> str:
    """Assert the request is refused with a message holding every word, and nothing changed."""
    snapshot = copy.deepcopy(state)
    with pytest.raises(TransitionRefused) as info:
        decide(definition, state, request, now)
    assert state == snapshot
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


def done(party: str, at: str, **fields: str) -> TransitionRequest:
    return req("branches", "done", at, party, **{"paragraph": "§1", **fields})


@pytest.fixture(scope="module")
def small():
    return small_definition("all")


@pytest.fixture
def released(small):
    """The small process with `first` done on 2026-03-10: the branches are ready."""
    return apply(small, started(small), req("first", "done", "2026-03-10"))


# --- start and release ---------------------------------------------------------------


def test_start_makes_the_stages_without_dependencies_ready(default_definition):
    state, changes = start(default_definition, t("2025-10-01 08:00"))
    roots = {"memo", "rus-referral", "evaluation"}
    assert set(state) == set(nodes_of(default_definition))
    # A date fixed by a decision bounds when a stage can happen: the memo is dated 2025-10-17.
    fixed = {"memo": t("2025-10-17 00:00"), "evaluation": t("2025-10-01 08:00"), "rus-referral": t("2025-10-01 08:00")}
    for node, node_state in state.items():
        if node.stage in roots:
            assert (node_state.state, node_state.ready_at) == ("ready", fixed[node.stage]), node
            assert node_state.changed_at == t("2025-10-01 08:00")
        else:
            assert (node_state.state, node_state.ready_at) == ("waiting", None), node
    assert {c.node for c in changes} == {n for n in state if n.stage in roots}
    assert len(changes) == 6  # three stages, the evaluation's three delegation branches
    assert all(c.automatic and c.before == "waiting" and c.at == t("2025-10-01 08:00") for c in changes)


def test_a_done_stage_releases_its_dependants_and_their_branches(small):
    changes = decide(small, started(small), req("first", "done", "2026-03-10"), NOW)
    assert not changes[0].automatic and changes[0].after.completed_at == t("2026-03-10")
    assert [c.node for c in changes[1:]] == [Node("branches", None), *BRANCHES]
    assert all(c.automatic and c.after.state == "ready" and c.after.ready_at == t("2026-03-10") for c in changes[1:])


def test_fixed_dates_bound_when_a_stage_can_happen(default_definition):
    state = dict(start(default_definition, t("2025-10-01 08:00"))[0])
    early = TransitionRequest("memo", None, "done", t("2025-10-10 10:00"))
    with pytest.raises(TransitionRefused, match="--at: 2025-10-10 är före den dag steget kunde påbörjas \\(2025-10-17\\)"):
        decide(default_definition, state, early, t("2026-11-22 10:00"))
    assert decide(default_definition, state, TransitionRequest("memo", None, "done", t("2025-10-17 10:00")), t("2026-11-22 10:00"))


def test_an_adoption_record_must_agree_with_its_state(default_definition):
    state = dict(start(default_definition, t("2025-10-01 08:00"))[0])
    state[Node("adoption", "umea")] = NodeState("ready", ready_at=t("2026-10-15 00:00"), changed_at=t("2026-10-15 00:00"))
    record = {"decision_date": "2026-11-18", "decision_body": "Kommunfullmäktige", "paragraph": "§187"}
    said_no = {**record, "agreement_outcome": "ej antagen", "contract_outcome": "ej antaget"}
    said_yes = {**record, "agreement_outcome": "antagen", "contract_outcome": "antaget"}
    partly = {**record, "agreement_outcome": "antagen", "contract_outcome": "ej antaget"}
    at, now = t("2026-11-18 19:00"), t("2026-11-22 10:00")
    with pytest.raises(TransitionRefused, match="--field agreement_outcome är 'ej antagen'; för att registrera ett antagande ska det vara ”antagen”"):
        decide(default_definition, state, TransitionRequest("adoption", "umea", "adopted", at, fields=said_no), now)
    with pytest.raises(TransitionRefused, match="allt antogs, och det är inget avslag"):
        decide(default_definition, state, TransitionRequest("adoption", "umea", "rejected", at, fields=said_yes), now)
    # One document adopted and the other not is a split decision, not a rejection.
    with pytest.raises(TransitionRefused, match="Det är ett delat beslut, inte ett avslag: välj ”Registrera delat beslut”"):
        decide(default_definition, state, TransitionRequest("adoption", "umea", "rejected", at, fields=partly), now)
    assert decide(default_definition, state, TransitionRequest("adoption", "umea", "split", at, fields=partly), now)
    [applied, *_] = decide(default_definition, state, TransitionRequest("adoption", "umea", "adopted", at, fields=said_yes), now)
    assert applied.after.record["decision_date"] == "2026-11-18"


def test_ready_at_is_the_latest_dependency_completion_even_when_recorded_out_of_order():
    extra = ("  - id: extra\n    name: Extra\n    owner: region\n    responsible_role: director-office\n"
             "    timing: {day: 2026-03-02, basis: fixed}\n    lifecycle: task\n")
    definition = small_definition("all", **{"depends_on: [branches]": "depends_on: [first, extra]", "  - id: last\n": extra + "  - id: last\n"})
    state = apply(definition, started(definition), req("first", "done", "2026-03-10"), now=t("2026-03-12"))
    assert state[Node("last", None)].state == "waiting"
    state = apply(definition, state, req("extra", "done", "2026-03-05"), now=t("2026-03-13"))
    assert state[Node("last", None)].state == "ready"
    assert state[Node("last", None)].ready_at == t("2026-03-10")


# --- join rules ----------------------------------------------------------------------


def test_join_all_completes_at_the_last_completion(small, released):
    state = apply(small, released, done("umea", "2026-03-20"), done("asele", "2026-03-12"))
    assert state[Node("branches", None)].state == "ready"
    assert state[Node("last", None)].state == "waiting"
    state = apply(small, state, done("vannas", "2026-03-15"))  # the last recorded, not the last to happen
    whole = state[Node("branches", None)]
    assert (whole.state, whole.completed_at) == ("done", t("2026-03-20"))
    assert whole.changed_at == whole.completed_at
    assert state[Node("last", None)].ready_at == t("2026-03-20")


def test_join_any_completes_at_the_first_and_never_goes_back():
    definition = small_definition("any")
    state = apply(definition, started(definition), req("first", "done", "2026-03-10"), done("umea", "2026-03-18"))
    whole = state[Node("branches", None)]
    assert (whole.state, whole.completed_at) == ("done", t("2026-03-18"))
    assert state[Node("last", None)].state == "ready"
    changes = decide(definition, state, req("branches", "failed", "2026-03-19", "asele"), NOW)
    assert [c.node for c in changes] == [Node("branches", "asele")]  # the whole stays done
    state = apply(definition, state, req("branches", "failed", "2026-03-19", "asele"), done("vannas", "2026-03-11"))
    assert state[Node("branches", None)] == whole


def test_join_n_completes_at_the_nth_completion_and_fails_when_it_cannot_be_met():
    definition = small_definition("2")
    state = apply(definition, started(definition), req("first", "done", "2026-03-10"),
                  done("umea", "2026-03-20"), req("branches", "failed", "2026-03-21", "asele"))
    assert state[Node("branches", None)].state == "ready"  # two may still be done
    finished = apply(definition, state, done("vannas", "2026-03-15"))
    assert (finished[Node("branches", None)].state, finished[Node("branches", None)].completed_at) == ("done", t("2026-03-20"))
    failed = apply(definition, state, req("branches", "failed", "2026-03-22", "vannas"))
    assert failed[Node("branches", None)].state == "failed"
    assert failed[Node("last", None)].state == "waiting"


def test_join_all_fails_with_a_branch_and_recovers_with_it(small, released):
    state = apply(small, released, req("branches", "failed", "2026-03-12", "umea"))
    assert state[Node("branches", None)].state == "failed"
    state = apply(small, state, done("asele", "2026-03-13"), done("vannas", "2026-03-14"))
    assert state[Node("branches", None)].state == "failed"
    state = apply(small, state, req("branches", "done", "2026-03-16", "umea", paragraph="§2"))
    whole = state[Node("branches", None)]
    assert (whole.state, whole.completed_at) == ("done", t("2026-03-16"))
    assert state[Node("branches", "umea")].record == {"paragraph": "§2"}
    assert state[Node("last", None)].state == "ready"


# --- refusals ------------------------------------------------------------------------


def test_refusals_naming_the_stage_or_party(small, released):
    refused(small, released, req("nope", "done", "2026-03-11"), "okänt steg 'nope'; stegen är: first, branches, last")
    refused(small, released, req("first", "done", "2026-03-11", "umea"), "”Första” görs inte per part; lämna --party tomt")
    refused(small, released, req("branches", "done", "2026-03-11"),
            "”Grenar” görs av varje part för sig; ange parten med --party (en av: umea, asele, vannas)")
    refused(small, released, done("nowhere", "2026-03-11"), "--party: 'nowhere' är ingen känd part", "umea, asele, vannas")
    refused(small, released, done("region", "2026-03-11"), "--party: 'region' är inte part i ”Grenar”")


def test_refusals_naming_states_and_what_is_awaited(small, released):
    refused(small, released, req("branches", "finished", "2026-03-11", "umea"),
            "Grenar (Umeå kommun) är i läget ”Redo”; --to: 'finished' är inget läge i det här steget",
            "(lägena är: waiting, ready, done, failed)")
    refused(small, released, req("branches", "waiting", "2026-03-11", "umea"),
            "Grenar (Umeå kommun) är i läget ”Redo”", "bara till done (”Klart”), failed (”Misslyckat”)")
    refused(small, released, req("first", "failed", "2026-03-11"), "Första är i läget ”Klart”", "läget är slutgiltigt")
    refused(small, released, req("last", "done", "2026-03-11"),
            "Sista är i läget ”Väntar”", "väntar på Grenar (Umeå kommun), Grenar (Åsele kommun), Grenar (Vännäs kommun)")
    state = apply(small, released, done("umea", "2026-03-11"))
    message = refused(small, state, req("last", "done", "2026-03-11"), "väntar på Grenar (Åsele kommun), Grenar (Vännäs kommun)")
    assert "Umeå" not in message


def test_refusals_for_times(small, released):
    refused(small, released, done("umea", "2026-04-01 12:01"), "ligger i framtiden")
    refused(small, released, done("umea", "2026-03-09 23:59"), "--at: 2026-03-09 är före den dag steget kunde påbörjas (2026-03-10)")
    apply(small, released, done("umea", "2026-03-10 00:01"))  # the same local day, earlier hour
    apply(small, released, TransitionRequest("branches", "umea", "done", pendulum.datetime(2026, 3, 9, 23, 30, tz="UTC"),
                                             fields={"paragraph": "§1"}))  # 00:30 in Stockholm
    state = apply(small, released, req("branches", "failed", "2026-03-15", "umea"))
    refused(small, state, done("umea", "2026-03-14"), "--at: 2026-03-14 är före stegets senaste ändring (2026-03-15)")


def test_refusals_for_the_record(small, released):
    refused(small, released, req("branches", "done", "2026-03-11", "umea"), "--field paragraph saknas: ange --field paragraph=…")
    refused(small, released, done("umea", "2026-03-11", colour="blå"), "okänt fält 'colour'; fälten är: --field paragraph")
    refused(small, released, req("branches", "failed", "2026-03-11", "umea", paragraph="§1"),
            "den här övergången registrerar inga uppgifter; lämna --field paragraph tomt")
    definition = small_definition("all", **{
        "record: [{id: paragraph, name: Paragraf, type: text}]":
            "record: [{id: paragraph, name: Paragraf, type: text}, {id: outcome, name: Utfall, type: choice, choices: [ja, nej]}]"})
    state = apply(definition, started(definition), req("first", "done", "2026-03-10"))
    refused(definition, state, done("umea", "2026-03-11", outcome="kanske"), "--field outcome: 'kanske' är inte ett av: ja, nej")
    apply(definition, state, done("umea", "2026-03-11", outcome="nej"))


@pytest.fixture
def proposal(default_definition):
    """The default process with the memo done: the start proposal (a decision) is ready."""
    return apply(default_definition, started(default_definition, "2025-10-01 08:00"),
                 req("memo", "done", "2025-10-17"), now=t("2025-10-20"))


def decision(at: str = "2025-11-10", reference: str | None = "§88", **fields: str) -> TransitionRequest:
    record = {"decision_date": "2025-11-10", "decision_body": "Arbetsutskottet", **fields}
    return req("start-proposal", "decided", at, reference=reference, **record)


def test_refusals_for_decision_records(default_definition, proposal):
    now = t("2025-11-20")
    check = lambda request, *words: refused(default_definition, proposal, request, *words, now=now)  # noqa: E731
    check(decision(decision_date="2025-11-21"),
          "--field decision_date: 2025-11-21 är efter själva övergången (2025-11-10); ange i --at den dag det hände")
    check(decision(decision_date="2025-10-16"), "--field decision_date: 2025-10-16 är före den dag steget kunde påbörjas (2025-10-17)")
    check(decision(decision_date="10/11/2025"), "--field decision_date: '10/11/2025' är inget datum: skriv ÅÅÅÅ-MM-DD")
    check(decision(reference="paragraf 187"), "--field paragraph: 'paragraf 187' har inte den form som väntas", "t.ex. §88")
    check(decision(reference=None), "--field paragraph saknas: ange --field paragraph=… (eller --reference)")
    check(decision(reference="§88", paragraph="§89"), "--reference '§88' och --field paragraph säger olika")
    check(req("start-proposal", "in-preparation", "2025-11-01", decision_body="Arbetsutskottet"), "registrerar inga uppgifter")
    message = check(decision(decision_date="", reference=None, colour="röd"), "okänt fält 'colour'")
    assert "--field decision_date saknas" in message and "--field paragraph saknas" in message


def test_reference_fills_the_field_marked_as_reference(default_definition, proposal):
    state = apply(default_definition, proposal, decision(reference="§88"), now=t("2025-11-20"))
    record = state[Node("start-proposal", None)].record
    assert record == {"decision_date": "2025-11-10", "decision_body": "Arbetsutskottet", "paragraph": "§88"}
    assert reference_of(default_definition.stage("start-proposal"), record) == "§88"
    assert reference_of(default_definition.stage("memo"), {}) is None
    same = apply(default_definition, proposal, decision(reference="§88", paragraph="§88"), now=t("2025-11-20"))
    assert same[Node("start-proposal", None)].record == record


# --- the whole default process -------------------------------------------------------


def record_for(stage_id: str, day: str, party: str | None = None) -> dict[str, str]:
    if stage_id == "adoption":
        body = "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige"
        return {"decision_date": day, "decision_body": body, "paragraph": "§187",
                "agreement_outcome": "antagen", "contract_outcome": "antaget"}
    if stage_id == "referral":
        return {"answer_date": day}
    if stage_id in ("start-proposal", "start-decision", "rus-update"):
        return {"decision_date": day, "decision_body": "Nämnden", "paragraph": "§88"}
    return {}


def test_the_default_process_runs_to_entry_into_force_on_its_planned_dates(default_definition):
    definition = default_definition
    steps = []
    for item in plan(definition).nodes:  # dependencies first; the sort below keeps that order per day
        stage = definition.stage(item.node.stage)
        if stage.for_each and item.node.party is None:
            continue  # the engine finishes the whole of a parallel stage
        target = next(s.id for s in definition.lifecycle(stage.lifecycle).states if s.kind is StateKind.done)
        steps.append((item.finish, TransitionRequest(stage.id, item.node.party, target, t(item.finish.isoformat()),
                                                     fields=record_for(stage.id, item.finish.isoformat(), item.node.party))))
    state = started(definition, "2025-10-01 08:00")
    for _, request in sorted(steps, key=lambda s: s[0]):
        state = apply(definition, state, request, now=request.at)
    # Seven single stages; the branches of five parallel ones (signing and entry into force go party by party).
    assert len(steps) == 7 + 3 + 15 + 16 + 16 + 16
    for node, node_state in state.items():
        assert kind_of(definition, definition.stage(node.stage), node_state.state) is StateKind.done, node
    in_force = state[Node("in-force", None)]
    assert (in_force.state, in_force.completed_at) == ("reached", t("2027-01-01"))
    assert {state[Node("in-force", p)].completed_at for p in definition.group_members("signatories")} == {t("2027-01-01")}
    adoption = state[Node("adoption", "umea")]
    assert adoption.state == "adopted" and adoption.record["agreement_outcome"] == "antagen"
    assert state[Node("adoption", None)].completed_at <= t("2026-12-31")


# --- waiting_for ---------------------------------------------------------------------


def test_waiting_for(small, released, default_definition):
    state = apply(small, released, done("umea", "2026-03-11"))
    assert waiting_for(small, state, Node("last", None)) == [Node("branches", "asele"), Node("branches", "vannas")]
    assert waiting_for(small, state, Node("branches", None)) == [Node("branches", "asele"), Node("branches", "vannas")]
    assert waiting_for(small, state, Node("branches", "asele")) == [Node("branches", "asele")]
    assert waiting_for(small, state, Node("branches", "umea")) == []
    assert waiting_for(small, state, Node("first", None)) == []
    fresh = started(default_definition, "2025-10-01 08:00")
    delegations = [Node("evaluation", p) for p in default_definition.group_members("delegations")]
    assert waiting_for(default_definition, fresh, Node("drafting", None)) == [Node("start-decision", None), *delegations, Node("rus-update", None)]


# --- permissions and tokens ----------------------------------------------------------


def actor(*grants: Grant) -> Actor:
    return Actor("someone@example.org", grants)


def test_director_office_may_change_everything(default_definition):
    office = actor(Grant(GrantRole.director_office))
    assert all(may_transition(office, node) for node in nodes_of(default_definition))


def test_project_lead_may_change_its_stage_and_its_branches():
    lead = actor(Grant(GrantRole.project_lead, stage="referral"))
    assert may_transition(lead, Node("referral", None)) and may_transition(lead, Node("referral", "umea"))
    assert not may_transition(lead, Node("drafting", None))
    assert not may_transition(lead, Node("adoption", "umea"))


def test_party_contact_may_change_only_its_partys_branches():
    contact = actor(Grant(GrantRole.party_contact, party="umea"))
    assert may_transition(contact, Node("referral", "umea")) and may_transition(contact, Node("adoption", "umea"))
    assert not may_transition(contact, Node("referral", "asele"))
    assert not may_transition(contact, Node("drafting", None))
    both = actor(Grant(GrantRole.party_contact, party="umea"), Grant(GrantRole.project_lead, stage="drafting"))
    assert may_transition(both, Node("drafting", None)) and not may_transition(both, Node("memo", None))


def test_who_may_names_the_party(default_definition):
    branch = who_may(default_definition, Node("adoption", "umea"))
    assert branch == ("utvecklingsdirektörens kansli, projektledaren för ”Antagande av överenskommelse och samverkansavtal” "
                      "eller en kontaktperson för Umeå kommun")
    assert who_may(default_definition, Node("drafting", None)) == (
        "utvecklingsdirektörens kansli eller projektledaren för ”Utarbetande av förslag till överenskommelse och samverkansavtal”")


def test_tokens():
    assert token_hash("svk_abc") == token_hash("svk_abc") == token_hash(" svk_abc\n")
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash("svk_abc"))
    assert token_hash("svk_abc") != token_hash("svk_abd")
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(token.startswith("svk_") and len(token) > 40 for token in tokens)


# --- status --------------------------------------------------------------------------


def test_status_rows_count_days_left_and_match_waiting_for(small):
    state = apply(small, started(small), req("first", "done", "2026-03-02"), done("umea", "2026-03-20"), now=t("2026-03-25"))
    early = {row.node: row for row in status_rows(small, state, t("2026-03-25"))}
    assert early[Node("first", None)].days_left is None and early[Node("branches", "umea")].days_left is None
    asele = early[Node("branches", "asele")]
    assert asele.days_left == asele.deadline.toordinal() - pendulum.date(2026, 3, 25).toordinal() > 0
    assert not asele.late and asele.party_name == "Åsele kommun" and asele.owner == "asele"
    late = {row.node: row for row in status_rows(small, state, t("2026-06-15"))}
    assert late[Node("last", None)].days_left == (pendulum.date(2026, 5, 29) - pendulum.date(2026, 6, 15)).days
    assert late[Node("last", None)].late and late[Node("branches", "asele")].late
    assert late[Node("first", None)].days_left is None
    for node, row in late.items():
        assert row.state == state[node].state
        assert list(row.waiting_for) == waiting_for(small, state, node)
