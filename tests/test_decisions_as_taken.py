"""Decisions as municipalities really make them (issue 19, part 5): a split decision recorded
and told exactly as decided, amendments answered by the counterparty without a second council
decision, and a decision by the wrong body recorded with a warning the dashboard shows until
the office resolves it. Every text a party or the office reads is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import select

from samverkan import engine, instances
from samverkan.dashboard.content import dashboard, dashboard_of
from samverkan.engine import TransitionRefused, TransitionRequest
from samverkan.forecast import Outlook, forecast
from samverkan.graph import Node
from samverkan.notices.model import NoticeKind, Recipient
from samverkan.notices.outbox import notice_of
from samverkan.notices.policy import evaluate, event_notices
from samverkan.notifications.render import render
from samverkan.outcomes import decided_text, record_outcome
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.process_definitions.model import DecisionOutcome
from samverkan.rejections import follow_ups, rejections
from samverkan.status import status_rows
from samverkan.store.database import Database
from samverkan.store.models import NoticeRow
from tests.cli_helpers import run_cli
from tests.illustrative import adoption_request, illustrative

TZ = "Europe/Stockholm"
SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan, Region Västerbotten")
HISTORY = "process_definitions/examples/history_illustrative_2026-11.yaml"
PROJECT_LEAD = "projektledare@region-vasterbotten.example.org"
MALA = ["naringsliv@mala.example.org", "kommunsekreterare@mala.example.org"]
UMEA = ["naringsliv@umea.example.org", "kommunsekreterare@umea.example.org"]


def at(day: str, hour: int = 15) -> pendulum.DateTime:
    return pendulum.parse(day, tz=TZ).add(hours=hour)


def decide(definition, state, request, now):
    """Apply a request to `state` in place; the changes it made."""
    changes = engine.decide(definition, state, request, now)
    for change in changes:
        state[change.node] = change.after
    return changes


def confirmations(definition, state, changes, now, mark) -> dict[str, str]:
    """The confirmations a transition queues, by recipient, as the plain text each reads."""
    ev = evaluate(definition, state, now, "samverkan-2027-2030", [mark])
    found = [n for n in event_notices(ev, changes) if n.kind is NoticeKind.confirmation]
    return {n.recipient.email: render(n, SENDER, now).get_body(("plain",)).get_content() for n in found}


def one_paragraph(text: str) -> str:
    """A message's text with its line breaks undone, to find a sentence wrapped across lines."""
    return " ".join(text.split())


# --- what each outcome is called ----------------------------------------------------------


@pytest.mark.parametrize("agreement, contract, outcome, said", [
    ("antagen", "antaget", DecisionOutcome.adopted, "Kommunfullmäktige antog överenskommelsen och samverkansavtalet"),
    ("antagen", "ej antaget", DecisionOutcome.split, "Kommunfullmäktige antog överenskommelsen men inte samverkansavtalet"),
    ("ej antagen", "antaget", DecisionOutcome.split, "Kommunfullmäktige antog samverkansavtalet men inte överenskommelsen"),
    ("ej antagen", "ej antaget", DecisionOutcome.rejected,
     "Kommunfullmäktige beslutade att inte anta överenskommelsen eller samverkansavtalet"),
    ("antagen", "antaget med ändringar", DecisionOutcome.amended,
     "Kommunfullmäktige antog överenskommelsen och, med ändringar, samverkansavtalet"),
    ("antagen", "återremitterat", DecisionOutcome.split,
     "Kommunfullmäktige antog överenskommelsen men återremitterade samverkansavtalet"),
    ("ej antagen", "återremitterat", DecisionOutcome.rejected,
     "Kommunfullmäktige beslutade att inte anta överenskommelsen och återremitterade samverkansavtalet"),
])
def test_each_documents_outcome_is_said_as_it_was_decided(default_definition, agreement, contract, outcome, said):
    stage = default_definition.stage("adoption")
    record = {"decision_date": "2026-11-17", "decision_body": "Kommunfullmäktige", "paragraph": "§12",
              "agreement_outcome": agreement, "contract_outcome": contract}
    assert record_outcome(stage, record) is outcome
    assert decided_text(stage, record) == said


