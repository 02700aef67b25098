"""What the registrar files beside the transition trail: the process's diarienummer (the
definition's, or the instance's own), and per party's decision its diarienummer, the
protokollsutdrag received, who signed and when; the decision register `samverkan audit
--register` as a Swedish table, a CSV with Swedish headings to file as it is, or JSON; and the
same register on the dashboard."""

from __future__ import annotations

import csv
import io
import json

import pendulum
import pytest

from samverkan.dashboard.content import dashboard
from samverkan.dashboard.register import headings
from samverkan.engine import TransitionRequest
from samverkan.process_definitions import DEFAULT_DEFINITION, parse_definition
from samverkan.tasks.dashboard import ARTIFACT_KINDS
from tests.cli_helpers import run_cli
from tests.databases import dump
from tests.illustrative import adoption_request, apply, illustrative

TZ = "Europe/Stockholm"
HISTORY = "process_definitions/examples/history_illustrative_2026-11.yaml"
DIRECTOR = "chef@region.example.org"
INSTANCE = "samverkan-2027-2030"
HEADINGS = ["Part", "Beslutande organ", "Beslutsdatum", "Paragraf", "Diarienummer", "Överenskommelsen", "Samverkansavtalet",
            "Utfall", "Protokollet justerat", "Justeringen anslagen", "Laga kraft", "Protokollsutdrag mottaget",
            "Undertecknat av", "Undertecknat den", "Anmärkning"]
SIGNED_BY = "Anna Berg, kommunstyrelsens ordförande"


@pytest.fixture
def filed(cli_env, capsys, monkeypatch):
    """The illustrative history (Storuman adopted on Fri 2026-11-20, §147) under the diarienummer
    RUN 2025/812; Vännäs adopts on Mon 2026-11-23 under its own KS 2026/45; Storuman's minutes
    are approved on Tue 24 and announced on Wed 25 November, its protokollsutdrag comes in on
    Fri 27 November, and the agreement is signed on Tue 1 December."""
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", HISTORY, "--registration-number", "RUN 2025/812")
    assert result.code == 0, result.err
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    who = ["--actor", DIRECTOR, "--token", token]
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-02T10:00:00")
    for args in (
        ["--party", "vannas", "--to", "adopted", "--at", "2026-11-23", "--reference", "§160", "--field", "decision_date=2026-11-23",
         "--field", "decision_body=Kommunfullmäktige", "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget",
         "--field", "registration_number=KS 2026/45"],
        ["--party", "storuman", "--to", "adopted", "--at", "2026-11-25", "--field", "minutes_approved=2026-11-24",
         "--field", "announced=2026-11-25"],
        ["--party", "storuman", "--to", "adopted", "--field", "registration_number=KS 2026/311",
         "--field", "extract_received=2026-11-27", "--field", f"signed_by={SIGNED_BY}", "--field", "signed_on=2026-12-01"],
    ):
        result = run_cli(capsys, "transition", INSTANCE, "adoption", *args, *who)
        assert result.code == 0, (args, result.err)
    return {"url": cli_env, "who": who}


def test_the_register_is_a_swedish_table_one_row_per_party(filed, capsys):
    result = run_cli(capsys, "audit", "--register")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:3] == ["Beslutsregister: Överenskommelse om samverkan för regional utveckling 2027–2030",
                         "Diarienummer: RUN 2025/812", f"Instans {INSTANCE}, utdrag per 2026-12-02"]
    assert lines[3].startswith("EXEMPEL: påhittade beslut") and lines[4].startswith("SIMULERAD:")
    header = lines[6].split("  ")
    assert [h.strip() for h in header if h.strip()] == HEADINGS[:-1]  # the notes are listed under the table
    storuman = " ".join(next(line for line in lines if line.startswith("Storumans kommun")).split())
    assert storuman == ("Storumans kommun Kommunfullmäktige 2026-11-20 §147 KS 2026/311 antagen antaget Antaget 2026-11-24 "
                        "2026-11-25 tidigast 2026-12-17, om ingen överklagar 2026-11-27 " + SIGNED_BY + " 2026-12-01")
    vannas = " ".join(next(line for line in lines if line.startswith("Vännäs kommun")).split())
    assert vannas == "Vännäs kommun Kommunfullmäktige 2026-11-23 §160 KS 2026/45 antagen antaget Antaget – – – – – –"
    assert " ".join(next(line for line in lines if line.startswith("Umeå kommun")).split()).endswith("Ärendet bereds – – – – – –")
    assert len([line for line in lines[8:] if line and not line.startswith(" ")]) >= 16


