"""The minutes of a decision (kommunallagen (2017:725) 8 kap. 12 §): approved at the latest 14
days after the meeting, the approval announced on the notice board at the latest two days
after it, a last day on a closed day moved to the next weekday (lag (1930:173) 2 §). The
approval may be registered before the announcement; what is late is warned about in status
and on the dashboard, said at once to whoever records it, and its party's secretary is
reminded, once, how to register it.

Every expected date was worked out by hand with a calendar; the weekday is written beside it."""

from __future__ import annotations

import json

import pendulum
import pytest
from sqlalchemy import create_engine

from samverkan.calendar.minutes import Missing, minutes_check
from samverkan.engine import TransitionRefused, TransitionRequest, decide
from samverkan.graph import Node
from samverkan.notices.model import NoticeKind, Recipient
from samverkan.notices.outbox import notice_of
from samverkan.notices.policy import due_notices, evaluate, pointless
from samverkan.notifications.render import render
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan.store.models import NoticeRow
from tests.cli_helpers import run_cli
from tests.databases import dump
from tests.drive import history_yaml, planned_steps
from tests.illustrative import adoption_request, apply, illustrative

D = pendulum.date
TZ = "Europe/Stockholm"
LAW = "kommunallagen (2017:725) 8 kap. 12 §"
DIRECTOR = "direktor@region-vasterbotten.example.org"
SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan, Region Västerbotten")


# --- the rule, pure -----------------------------------------------------------------------


def test_minutes_approved_35_days_after_the_meeting_are_warned_about():
    # Tue 2026-11-17 + 14 days = Tue 2026-12-01, a weekday: the last day. Approved Tue 2026-12-22.
    check = minutes_check({"decision_date": "2026-11-17", "minutes_approved": "2026-12-22", "announced": "2026-12-22"},
                          D(2026, 12, 28))
    assert check.approve_by.due == D(2026, 12, 1) and check.missing is None
    assert check.warnings == (f"Protokollet justerades 2026-12-22, 35 dagar efter sammanträdet 2026-11-17; det ska justeras "
                              f"inom 14 dagar, senast 2026-12-01 ({LAW}).",)


def test_an_announcement_three_days_after_the_approval_is_warned_about():
    # Approved Mon 2026-11-30: announced at the latest Wed 2026-12-02; announced Thu 2026-12-03.
    check = minutes_check({"decision_date": "2026-11-23", "minutes_approved": "2026-11-30", "announced": "2026-12-03"},
                          D(2026, 12, 4))
    assert check.announce_by.due == D(2026, 12, 2)
    assert check.warnings == (f"Justeringen anslogs 2026-12-03, 3 dagar efter justeringen 2026-11-30; den ska anslås inom "
                              f"två dagar, senast 2026-12-02 ({LAW}).",)


def test_in_time_says_nothing_and_what_is_missing_is_said_only_after_its_last_day():
    on_time = {"decision_date": "2026-11-23", "minutes_approved": "2026-11-26", "announced": "2026-11-27"}
    assert minutes_check(on_time, D(2027, 1, 15)).warnings == ()
    decided = {"decision_date": "2026-11-23"}  # Mon + 14 = Mon 2026-12-07
    assert minutes_check(decided, D(2026, 12, 7)).warnings == () and minutes_check(decided, D(2026, 12, 7)).missing is None
    late = minutes_check(decided, D(2026, 12, 8))
    assert late.missing is Missing.approval and late.missing_due.due == D(2026, 12, 7)
    assert late.warnings == (f"Justeringen är inte registrerad: protokollet från sammanträdet 2026-11-23 skulle ha justerats "
                             f"senast 2026-12-07 ({LAW}).",)
    # Approved Thu 2026-11-26: + 2 = Sat 2026-11-28, so Mon 2026-11-30 is the last day to announce.
    approved = {**decided, "minutes_approved": "2026-11-26"}
    assert minutes_check(approved, D(2026, 11, 30)).warnings == ()
    unannounced = minutes_check(approved, D(2026, 12, 1))
    assert unannounced.missing is Missing.announcement and unannounced.missing_due.due == D(2026, 11, 30)
    assert unannounced.warnings == (
        f"Anslaget är inte registrerat: att protokollet justerades 2026-11-26 skulle ha anslagits på anslagstavlan senast "
        f"2026-11-30 ({LAW}; 2026-11-28 är en lördag, lag (1930:173) 2 §).",)


