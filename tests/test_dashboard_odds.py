"""The odds on the dashboard, pure: a real `odds(...)` result on the default definition from
the illustrative history, as the table and the text the `<instance>-sannolikhet` artifact shows."""

from __future__ import annotations

import dataclasses
import re

import pendulum
import pytest

from samverkan.dashboard.odds import day_month, odds_markdown, odds_table
from samverkan.meetings.chains import example_note
from samverkan.simulation.odds import odds
from samverkan.simulation.scenario import WITH_SPREAD
from tests.illustrative import AT, illustrative

UNTIL = pendulum.date(2027, 1, 31)  # a month after the adoption's hard deadline
# A fixed seed: the same runs every time. 60 runs: enough for shares that differ.
SEED, RUNS = 20261120, 60
BEFORE = "Före 31 december"


@pytest.fixture(scope="module")
def result(default_definition):
    state, mark = illustrative(default_definition)
    return odds(default_definition, state, AT.date(), UNTIL, WITH_SPREAD, RUNS, SEED), mark


def test_the_deadline_in_swedish_words():
    assert day_month(pendulum.date(2026, 12, 31)) == "31 december"
    assert day_month(pendulum.date(2027, 3, 1)) == "1 mars"


def test_the_table_has_a_row_per_party_least_likely_first(result, default_definition):
    o, _ = result
    table = odds_table(o)
    assert len(table) == 16 and {row["Part"] for row in table} == {p.name for p in o.parties}
    assert all(list(row) == ["Part", BEFORE, "Troligast", "Säger nej"] for row in table)
    shares = [next(p.decided for p in o.parties if p.name == row["Part"]) for row in table]
    assert shares == sorted(shares) and shares[0] < 1.0 < shares[-1] + 0.01
    names = [row["Part"] for row in table]
    for name in ("Åsele kommun", "Vännäs kommun", "Skellefteå kommun", "Umeå kommun", "Region Västerbotten"):
        assert name in names  # å, ä, ö as they are
    for row in table:
        assert re.fullmatch(r"(<1|>99|\d{1,3}) %", row[BEFORE]), row
        assert row["Säger nej"] == "–" or row["Säger nej"].endswith(" %")


def test_a_recorded_decision_is_certain_and_shows_its_day(result):
    o, _ = result
    storuman = next(row for row in odds_table(o) if row["Part"] == "Storumans kommun")
    assert storuman == {"Part": "Storumans kommun", BEFORE: "100 %", "Troligast": "beslutat 2026-11-20", "Säger nej": "–"}
    open_ones = [row for row in odds_table(o) if not row["Troligast"].startswith("beslutat")]
    assert all(re.fullmatch(r"(Kommun|Region)fullmäktige \d{4}-\d{2}-\d{2} \(\d{1,3} %\)", row["Troligast"])
               for row in open_ones), open_ones


def test_no_meeting_and_a_no_are_said_in_words(result):
    o, _ = result
    first = o.parties[0]
    changed = dataclasses.replace(o, parties=[dataclasses.replace(first, decided=0.0, outside=0.25, meeting=None,
                                                                  meeting_share=0.0), *o.parties[1:]])
    row = odds_table(changed)[0]
    assert row == {"Part": first.name, BEFORE: "0 %", "Troligast": "inget sammanträde i kalendern", "Säger nej": "25 %"}


def test_the_text_leads_with_the_marks_then_a_line_per_party_not_certain(result, default_definition):
    o, mark = result
    note = example_note(default_definition)
    assert note  # the default definition's calendars are invented examples
    text = odds_markdown(o, [mark, note])
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == f"**{mark}**" and paragraphs[1] == f"**{note}**"  # the marks before anything else

    lines = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    uncertain = [row for row in odds_table(o) if row[BEFORE] != "100 %"]
    assert lines == [f"{row['Part']}: {row[BEFORE]} före 31 december" for row in uncertain]
    assert lines and all(re.fullmatch(r"\S.*: (<1|>99|\d{1,2}) % före 31 december", line) for line in lines)
    assert "Storumans kommun" not in "\n".join(lines)  # decided: certain, not listed
    assert text.index(lines[-1]) < text.index("Hela processen klar före 31 december: ")
    whole = re.search(r"Hela processen klar före 31 december: (\d{1,3}|<1|>99) %", text)
    assert whole and whole[0].endswith(f"{round(o.complete_by_deadline * 100)} %")
    assert re.search(r"Klar: 10 % senast \d{1,2} \w+ 20\d\d; 50 % ", text)
    assert f"{RUNS} simulerade förlopp från läget 2026-11-23" in text


