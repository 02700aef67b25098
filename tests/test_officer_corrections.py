"""What a municipal officer would correct: a rejection that shows as one, the decision body
checked against the definition, the law cited only where it applies, Swedish explanations
in Swedish output, and an illustrative history that says it is one."""

from __future__ import annotations

import json

import pendulum
import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.calendar import legal_due
from samverkan.planner import MoveRule, plan
from tests.cli_helpers import run_cli

D = pendulum.date


# --- 18: cite the law only where it applies -----------------------------------------


def test_a_deadline_moved_back_is_the_process_rule_not_the_law(default_definition):
    adoption = plan(default_definition).get("adoption")
    assert (adoption.nominal_deadline, adoption.deadline) == (D(2026, 12, 31), D(2026, 12, 30))
    assert adoption.deadline_moved_by is MoveRule.process_rule
    assert "planeringsregel" in adoption.deadline_reason
    assert "lag (1930:173) 2 § flyttar bara framåt" in adoption.deadline_reason


def test_the_plan_table_does_not_cite_section_2_for_a_backward_move(capsys):
    result = run_cli(capsys, "plan", DEFAULT_DEFINITION)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "2026-12-30† (hård)" in result.out and "2026-12-30*" not in result.out
    notes = [line for line in lines if "2026-12-31" in line and "2026-12-30" in line]
    assert notes == ["  Antagande av överenskommelse och samverkansavtal, Undertecknande: 2026-12-31 är nyårsafton; flyttad bakåt till närmaste vardag 2026-12-30 "
                     "enligt processens planeringsregel (nyårsafton är ingen arbetsdag); lag (1930:173) 2 § flyttar bara framåt"]
    # No line says a backward move is §2's doing.
    assert not any(line.startswith("*") for line in lines)
    stages = {(s["id"], s["party"]): s for s in json.loads(run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json").out)["stages"]}
    assert stages[("signing", None)]["deadline_moved_by"] == "process-rule"


# --- 19: Swedish output stays Swedish ------------------------------------------------


def test_legal_explanations_are_swedish():
    assert legal_due(D(2026, 12, 24)).reason == "2026-12-24 är julafton; flyttad till nästa vardag 2026-12-28 (lag (1930:173) 2 §)"
    assert legal_due(D(2026, 6, 6)).reason == (
        "2026-06-06 är en lördag och nationaldagen; flyttad till nästa vardag 2026-06-08 (lag (1930:173) 2 §)")
    assert legal_due(D(2026, 5, 14)).reason.startswith("2026-05-14 är Kristi himmelsfärdsdag;")
    assert legal_due(D(2026, 6, 19)).reason.startswith("2026-06-19 är midsommarafton;")
    assert legal_due(D(2027, 12, 31)).reason.startswith("2027-12-31 är nyårsafton;")


def test_calendar_due_explains_in_swedish(capsys):
    result = run_cli(capsys, "calendar", "due", "2026-12-24")
    assert result.code == 0, result.err
    assert "2026-12-24 är julafton; flyttad till nästa vardag 2026-12-28 (lag (1930:173) 2 §)" in result.out
    assert "Christmas" not in result.out and " is " not in result.out
    data = json.loads(run_cli(capsys, "calendar", "due", "2026-12-24", "--json").out)
    assert data["reason"].startswith("2026-12-24 är julafton")
    assert data["reason_en"] == "2026-12-24 is Julafton (Christmas Eve); moved to the next weekday 2026-12-28"


def test_the_plan_explains_a_legal_move_in_swedish(capsys, tmp_path):
    text = open(DEFAULT_DEFINITION, encoding="utf-8").read()
    # The signing's limit on Christmas Eve, moved forward by the law.
    text = text.replace("deadline: {date: 2026-12-31, basis: fixed, hard: true, adjust: backward}\n    lifecycle: task",
                        "deadline: {date: 2026-12-24, basis: fixed, hard: false, adjust: forward}\n    lifecycle: task")
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli(capsys, "plan", str(path))
    assert result.code == 0, result.err
    assert "2026-12-28*" in result.out
    assert "  Undertecknande: 2026-12-24 är julafton; flyttad till nästa vardag 2026-12-28 (lag (1930:173) 2 §)" in result.out.splitlines()
    assert "Christmas" not in result.out


# --- 17: the decision body is checked -----------------------------------------------

TZ = "Europe/Stockholm"


def _ready_adoption(definition):
    from samverkan.engine import NodeState, start
    from samverkan.graph import Node

    state = dict(start(definition, pendulum.datetime(2025, 10, 1, 8, tz=TZ))[0])
    ready = pendulum.datetime(2026, 10, 15, tz=TZ)
    for party in definition.group_members("signatories"):
        state[Node("adoption", party)] = NodeState("ready", ready_at=ready, changed_at=ready)
    return state


def _adoption(party: str, body: str, to: str = "adopted"):
    from samverkan.engine import TransitionRequest

    outcome = ("antagen", "antaget") if to == "adopted" else ("ej antagen", "ej antaget")
    return TransitionRequest("adoption", party, to, pendulum.datetime(2026, 11, 18, 19, tz=TZ), fields={
        "decision_date": "2026-11-18", "decision_body": body, "paragraph": "§187",
        "agreement_outcome": outcome[0], "contract_outcome": outcome[1]})


WRONG_BODY_AT_MALA = (
    "Beslutet är registrerat som fattat av kommunstyrelsen, men Malå kommun beslutar i kommunfullmäktige enligt "
    "processens definition. Ett beslut som fattats av fel organ kan upphävas om det överklagas (kommunallagen 13 kap. 8 §).")


def test_an_adoption_by_the_wrong_body_is_recorded_with_a_warning(default_definition):
    from samverkan.engine import decide

    state, now = _ready_adoption(default_definition), pendulum.datetime(2026, 11, 22, 10, tz=TZ)
    [applied, *_] = decide(default_definition, state, _adoption("mala", "Kommunstyrelsen"), now)
    assert applied.after.state == "adopted" and applied.after.record["decision_body"] == "Kommunstyrelsen"
    assert applied.after.record["_warnings"] == [{
        "id": "decision-body", "short": "beslutat av kommunstyrelsen, inte kommunfullmäktige", "text": WRONG_BODY_AT_MALA}]
    [region, *_] = decide(default_definition, state, _adoption("region-vasterbotten", "Kommunfullmäktige"), now)
    assert "Region Västerbotten beslutar i regionfullmäktige" in region.after.record["_warnings"][0]["text"]
    [umea, *_] = decide(default_definition, state, _adoption("umea", "Kommunstyrelsen", to="rejected"), now)
    assert umea.after.state == "rejected" and "Umeå kommun beslutar i kommunfullmäktige" in umea.after.record["_warnings"][0]["text"]
    # Case and surrounding or doubled spaces do not matter: no warning.
    [applied, *_] = decide(default_definition, state, _adoption("mala", "  kommunFULLMÄKTIGE "), now)
    assert applied.after.state == "adopted" and "_warnings" not in applied.after.record
    [region, *_] = decide(default_definition, state, _adoption("region-vasterbotten", "Regionfullmäktige"), now)
    assert "_warnings" not in region.after.record


def test_a_party_that_has_delegated_the_matter_decides_by_its_board(default_definition):
    from samverkan.process_definitions import parse_definition
    from samverkan.engine import decide

    text = open(DEFAULT_DEFINITION, encoding="utf-8").read()
    malå = "name: Malå kommun\n    kind: municipality\n    decision_body: Kommunfullmäktige"
    assert malå in text
    # Delegated: the board decides, so the council leaves Malå's meeting calendar too.
    council = next(line for line in text.splitlines() if line.startswith("        - {id: kf,") and "2026-11-17" in line)
    text = text.replace(malå, malå.replace("Kommunfullmäktige", "Kommunstyrelsen")).replace(council + "\n", "")
    delegated = parse_definition(text, "d.yaml").definition
    assert delegated.meeting_calendar("mala").deciding.name == "Kommunstyrelsen"
    state, now = _ready_adoption(delegated), pendulum.datetime(2026, 11, 22, 10, tz=TZ)
    [applied, *_] = decide(delegated, state, _adoption("mala", "Kommunstyrelsen"), now)
    assert "_warnings" not in applied.after.record
    [council_decided, *_] = decide(delegated, state, _adoption("mala", "Kommunfullmäktige"), now)
    assert council_decided.after.record["_warnings"][0]["text"].startswith(
        "Beslutet är registrerat som fattat av kommunfullmäktige, men Malå kommun beslutar i kommunstyrelsen enligt")


# --- 20: the example says it is an example ------------------------------------------

EXAMPLE = "process_definitions/examples/history_illustrative_2026-11.yaml"
MARK = "EXEMPEL: påhittade beslut, inte det offentliga diariet"


def test_an_illustrative_history_marks_status_and_audit(cli_env, capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", EXAMPLE).code == 0
    table = run_cli(capsys, "status").out
    assert table.splitlines()[1].startswith(MARK)
    status = json.loads(run_cli(capsys, "status", "--json").out)
    assert status["illustrative"] is True and status["illustrative_note"].startswith(MARK)
    audit = json.loads(run_cli(capsys, "audit", "--format", "json").out)
    assert audit["illustrative"] is True and audit["illustrative_note"].startswith(MARK)
    invented = [t for t in audit["transitions"] if t["reference"] == "§147"]
    assert invented and invented[0]["reason"].startswith("EXEMPEL, påhittat beslut")
    import csv
    import io

    csv_rows = list(csv.DictReader(io.StringIO(run_cli(capsys, "audit", "--format", "csv").out)))
    assert MARK in csv_rows[0]["Uppgifter"]
    decisions = [row for row in csv_rows if row["Referens"]]
    assert len(decisions) >= 4 and all(row["Kommentar"].startswith("EXEMPEL, påhittat beslut") for row in decisions)
    instance = json.loads(run_cli(capsys, "status", "--json").out)["instance"]
    assert run_cli(capsys, "plan", "--instance", instance).out.startswith("EXEMPEL: påhittade beslut")
    assert any(m.startswith("EXEMPEL") for m in json.loads(run_cli(capsys, "plan", "--instance", instance, "--json").out)["instance_marks"])


def test_a_real_history_is_not_marked(cli_env, capsys, tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("transitions:\n  - {stage: memo, to: done, at: 2025-10-17}\n", encoding="utf-8")
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", real).code == 0
    assert "EXEMPEL" not in run_cli(capsys, "status").out + run_cli(capsys, "audit", "--format", "csv").out
    status = json.loads(run_cli(capsys, "status", "--json").out)
    assert status["illustrative"] is False and status["illustrative_note"] is None


# --- 16: a "no" is a problem, and shows as one ---------------------------------------


def _rejected_at_mala(capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", EXAMPLE).code == 0
    token = run_cli(capsys, "token", "issue", "chef@region.example.org", "--role", "director-office").out.strip().splitlines()[-1]
    result = run_cli(capsys, "transition", "samverkan-2027-2030", "adoption", "--party", "mala", "--to", "rejected",
                     "--at", "2026-11-20", "--reference", "§12", "--actor", "chef@region.example.org", "--token", token,
                     "--field", "decision_date=2026-11-20", "--field", "decision_body=Kommunfullmäktige",
                     "--field", "agreement_outcome=ej antagen", "--field", "contract_outcome=ej antaget")
    assert result.code == 0, result.err


def test_a_rejection_stands_out_in_status(cli_env, capsys):
    _rejected_at_mala(capsys)
    table = run_cli(capsys, "status").out
    mala = next(line for line in table.splitlines() if "└ Malå kommun" in line and "Ej antaget" in line)
    assert "! Ej antaget" in mala and "AVSLAG" in mala
    # The adoption counts the parties taking part: Malå's "no" puts Malå outside, nothing waits for it.
    assert "! Antagande av överenskommelse och samverkansavtal (Malå kommun): Ej antaget: parten står utanför " \
           "(2026-11-20, §12, Kommunfullmäktige); parten står utanför och de andra 15 går vidare utan den; nytt beslut " \
           "krävs: ärendet måste tas upp igen i Kommunfullmäktige (”Nytt beslutsärende”), eller processen ändras" in table
    assert table.index("AVSLAG (1)") < table.index("Steg ")  # seen before the table
    outside = [line for line in table.splitlines() if "└ Malå kommun" in line and " utanför " in line and "AVSLAG" not in line]
    assert len(outside) == 2  # its signing and its entry into force
    data = json.loads(run_cli(capsys, "status", "--json").out)
    rows = {(s["id"], s["party"]): s for s in data["stages"]}
    assert rows[("adoption", "mala")]["failed"] is True and rows[("adoption", "mala")]["days_left"] is None
    for stage in ("signing", "in-force"):
        assert rows[(stage, "mala")]["outside_because_of"] == {"id": "adoption", "party": "mala"}
        assert rows[(stage, "mala")]["days_left"] is None and rows[(stage, "mala")]["blocked"] is False
    assert rows[("signing", None)]["blocked_by"] == [] and rows[("signing", None)]["days_left"] is not None
    # The other councils still decide, by their own deadline; Storuman, which adopted, may sign.
    assert rows[("adoption", "vindeln")]["blocked"] is False and rows[("adoption", "vindeln")]["days_left"] is not None
    assert rows[("signing", "storuman")]["state"] == "ready" and rows[("signing", "storuman")]["outside_because_of"] is None
    [rejection] = data["rejections"]
    assert rejection["party_name"] == "Malå kommun" and rejection["blocks"] == []
    assert rejection["next_step"].startswith("nytt beslut krävs: ärendet måste tas upp igen i Kommunfullmäktige")


def test_the_planner_does_not_plan_a_rejection_to_finish(cli_env, capsys):
    _rejected_at_mala(capsys)
    table = run_cli(capsys, "plan", "--instance", "samverkan-2027-2030").out
    mala = [line for line in table.splitlines() if "└ Malå kommun" in line]
    assert "AVSLAG" in mala[-3] and all("utanför" in line for line in mala[-2:])
    assert "AVSLAG: Antagande av överenskommelse och samverkansavtal (Malå kommun) planeras inte att bli klart; blockerar " \
           "inget steg; nytt beslut krävs" in table
    assert "VARNING" not in table  # a party outside misses no deadline: it is not waited for
    data = json.loads(run_cli(capsys, "plan", "--instance", "samverkan-2027-2030", "--json").out)
    rows = {(s["id"], s["party"]): s for s in data["stages"]}
    assert rows[("adoption", "mala")]["finish"] is None and rows[("adoption", "mala")]["blocked"] is True
    assert rows[("in-force", "mala")]["outside_because_of"] == {"id": "adoption", "party": "mala"}
    assert rows[("in-force", None)]["blocked_by"] == [] and rows[("in-force", None)]["finish"] == "2027-01-01"
    assert rows[("adoption", "storuman")]["finish"] == "2026-11-20"
    assert rows[("adoption", "vindeln")]["blocked"] is False and rows[("adoption", "vindeln")]["finish"] is not None
    assert {(b["id"], b["party"]) for b in data["blocked"]} == {("adoption", "mala")}