def test_fourteen_days_ending_on_christmas_eve_end_the_next_weekday():
    # Thu 2026-12-10 + 14 = Thu 2026-12-24, julafton; Fri juldagen, Sat annandag jul, Sun: Mon 2026-12-28.
    check = minutes_check({"decision_date": "2026-12-10"}, D(2026, 12, 28))
    assert (check.approve_by.nominal, check.approve_by.due, check.warnings) == (D(2026, 12, 24), D(2026, 12, 28), ())
    assert minutes_check({"decision_date": "2026-12-10"}, D(2026, 12, 29)).warnings == (
        f"Justeringen är inte registrerad: protokollet från sammanträdet 2026-12-10 skulle ha justerats senast 2026-12-28 "
        f"({LAW}; 2026-12-24 är julafton, lag (1930:173) 2 §).",)


# --- in the engine: approval first, announcement later; wrong dates refused in Swedish --------


def _minutes(party: str, day: str, **fields) -> TransitionRequest:
    return TransitionRequest("adoption", party, "adopted", pendulum.parse(day, tz=TZ), fields=fields)


def test_the_approval_may_be_registered_before_the_announcement(default_definition):
    state, _ = illustrative(default_definition)  # Storuman adopted on Fri 2026-11-20, §147
    now = pendulum.datetime(2026, 11, 27, 10, tz=TZ)
    apply(default_definition, state, [_minutes("storuman", "2026-11-24", minutes_approved="2026-11-24")], now)
    record = state[Node("adoption", "storuman")].record
    assert record["minutes_approved"] == "2026-11-24" and "announced" not in record and record["paragraph"] == "§147"
    apply(default_definition, state, [_minutes("storuman", "2026-11-25", announced="2026-11-25")], now)
    record = state[Node("adoption", "storuman")].record
    assert (record["minutes_approved"], record["announced"]) == ("2026-11-24", "2026-11-25")
    refusals = [
        (_minutes("storuman", "2026-11-26", minutes_approved="2026-11-19"),
         "adoption/storuman: Protokollet justerat (minutes_approved) 2026-11-19 kan inte vara före Beslutsdatum "
         "(decision_date) 2026-11-20"),
        (_minutes("storuman", "2026-11-26", announced="2026-11-23"),
         "adoption/storuman: Justeringen anslagen (announced) 2026-11-23 kan inte vara före Protokollet justerat "
         "(minutes_approved) 2026-11-24"),
    ]
    for request, line in refusals:
        with pytest.raises(TransitionRefused) as refused:
            decide(default_definition, state, request, now)
        assert refused.value.problems == [line]


# --- status, the dashboard and the command line, on both databases -----------------------------


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
    result = run_cli(capsys, "transition", "vb", "adoption", "--party", "asele", "--to", "adopted", "--at", "2026-11-17",
                     "--reference", "§ 88", "--field", "decision_date=2026-11-17", "--field", "decision_body=Kommunfullmäktige",
                     "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget", *credentials)
    assert result.code == 0, result.err
    return {"url": cli_env, "credentials": credentials}


MINUTES = ["transition", "vb", "adoption", "--party", "asele", "--to", "adopted"]


def _asele(capsys) -> dict:
    rows = json.loads(run_cli(capsys, "status", "vb", "--json").out)["stages"]
    return next(r for r in rows if (r["id"], r["party"]) == ("adoption", "asele"))