def test_the_register_as_csv_files_as_it_is(filed, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-17T10:00:00")  # Storuman final; Vännäs' minutes long overdue
    result = run_cli(capsys, "audit", "--register", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert list(rows[0]) == ["Process", "Processens diarienummer", "Instans", "Utdrag per", *HEADINGS, "Märkning"]
    assert [r["Part"] for r in rows][:2] == ["Region Västerbotten", "Bjurholms kommun"] and len(rows) == 16
    storuman = next(r for r in rows if r["Part"] == "Storumans kommun")
    assert {k: storuman[k] for k in ("Processens diarienummer", "Utdrag per", "Diarienummer", "Laga kraft",
                                     "Protokollsutdrag mottaget", "Undertecknat av", "Undertecknat den", "Anmärkning")} == {
        "Processens diarienummer": "RUN 2025/812", "Utdrag per": "2026-12-17", "Diarienummer": "KS 2026/311",
        "Laga kraft": "2026-12-17", "Protokollsutdrag mottaget": "2026-11-27", "Undertecknat av": SIGNED_BY,
        "Undertecknat den": "2026-12-01", "Anmärkning": "–"}
    assert storuman["Märkning"].startswith("EXEMPEL: påhittade beslut")
    vannas = next(r for r in rows if r["Part"] == "Vännäs kommun")
    assert vannas["Anmärkning"] == ("Justeringen är inte registrerad: protokollet från sammanträdet 2026-11-23 skulle ha "
                                    "justerats senast 2026-12-07 (kommunallagen (2017:725) 8 kap. 12 §).")


def test_the_register_as_json_and_an_appeal_in_it(filed, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-10T10:00:00")
    assert run_cli(capsys, "transition", INSTANCE, "adoption", "--party", "storuman", "--to", "appealed",
                   "--field", "appeal_court=Förvaltningsrätten i Umeå", "--field", "appeal_case=1234-26", *filed["who"]).code == 0
    document = json.loads(run_cli(capsys, "audit", "--register", "--format", "json").out)
    assert (document["registration_number"], document["as_of"]) == ("RUN 2025/812", "2026-12-10T10:00:00+01:00")
    storuman = next(p for p in document["parties"] if p["party"] == "storuman")
    assert {k: storuman[k] for k in ("registration_number", "state", "finality", "final_from", "final_text", "appeal",
                                     "extract_received", "signed_by", "signed_on", "notes")} == {
        "registration_number": "KS 2026/311", "state": "appealed", "finality": "appealed", "final_from": None,
        "final_text": "när domstolen har avgjort målet",
        "appeal": {"court": "Förvaltningsrätten i Umeå", "case": "1234-26", "decided": None},
        "extract_received": "2026-11-27", "signed_by": SIGNED_BY, "signed_on": "2026-12-01",
        "notes": ["Överklagat: Förvaltningsrätten i Umeå, mål 1234-26."]}
    assert next(p for p in document["parties"] if p["party"] == "umea")["decision_date"] is None
    text = run_cli(capsys, "audit", "--register").out
    assert "  Storumans kommun: Överklagat: Förvaltningsrätten i Umeå, mål 1234-26." in text.splitlines()


def test_the_process_diarienummer_is_set_by_the_office_and_bad_input_changes_nothing(filed, capsys):
    result = run_cli(capsys, "registration-number", INSTANCE, "RUN 2025/900", *filed["who"])
    assert (result.code, result.out) == (0, f"Processens diarienummer för {INSTANCE}: RUN 2025/900\n")
    assert "Diarienummer: RUN 2025/900" in run_cli(capsys, "audit", "--register").out
    token = run_cli(capsys, "token", "issue", "kansli@asele.example.org", "--role", "party-contact", "--party", "asele",
                    *filed["who"]).out.strip().splitlines()[-1]
    before = dump(filed["url"])
    for args, line in [
        (["registration-number", INSTANCE, "RUN 1", "--actor", "kansli@asele.example.org", "--token", token],
         "fel: kansli@asele.example.org får inte ange processens diarienummer; det får bara utvecklingsdirektörens kansli"),
        (["registration-number", INSTANCE, "  ", *filed["who"]],
         "fel: NUMMER: '' är inget diarienummer; ange det på en rad, t.ex. 'RUN 2025/123'"),
        (["audit", "--register", "--format", "xlsx"], "fel: --format: 'xlsx' är inte text, csv eller json"),
        (["transition", INSTANCE, "adoption", "--party", "storuman", "--to", "adopted", "--field", "signed_on=2026-11-19",
          *filed["who"]],
         "fel: adoption/storuman: Undertecknat den (signed_on) 2026-11-19 kan inte vara före Beslutsdatum (decision_date) "
         "2026-11-20"),
    ]:
        result = run_cli(capsys, *args)
        assert (result.code, result.out, result.err) == (2, "", line + "\n"), args
        assert dump(filed["url"]) == before


def test_without_a_number_the_register_says_how_to_give_one(cli_env, capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    assert run_cli(capsys, "audit", "vb", "--register").out.splitlines()[1] == (
        "Diarienummer: inte angivet (ange det med `samverkan registration-number INSTANS NUMMER`, "
        "eller registration_number i definitionen)")
    # Without --register, the audit trail is as it was: CSV by default.
    assert run_cli(capsys, "audit", "vb").out.startswith("Löpnummer,Registrerad,Inträffade,")


def test_a_definition_may_give_the_diarienummer_and_the_dashboard_files_the_register(default_definition):
    text = DEFAULT_DEFINITION.read_text(encoding="utf-8").replace("\nversion: 4\n", "\nversion: 4\nregistration_number: RUN 2025/812\n")
    definition = parse_definition(text, "d.yaml").definition
    assert definition.registration_number == "RUN 2025/812"
    state, mark = illustrative(definition)
    now = pendulum.datetime(2026, 11, 27, 10, tz=TZ)
    apply(definition, state, [adoption_request("vannas", "adopted", "2026-11-23", "§160", "antagen", "antaget"),
                              TransitionRequest("adoption", "vannas", "adopted", now,
                                                fields={"extract_received": "2026-11-26", "registration_number": "KS 2026/45"})], now)
    dash = dashboard(definition, state, now, "vb", [mark])
    assert dash.registration_number == "RUN 2025/812" and "diarium" in ARTIFACT_KINDS
    assert list(dash.register[0]) == HEADINGS == headings(definition)
    vannas = next(r for r in dash.register if r["Part"] == "Vännäs kommun")
    assert (vannas["Diarienummer"], vannas["Protokollsutdrag mottaget"], vannas["Utfall"]) == ("KS 2026/45", "2026-11-26", "Antaget")
    assert dashboard(definition, state, now, "vb", [mark], "RS 2026/1").registration_number == "RS 2026/1"  # the instance's own
    # What the register files is not in the adoption matrix, which stays as the office reads it.
    assert "Diarienummer" not in dash.matrix[0] and "Undertecknat av" not in dash.matrix[0]
