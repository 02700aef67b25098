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
    """Skellefteå says no to the agreement on 2026-11-20; by New Year's eve the fourteen other
    parties still deciding have each missed their own council's last meeting."""
    state, mark = illustrative(default_definition)
    apply(default_definition, state, [adoption_request("skelleftea", "rejected", "2026-11-20", "§187", "ej antagen", "ej antaget")], LATE)
    return dashboard(default_definition, state, LATE, "samverkan-2027-2030", [mark])


def _without_parallel_stages():
    return small_definition(**{"for_each: {group: kommuner, join: all}": "",
                               "responsible_role: secretary": "responsible_role: director-office"})


def _party_row(rows, name):
    return next(r for r in rows if r["Part"] == name)


def test_progress_counts_the_adopted_branches(example):
    progress = example[0].progress
    assert (progress.done, progress.total, progress.text) == (1, 16, "1 av 16 har antagit")
    assert progress.fraction == pytest.approx(1 / 16)


def test_the_matrix_has_every_party_in_definition_order_with_what_it_recorded(example, default_definition):
    rows = example[0].matrix
    assert [r["Part"] for r in rows] == [default_definition.party(p).name for p in default_definition.group_members("signatories")]
    assert list(rows[0]) == MATRIX_COLUMNS
    assert _party_row(rows, "Storumans kommun") == {
        "Part": "Storumans kommun", "Överenskommelsen": "antagen", "Samverkansavtalet": "antaget",
        "Beslutande organ": "Kommunfullmäktige", "Beslutsdatum": "2026-11-20", "Paragraf": "§147",
        "Protokollet justerat": "–", "Justeringen anslagen": "–", "Laga kraft": "–", "Status": "Antaget",
    }
    undecided = _party_row(rows, "Skellefteå kommun")
    assert [undecided[c] for c in MATRIX_COLUMNS[1:-1]] == ["–"] * 8
    assert undecided["Status"] == "Ärendet bereds"


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
    assert list(rows[0]) == ["Steg", "Part", "Status", "Ansvarig", "Sista dag", "Dagar kvar", "Väntar på"]
    assert rows[0]["Steg"] == "Förvaltningens tjänsteskrivelse"  # nothing late: definition order
    skelleftea = next(r for r in rows if r["Part"] == "Skellefteå kommun" and r["Steg"].startswith("Antagande"))
    # Its deadline is its council's last meeting that keeps 2026-12-30 (the example calendar's 1 December).
    assert skelleftea == {
        "Steg": "Antagande av överenskommelse och samverkansavtal", "Part": "Skellefteå kommun",
        "Status": "Ärendet bereds", "Ansvarig": "Skellefteå kommun (sekreterare)", "Sista dag": "2026-12-01",
        "Dagar kvar": "8 dagar", "Väntar på": "Skellefteå kommun (sekreterare)",
    }
    # Signing goes party by party: each party's branch waits for its own adoption only.
    signing = [r for r in rows if r["Steg"] == "Undertecknande"]
    assert signing[0]["Part"] == "alla 16 parter" and signing[0]["Väntar på"].endswith(" och 12 till")
    by_party = {r["Part"]: r["Väntar på"] for r in signing[1:]}
    assert by_party["Bjurholms kommun"] == "Antagande av överenskommelse och samverkansavtal: Bjurholms kommun"
    assert by_party["Storumans kommun"] == "Storumans kommun (sekreterare)"  # adopted: it may sign


def test_rejected_then_late_items_come_first(rejected_and_late):
    rows = rejected_and_late.stages
    # The join counts the parties taking part: Skellefteå's "no" rejects its branch, not the stage.
    assert [(r["Part"], r["Dagar kvar"]) for r in rows[:1]] == [("Skellefteå kommun", "avslag")]
    late = [r for r in rows if r["Dagar kvar"].endswith("försenat")]
    assert rows[1:1 + len(late)] == late  # the late ones next, the latest first
    lateness = [int(r["Dagar kvar"].split()[0]) for r in late]
    assert lateness == sorted(lateness, reverse=True)
    # Robertsfors's council last met on 26 November: the longest overdue adoption.
    assert (late[0]["Part"], late[0]["Sista dag"], late[0]["Dagar kvar"]) == ("Robertsfors kommun", "2026-11-26", "35 dagar försenat")
    # A meeting passed within the last 14 days with nothing registered: awaiting registration, not late.
    awaiting = [r for r in rows if r["Dagar kvar"] == "väntar på registrering"]
    assert awaiting and not set(map(str, awaiting)) & set(map(str, late))
    assert rows[1 + len(late)]["Steg"] == "Förvaltningens tjänsteskrivelse"  # then the rest, in definition order
    skelleftea_signing = next(r for r in rows if r["Steg"] == "Undertecknande" and r["Part"] == "Skellefteå kommun")
    assert skelleftea_signing["Dagar kvar"] == "utanför"
    assert skelleftea_signing["Väntar på"] == "står utanför: Antagande av överenskommelse och samverkansavtal: Skellefteå kommun"
    storuman = next(r for r in rows if r["Steg"] == "Undertecknande" and r["Part"] == "Storumans kommun")
    assert storuman["Väntar på"] == "Storumans kommun (sekreterare)"  # not held up by Skellefteå


