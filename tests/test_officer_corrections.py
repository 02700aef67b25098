"""What a municipal officer would correct: a rejection that shows as one, the decision body
checked against the definition, the law cited only where it applies, Swedish explanations
in Swedish output, and an illustrative history that says it is one."""

from __future__ import annotations

import json

import pendulum

from process_definitions import DEFAULT_DEFINITION
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
    assert notes == ["  adoption, signing: 2026-12-31 är nyårsafton; flyttad bakåt till närmaste vardag 2026-12-30 "
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
    assert "  signing: 2026-12-24 är julafton; flyttad till nästa vardag 2026-12-28 (lag (1930:173) 2 §)" in result.out.splitlines()
    assert "Christmas" not in result.out