# --- split decisions ----------------------------------------------------------------------

SPLIT_SAID = "Kommunfullmäktige antog överenskommelsen men inte samverkansavtalet (2026-11-17, §12)"
SPLIT_NEXT = ("Region Västerbotten (projektledare) följer upp med Malå kommun: ett nytt beslut om samverkansavtalet i "
              "kommunfullmäktige (”Nytt beslutsärende”), eller att Malå kommun står utanför (”Registrera att parten står "
              "utanför”)")


def test_a_split_decision_is_recorded_and_every_text_says_what_was_decided(default_definition):
    definition = default_definition
    state, mark = illustrative(definition)
    now = at("2026-11-23", 9)
    changes = decide(definition, state, adoption_request("mala", "split", "2026-11-17", "§12", "antagen", "ej antaget"), now)
    branch = state[Node("adoption", "mala")]
    # Both outcomes are kept; the branch is neither adopted nor a "no": it needs follow-up.
    assert branch.state == "split" and branch.completed_at is None
    assert (branch.record["agreement_outcome"], branch.record["contract_outcome"]) == ("antagen", "ej antaget")
    assert rejections(definition, state) == []
    # The confirmation, to Malå and to the project lead who follows it up.
    told = confirmations(definition, state, changes, now, mark)
    assert sorted(told) == sorted([*MALA, PROJECT_LEAD])
    text = one_paragraph(told["kommunsekreterare@mala.example.org"])
    assert f"Beslut: {SPLIT_SAID}." in text
    assert ("Beslutet är delat. Region Västerbotten (projektledare) följer upp med er: ett nytt beslut om "
            "samverkansavtalet i kommunfullmäktige, eller att Malå kommun står utanför.") in text
    assert "Beslutet är ett nej" not in text
    # The forecast and the follow-up, on the dashboard and in status.
    (mala,) = [p for p in forecast(definition, state, now.date()).parties if p.party == "mala"]
    assert mala.cause.startswith(
        "Malå kommun: kommunfullmäktige antog överenskommelsen men inte samverkansavtalet (2026-11-17, §12); Region "
        "Västerbotten (projektledare) följer upp: ett nytt beslut om samverkansavtalet, eller att Malå kommun står utanför")
    (follow,) = follow_ups(definition, state)
    assert (follow.decided, follow.next_step) == (SPLIT_SAID, SPLIT_NEXT)
    summary = dashboard(definition, state, now, "samverkan-2027-2030", [mark]).summary_markdown
    assert ("### Kräver uppföljning (1)\n\n- **Malå kommun** – Delvis antaget: uppföljning krävs. "
            f"{SPLIT_SAID}. {SPLIT_NEXT}.") in summary
    # The project lead follows it up: the status names them.
    row = next(r for r in status_rows(definition, state, now) if r.node == Node("adoption", "mala"))
    assert (row.owner, row.responsible_role, row.state_name) == ("region-vasterbotten", "project-lead",
                                                                 "Delvis antaget: uppföljning krävs")
    assert all("att inte anta" not in t for t in (text, mala.cause, summary))


def test_a_split_decision_followed_up_as_outside_says_what_was_decided(default_definition):
    definition = default_definition
    state, mark = illustrative(definition)
    now = at("2026-11-27", 9)
    decide(definition, state, adoption_request("mala", "split", "2026-11-17", "§12", "antagen", "ej antaget"), now)
    decide(definition, state, TransitionRequest("adoption", "mala", "rejected", at("2026-11-26")), now)
    (mala,) = [p for p in forecast(definition, state, now.date()).parties if p.party == "mala"]
    assert mala.outlook is Outlook.outside
    assert mala.cause == ("Malå kommun står utanför: kommunfullmäktige antog överenskommelsen men inte samverkansavtalet "
                          "(2026-11-17, §12)")
    (rejection,) = rejections(definition, state)
    assert rejection.decided == SPLIT_SAID
    summary = dashboard(definition, state, now, "samverkan-2027-2030", [mark]).summary_markdown
    assert f"- {mala.cause}" in summary and "att inte anta" not in summary


