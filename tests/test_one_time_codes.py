"""One-time codes, the only credential a form takes (docs/security.md): spent by their first
presentation whatever becomes of the answer, good only where they belong, withdrawn when the
decision is taken or the holder loses the role, never echoed, never stored but as a hash, and
delivered in the reminders, put into each message as it is sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import pendulum
import pytest
from sqlalchemy import select

from samverkan.auth import code_body, code_hash
from samverkan.clock import FixedClock
from samverkan.codes import FOREIGN_RUN, USELESS, answer_digest, issue, redeem, spend_exposed
from samverkan.tasks.forms import Overgang, transition_binding
from samverkan.errors import SamverkanError, StoreUnavailable
from samverkan.graph import Node
from samverkan.notices.model import CODE_MARK, FORM_MARK
from samverkan.store.database import Database
from samverkan.store.models import CodeRow, NoticeRow
from samverkan.text import looks_like_token, mask_tokens, shown

from tests.cli_helpers import run_cli
from tests.test_notice_faults import adoption_store, business_day, deliver, queue, synthetic  # noqa: F401 - fixture
from tests.test_store_safety import ADOPT, DIRECTOR, adoption_phase, credentials  # noqa: F401 - fixture

CONTACT = "ks@skelleftea.example.org"
SKELLEFTEA = Node("adoption", "skelleftea")
NOW = FixedClock(pendulum.datetime(2026, 11, 22, 10, tz="Europe/Stockholm"))
CODE_IN_TEXT = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@pytest.fixture
def contact(adoption_phase, capsys):
    """Skellefteå's contact, with a role and a personal token; the store's Database."""
    result = run_cli(capsys, "token", "issue", CONTACT, "--role", "party-contact", "--party", "skelleftea",
                     *credentials(adoption_phase))
    assert result.code == 0, result.err
    db = Database(adoption_phase["url"])
    yield {**adoption_phase, "db": db, "contact_token": result.out.strip().splitlines()[-1]}
    db.close()


def _issue(setup, node=SKELLEFTEA, run_id=None, days=28, email=CONTACT) -> str:
    return issue(setup["db"], email, "vb", node, NOW, DIRECTOR, run_id, days)


def test_a_code_is_spent_by_its_first_presentation_and_only_that_answer_passes_again(contact):
    code = _issue(contact)
    assert code_body(code) and looks_like_token(code) and code not in mask_tokens(f"koden {code}")
    first = answer_digest("prefect:run/beslut-1", '{"engangskod": "..."}')
    assert redeem(contact["db"], code, "vb", SKELLEFTEA, None, first, NOW).email == CONTACT
    # The same answer retried after a crash passes; any other answer with the code does not.
    assert redeem(contact["db"], code.lower().replace("-", " "), "vb", SKELLEFTEA, None, first, NOW).email == CONTACT
    with pytest.raises(SamverkanError) as refused:
        redeem(contact["db"], code, "vb", SKELLEFTEA, None, answer_digest("prefect:run/beslut-2", "{}"), NOW)
    assert USELESS in str(refused.value) and code_body(code) not in str(refused.value).replace("-", "")


def test_a_code_shown_where_it_does_not_belong_is_spent(contact):
    code = _issue(contact)
    with pytest.raises(SamverkanError, match="hör till ett annat beslut"):
        redeem(contact["db"], code, "vb", Node("adoption", "umea"), None, "x", NOW)
    with pytest.raises(SamverkanError, match="redan använd"):
        redeem(contact["db"], code, "vb", SKELLEFTEA, None, "y", NOW)
    # A code for the transition deployment's run is good only in that run, and a branch's
    # code is no good there.
    run = "7d3f1a52-6f0e-4d1a-9c3b-2f1e7c1a9b00"
    asked = Overgang(instans="vb", steg="adoption", part="skelleftea", till="adopted")
    bound = transition_binding(run, asked)
    run_code, branch_code, patched = _issue(contact, run_id=bound), _issue(contact), _issue(contact, run_id=bound)
    with pytest.raises(SamverkanError, match="annat beslut"):
        redeem(contact["db"], run_code, "vb", SKELLEFTEA, None, "z", NOW)
    with pytest.raises(SamverkanError, match="annat beslut"):
        redeem(contact["db"], branch_code, "vb", SKELLEFTEA, bound, "z", NOW)
    # The run's parameters changed after the office issued the code (Prefect lets a viewer edit
    # them): the code is worth nothing for the changed request.
    changed = transition_binding(run, asked.model_copy(update={"till": "rejected"}))
    with pytest.raises(SamverkanError, match="annat beslut"):
        redeem(contact["db"], patched, "vb", SKELLEFTEA, changed, "z", NOW)
    # A branch's codes are good only in the runs the engine made for it.
    made_by_hand = _issue(contact)
    with pytest.raises(SamverkanError, match="annat beslut"):
        redeem(contact["db"], made_by_hand, "vb", SKELLEFTEA, FOREIGN_RUN, "z", NOW)


def test_a_code_runs_out_is_withdrawn_with_the_role_and_when_the_branch_is_decided(contact, capsys):
    old = _issue(contact, days=1)
    with pytest.raises(SamverkanError, match="för gammal"):
        redeem(contact["db"], old, "vb", SKELLEFTEA, None, "a", FixedClock(NOW.now().add(days=2)))
    decided = _issue(contact)
    assert run_cli(capsys, *ADOPT, *credentials(contact)).code == 0
    with pytest.raises(SamverkanError, match="redan använd"):
        redeem(contact["db"], decided, "vb", SKELLEFTEA, None, "b", NOW)
    with contact["db"].read() as session:
        assert session.scalars(select(CodeRow.spent_how).where(CodeRow.code_hash == code_hash(decided))).one() == "withdrawn"
    umea = Node("adoption", "umea")
    assert run_cli(capsys, "grant", CONTACT, "--role", "party-contact", "--party", "umea", *credentials(contact)).code == 0
    lost = _issue(contact, node=umea)
    assert run_cli(capsys, "revoke", CONTACT, "--role", "party-contact", "--party", "umea", *credentials(contact)).code == 0
    with pytest.raises(SamverkanError, match="inte längre rätt"):
        redeem(contact["db"], lost, "vb", umea, None, "c", NOW)


def test_a_personal_token_typed_into_a_form_is_revoked_and_never_echoed(contact, capsys):
    with pytest.raises(SamverkanError) as refused:
        redeem(contact["db"], contact["contact_token"], "vb", SKELLEFTEA, None, "d", NOW)
    said = str(refused.value)
    assert "ser ut som en personlig kod" in said and contact["contact_token"][4:20] not in said
    # Exposed where every viewer may read it: it no longer works; the roles stay.
    result = run_cli(capsys, *ADOPT, "--actor", CONTACT, "--token", contact["contact_token"])
    assert result.code == 2 and "ingen giltig personlig kod" in result.err
    assert "kontaktperson för skelleftea" in run_cli(capsys, "actors").out
    for junk in ("", "1234", "x" * 24, None, 17):
        with pytest.raises(SamverkanError, match="”Engångskod”: ") as refused:
            redeem(contact["db"], junk, "vb", SKELLEFTEA, None, "e", NOW)
        assert shown(junk) not in str(refused.value) or junk in ("", None, 17)


def test_only_the_office_issues_a_code_for_someone_whose_role_permits_it(contact, capsys):
    result = run_cli(capsys, "token", "code", CONTACT, "--instance", "vb", "--stage", "adoption", "--party", "skelleftea",
                     *credentials(contact))
    assert result.code == 0 and CODE_IN_TEXT.search(result.out)
    with contact["db"].read() as session:  # kept as a hash only
        assert session.scalars(select(CodeRow.code_hash)).all() == [code_hash(CODE_IN_TEXT.search(result.out)[0])]
    for args, said in (
        (["--party", "umea"], "har ingen roll som får besluta om adoption/umea"),
        (["--party", "skelleftea", "--run", "not-a-run", "--request", "0123456789ABCDEF"], "--run: 'not-a-run' är inget körnings-id"),
        (["--party", "skelleftea", "--run", "7d3f1a52-6f0e-4d1a-9c3b-2f1e7c1a9b00"], "--request: '' är inte det fingeravtryck"),
        (["--party", "skelleftea", "--request", "0123456789ABCDEF"], "--request: hör ihop med --run"),
    ):
        result = run_cli(capsys, "token", "code", CONTACT, "--instance", "vb", "--stage", "adoption", *args, *credentials(contact))
        assert result.code == 2 and said in result.err and "Traceback" not in result.err
    result = run_cli(capsys, "token", "code", CONTACT, "--instance", "vb", "--stage", "adoption", "--party", "skelleftea",
                     "--actor", CONTACT, "--token", contact["contact_token"])
    assert result.code == 2 and "bara utvecklingsdirektörens kansli ger engångskoder" in result.err


def test_a_code_in_a_comment_is_refused_before_anything_is_written(contact, capsys):
    code = _issue(contact)
    result = run_cli(capsys, *ADOPT, "--reason", f"kod {code}", *credentials(contact))
    assert result.code == 2 and "det ser ut som en personlig kod" in result.err and code not in result.err


def test_each_reminder_brings_a_fresh_code_put_in_as_it_is_sent(adoption_store, mail_server, capsys):
    """The outbox keeps the marks, never a code; the message as sent holds a code that works
    for that branch (for a recipient whose role permits it) and otherwise says how to get one."""
    notices = synthetic(1, 16, business_day(0))
    holder = next(n for n in notices if n.party == "skelleftea").recipient.email
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    assert run_cli(capsys, "grant", holder, "--role", "party-contact", "--party", "skelleftea",
                   "--actor", DIRECTOR, "--token", token).code == 0
    queue(adoption_store, notices, business_day(0), mail_server)
    with adoption_store.read() as session:
        stored = [row.message for row in session.scalars(select(NoticeRow))]
    assert all(CODE_MARK.encode() in message and FORM_MARK.encode() in message for message in stored)
    deliver(adoption_store, mail_server, business_day(0))
    by_recipient = {r.rcpt_tos[0]: r.message() for r in mail_server.received}
    assert len(by_recipient) == 16
    for recipient, message in by_recipient.items():
        text = message.get_body(("plain",)).get_content()
        page = message.get_body(("html",)).get_content()
        assert CODE_MARK not in text + page and FORM_MARK not in text + page
        if recipient == holder:
            code = CODE_IN_TEXT.search(text)[0]
            assert f"{code}</strong>" in page
            actor = redeem(adoption_store, code, "vb", SKELLEFTEA, None, "f", FixedClock(business_day(0)))
            assert actor.email == holder
        else:
            assert not CODE_IN_TEXT.search(text) and "be projektledaren om en" in text
    with adoption_store.read() as session:
        assert session.scalars(select(CodeRow.spent_how)).all() == ["used"]


def test_a_store_that_cannot_be_used_just_now_is_no_verdict_on_the_answer(adoption_phase):
    """A busy or unreachable store is not a refusal: the answer is not deleted from Prefect
    (nothing here reaches Prefect at all) and the error goes up, so that the run, or the
    recovery of ended runs, takes the same answer again; its code, spent for that very
    answer, lets it through then."""
    from samverkan.tasks.decisions import _take

    def busy(key):
        raise StoreUnavailable("the database is busy: another process has held its write lock for over 30 s")

    with pytest.raises(StoreUnavailable):
        _take("0b6c1a52-6f0e-4d1a-9c3b-2f1e7c1a9b00", "suspended-beslut-1-response", "vb", busy, None)


def test_two_answers_showing_one_code_at_once_cannot_both_pass(contact, tmp_path):
    """One process has read the code and stops there (a pause point), holding what it holds;
    another shows the same code with another answer meanwhile. The second must wait and then
    find the code spent: on PostgreSQL the row is locked as it is read."""
    code = _issue(contact)
    pause = tmp_path / "pause"
    script = ("import sys; from samverkan.codes import redeem; from samverkan.graph import Node; "
              "from samverkan.store.database import Database; from samverkan.clock import clock_from_env; "
              f"print(redeem(Database({contact['url']!r}), {code!r}, 'vb', Node('adoption', 'skelleftea'), None, 'first', "
              "clock_from_env()).email)")
    env = {**os.environ, "SAMVERKAN_TEST_PAUSE_AT": "code-read", "SAMVERKAN_TEST_PAUSE_FILE": str(pause),
           "SAMVERKAN_NOW": "2026-11-22T10:00:00"}
    first = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (pause.exists() and pause.read_text()):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second: dict[str, object] = {}

    def show_it_again() -> None:
        try:
            second["actor"] = redeem(contact["db"], code, "vb", SKELLEFTEA, None, "second", NOW)
        except SamverkanError as refused:
            second["refused"] = str(refused)

    other = threading.Thread(target=show_it_again)
    other.start()
    time.sleep(1.0)  # long enough for the second to pass, were nothing holding it
    pause.unlink()
    out, err = first.communicate(timeout=60)
    other.join(timeout=60)
    assert first.returncode == 0 and out.strip() == CONTACT, err
    assert "redan använd" in str(second.get("refused")), second


def test_a_secret_typed_in_the_wrong_field_of_a_form_is_spent_or_revoked(contact, capsys):
    """A code pasted into a form's comment, or a token into a transition run's parameters, is
    shown to every viewer: the code is spent, the token revoked; the field is refused anyway."""
    code = _issue(contact)
    spend_exposed(contact["db"], [json.dumps({"kommentar": f"min kod är {code.lower()}"})], NOW)
    with pytest.raises(SamverkanError, match="redan använd"):
        redeem(contact["db"], code, "vb", SKELLEFTEA, None, "g", NOW)
    spend_exposed(contact["db"], [json.dumps({"kommentar": f"token {contact['contact_token']}"})], NOW)
    result = run_cli(capsys, *ADOPT, "--actor", CONTACT, "--token", contact["contact_token"])
    assert result.code == 2 and "ingen giltig personlig kod" in result.err
    spend_exposed(contact["db"], ["Beslut 2026-11-20 i KF §187, dnr KS-2026-0012"], NOW)  # prose: nothing happens
    assert run_cli(capsys, *ADOPT, *credentials(contact)).code == 0
