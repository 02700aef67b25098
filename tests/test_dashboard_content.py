"""The dashboard's content: pure functions of (definition, state, time), checked against the
default process and the shipped illustrative history, no database, no Prefect."""

from __future__ import annotations

from types import SimpleNamespace

import pendulum
import pytest

from samverkan import engine
from samverkan.dashboard.adoption import adoption_stage
from samverkan.dashboard.content import dashboard, dashboard_of
from samverkan.dashboard.markdown import md_text
from samverkan.engine import TransitionRequest
from samverkan.graph import Node
from samverkan.instances import SIMULATED_MARK, Loaded
from tests.conftest import small_definition
from tests.illustrative import AT, adoption_request, apply, illustrative

LATE = pendulum.datetime(2026, 12, 31, 10, tz="Europe/Stockholm")  # the adoption deadline, 2026-12-30, has passed
MATRIX_COLUMNS = ["Part", "Överenskommelsen", "Samverkansavtalet", "Beslutande organ", "Beslutsdatum", "Paragraf",
                  "Protokollet justerat", "Justeringen anslagen", "Laga kraft", "Status"]


@pytest.fixture(scope="module")
def example(default_definition):
    state, mark = illustrative(default_definition)
    return dashboard(default_definition, state, AT, "samverkan-2027-2030", [mark]), mark


@pytest.fixture(scope="module")
def rejected_and_late(default_definition):
    """Skellefteå says no to the agreement on 2026-11-20; by New Year's eve twelve parties are late."""
    state, mark = illustrative(default_definition)
    apply(default_definition, state, [adoption_request("skelleftea", "rejected", "2026-11-20", "§187", "ej antagen", "antaget")], LATE)
    return dashboard(default_definition, state, LATE, "samverkan-2027-2030", [mark])


def _without_parallel_stages():
    return small_definition(**{"for_each: {group: kommuner, join: all}": "",
                               "responsible_role: secretary": "responsible_role: director-office"})


def _party_row(rows, name):
    return next(r for r in rows if r["Part"] == name)


def test_progress_counts_the_adopted_branches(example):
    progress = example[0].progress
    assert (progress.done, progress.total, progress.text) == (3, 16, "3 av 16 har antagit")
    assert progress.fraction == pytest.approx(3 / 16)


def test_the_matrix_has_every_party_in_definition_order_with_what_it_recorded(example, default_definition):
    rows = example[0].matrix
    assert [r["Part"] for r in rows] == [default_definition.party(p).name for p in default_definition.group_members("signatories")]
    assert list(rows[0]) == MATRIX_COLUMNS
    assert _party_row(rows, "Åsele kommun") == {
        "Part": "Åsele kommun", "Överenskommelsen": "antagen", "Samverkansavtalet": "antaget",
        "Beslutande organ": "Kommunfullmäktige", "Beslutsdatum": "2026-11-16", "Paragraf": "§154",
        "Protokollet justerat": "–", "Justeringen anslagen": "–", "Laga kraft": "–", "Status": "Antaget",
    }
    assert _party_row(rows, "Vännäs kommun")["Paragraf"] == "§147"
    undecided = _party_row(rows, "Skellefteå kommun")
    assert [undecided[c] for c in MATRIX_COLUMNS[1:-1]] == ["–"] * 8
    assert undecided["Status"] == "Beslutsunderlag skickat"


def test_the_adoption_stage_is_the_one_whose_record_names_the_deciding_body(default_definition):
    # The referral and the evaluation are parallel too, and the referral has a record.
    assert adoption_stage(default_definition).id == "adoption"
    assert adoption_stage(small_definition()).id == "branches"  # no such field: the last parallel stage
    assert adoption_stage(_without_parallel_stages()) is None


def test_a_process_without_parallel_stages_has_an_empty_matrix():
    definition = _without_parallel_stages()

    state, changes = engine.start(definition, pendulum.datetime(2026, 3, 1, tz="Europe/Stockholm"))
    state.update({c.node: c.after for c in changes})
    dash = dashboard(definition, state, pendulum.datetime(2026, 3, 2, tz="Europe/Stockholm"), "liten", [])
    assert dash.matrix == [] and dash.progress.total == 0 and dash.progress.fraction == 0.0
    assert len(dash.stages) == 3 and "har antagit" not in dash.summary_markdown


def test_the_stage_table_shows_names_owners_and_days_in_swedish(example):
    rows = example[0].stages
    assert list(rows[0]) == ["Steg", "Part", "Status", "Ansvarig", "Deadline", "Dagar kvar", "Väntar på"]
    assert rows[0]["Steg"] == "Förvaltningens tjänsteskrivelse"  # nothing late: definition order
    skelleftea = next(r for r in rows if r["Part"] == "Skellefteå kommun" and r["Steg"].startswith("Antagande"))
    assert skelleftea == {
        "Steg": "Antagande av överenskommelse och samverkansavtal", "Part": "Skellefteå kommun",
        "Status": "Beslutsunderlag skickat", "Ansvarig": "Skellefteå kommun (sekreterare)", "Deadline": "2026-12-30",
        "Dagar kvar": "37 dagar", "Väntar på": "Skellefteå kommun (sekreterare)",
    }
    signing = next(r for r in rows if r["Steg"] == "Undertecknande")
    assert signing["Väntar på"].startswith("Antagande av överenskommelse och samverkansavtal: Region Västerbotten, ")
    assert signing["Väntar på"].endswith(" och 9 till")


