import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION
from tests.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("args", "last_line"),
    [
        (["2026-12-24"], "2026-12-28"),
        (["2026-01-31", "P1M"], "2026-03-02"),
        (["2026-06-19"], "2026-06-22"),
        (["2026-10-15", "P10W"], "2026-12-28"),
        (["2026-11-23", "P6W"], "2027-01-04"),
        (["2026-03-02", "P10D"], "2026-03-12"),
    ],
)
def test_calendar_due_prints_the_legal_last_day_last(capsys, args, last_line):
    result = run_cli(capsys, "calendar", "due", *args)
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == last_line


def test_calendar_due_json_says_why_it_moved(capsys):
    result = run_cli(capsys, "calendar", "due", "2026-01-31", "P1M", "--json")
    data = json.loads(result.out)
    assert data["nominal"] == "2026-02-28" and data["due"] == "2026-03-02" and data["moved"] is True
    assert "lördag" in data["reason"] and "Saturday" in data["reason_en"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calendar", "due", "2026-02-30"], "DATE: '2026-02-30' är inget datum"),
        (["calendar", "due", "24/12/2026"], "DATE: '24/12/2026' är inget datum"),
        (["calendar", "due", "2026-01-31", "P1X"], "PERIOD: invalid period 'P1X'"),
        (["plan", str(DEFAULT_DEFINITION), "--as-of", "tomorrow"], "--as-of: 'tomorrow' är inget datum"),
        (["plan", "no/such/file.yaml"], "no/such/file.yaml: no such file"),
        (["calendar", "due"], "Missing argument 'date'"),
        (["plan", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_arguments_get_one_clear_line_and_exit_2(capsys, args, message):
    result = run_cli(capsys, *args)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert "Traceback" not in result.err


def test_validate_says_the_default_definition_is_valid(capsys):
    result = run_cli(capsys, "validate", DEFAULT_DEFINITION)
    assert result.code == 0
    assert "giltig: samverkan-2027-2030 version 4, 12 steg, 66 grenar, 19 parter" in result.out


def test_plan_json_has_one_object_per_stage_and_branch(capsys):
    result = run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json")
    data = json.loads(result.out)
    assert data["process"]["id"] == "samverkan-2027-2030"
    stages = data["stages"]
    required = {"id", "name", "party", "depends_on", "start", "deadline", "nominal_deadline", "slack_days", "critical"}
    assert all(required <= s.keys() for s in stages)
    adoption = [s for s in stages if s["id"] == "adoption"]
    assert len(adoption) == 17 and sum(s["party"] is None for s in adoption) == 1
    assert {s["party_name"] for s in adoption if s["party"]} >= {"Åsele kommun", "Vännäs kommun", "Umeå kommun"}
    assert max(s["deadline"] for s in adoption) <= "2026-12-31"
    ids = {s["id"] for s in stages}
    assert {"memo", "start-decision", "rus-update", "evaluation", "drafting", "referral", "adoption", "signing", "in-force"} <= ids


def test_plan_table_shows_names_with_swedish_letters(capsys):
    result = run_cli(capsys, "plan", DEFAULT_DEFINITION, "--as-of", "2026-11-22")
    assert result.code == 0
    for name in ("Åsele kommun", "Vännäs kommun", "Umeå kommun", "Skellefteå kommun", "Malå kommun", "Norsjö kommun"):
        assert name in result.out
    assert "Planerat per 2026-11-22" in result.out


ASSUMPTION = ("Beslutsunderlaget säger inte vilket arbetsutskott som lämnar förslaget; planen utgår från primärkommunala "
              "delegationens arbetsutskott. Enligt underlaget föreslår förvaltningen att både primärkommunala delegationens "
              "arbetsutskott och regionala utvecklingsnämnden ger regionala utvecklingsdirektören uppdraget.")


def _plan_rows(out: str) -> list[dict[str, str]]:
    """The plan's main table as {heading: cell} per row, cut where the dashes under the headings are."""
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("----"))
    spans, at = [], 0
    for dashes in lines[rule].split("  "):
        spans.append((at, at + len(dashes)))
        at += len(dashes) + 2
    heads = [lines[rule - 1][a:b].strip() for a, b in spans]
    rows = []
    for line in lines[rule + 1:]:
        if not line.strip():
            break
        rows.append({head: line[a:b].strip() for head, (a, b) in zip(heads, spans)})
    return rows


def test_plan_table_marks_the_assumed_proposer_and_says_what_is_assumed(capsys):
    out = run_cli(capsys, "plan", DEFAULT_DEFINITION).out
    [row] = [r for r in _plan_rows(out) if r["Steg"] == "Arbetsutskottets förslag (efter Samrådet §88)"]
    assert row["Ansvarig part"] == "Primärkommunala delegationen ‡"
    lines = out.splitlines()
    head = lines.index("‡ antagande i planen, inte angivet i underlaget:")
    assert lines[head + 1] == f"  Arbetsutskottets förslag (efter Samrådet §88): {ASSUMPTION}"
    assert out.count("‡") == 2  # the one stage that assumes, and its note


def test_plan_table_says_which_deadlines_are_fixed_and_which_a_calendar_gives(capsys):
    rows = _plan_rows(run_cli(capsys, "plan", DEFAULT_DEFINITION).out)
    stage = ""
    for row in rows:  # a branch's row ("└ Bjurholms kommun") follows its stage's
        stage = stage if row["Steg"].startswith("└") else row["Steg"]
        row["stage"] = stage
    basis = {(r["stage"], r["Steg"]): (r["Sista dag"], r["Grund"]) for r in rows}
    # The evaluation "under slutet av 2025" is an estimate; Bjurholm's deadline is its example
    # council's last meeting in time, neither fixed nor hard; the process's own limit is both.
    evaluation, adoption = "Utvärdering av överenskommelsen 2023–2026", "Antagande av överenskommelse och samverkansavtal"
    assert basis[evaluation, evaluation] == ("2025-12-31", "uppskattad")
    assert basis[adoption, "└ Bjurholms kommun"] == ("2026-11-30", "exempelkalender")
    assert basis[adoption, adoption] == ("2026-12-30† (hård)", "fast")
    assert basis["Överenskommelsen träder i kraft", "└ Umeå kommun"] == ("2027-01-01 (hård)", "fast")
    branches = [r for r in rows if r["stage"] == adoption and r["Steg"].startswith("└")]
    assert len(branches) == 16 and {r["Grund"] for r in branches} == {"exempelkalender"}
    assert not [r for r in branches if "hård" in r["Sista dag"]]


def test_plan_json_says_whether_a_deadline_is_fixed_and_what_is_assumed(capsys):
    stages = json.loads(run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json").out)["stages"]
    by = {(s["id"], s["party"]): s for s in stages}
    assert by[("in-force", None)]["deadline_fixed"] and by[("adoption", None)]["deadline_fixed"]
    assert not by[("evaluation", None)]["deadline_fixed"] and by[("evaluation", None)]["deadline_basis"] == "estimate"
    assert not any(s["deadline_fixed"] for s in stages if s["id"] == "adoption" and s["party"])
    assert by[("start-proposal", None)]["assumption"] == ASSUMPTION
    assert [s["id"] for s in stages if s["assumption"]] == ["start-proposal"]


def test_schema_is_json_schema_for_the_format(capsys):
    schema = json.loads(run_cli(capsys, "schema").out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"format", "id", "version", "parties", "stages", "lifecycles"} <= set(schema["required"])
    transition = schema["$defs"]["Transition"]["properties"]
    assert "from" in transition  # the alias people write, not the Python name


def test_console_script_end_to_end():
    script = Path(sys.executable).with_name("samverkan")
    ok = subprocess.run([script, "calendar", "due", "2026-12-24"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip().splitlines()[-1] == "2026-12-28"
    bad = subprocess.run([script, "calendar", "due", "2026-12-32"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_the_core_imports_nothing_from_prefect():
    code = (
        "import sys, samverkan.planner, samverkan.reminders, samverkan.graph, samverkan.calendar, "
        "samverkan.process_definitions, samverkan.engine, samverkan.instances, samverkan.status, samverkan.store, samverkan.cli, "
        "samverkan.rejections, samverkan.dashboard.content; "
        "bad = sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_status_marks_the_assumed_proposer_and_says_what_is_assumed(default_definition):
    import pendulum

    from samverkan.cli.status_output import status_as_dict, status_as_table
    from samverkan.status import status_rows
    from tests.illustrative import illustrative

    state, _ = illustrative(default_definition, keep=1)  # the memo is done: the proposal can be made
    now = pendulum.datetime(2025, 11, 3, 10, tz="Europe/Stockholm")
    rows = status_rows(default_definition, state, now)
    out = status_as_table("vb", default_definition, rows, now)
    [row] = [line for line in out.splitlines() if line.startswith("Arbetsutskottets förslag")]
    assert "Primärkommunala delegationen ‡ " in row and row.rstrip().endswith("Primärkommunala delegationen ‡ (sekreterare)")
    lines = out.splitlines()
    head = lines.index("‡ antagande i planen, inte angivet i underlaget:")
    assert lines[head + 1] == f"  Arbetsutskottets förslag (efter Samrådet §88): {ASSUMPTION}"
    stages = status_as_dict("vb", default_definition, rows, now)["stages"]
    assert [(s["id"], s["assumption"]) for s in stages if s["assumption"]] == [("start-proposal", ASSUMPTION)]