def test_without_invented_calendars_there_is_no_mark(result):
    o, _ = result
    text = odds_markdown(o, [])
    assert not text.startswith("**EXEMPEL") and text.startswith("- ")


def test_runs_from_the_illustrative_history_complete_whatever_the_seed(default_definition):
    """A matter postponed once is not postponed again (the lifecycle has no such transition):
    the seeds that met that, before it was fixed, now run to the end."""
    state, _ = illustrative(default_definition)
    for seed in (20261123, 20261124):
        result = odds(default_definition, state, AT.date(), UNTIL, WITH_SPREAD, 200, seed)
        assert len(result.completions) == 200


# --- Live: the odds flow against a real Prefect server, the artifact read back -------------------

INSTANCE = "vb-odds"
# A Wednesday, at the schedule's time; the seed is this day's.
ODDS_DAY = "2026-11-25T06:30:00"


@pytest.fixture
def illustrative_store(tmp_path, monkeypatch, capsys):
    """A simulated store (SQLite) with the default process and the whole illustrative history."""
    from tests.cli_helpers import run_cli
    from tests.illustrative import EXAMPLE
    from samverkan.process_definitions import DEFAULT_DEFINITION

    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'samverkan.db'}")
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", ODDS_DAY)
    for name in ("SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    started = run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", INSTANCE, "--history", EXAMPLE)
    assert started.code == 0, started.err


@pytest.mark.prefect
def test_the_odds_flow_publishes_the_artifact_the_same_all_day(prefect_server, illustrative_store, default_definition):
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from samverkan.asyncrun import run_async
    from samverkan.flows.deployments import deployments
    from samverkan.flows.odds import day_seed, odds_flow
    from samverkan.simulation.runs import default_until
    from samverkan.dashboard.markdown import md_text
    from samverkan.tasks.dashboard import _DESCRIPTIONS, artifact_key
    from samverkan.tasks.store import read_snapshot

    [summary] = odds_flow(INSTANCE, runs=RUNS)
    assert summary.startswith(f"{INSTANCE}: {RUNS} förlopp")
    odds_flow(INSTANCE, runs=RUNS)  # again the same day: the same seed, the same figures
    key = artifact_key(INSTANCE, "sannolikhet")
    assert key == f"{INSTANCE}-sannolikhet"
    with get_client(sync_client=True) as client:
        history = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                                        sort=ArtifactSort.CREATED_DESC)
    assert len(history) == 2 and all(a.type == "table" and a.flow_run_id for a in history)
    latest, earlier = history
    assert latest.data == earlier.data and latest.description == earlier.description

    # What the flow published is what the pure functions make of the same odds, worked out here.
    state, mark = illustrative(default_definition)
    today = pendulum.date(2026, 11, 25)
    until = default_until(default_definition)
    assert until == pendulum.date(2027, 2, 1)  # a month after the last hard deadline
    expected = odds(default_definition, state, today, until, WITH_SPREAD, RUNS, day_seed(today))
    table = json.loads(latest.data)  # stored as JSON text, å, ä, ö escaped
    assert table == odds_table(expected)
    assert "Vännäs kommun" in [row["Part"] for row in table]
    note = example_note(default_definition)
    assert "- Skellefteå kommun: " in latest.description  # å as it is, in the text as in the table
    marks = list(read_snapshot(INSTANCE).marks)  # the illustrative history's, and the simulated store's
    assert marks[0] == mark and marks[1].startswith("SIMULERAD")
    assert latest.description == f"{odds_markdown(expected, [*marks, note]).rstrip()}\n\n{_DESCRIPTIONS['sannolikhet']}"
    leading = latest.description.split("\n\n")[:3]
    assert leading == [f"**{md_text(m)}**" for m in [*marks, note]]  # the marks, the calendars' too, before anything
    assert "Hela processen klar före 31 december:" in latest.description

    made = {d.name: d for d in run_async(deployments())}
    odds_deployment = next(d for d in made.values() if d.flow_name == "sannolikhet")
    [schedule] = odds_deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 6 * * 1-5", "Europe/Stockholm")