def test_rejected_then_late_items_come_first(rejected_and_late):
    rows = rejected_and_late.stages
    assert [(r["Part"], r["Dagar kvar"]) for r in rows[:2]] == [("alla 16 parter", "avslag"), ("Skellefteå kommun", "avslag")]
    late = rows[2:14]
    assert {r["Dagar kvar"] for r in late} == {"1 dag sen"}
    assert late[0]["Part"] == "Region Västerbotten" and late[-1]["Part"] == "Vindelns kommun"
    assert rows[14]["Steg"] == "Förvaltningens tjänsteskrivelse"  # then the rest, in definition order
    signing = next(r for r in rows if r["Steg"] == "Undertecknande")
    assert signing["Dagar kvar"] == "blockerat"
    assert signing["Väntar på"] == "avslag: Antagande av överenskommelse och samverkansavtal: Skellefteå kommun"


def test_the_summary_puts_the_mark_first_and_rejections_before_lateness(rejected_and_late, example):
    _, mark = example
    text = rejected_and_late.summary_markdown
    assert text.startswith(f"> **{md_text(mark)}**\n")
    assert "**Antagande av överenskommelse och samverkansavtal: 3 av 16 har antagit** (19 %)" in text
    assert text.index("### Avslag (1)") < text.index("### Försenat (12)") < text.index("### Blockerat")
    rejection = next(line for line in text.splitlines() if line.startswith("- **Skellefteå kommun**"))
    assert "Ej antaget (2026-11-20, §187, Kommunfullmäktige)" in rejection
    assert "Blockerar Antagande av överenskommelse och samverkansavtal, Undertecknande, Överenskommelsen träder i kraft" in rejection
    late = text.split("### Försenat (12)")[1].split("###")[0]
    assert "(deadline 2026-12-30, 1 dag sen): väntar på Region Västerbotten, Bjurholms kommun," in late
    assert "Skellefteå" not in late  # said no: listed under Avslag, not as late


def test_the_summary_says_on_whom_the_open_work_waits(example):
    text = example[0].summary_markdown
    assert "Inget är försenat och inget har fått avslag." in text
    on_whom = text.split("### Vad väntar på vem")[1]
    assert "(deadline 2026-12-30, 37 dagar kvar): väntar på Region Västerbotten, Bjurholms kommun" in on_whom
    assert "Skellefteå kommun" in on_whom and "Åsele kommun" not in on_whom  # Åsele has adopted


def test_the_timeline_compares_the_deadline_with_the_day_it_was_done(example, rejected_and_late):
    rows = example[0].timeline
    assert list(rows[0]) == ["Steg", "Part", "Planerat", "Faktiskt", "Avvikelse"]
    umea = next(r for r in rows if r["Part"] == "Umeå kommun" and r["Steg"].startswith("Antagande"))
    assert umea == {"Steg": "Antagande av överenskommelse och samverkansavtal", "Part": "Umeå kommun",
                    "Planerat": "2026-12-30", "Faktiskt": "2026-11-02", "Avvikelse": "58 dagar före"}
    memo = rows[0]
    assert (memo["Planerat"], memo["Faktiskt"], memo["Avvikelse"]) == ("2025-10-17", "2025-10-17", "på dagen")
    open_late = next(r for r in rejected_and_late.timeline if r["Part"] == "Bjurholms kommun" and r["Steg"].startswith("Antagande"))
    assert (open_late["Faktiskt"], open_late["Avvikelse"]) == ("–", "1 dag sen, pågår")
    assert len(rows) == len(example[0].stages)  # every stage and every branch


def test_text_people_supplied_cannot_break_the_markdown():
    assert md_text("§7 | x\ny *z* [l](u) <b> `c` #") == r"§7 \| x y \*z\* \[l\](u) \<b\> \`c\` \#"
    definition = small_definition(**{
        "{from: ready, to: failed}": "{from: ready, to: failed, requires_record: true}",
        "record: [{id: paragraph, name: Paragraf, type: text}]": "record: [{id: paragraph, name: Paragraf, type: text, reference: true}]",
    })
    start = pendulum.datetime(2026, 3, 2, tz="Europe/Stockholm")
    state, changes = engine.start(definition, start)
    state.update({c.node: c.after for c in changes})
    apply(definition, state, [TransitionRequest("first", None, "done", start),
                              TransitionRequest("branches", "umea", "failed", start.add(days=3),
                                                fields={"paragraph": "§7 | återremiss\nny rad"})], start.add(days=4))
    text = dashboard(definition, state, start.add(days=4), "liten", ["Märkt | så\nhär"]).summary_markdown
    assert text.splitlines()[0] == r"> **Märkt \| så här**"
    rejection = next(line for line in text.splitlines() if line.startswith("- **Umeå kommun**"))
    assert r"§7 \| återremiss ny rad" in rejection
    assert state[Node("branches", "umea")].record["paragraph"] == "§7 | återremiss\nny rad"  # the record itself is untouched


def test_a_loaded_instance_brings_its_marks_illustrative_first(default_definition):
    state, mark = illustrative(default_definition)
    loaded = Loaded(instance=SimpleNamespace(id="samverkan-2027-2030"), definition=default_definition, rows={},
                    state=state, illustrative=mark, simulated=True)
    dash = dashboard_of(loaded, AT)
    assert dash.marks == [mark, SIMULATED_MARK] and dash.instance_id == "samverkan-2027-2030"
    assert dash.summary_markdown.splitlines()[:3] == [f"> **{md_text(mark)}**", "", f"> **{md_text(SIMULATED_MARK)}**"]
