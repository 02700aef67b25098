"""The public record of an adoption through the command line: the decision, then the minutes
approved and announced (justering och anslag), then the three weeks for an appeal running out
as the clock moves; and the same in the dashboard's matrix and overview, and in the form."""

from __future__ import annotations

import json

import pendulum
import pytest

from samverkan.decisions import OUTCOME, form_for, request_from_answer
from samverkan.dashboard.content import dashboard
from samverkan.engine import TransitionRefused, decide
from samverkan.graph import Node
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from tests.cli_helpers import run_cli
from tests.databases import dump
from samverkan.simulation.records import record_for
from tests.drive import history_yaml, planned_steps
from tests.illustrative import AT, adoption_request, apply, illustrative

DIRECTOR = "direktor@region-vasterbotten.example.org"
ADOPT = ["transition", "vb", "adoption", "--party", "asele", "--to", "adopted", "--at", "2026-11-17",
         "--reference", "§ 88", "--field", "decision_date=2026-11-17", "--field", "decision_body=Kommunfullmäktige",
         "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget"]
ANNOUNCE = ["transition", "vb", "adoption", "--party", "asele", "--to", "adopted"]
PENDING = "Åsele kommun: antaget 2026-11-17 (§ 88); protokollet ännu inte justerat, justeringen inte anslagen"
OPEN = ("Åsele kommun: antaget 2026-11-17 (§ 88); anslaget 2026-11-20, kan överklagas till och med 2026-12-11; "
        "laga kraft tidigast 2026-12-12, om ingen överklagar")


@pytest.fixture
def adopted(cli_env, capsys, monkeypatch, tmp_path):
    """Everything before the adoption done as planned; Åsele adopts on Tuesday 2026-11-17."""
    definition = load_definition(DEFAULT_DEFINITION).definition
    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "history.yaml", "--instance", "vb").code == 0
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    credentials = ["--actor", DIRECTOR, "--token", token]
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-18T10:00:00")
    result = run_cli(capsys, *ADOPT, *credentials)
    assert result.code == 0, result.err
    return {"url": cli_env, "credentials": credentials}