def test_the_summary_puts_the_mark_first_and_rejections_before_lateness(rejected_and_late, example):
    _, mark = example
    text = rejected_and_late.summary_markdown
    assert text.startswith(f"> **{md_text(mark)}**\n")
    assert text.splitlines()[2].startswith("> **EXEMPEL: sammanträdesdagarna för 16 parter")
    assert "**Antagande av överenskommelse och samverkansavtal: 1 av 16 har antagit** (6 %)" in text
    # Who cannot make it, whose decision is awaited in the register (Umeå and the region met
    # within the last fortnight) and who is outside lead, then the "no", then what is late.
    assert text.index("### Hinner inte (12)") < text.index("### Väntar på registrering (2)") < text.index("### Utanför (1)") \
        < text.index("### Avslag (1)") < text.index("### Försenat")
    assert "### I riskzonen" not in text
    assert ("- Umeå kommun: kommunfullmäktige sammanträdde 2026-12-18; beslutet är ännu inte registrerat (protokollet ska "
            "vara justerat senast 2027-01-04)") in text  # 1 January is a holiday, 2 and 3 January a weekend
    assert "### Blockerat" not in text  # the others go on without Skellefteå
    assert ("- Skellefteå kommun står utanför: kommunfullmäktige beslutade att inte anta överenskommelsen eller "
            "samverkansavtalet (2026-11-20, §187)") in text
    rejection = next(line for line in text.splitlines() if line.startswith("- **Skellefteå kommun**"))
    assert "Ej antaget: parten står utanför (2026-11-20, §187, Kommunfullmäktige)" in rejection
    assert "Blockerar inget steg" in rejection
    late = text.split("### Försenat")[1].split("###")[0]
    assert "(sista dag 2026-11-26, 35 dagar försenat): väntar på Robertsfors kommun (sekreterare)" in late
    assert "Skellefteå" not in late  # said no: listed under Avslag, not as late


def test_the_summary_says_on_whom_the_open_work_waits(example):
    text = example[0].summary_markdown
    assert "Inget är försenat och inget har fått avslag." in text
    on_whom = text.split("### Vad väntar på vem")[1]
    # Each adoption waits on its own party, to its own council's last meeting.
    assert "(sista dag 2026-11-30, 7 dagar kvar): väntar på Bjurholms kommun (sekreterare)" in on_whom
    assert "**Undertecknande** (sista dag 2026-12-30, 37 dagar kvar): väntar på Storumans kommun (sekreterare)" in on_whom
    adoptions = [line for line in on_whom.splitlines() if line.startswith("- **Antagande")]
    assert any("Skellefteå kommun" in line for line in adoptions)
    assert not any("Storumans kommun" in line for line in adoptions)  # Storuman has adopted


def test_the_timeline_compares_the_deadline_with_the_day_it_was_done(example, rejected_and_late):
    rows = example[0].timeline
    assert list(rows[0]) == ["Steg", "Part", "Planerat", "Faktiskt", "Avvikelse"]
    # Storuman adopted at its council's meeting on 20 November; its last chance was 11 December.
    storuman = next(r for r in rows if r["Part"] == "Storumans kommun" and r["Steg"].startswith("Antagande"))
    assert storuman == {"Steg": "Antagande av överenskommelse och samverkansavtal", "Part": "Storumans kommun",
                        "Planerat": "2026-12-11", "Faktiskt": "2026-11-20", "Avvikelse": "21 dagar före"}
    memo = rows[0]
    assert (memo["Planerat"], memo["Faktiskt"], memo["Avvikelse"]) == ("2025-10-17", "2025-10-17", "på dagen")
    open_late = next(r for r in rejected_and_late.timeline if r["Part"] == "Bjurholms kommun" and r["Steg"].startswith("Antagande"))
    assert (open_late["Planerat"], open_late["Faktiskt"], open_late["Avvikelse"]) == ("2026-11-30", "–", "31 dagar försenat, pågår")
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
                                                fields={"paragraph": "§7 | återremiss *ny* rad"})], start.add(days=4))
    text = dashboard(definition, state, start.add(days=4), "liten", ["Märkt | så\nhär"]).summary_markdown
    assert text.splitlines()[0] == r"> **Märkt \| så här**"
    rejection = next(line for line in text.splitlines() if line.startswith("- **Umeå kommun**"))
    assert r"§7 \| återremiss \*ny\* rad" in rejection
    # The record itself is untouched (a line break no longer gets this far: the engine's text gate refuses it).
    assert state[Node("branches", "umea")].record["paragraph"] == "§7 | återremiss *ny* rad"


