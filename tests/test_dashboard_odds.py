"""The odds on the dashboard, pure: a real `odds(...)` result on the default definition from
the illustrative history, as the table and the text the `<instance>-sannolikhet` artifact shows."""

from __future__ import annotations

import dataclasses
import re

import pendulum
import pytest

from samverkan.dashboard.odds import day_month, odds_markdown, odds_table
from samverkan.errors import SamverkanError
from samverkan.meetings.chains import example_note
from samverkan.simulation.odds import odds
from samverkan.simulation.scenario import WITH_SPREAD
from tests.illustrative import AT, illustrative

UNTIL = pendulum.date(2027, 1, 31)  # a month after the adoption's hard deadline
# A fixed seed: the same runs every time. 60 runs: enough for shares that differ, and clear of
# the simulation's double postponement (see the xfail below), which ends a run with an error.
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


@pytest.mark.xfail(raises=SamverkanError, strict=True,
                   reason="samverkan.simulation.script postpones a matter already postponed (postponed → postponed is "
                          "not a transition), so a few runs in a hundred with WITH_SPREAD end in an error, and the odds "
                          "flow's thousand runs fail for most days' seeds; remove this mark when the script fixes it")
def test_runs_from_the_illustrative_history_complete_whatever_the_seed(default_definition):
    state, _ = illustrative(default_definition)
    odds(default_definition, state, AT.date(), UNTIL, WITH_SPREAD, 200, 20261123)  # a seed that meets it