def asele(capsys) -> dict:
    result = run_cli(capsys, "status", "vb", "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)["stages"]
    return next(r for r in rows if (r["id"], r["party"]) == ("adoption", "asele"))


def not_final_block(table: str) -> list[str]:
    lines = table.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Ej laga kraft (")), None)
    if start is None:
        return []
    return [lines[start], *(line.strip() for line in lines[start + 1:] if line.startswith("  "))]


def test_justering_and_anslag_then_the_appeal_period_runs_out(adopted, capsys, monkeypatch):
    row = asele(capsys)
    assert row["state"] == "adopted"
    assert row["finality"] == {
        "state": "not-announced", "decision_date": "2026-11-17", "reference": "§ 88", "minutes_approved": None,
        "announced": None, "appeal_until": None, "appeal_until_nominal": None, "appeal_until_moved_because": None,
        "final_from": None, "final_text": None, "days_left": None, "appeal": None, "law": "kommunallagen (2017:725) 13 kap. 5 §",
    }
    block = not_final_block(run_cli(capsys, "status", "vb").out)
    assert block[0].startswith("Ej laga kraft (1): ") and "kommunallagen (2017:725) 13 kap. 5 §" in block[0]
    assert block[1:] == [PENDING]
    assert asele(capsys)["finality"] is not None and not any(
        r["finality"] for r in json.loads(run_cli(capsys, "status", "vb", "--json").out)["stages"]
        if (r["id"], r["party"]) != ("adoption", "asele"))  # only a finished adoption has one

    # Saturday 2026-11-21: the minutes were approved on Thursday, announced on Friday.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-21T09:00:00")
    notices = len(dump(adopted["url"])["notices"])
    result = run_cli(capsys, *ANNOUNCE, "--field", "minutes_approved=2026-11-19", "--field", "announced=2026-11-20",
                     *adopted["credentials"])
    assert result.code == 0, result.err
    assert len(dump(adopted["url"])["notices"]) == notices  # the decision was confirmed once, when it was recorded
    row = asele(capsys)
    assert row["state"] == "adopted" and row["completed_at"].startswith("2026-11-17")  # finished when decided
    finality = row["finality"]
    assert (finality["state"], finality["minutes_approved"], finality["announced"]) == ("open-for-appeal", "2026-11-19", "2026-11-20")
    assert (finality["appeal_until"], finality["final_from"], finality["days_left"]) == ("2026-12-11", "2026-12-12", 20)
    assert finality["final_text"] == "tidigast 2026-12-12, om ingen överklagar"  # not a plain date while it can be appealed
    assert finality["appeal_until_moved_because"] is None and finality["decision_date"] == "2026-11-17"
    assert not_final_block(run_cli(capsys, "status", "vb").out)[1:] == [OPEN]
    trail = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    last = [t for t in trail if t["party"] == "asele" and t["stage"] == "adoption"][-1]
    assert (last["from_state"], last["to_state"]) == ("adopted", "adopted")
    assert last["record"]["announced"] == "2026-11-20" and last["record"]["paragraph"] == "§ 88"

    # Friday 2026-12-11, the last day: still open, no days left.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-11T16:00:00")
    assert (asele(capsys)["finality"]["state"], asele(capsys)["finality"]["days_left"]) == ("open-for-appeal", 0)
    assert OPEN in not_final_block(run_cli(capsys, "status", "vb").out)

    # Saturday 2026-12-12: laga kraft.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-12T08:00:00")
    finality = asele(capsys)["finality"]
    assert (finality["state"], finality["final_from"], finality["days_left"]) == ("final", "2026-12-12", None)
    assert finality["final_text"] == "2026-12-12"
    assert not_final_block(run_cli(capsys, "status", "vb").out) == []
    # --as-of looks back at a day when it was still open.
    back = json.loads(run_cli(capsys, "status", "vb", "--json", "--as-of", "2026-12-01").out)["stages"]
    assert next(r for r in back if r["party"] == "asele" and r["id"] == "adoption")["finality"]["days_left"] == 10


REFUSED = [
    (["minutes_approved=2026-11-20", "announced=2026-11-19"],
     "adoption/asele: Justeringen anslagen (announced) 2026-11-19 kan inte vara före Protokollet justerat "
     "(minutes_approved) 2026-11-20"),
    (["minutes_approved=2026-11-16", "announced=2026-11-19"],
     "adoption/asele: Protokollet justerat (minutes_approved) 2026-11-16 kan inte vara före Beslutsdatum "
     "(decision_date) 2026-11-17"),
    (["minutes_approved=2026-11-19", "announced=2026-11-22"], "2026-11-22 är efter själva övergången (2026-11-21)"),
    (["announced=2026-11-20"],
     "adoption/asele: Justeringen anslagen (announced) kan inte registreras innan Protokollet justerat (minutes_approved) "
     "är registrerat: ange båda, eller minutes_approved först"),
    ([], "adoption/asele: ange minst ett av fälten minutes_approved (Protokollet justerat), announced (Justeringen anslagen)"),
    (["minutes_approved=2026-11-19", "announced=2026-11-20", "paragraph=§ 89"], "okänt fält 'paragraph'"),
]


def test_a_wrong_announcement_gets_one_line_exit_2_and_changes_nothing(adopted, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-21T09:00:00")
    before = dump(adopted["url"])
    for fields, message in REFUSED:  # one instance for all: each refusal leaves it as it was
        result = run_cli(capsys, *ANNOUNCE, *(a for f in fields for a in ("--field", f)), *adopted["credentials"])
        assert result.code == 2, fields
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.err
        assert result.out == "" and "Traceback" not in result.err
        assert dump(adopted["url"]) == before, fields
    # From an open branch, "adopted" is the decision itself: the two dates alone are not it.
    result = run_cli(capsys, "transition", "vb", "adoption", "--party", "umea", "--to", "adopted",
                     "--field", "minutes_approved=2026-11-19", "--field", "announced=2026-11-20", *adopted["credentials"])
    assert result.code == 2 and "--field decision_date saknas" in result.err.splitlines()[0]
    assert dump(adopted["url"]) == before


# --- the dashboard and the form, without a database ------------------------------------------


NOW = pendulum.datetime(2026, 11, 27, 10, tz="Europe/Stockholm")


@pytest.fixture(scope="module")
def announced_state(default_definition):
    """The illustrative history (Storuman adopted on Fri 2026-11-20, §147), then Vännäs adopts
    at its council on Mon 2026-11-23, and Storuman's minutes are approved Tue 2026-11-24 and
    announced Wed 2026-11-25: open for appeal three weeks, until Wed 2026-12-16; final the
    day after."""
    state, mark = illustrative(default_definition)
    apply(default_definition, state, [adoption_request("vannas", "adopted", "2026-11-23", "§160", "antagen", "antaget"),
                                      _announce("storuman", "2026-11-24", "2026-11-25")], NOW)
    return state, mark


def _announce(party, approved, announced):
    from samverkan.engine import TransitionRequest

    return TransitionRequest("adoption", party, "adopted", pendulum.parse(announced, tz="Europe/Stockholm"),
                             fields={"minutes_approved": approved, "announced": announced})


def test_the_matrix_shows_justering_anslag_and_laga_kraft(default_definition, announced_state):
    state, mark = announced_state
    rows = dashboard(default_definition, state, NOW, "vb", [mark]).matrix
    storuman = next(r for r in rows if r["Part"] == "Storumans kommun")
    assert list(storuman)[-4:] == ["Protokollet justerat", "Justeringen anslagen", "Laga kraft", "Status"]
    assert (storuman["Beslutsdatum"], storuman["Paragraf"]) == ("2026-11-20", "§147")
    assert (storuman["Protokollet justerat"], storuman["Justeringen anslagen"], storuman["Laga kraft"]) == \
        ("2026-11-24", "2026-11-25", "tidigast 2026-12-17, om ingen överklagar")
    vannas = next(r for r in rows if r["Part"] == "Vännäs kommun")  # adopted, not yet announced
    assert (vannas["Protokollet justerat"], vannas["Justeringen anslagen"], vannas["Laga kraft"]) == ("–", "–", "–")
    assert next(r for r in rows if r["Part"] == "Skellefteå kommun")["Laga kraft"] == "–"  # not decided
    later = dashboard(default_definition, state, pendulum.datetime(2026, 12, 18, 9, tz="Europe/Stockholm"), "vb", [mark]).matrix
    assert next(r for r in later if r["Part"] == "Storumans kommun")["Laga kraft"] == "2026-12-17"  # the day it became final


def test_the_overview_lists_what_is_not_yet_final_after_the_risks_with_the_marks_first(default_definition, announced_state):
    state, mark = announced_state
    text = dashboard(default_definition, state, NOW, "vb", [mark, "SIMULERAD"]).summary_markdown
    assert text.startswith("> **EXEMPEL") and text.splitlines()[2] == "> **SIMULERAD**"
    assert text.index("### Väntar på registrering (4)") < text.index("### Ej laga kraft (2)") < text.index("### Vad väntar på vem")
    section = text.split("### Ej laga kraft (2)")[1].split("###")[0]
    assert [line for line in section.splitlines() if line.startswith("- ")] == [
        "- Storumans kommun: antaget 2026-11-20 (§147); anslaget 2026-11-25, kan överklagas till och med 2026-12-16; "
        "laga kraft tidigast 2026-12-17, om ingen överklagar",
        "- Vännäs kommun: antaget 2026-11-23 (§160); protokollet ännu inte justerat, justeringen inte anslagen",
    ]
    later = dashboard(default_definition, state, pendulum.datetime(2026, 12, 17, 9, tz="Europe/Stockholm"), "vb", [mark])
    assert "### Ej laga kraft (1)" in later.summary_markdown and "- Storumans kommun" not in later.summary_markdown


def test_a_moved_last_day_says_why_in_the_line(default_definition):
    state, mark = illustrative(default_definition)
    now = pendulum.datetime(2026, 12, 4, 9, tz="Europe/Stockholm")
    apply(default_definition, state, [_announce("storuman", "2026-12-02", "2026-12-03")], now)  # three weeks end on julafton
    text = dashboard(default_definition, state, now, "vb", [mark]).summary_markdown
    assert ("- Storumans kommun: antaget 2026-11-20 (§147); anslaget 2026-12-03, kan överklagas till och med 2026-12-28 "
            "(2026-12-24 är julafton, lag (1930:173) 2 §); laga kraft tidigast 2026-12-29, om ingen överklagar") in text


def test_the_decision_form_leaves_the_later_dates_out(default_definition):
    from tests.test_sync_and_forms import _ready_adoption

    state = _ready_adoption(default_definition)
    node = Node("adoption", "asele")
    form = form_for(default_definition, node, state[node])
    ids = [f.id for f in form.fields]
    assert {"decision_date", "decision_body", "paragraph", "agreement_outcome", "contract_outcome"} <= set(ids)
    assert "minutes_approved" not in ids and "announced" not in ids
    assert "Registrera justering och anslag (Antaget)" not in form.outcomes  # not from an open branch
    answer = {OUTCOME: "Registrera antagande (Antaget)", "decision_date": pendulum.date(2026, 11, 16),
              "decision_body": "Kommunfullmäktige", "paragraph": "§154", "agreement_outcome": "antagen",
              "contract_outcome": "antaget", "announced": "2026-11-17"}  # not asked for: ignored
    request = request_from_answer(default_definition, form, answer, AT)
    assert "announced" not in request.fields and request.at == pendulum.datetime(2026, 11, 16, tz="Europe/Stockholm")
    for change in decide(default_definition, state, request, AT):
        state[change.node] = change.after
    # Once adopted, the steps left add to the record: the two dates (and what the registrar files),
    # or an appeal; each records only its own fields, and happened on the latest date given.
    form = form_for(default_definition, node, state[node])
    assert [f.id for f in form.fields][1:3] == ["minutes_approved", "announced"]
    assert list(form.outcomes) == ["Registrera justering och anslag (Antaget)", "Registrera överklagande (Antaget, överklagat)"]
    answer = {OUTCOME: "Registrera justering och anslag (Antaget)", "minutes_approved": pendulum.date(2026, 11, 19),
              "announced": pendulum.date(2026, 11, 20)}
    request = request_from_answer(default_definition, form, answer, AT)
    assert request.at == pendulum.datetime(2026, 11, 20, tz="Europe/Stockholm")
    assert request.fields == {"minutes_approved": "2026-11-19", "announced": "2026-11-20"}
    after = decide(default_definition, state, request, AT)[0].after
    assert after.record["announced"] == "2026-11-20" and after.record["paragraph"] == "§154"
    with pytest.raises(TransitionRefused, match="kan inte vara före Protokollet justerat"):
        decide(default_definition, state, request_from_answer(
            default_definition, form, {**answer, "minutes_approved": pendulum.date(2026, 11, 21)}, AT), AT)


def test_the_driver_leaves_optional_dates_out(default_definition):
    stage = default_definition.stage("adoption")
    values = record_for(stage, pendulum.date(2026, 11, 17), 88, "Kommunfullmäktige")
    assert "decision_date" in values and "minutes_approved" not in values and "announced" not in values
