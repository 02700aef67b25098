"""`samverkan forecast` and the meetings in `samverkan plan`, on both databases."""

from __future__ import annotations

import json

from samverkan.process_definitions import DEFAULT_DEFINITION

from tests.cli_helpers import run_cli
from tests.databases import dump


def test_forecast_of_a_running_instance(cli_env, capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb", "--as-of", "2025-10-01").code == 0
    before = dump(cli_env)
    table = run_cli(capsys, "forecast", "vb")
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].startswith("SIMULERAD") and lines[1].startswith("EXEMPEL")  # the marks first
    assert "HINNER INTE (16):" in table.out  # nothing recorded since October 2025: no party can make it
    assert "I RISKZONEN" not in table.out  # those that cannot are not counted again as at risk
    vannas = next(line for line in lines if line.startswith("  Vännäs kommun: "))
    assert vannas.startswith("  Vännäs kommun: beslutsunderlaget väntas ")
    assert vannas.endswith(", men ärendet måste vara hos kommunstyrelsen senast 2026-11-12 för att hinna till kommunfullmäktige "
                           "2026-12-14, det sista sammanträde där beslutet hinner fattas; inget planerat sammanträde hinner; "
                           "kommunfullmäktige kan kallas till ett extra sammanträde (kommunallagen 5 kap.) senast 2026-12-18, "
                           "efter beredning i kommunstyrelsen")
    data = json.loads(run_cli(capsys, "forecast", "vb", "--json").out)
    assert data["as_of"] == "2026-11-22" and len(data["parties"]) == 16 and len(data["example_calendars"]) == 16
    vannas = next(p for p in data["parties"] if p["party"] == "vannas")
    assert vannas["outlook"] == "cannot" and vannas["outlook_name"] == "hinner inte"
    assert vannas["last_decision_meeting"]["date"] == "2026-12-14"
    assert len(data["cannot"]) == 16 and data["at_risk"] == [] and data["awaiting_registration"] == []
    assert vannas["last_decision_meeting"]["body_name"] == "Kommunfullmäktige" and vannas["in_force"] is None
    assert dump(cli_env) == before  # a read changes nothing
    unknown = run_cli(capsys, "forecast", "nobody")
    assert unknown.code == 2 and unknown.err.count("\n") == 1 and "nobody" in unknown.err


def test_plan_shows_every_branch_its_meetings(capsys):
    result = run_cli(capsys, "plan")
    assert result.code == 0 and result.out.startswith("EXEMPEL: sammanträdesdagarna för 16 parter")
    row = next(line for line in result.out.splitlines() if line.startswith("Vännäs kommun "))
    assert row.split()[2:8] == ["Kommunfullmäktige", "2026-11-23", "Kommunfullmäktige", "2026-12-14", "2026-11-12", "1"]
    data = json.loads(run_cli(capsys, "plan", "--json").out)
    branches = [s for s in data["stages"] if s["id"] == "adoption" and s["party"]]
    assert len(branches) == 16 and all(b["meetings"]["example_calendar"] for b in branches)
    assert all(b["deadline"] == b["meetings"]["last_decision_meeting"]["date"] < "2026-12-31" for b in branches)
    assert all(b["reminders_aim_at"] == b["meetings"]["material_by"] for b in branches)