def _minutes_block(table: str) -> list[str]:
    lines = table.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Justering och anslag (")), None)
    return [] if start is None else [lines[start], *(line.strip() for line in lines[start + 1:] if line.startswith("  "))]


def test_approval_then_announcement_late_is_said_in_status_and_to_whoever_records_it(adopted, capsys, monkeypatch):
    # Fri 2026-11-20: the minutes were approved on Thursday; the announcement is not registered yet.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-20T10:00:00")
    result = run_cli(capsys, *MINUTES, "--field", "minutes_approved=2026-11-19", *adopted["credentials"])
    assert result.code == 0 and result.out == "Antagande av överenskommelse och samverkansavtal (Åsele kommun): Antaget → Antaget\n" and result.err == ""
    minutes = _asele(capsys)["minutes"]
    # Thu 2026-11-19 + 2 = Sat 2026-11-21: the last day to announce is Mon 2026-11-23.
    assert minutes == {"approve_by": "2026-12-01", "minutes_approved": "2026-11-19", "announce_by": "2026-11-23",
                       "announced": None, "missing": None, "warnings": [], "law": LAW}
    assert _minutes_block(run_cli(capsys, "status", "vb").out) == []

    # Wed 2026-11-25: the last day has passed without a registered announcement.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-25T10:00:00")
    missing = (f"Anslaget är inte registrerat: att protokollet justerades 2026-11-19 skulle ha anslagits på anslagstavlan "
               f"senast 2026-11-23 ({LAW}; 2026-11-21 är en lördag, lag (1930:173) 2 §).")
    assert _asele(capsys)["minutes"]["missing"] == "announcement"
    assert _minutes_block(run_cli(capsys, "status", "vb").out) == [
        f"Justering och anslag (1): protokollet justeras inom 14 dagar, justeringen anslås inom två dagar därefter ({LAW})",
        f"Åsele kommun: {missing}"]

    # Registered: announced on Tue 2026-11-24, a day late. Said at once, and in status.
    result = run_cli(capsys, *MINUTES, "--field", "announced=2026-11-24", *adopted["credentials"])
    late = (f"Justeringen anslogs 2026-11-24, 5 dagar efter justeringen 2026-11-19; den ska anslås inom två dagar, senast "
            f"2026-11-23 ({LAW}; 2026-11-21 är en lördag, lag (1930:173) 2 §).")
    assert result.code == 0 and result.err == f"varning: Antagande av överenskommelse och samverkansavtal (Åsele kommun): {late}\n"
    row = _asele(capsys)
    assert row["minutes"]["warnings"] == [late] and row["minutes"]["missing"] is None
    # Tue 2026-11-24 + 3 weeks = Tue 2026-12-15, the last day to appeal: final from Wed 2026-12-16.
    assert row["finality"]["final_text"] == "tidigast 2026-12-16, om ingen överklagar"
    assert _minutes_block(run_cli(capsys, "status", "vb").out)[1:] == [f"Åsele kommun: {late}"]


def test_approval_35_days_after_the_meeting_is_not_accepted_without_a_word(adopted, capsys, monkeypatch):
    before = (f"Justeringen är inte registrerad: protokollet från sammanträdet 2026-11-17 skulle ha justerats senast "
              f"2026-12-01 ({LAW}).")
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-02T10:00:00")
    assert _minutes_block(run_cli(capsys, "status", "vb").out)[1:] == [f"Åsele kommun: {before}"]
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-22T15:00:00")
    result = run_cli(capsys, *MINUTES, "--field", "minutes_approved=2026-12-22", "--field", "announced=2026-12-22",
                     *adopted["credentials"])
    late = (f"Protokollet justerades 2026-12-22, 35 dagar efter sammanträdet 2026-11-17; det ska justeras inom 14 dagar, "
            f"senast 2026-12-01 ({LAW}).")
    assert result.code == 0 and result.err == f"varning: Antagande av överenskommelse och samverkansavtal (Åsele kommun): {late}\n"
    assert _asele(capsys)["minutes"]["warnings"] == [late]


def test_a_wrong_date_is_one_swedish_line_exit_2_and_nothing_changes(adopted, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-21T09:00:00")
    before = dump(adopted["url"])
    for fields, line in [
        (["minutes_approved=2026-11-16"],
         "fel: adoption/asele: Protokollet justerat (minutes_approved) 2026-11-16 kan inte vara före Beslutsdatum "
         "(decision_date) 2026-11-17"),
        (["minutes_approved=2026-11-20", "announced=2026-11-19"],
         "fel: adoption/asele: Justeringen anslagen (announced) 2026-11-19 kan inte vara före Protokollet justerat "
         "(minutes_approved) 2026-11-20"),
        (["announced=2026-11-20"],
         "fel: adoption/asele: Justeringen anslagen (announced) kan inte registreras innan Protokollet justerat "
         "(minutes_approved) är registrerat: ange båda, eller minutes_approved först"),
    ]:
        result = run_cli(capsys, *MINUTES, *(a for f in fields for a in ("--field", f)), *adopted["credentials"])
        assert (result.code, result.out, result.err) == (2, "", line + "\n"), fields
        assert dump(adopted["url"]) == before


def _minutes_rows(url: str) -> list[NoticeRow]:
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            rows = list(session.query(NoticeRow).filter(NoticeRow.kind == "minutes").order_by(NoticeRow.id))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def test_the_secretary_is_reminded_once_how_to_register_the_minutes(adopted, capsys, monkeypatch):
    # Up to Tue 2026-12-01, the last day to approve, nothing; the first sweep after it queues one reminder.
    assert run_cli(capsys, "sweep", "--queue-only", "--now", "2026-12-01T08:00").code == 0
    assert _minutes_rows(adopted["url"]) == []
    for now in ("2026-12-02T08:00", "2026-12-03T08:00"):
        assert run_cli(capsys, "sweep", "--queue-only", "--now", now).code == 0
    [row] = _minutes_rows(adopted["url"])
    assert (row.stage, row.party, row.recipient, row.due_date.isoformat()) == (
        "adoption", "asele", "kommunsekreterare@asele.example.org", "2026-12-01")
    assert pendulum.instance(row.send_at).in_timezone(TZ).to_datetime_string() == "2026-12-02 08:00:00"
    message = render(notice_of(row), SENDER, pendulum.datetime(2026, 12, 2, 8, tz=TZ))
    assert message["Subject"] == ("[EXEMPEL] Registrera justering och anslag: Antagande av överenskommelse och samverkansavtal "
                                  "– Åsele kommun")  # the example calendars' mark first
    words = " ".join(message.get_body(("plain",)).get_content().split())
    assert ("Kommunfullmäktiges beslut tisdag 17 november 2026 (§ 88) om ”Antagande av överenskommelse och "
            "samverkansavtal” för Åsele kommun är registrerat, men inte när protokollet justerades. Protokollet ska "
            "justeras senast 14 dagar efter sammanträdet, i det här fallet senast tisdag 1 december 2026") in words
    assert ("I Samverkans översikt: öppna Deployments, välj transition/samverkan och klicka på Run. Fyll i: "
            "Processinstans: vb Steg: adoption Part: asele Nytt läge: adopted "
            'Fält att registrera: {"minutes_approved": "ÅÅÅÅ-MM-DD", "announced": "ÅÅÅÅ-MM-DD"}') in words
    assert ("samverkan transition vb adoption --party asele --to adopted --field minutes_approved=ÅÅÅÅ-MM-DD "
            "--field announced=ÅÅÅÅ-MM-DD") in words
    assert "Ni kan också skicka protokollsutdraget till Registrator, registrator@region-vasterbotten.example.org" in words
    assert "Ni får det här meddelandet som sekreterare för Åsele kommun." in words

    # Registered before it was sent: the reminder has become pointless; the announcement has its own.
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-02T09:00:00")
    assert run_cli(capsys, *MINUTES, "--field", "minutes_approved=2026-12-01", *adopted["credentials"]).code == 0
    definition = load_definition(DEFAULT_DEFINITION).definition
    state, _ = illustrative(definition)
    apply(definition, state, [adoption_request("asele", "adopted", "2026-11-17", "§ 88", "antagen", "antaget"),
                              _minutes("asele", "2026-12-01", minutes_approved="2026-12-01")],
          pendulum.datetime(2026, 12, 2, 9, tz=TZ))
    ev = evaluate(definition, state, pendulum.datetime(2026, 12, 2, 9, tz=TZ), "vb")
    assert pointless(ev, NoticeKind.minutes, "adoption", "asele", D(2026, 12, 1), row.facts) == \
        "inte längre aktuellt: justeringen är registrerad"
    # Tue 2026-12-01 + 2 = Thu 2026-12-03; the reminder about the announcement goes Fri 2026-12-04.
    later = evaluate(definition, state, pendulum.datetime(2026, 12, 4, 8, tz=TZ), "vb")
    [announce] = [n for n in due_notices(later) if n.kind is NoticeKind.minutes and n.party == "asele"]
    assert (announce.due_date, announce.facts["minutes_missing"], announce.facts["register_fields"]) == (
        D(2026, 12, 3), "announcement", ["announced"])
    assert "--field announced=ÅÅÅÅ-MM-DD" in announce.facts["register_command"]
    assert "minutes_approved" not in announce.facts["register_command"]