def test_a_split_record_is_neither_a_rejection_nor_an_adoption(default_definition):
    definition = default_definition
    state, _ = illustrative(definition)
    now = at("2026-11-23", 9)
    with pytest.raises(TransitionRefused) as refused:
        engine.decide(definition, state, adoption_request("mala", "rejected", "2026-11-17", "§12", "ej antagen", "antaget"), now)
    assert str(refused.value) == ("Malå kommun: Kommunfullmäktige antog samverkansavtalet men inte överenskommelsen. Det är ett "
                                  "delat beslut, inte ett avslag: välj ”Registrera delat beslut”.")
    with pytest.raises(TransitionRefused) as refused:
        engine.decide(definition, state, adoption_request("mala", "split", "2026-11-17", "§12", "ej antagen", "ej antaget"), now)
    assert str(refused.value) == ("Malå kommun: Kommunfullmäktige beslutade att inte anta överenskommelsen eller "
                                  "samverkansavtalet. Det är ett avslag, inte ett delat beslut: välj ”Registrera avslag”.")


# --- amendments ---------------------------------------------------------------------------

AMENDED_SAID = "Kommunfullmäktige antog överenskommelsen och, med ändringar, samverkansavtalet (2026-11-30, §101)"


def _umea_amended(definition):
    state, mark = illustrative(definition)
    now = at("2026-12-01", 9)
    changes = decide(definition, state, adoption_request("umea", "amended", "2026-11-30", "§101", "antagen",
                                                         "antaget med ändringar"), now)
    return state, mark, changes, now


def test_amendments_wait_for_the_counterparty_and_the_party_is_told(default_definition):
    definition = default_definition
    state, mark, changes, now = _umea_amended(definition)
    assert state[Node("adoption", "umea")].state == "amended"
    told = confirmations(definition, state, changes, now, mark)
    assert sorted(told) == sorted([*UMEA, PROJECT_LEAD])  # the region's project lead must answer
    text = one_paragraph(told["kommunsekreterare@umea.example.org"])
    assert f"Beslut: {AMENDED_SAID}." in text
    assert ("Region Västerbotten (projektledare) ska nu godta eller avvisa ändringarna. Godtas de är antagandet klart, utan "
            "något nytt beslut; godtas de inte behöver ärendet ett nytt beslut i kommunfullmäktige. Ni får en bekräftelse "
            "när svaret är registrerat.") in text
    # The forecast: decided, waiting for the region; no second council meeting is expected.
    (umea,) = [p for p in forecast(definition, state, now.date()).parties if p.party == "umea"]
    assert umea.outlook is Outlook.awaiting and umea.decided_on == pendulum.date(2026, 11, 30)
    assert umea.cause == (f"Umeå kommun: kommunfullmäktige antog överenskommelsen och, med ändringar, samverkansavtalet "
                          "(2026-11-30, §101); Region Västerbotten (projektledare) ska godta eller avvisa ändringarna, väntat "
                          "svar senast 2026-12-14; godtas de inte behövs ett nytt beslut, senast i kommunfullmäktige 2026-12-18")
    row = next(r for r in status_rows(definition, state, now) if r.node == Node("adoption", "umea"))
    assert (row.owner, row.responsible_role) == ("region-vasterbotten", "project-lead")
    summary = dashboard(definition, state, now, "samverkan-2027-2030", [mark]).summary_markdown
    assert ("- **Umeå kommun** – Antaget med ändringar: väntar på motpartens svar. "
            f"{AMENDED_SAID}. Region Västerbotten (projektledare) svarar på ändringarna: godtas de (”Registrera att motparten "
            "godtar ändringarna”) är antagandet klart; godtas de inte (”Registrera att motparten inte godtar ändringarna”) "
            "behövs ett nytt beslut i kommunfullmäktige.") in summary