def test_a_loaded_instance_brings_its_marks_illustrative_first(default_definition):
    state, mark = illustrative(default_definition)
    loaded = Loaded(instance=SimpleNamespace(id="samverkan-2027-2030", registration_number=None), definition=default_definition, rows={},
                    state=state, illustrative=mark, simulated=True)
    dash = dashboard_of(loaded, AT)
    calendars = "EXEMPEL: sammanträdesdagarna för 16 parter är påhittade exempel, inte parternas publicerade kalendrar"
    assert dash.marks == [mark, SIMULATED_MARK, calendars] and dash.instance_id == "samverkan-2027-2030"
    assert dash.summary_markdown.splitlines()[:5] == [f"> **{md_text(mark)}**", "", f"> **{md_text(SIMULATED_MARK)}**",
                                                      "", f"> **{md_text(calendars)}**"]


ASSUMED_PROPOSER = ("Beslutsunderlaget säger inte vilket arbetsutskott som lämnar förslaget; planen utgår från primärkommunala "
                    "delegationens arbetsutskott. Enligt underlaget föreslår förvaltningen att både primärkommunala "
                    "delegationens arbetsutskott och regionala utvecklingsnämnden ger regionala utvecklingsdirektören uppdraget.")
BEFORE_THE_PROPOSAL = pendulum.datetime(2025, 11, 3, 10, tz="Europe/Stockholm")


def _memo_done(definition):
    state, _ = illustrative(definition, keep=1)  # the memo of 2025-10-17: the proposal can be made
    return state


def test_the_assumed_proposer_is_marked_where_the_dashboard_names_it(default_definition):
    dash = dashboard(default_definition, _memo_done(default_definition), BEFORE_THE_PROPOSAL, "vb", [])
    [row] = [r for r in dash.stages if r["Steg"] == "Arbetsutskottets förslag (efter Samrådet §88)"]
    assert row["Ansvarig"] == row["Väntar på"] == "Primärkommunala delegationen (sekreterare) – antaget i planen"
    assert "väntar på Primärkommunala delegationen (sekreterare) – antaget i planen" in dash.summary_markdown
    assumptions = dash.summary_markdown.split("### Antaganden i planen\n\n")[1].splitlines()
    assert assumptions[0] == f"- **{md_text('Arbetsutskottets förslag (efter Samrådet §88)')}**: {md_text(ASSUMED_PROPOSER)}"
    # Other owners are not marked: the memo's is the region, as the seed says.
    [memo] = [r for r in dash.stages if r["Steg"] == "Förvaltningens tjänsteskrivelse"]
    assert memo["Ansvarig"] == "Region Västerbotten (utvecklingsdirektörens kansli)"


def test_once_the_proposal_is_recorded_the_overview_no_longer_lists_the_assumption(example):
    dash, _ = example
    assert "Antaganden i planen" not in dash.summary_markdown
    [row] = [r for r in dash.stages if r["Steg"] == "Arbetsutskottets förslag (efter Samrådet §88)"]
    assert row["Ansvarig"].endswith("– antaget i planen")


def test_the_proposals_decision_form_says_the_proposer_is_assumed(default_definition):
    from samverkan.decisions import form_description
    text = form_description(default_definition, _memo_done(default_definition), Node("start-proposal", None),
                            BEFORE_THE_PROPOSAL, [], "vb")
    lines = text.splitlines()
    assert "- **Beslutande organ:** Primärkommunala delegationens arbetsutskott" in lines
    assert f"- **Antaget i planen:** {ASSUMED_PROPOSER}" in lines
    assert "Antaget i planen" not in form_description(default_definition, _memo_done(default_definition),
                                                     Node("rus-update", None), BEFORE_THE_PROPOSAL, [], "vb")
