"""An appealed decision (överklagat, kommunallagen (2017:725) 13 kap.): it stands while the
court tries it, but is not final (laga kraft) until the court has decided. Rejected, the
decision is final from the day the court's ruling became final; annulled (upphävt), the party
needs a new decision. Until the three weeks have passed, "laga kraft" is said as "tidigast …,
om ingen överklagar", never as a plain date.

Storuman adopts on Fri 2026-11-20 (§147, the illustrative history), its minutes are approved on
Tue 2026-11-24 and announced on Wed 2026-11-25: the three weeks end Wed 2026-12-16, so with no
appeal it would be final on Thu 2026-12-17."""

from __future__ import annotations

import json

import pendulum
import pytest

from samverkan.dashboard.content import dashboard
from samverkan.engine import TransitionRefused, TransitionRequest, decide
from samverkan.graph import Node
from samverkan.notices.policy import evaluate, event_notices
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition, parse_definition
from samverkan.process_definitions.loader import DefinitionError
from samverkan.rejections import rejections
from samverkan.status import finality_line, status_rows
from tests.cli_helpers import run_cli
from tests.databases import dump
from tests.illustrative import apply, illustrative

TZ = "Europe/Stockholm"
STORUMAN = Node("adoption", "storuman")
COURT = "Förvaltningsrätten i Umeå"


def at(day: str) -> pendulum.DateTime:
    return pendulum.parse(day, tz=TZ).add(hours=10)


def step(to: str, day: str, **fields) -> TransitionRequest:
    return TransitionRequest("adoption", "storuman", to, at(day), fields=fields)


@pytest.fixture
def announced(default_definition):
    state, mark = illustrative(default_definition)
    apply(default_definition, state, [step("adopted", "2026-11-24", minutes_approved="2026-11-24"),
                                      step("adopted", "2026-11-25", announced="2026-11-25")], at("2026-11-25"))
    return state, mark


def row_of(definition, state, now, node=STORUMAN):
    return next(r for r in status_rows(definition, state, now) if r.node == node)


def matrix_row(definition, state, now, mark, party="Storumans kommun"):
    return next(r for r in dashboard(definition, state, now, "vb", [mark]).matrix if r["Part"] == party)


def test_until_the_three_weeks_have_passed_laga_kraft_is_at_the_earliest(default_definition, announced):
    state, mark = announced
    now = at("2026-12-16")  # the last day to appeal
    assert matrix_row(default_definition, state, now, mark)["Laga kraft"] == "tidigast 2026-12-17, om ingen överklagar"
    assert finality_line(row_of(default_definition, state, now)) == (
        "Storumans kommun: antaget 2026-11-20 (§147); anslaget 2026-11-25, kan överklagas till och med 2026-12-16; "
        "laga kraft tidigast 2026-12-17, om ingen överklagar")
    assert matrix_row(default_definition, state, at("2026-12-17"), mark)["Laga kraft"] == "2026-12-17"


def test_an_appeal_needs_the_court_and_the_case_number(default_definition, announced):
    state, _ = announced
    with pytest.raises(TransitionRefused) as refused:
        decide(default_definition, state, step("appealed", "2026-12-10", appeal_court=COURT), at("2026-12-10"))
    assert refused.value.problems == ["--field appeal_case saknas: ange --field appeal_case=…"]


def test_an_appealed_decision_stands_but_is_not_final_until_the_court_decides(default_definition, announced):
    state, mark = announced
    changes = decide(default_definition, state, step("appealed", "2026-12-10", appeal_court=COURT, appeal_case="1234-26"),
                     at("2026-12-10"))
    assert [(c.node, c.before, c.after.state) for c in changes] == [(STORUMAN, "adopted", "appealed")]
    for change in changes:
        state[change.node] = change.after
    # It still counts as adopted, and was adopted when it was decided; its signing is not held up.
    assert state[STORUMAN].completed_at.in_timezone(TZ).date() == pendulum.date(2026, 11, 20)
    assert state[Node("signing", "storuman")].state == "ready"
    # No confirmation "Tack!" for an appeal: it is not the party's decision.
    assert event_notices(evaluate(default_definition, state, at("2026-12-10"), "vb"), changes) == []

    long_after = at("2027-01-20")  # long past the three weeks: still not final
    row = row_of(default_definition, state, long_after)
    assert (row.finality.state.value, row.finality.final_from) == ("appealed", None)
    line = ("Storumans kommun: beslutat 2026-11-20 (§147), överklagat; laga kraft först när domstolen har avgjort målet "
            "(Förvaltningsrätten i Umeå, mål 1234-26)")
    assert finality_line(row) == line
    dash = dashboard(default_definition, state, long_after, "vb", [mark])
    storuman = next(r for r in dash.matrix if r["Part"] == "Storumans kommun")
    assert (storuman["Status"], storuman["Laga kraft"]) == (
        "Antaget, överklagat", "först när domstolen har avgjort målet (Förvaltningsrätten i Umeå, mål 1234-26)")
    assert f"- {line}" in dash.summary_markdown.replace("\\", "")
    assert "Domstol" not in storuman and "Målnummer" not in storuman  # said in "Laga kraft", not as columns

    # The court rejects the appeal; its ruling becomes final on Wed 2027-02-10: so does the decision.
    apply(default_definition, state, [step("adopted", "2027-02-10", appeal_decided="2027-02-10")], at("2027-02-11"))
    assert state[STORUMAN].state == "adopted"
    assert matrix_row(default_definition, state, at("2027-02-11"), mark)["Laga kraft"] == "2027-02-10"
    assert finality_line(row_of(default_definition, state, at("2027-02-11"))) is None
    # Looked at as of a day before the ruling was final, it was still appealed.
    assert row_of(default_definition, state, at("2027-02-01")).finality.state.value == "appealed"