def test_amendments_the_counterparty_accepts_complete_the_adoption_without_a_second_decision(default_definition):
    definition = default_definition
    state, mark, _, _ = _umea_amended(definition)
    now = at("2026-12-04", 9)
    changes = decide(definition, state, TransitionRequest("adoption", "umea", "adopted", at("2026-12-03"),
                                                          fields={"counterparty_answered": "2026-12-03"}), now)
    branch = state[Node("adoption", "umea")]
    assert branch.state == "adopted" and branch.completed_at.in_timezone(TZ).date() == pendulum.date(2026, 12, 3)
    assert branch.record["decision_date"] == "2026-11-30" and branch.record["paragraph"] == "§101"  # the council's one decision
    assert state[Node("signing", "umea")].state == "ready"
    told = confirmations(definition, state, changes, now, mark)
    assert sorted(told) == sorted(UMEA)
    text = one_paragraph(told["kommunsekreterare@umea.example.org"])
    assert "Utfall: Antaget" in text and "Motpartens svar på ändringarna: 2026-12-03" in text
    assert "Region Västerbotten godtog ändringarna 2026-12-03. Antagandet är klart; inget nytt beslut behövs." in text
    assert follow_ups(definition, state) == []


def test_amendments_the_counterparty_rejects_send_the_matter_back_for_a_new_decision(default_definition):
    definition = default_definition
    state, mark, _, _ = _umea_amended(definition)
    now = at("2026-12-04", 9)
    changes = decide(definition, state, TransitionRequest("adoption", "umea", "amendments-rejected", at("2026-12-03"),
                                                          fields={"counterparty_answered": "2026-12-03"}), now)
    assert state[Node("adoption", "umea")].state == "amendments-rejected"
    text = one_paragraph(confirmations(definition, state, changes, now, mark)["kommunsekreterare@umea.example.org"])
    assert "Utfall: Ändringarna godtogs inte: nytt beslut krävs" in text
    assert "Region Västerbotten godtog inte ändringarna (2026-12-03). Ärendet behöver ett nytt beslut i kommunfullmäktige." in text
    # Umeå decides again, at its council's next meeting.
    (umea,) = [p for p in forecast(definition, state, now.date()).parties if p.party == "umea"]
    assert umea.decision.day == pendulum.date(2026, 12, 18) and umea.outlook is not Outlook.awaiting
    decide(definition, state, adoption_request("umea", "adopted", "2026-12-18", "§130", "antagen", "antaget"), at("2026-12-19"))
    assert state[Node("adoption", "umea")].state == "adopted"


def test_the_counterparty_cannot_amend_its_own_contract(default_definition):
    state, _ = illustrative(default_definition)
    with pytest.raises(TransitionRefused) as refused:
        engine.decide(default_definition, state, adoption_request("region-vasterbotten", "amended", "2026-11-17", "§9",
                                                                  "antagen", "antaget med ändringar", "Regionfullmäktige"),
                      at("2026-11-23", 9))
    assert str(refused.value) == ("Region Västerbotten är själv motpart i samverkansavtalen och kan inte anta med ändringar "
                                  "som den själv ska godta: registrera ett antagande, ett delat beslut eller ett avslag.")


# --- the command line and the store, on both databases ------------------------------------


def _director(capsys) -> str:
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", HISTORY).code == 0
    return run_cli(capsys, "token", "issue", "chef@region.example.org", "--role", "director-office").out.strip().splitlines()[-1]


def _contact(capsys, director: str, email: str, party: str) -> str:
    result = run_cli(capsys, "token", "issue", email, "--role", "party-contact", "--party", party,
                     "--actor", "chef@region.example.org", "--token", director)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def _adoption(capsys, who: str, token: str, party: str, to: str, day: str, paragraph: str, agreement: str, contract: str,
              body: str = "Kommunfullmäktige"):
    return run_cli(capsys, "transition", "samverkan-2027-2030", "adoption", "--party", party, "--to", to, "--at", day,
                   "--reference", paragraph, "--actor", who, "--token", token,
                   "--field", f"decision_date={day}", "--field", f"decision_body={body}",
                   "--field", f"agreement_outcome={agreement}", "--field", f"contract_outcome={contract}")


