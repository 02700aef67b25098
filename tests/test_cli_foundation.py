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
    assert "giltig: samverkan-2027-2030 version 3, 12 steg, 66 grenar, 19 parter" in result.out


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