def test_an_annulled_decision_puts_the_party_outside_until_it_decides_anew(default_definition, announced):
    state, _ = announced
    apply(default_definition, state, [step("appealed", "2026-12-10", appeal_court=COURT, appeal_case="1234-26"),
                                      step("annulled", "2027-02-10", appeal_decided="2027-02-10")], at("2027-02-11"))
    row = row_of(default_definition, state, at("2027-02-11"))
    assert (row.state_name, row.failed, row.finality) == ("Upphävt efter överklagande: nytt beslut behövs", True, None)
    assert row_of(default_definition, state, at("2027-02-11"), Node("signing", "storuman")).outside_by == STORUMAN
    [found] = [r for r in rejections(default_definition, state) if r.node == STORUMAN]
    assert found.next_step == ("nytt beslut krävs: ärendet måste tas upp igen i Kommunfullmäktige "
                               "(”Nytt beslutsärende”), eller processen ändras")
    apply(default_definition, state, [step("in-preparation", "2027-02-12")], at("2027-02-12"))
    assert row_of(default_definition, state, at("2027-02-12")).state_name == "Ärendet bereds"


def test_only_an_appeal_moves_a_decision_that_stands(tmp_path):
    text = DEFAULT_DEFINITION.read_text(encoding="utf-8")
    loose = text.replace("      - {from: annulled, to: in-preparation, name: Nytt beslutsärende}\n",
                         "      - {from: annulled, to: in-preparation, name: Nytt beslutsärende}\n"
                         "      - {from: adopted, to: in-preparation, name: Ångra}\n")
    with pytest.raises(DefinitionError) as refused:
        parse_definition(loose, "d.yaml")
    assert any("state 'adopted' is done and final; no transition may leave it" in p for p in refused.value.problems)
    not_done = text.replace('{id: appealed, name: "Antaget, överklagat", kind: done, appealed: true}',
                            '{id: appealed, name: "Antaget, överklagat", kind: active, appealed: true}')
    with pytest.raises(DefinitionError) as refused:
        parse_definition(not_done, "d.yaml")
    assert any("an appealed decision still stands: state 'appealed' must be of kind done" in p for p in refused.value.problems)


# --- the command line, on both databases ----------------------------------------------------


HISTORY = "process_definitions/examples/history_illustrative_2026-11.yaml"
APPEAL = ["transition", "samverkan-2027-2030", "adoption", "--party", "storuman", "--to", "appealed"]


def test_an_appeal_recorded_at_the_command_line(cli_env, capsys, monkeypatch):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", HISTORY).code == 0
    token = run_cli(capsys, "token", "issue", "chef@region.example.org", "--role", "director-office").out.strip().splitlines()[-1]
    who = ["--actor", "chef@region.example.org", "--token", token]
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-10T10:00:00")
    before = dump(cli_env)
    refused = run_cli(capsys, *APPEAL, "--field", f"appeal_court={COURT}", *who)
    assert (refused.code, refused.out) == (2, "") and refused.err == \
        "fel: --field appeal_case saknas: ange --field appeal_case=…\n"
    assert dump(cli_env) == before
    result = run_cli(capsys, *APPEAL, "--field", f"appeal_court={COURT}", "--field", "appeal_case=1234-26", *who)
    assert result.code == 0 and result.out == "Antagande av överenskommelse och samverkansavtal (Storumans kommun): Antaget → Antaget, överklagat\n"
    assert len(dump(cli_env)["notices"]) == len(before["notices"])  # no confirmation of an appeal
    rows = json.loads(run_cli(capsys, "status", "--json").out)["stages"]
    finality = next(r for r in rows if (r["id"], r["party"]) == ("adoption", "storuman"))["finality"]
    assert (finality["state"], finality["final_from"], finality["appeal"]) == (
        "appealed", None, {"court": COURT, "case": "1234-26", "decided": None})
    table = run_cli(capsys, "status").out
    assert ("  Storumans kommun: beslutat 2026-11-20 (§147), överklagat; laga kraft först när domstolen har avgjort målet "
            "(Förvaltningsrätten i Umeå, mål 1234-26)") in table.splitlines()


def test_the_form_records_only_what_the_chosen_step_records(default_definition, announced):
    from samverkan.decisions import OUTCOME, form_for, request_from_answer

    state, _ = announced
    form = form_for(default_definition, STORUMAN, state[STORUMAN])
    assert list(form.outcomes) == ["Registrera justering och anslag (Antaget)", "Registrera överklagande (Antaget, överklagat)"]
    typed = {"minutes_approved": pendulum.date(2026, 11, 24), "extract_received": pendulum.date(2026, 11, 27),
             "appeal_court": COURT, "appeal_case": "1234-26"}
    appeal = request_from_answer(default_definition, form, {OUTCOME: "Registrera överklagande (Antaget, överklagat)", **typed},
                                 at("2026-12-10"))
    assert (appeal.to, appeal.fields) == ("appealed", {"appeal_court": COURT, "appeal_case": "1234-26"})
    filing = request_from_answer(default_definition, form, {OUTCOME: "Registrera justering och anslag (Antaget)", **typed},
                                 at("2026-12-10"))
    assert (filing.to, filing.fields) == ("adopted", {"minutes_approved": "2026-11-24", "extract_received": "2026-11-27"})
    assert filing.at == pendulum.datetime(2026, 11, 27, tz=TZ)  # the latest date given