def _stored(db_url: str, now: pendulum.DateTime, party: str):
    """The dashboard of the stored instance, and the confirmations queued for the party's adoption."""
    db = Database(db_url)
    try:
        with db.read() as session:
            loaded = instances.load(session, "samverkan-2027-2030")
            board = dashboard_of(loaded, now)
            rows = session.scalars(select(NoticeRow).where(NoticeRow.stage == "adoption", NoticeRow.party == party,
                                                           NoticeRow.kind == "confirmation").order_by(NoticeRow.id))
            told = [(notice.recipient.email, render(notice, SENDER, now).get_body(("plain",)).get_content())
                    for notice in map(notice_of, rows)]
        return board, told
    finally:
        db.close()


def test_the_cli_records_a_split_decision_and_status_shows_the_follow_up(cli_env, capsys):
    director = _director(capsys)
    result = _adoption(capsys, "chef@region.example.org", director, "mala", "split", "2026-11-17", "§12", "antagen", "ej antaget")
    assert result.code == 0, result.err
    table = run_cli(capsys, "status").out
    assert ("UPPFÖLJNING (1): beslut som ännu varken är ett antagande eller ett avslag\n"
            f"> Malå kommun: Delvis antaget: uppföljning krävs. {SPLIT_SAID}. {SPLIT_NEXT}.\n") in table
    assert "AVSLAG" not in table and "att inte anta" not in table
    (follow,) = json.loads(run_cli(capsys, "status", "--json").out)["follow_ups"]
    assert (follow["party"], follow["decided"], follow["who"]) == ("mala", SPLIT_SAID, "Region Västerbotten (projektledare)")
    board, told = _stored(cli_env, at("2026-11-22", 10), "mala")
    assert f"{SPLIT_SAID}. {SPLIT_NEXT}." in board.summary_markdown
    assert next(r for r in board.matrix if r["Part"] == "Malå kommun")["Status"] == "Delvis antaget: uppföljning krävs"
    assert sorted(email for email, _ in told) == sorted([*MALA, PROJECT_LEAD])
    assert all(f"Beslut: {SPLIT_SAID}." in one_paragraph(text) for _, text in told)


def test_only_the_counterparty_answers_amendments_and_the_party_is_told_at_each_step(cli_env, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-04T10:00:00")
    director = _director(capsys)
    umea = _contact(capsys, director, "ks@umea.example.org", "umea")
    region = _contact(capsys, director, "registrator@region-vasterbotten.example.org", "region-vasterbotten")
    assert _adoption(capsys, "ks@umea.example.org", umea, "umea", "amended", "2026-11-30", "§101", "antagen",
                     "antaget med ändringar").code == 0
    accept = ("transition", "samverkan-2027-2030", "adoption", "--party", "umea", "--to", "adopted", "--at", "2026-12-03",
              "--field", "counterparty_answered=2026-12-03")
    # Umeå cannot accept its own changes; the refusal is recorded and nothing changes.
    refused = run_cli(capsys, *accept, "--actor", "ks@umea.example.org", "--token", umea)
    assert refused.code == 2
    assert ("ks@umea.example.org får inte ändra Antagande av överenskommelse och samverkansavtal (Umeå kommun); det får bara utvecklingsdirektörens kansli, "
            "projektledaren för ”Antagande av överenskommelse och samverkansavtal” eller en kontaktperson för Region Västerbotten") in refused.err
    assert json.loads(run_cli(capsys, "status", "--json").out)["follow_ups"][0]["state_name"] == \
        "Antaget med ändringar: väntar på motpartens svar"
    # The region's contact accepts them: adopted, with no second council decision.
    accepted = run_cli(capsys, *accept, "--actor", "registrator@region-vasterbotten.example.org", "--token", region)
    assert accepted.code == 0, accepted.err
    assert "Antagande av överenskommelse och samverkansavtal (Umeå kommun): Antaget med ändringar: väntar på motpartens svar → Antaget" in accepted.out
    status = json.loads(run_cli(capsys, "status", "--json").out)
    row = next(s for s in status["stages"] if (s["id"], s["party"]) == ("adoption", "umea"))
    assert row["state"] == "adopted" and row["completed_at"].startswith("2026-12-03") and status["follow_ups"] == []
    audit = json.loads(run_cli(capsys, "audit", "--format", "json").out)["transitions"]
    assert [t["to_state"] for t in audit if t["party"] == "umea" and t["stage"] == "adoption" and t["outcome"] == "applied"
            ][-2:] == ["amended", "adopted"]
    _, told = _stored(cli_env, at("2026-12-04", 10), "umea")
    assert [email for email, _ in told] == [*UMEA, PROJECT_LEAD, *UMEA]
    first, last = one_paragraph(told[0][1]), one_paragraph(told[-1][1])
    assert "Region Västerbotten (projektledare) ska nu godta eller avvisa ändringarna." in first
    assert "Region Västerbotten godtog ändringarna 2026-12-03. Antagandet är klart; inget nytt beslut behövs." in last


# --- the wrong body -----------------------------------------------------------------------

WRONG_BODY = ("Beslutet är registrerat som fattat av kommunstyrelsen, men Malå kommun beslutar i kommunfullmäktige enligt "
              "processens definition. Ett beslut som fattats av fel organ kan upphävas om det överklagas (kommunallagen "
              "13 kap. 8 §).")


def test_a_decision_by_the_wrong_body_is_recorded_with_a_warning_until_the_office_resolves_it(cli_env, capsys):
    director = _director(capsys)
    mala = _contact(capsys, director, "ks@mala.example.org", "mala")
    recorded = _adoption(capsys, "ks@mala.example.org", mala, "mala", "adopted", "2026-11-17", "§12", "antagen", "antaget",
                         body="Kommunstyrelsen")
    assert recorded.code == 0, recorded.err  # recorded, not refused: the decision exists
    table = run_cli(capsys, "status").out
    assert ("VARNING (1): kansliet behöver reda ut beslutet (samverkan resolve)\n"
            f"! Malå kommun, Antagande av överenskommelse och samverkansavtal: {WRONG_BODY}\n") in table
    status = json.loads(run_cli(capsys, "status", "--json").out)
    assert status["warnings"] == [{"id": "adoption", "party": "mala", "party_name": "Malå kommun", "text": WRONG_BODY}]
    board, told = _stored(cli_env, at("2026-11-22", 10), "mala")
    assert (f"### Varning (1)\n\n- **Malå kommun** – Antagande av överenskommelse och samverkansavtal: {WRONG_BODY} Kansliet "
            "reder ut det: ett nytt beslut av rätt organ eller en förklaring (`samverkan resolve`).") in board.summary_markdown
    assert next(r for r in board.matrix if r["Part"] == "Malå kommun")["Status"] == \
        "Antaget – varning: beslutat av kommunstyrelsen, inte kommunfullmäktige"
    assert all(f"Observera: {WRONG_BODY} Kansliet reder ut det." in one_paragraph(text) for _, text in told) and told
    # Only the office resolves it, with its explanation; a party contact is refused, and nothing changes.
    resolve = ("resolve", "samverkan-2027-2030", "adoption", "--party", "mala")
    refused = run_cli(capsys, *resolve, "--reason", "Det var rätt", "--actor", "ks@mala.example.org", "--token", mala)
    assert refused.code == 2
    assert refused.err.strip() == ("fel: ks@mala.example.org får inte reda ut varningar; det gör regionala "
                                   "utvecklingsdirektörens kansli")
    assert "VARNING (1)" in run_cli(capsys, "status").out
    reason = "Felskrivning: beslutet fattades av kommunfullmäktige, se protokollet"
    resolved = run_cli(capsys, *resolve, "--reason", reason, "--field", "decision_body=Kommunfullmäktige",
                       "--actor", "chef@region.example.org", "--token", director)
    assert resolved.code == 0, resolved.err
    assert resolved.out == (f"Malå kommun, Antagande av överenskommelse och samverkansavtal: varningen är utredd och markerad "
                            f"som löst ({reason}).\n")
    table = run_cli(capsys, "status").out
    assert "VARNING" not in table
    assert json.loads(run_cli(capsys, "status", "--json").out)["warnings"] == []
    board, _ = _stored(cli_env, at("2026-11-22", 10), "mala")
    assert "### Varning" not in board.summary_markdown
    assert next(r for r in board.matrix if r["Part"] == "Malå kommun")["Beslutande organ"] == "Kommunfullmäktige"
    # The record keeps what happened: the warning, resolved, by whom and why, in the audit trail too.
    last = json.loads(run_cli(capsys, "audit", "--format", "json").out)["transitions"][-1]
    assert (last["actor"], last["reason"], last["from_state"], last["to_state"]) == (
        "chef@region.example.org", reason, "adopted", "adopted")
    (warning,) = last["record"]["_warnings"]
    assert (warning["text"], warning["resolved_by"], warning["resolution"]) == (WRONG_BODY, "chef@region.example.org", reason)
    again = run_cli(capsys, *resolve, "--reason", reason, "--actor", "chef@region.example.org", "--token", director)
    assert again.code == 2 and again.err.strip() == (
        "fel: Malå kommun: Antagande av överenskommelse och samverkansavtal har ingen varning som behöver redas ut")


def test_a_resolution_corrects_only_the_decisions_own_fields(default_definition):
    definition = default_definition
    state, _ = illustrative(definition)
    now = at("2026-11-23", 9)
    decide(definition, state, adoption_request("mala", "adopted", "2026-11-17", "§12", "antagen", "antaget",
                                               body="Kommunstyrelsen"), now)
    resolution = engine.Resolution("adoption", "mala", "Rättat", now, "chef@region.example.org",
                                   {"contract_outcome": "ej antaget"})
    with pytest.raises(TransitionRefused) as refused:
        engine.resolve_warnings(definition, state, resolution, now)
    assert str(refused.value).startswith("Malå kommun: fältet 'contract_outcome' kan inte rättas här (utfallet ändras bara "
                                         "genom ett nytt beslut); de fält som kan rättas är: decision_date, decision_body, paragraph")
    with pytest.raises(TransitionRefused, match="skriv kansliets förklaring"):
        engine.resolve_warnings(definition, state, engine.Resolution("adoption", "mala", "  ", now, "chef@region.example.org"), now)


# --- instances pinned to the definition before these ---------------------------------------

VERSION_3 = Path(__file__).parent / "pinned_definitions/samverkan_2027_2030_v3.yaml"


def test_an_instance_pinned_to_version_3_still_runs_and_says_what_was_decided(cli_env, capsys):
    assert run_cli(capsys, "start", VERSION_3, "--history", HISTORY).code == 0
    director = run_cli(capsys, "token", "issue", "chef@region.example.org", "--role", "director-office").out.strip().splitlines()[-1]
    # Version 3 has no split state: a split record is recorded as a "no", and said as decided.
    split = _adoption(capsys, "chef@region.example.org", director, "mala", "rejected", "2026-11-17", "§12", "antagen", "ej antaget")
    assert split.code == 0, split.err
    forecast_doc = json.loads(run_cli(capsys, "forecast", "--json").out)
    mala = next(p for p in forecast_doc["parties"] if p["party"] == "mala")
    assert mala["cause"] == ("Malå kommun står utanför: kommunfullmäktige antog överenskommelsen men inte samverkansavtalet "
                             "(2026-11-17, §12)")
    # Its amendments still go back to the bodies as a new matter, as version 3 says.
    amended = _adoption(capsys, "chef@region.example.org", director, "skelleftea", "amended", "2026-11-20", "§90", "antagen",
                        "antaget med ändringar")
    assert amended.code == 0, amended.err
    again = run_cli(capsys, "transition", "samverkan-2027-2030", "adoption", "--party", "skelleftea", "--to", "in-preparation",
                    "--at", "2026-11-21", "--actor", "chef@region.example.org", "--token", director)
    assert again.code == 0, again.err
    # The wrong body is recorded with its warning under version 3 too.
    wrong = _adoption(capsys, "chef@region.example.org", director, "asele", "adopted", "2026-11-17", "§40", "antagen", "antaget",
                      body="Kommunstyrelsen")
    assert wrong.code == 0, wrong.err
    assert "VARNING (1)" in run_cli(capsys, "status").out
