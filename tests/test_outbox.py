"""The outbox on SQLite and PostgreSQL: queued once, claimed by one sweep, every outcome kept."""

from __future__ import annotations

import threading

import pendulum
import pytest

from samverkan.notices import outbox
from samverkan.notices.model import Notice, NoticeKind, OutboxState, Recipient
from samverkan.notices.outbox import Outcome, Result
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.store.database import Database
from samverkan.store.models import NoticeRow

from tests.cli_helpers import run_cli

NOW = pendulum.datetime(2026, 12, 1, 7, tz="UTC")  # 08:00 in Stockholm


@pytest.fixture
def store(cli_env, capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    db = Database(cli_env)
    yield db
    db.close()


def notice(n: int, kind: NoticeKind = NoticeKind.before, recipient: str | None = "ks@umea.example.org") -> Notice:
    return Notice(instance_id="vb", kind=kind, sequence=n, stage="adoption", party="umea", due_date=pendulum.date(2026, 12, 30),
                  send_at=NOW, recipient=Recipient(recipient, "Kommunsekreterare") if recipient else None,
                  facts={"party_name": "Umeå kommun"}, missing_reason=None if recipient else "Umeå kommun har ingen kontakt")


def states(db: Database) -> dict[int, str]:
    with db.read() as session:
        return {row.id: row.state for row in session.query(NoticeRow)}


def test_a_notice_is_queued_once_however_often(store):
    for _ in range(3):
        with store.transaction() as session:
            outbox.queue(session, [notice(1), notice(2), notice(1)], NOW, "sweep")
    with store.read() as session:
        assert outbox.counts(session, "vb") == {"queued": 2}
        assert sorted(outbox.known_keys(session, "vb")) == sorted({notice(1).key, notice(2).key})


def test_a_notice_without_an_address_is_failed_with_its_reason_not_dropped(store):
    with store.transaction() as session:
        outbox.queue(session, [notice(1, recipient=None)], NOW, "sweep")
    with store.read() as session:
        [row] = outbox.listing(session, "vb", OutboxState.failed, 10)
        assert row.last_error == "Umeå kommun har ingen kontakt" and row.recipient == ""


def test_claims_never_overlap_and_outcomes_are_kept(store):
    with store.transaction() as session:
        outbox.queue(session, [notice(n) for n in range(1, 41)], NOW, "sweep")
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def sweeper(name: str) -> None:
        barrier.wait()
        got = []
        while True:
            with store.transaction() as session:
                rows = [r.id for r in outbox.claim(session, "vb", NOW, pendulum.now("UTC"), name, limit=3)]
            if not rows:
                break
            got += rows
        claimed[name] = got

    threads = [threading.Thread(target=sweeper, args=(f"sweep-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = set(claimed["sweep-0"]), set(claimed["sweep-1"])
    assert not first & second and len(first | second) == 40
    with store.transaction() as session:
        outbox.record(session, [Outcome(i, Result.sent, message_id=f"<{i}@x>") for i in first], NOW, "sweep-0")
        outbox.record(session, [Outcome(i, Result.sent) for i in second], NOW, "sweep-0")  # not its rows: left alone
    assert {i: s for i, s in states(store).items() if s == "sent"}.keys() == first
    assert all(states(store)[i] == "sending" for i in second)


def test_a_temporary_failure_waits_with_backoff_then_gives_up_with_the_reason(store):
    with store.transaction() as session:
        outbox.queue(session, [notice(1)], NOW, "sweep")
    now = NOW
    waits = []
    for _ in range(4):
        with store.transaction() as session:
            [row] = outbox.claim(session, "vb", now, pendulum.now("UTC"), "me")
            outbox.record(session, [Outcome(row.id, Result.retry, "451 4.3.0 försök igen")], now, "me")
        with store.read() as session:
            row = session.query(NoticeRow).one()
            assert row.state == "queued" and row.last_error == "451 4.3.0 försök igen"
            waits.append((pendulum.instance(row.next_attempt_at) - now).in_minutes())
            with store.transaction() as again:
                assert outbox.claim(again, "vb", now, pendulum.now("UTC"), "me") == []  # not before its time
            now = pendulum.instance(row.next_attempt_at)
    assert waits == [5, 10, 20, 40]
    late = NOW.add(days=11)
    with store.transaction() as session:
        [row] = outbox.claim(session, "vb", late, pendulum.now("UTC"), "me")
        outbox.record(session, [Outcome(row.id, Result.retry, "451 4.3.0 försök igen")], late, "me")
    with store.read() as session:
        row = session.query(NoticeRow).one()
        assert row.state == "failed" and row.last_error.startswith("gav upp efter 5 försök på 10 dagar: 451")


def test_a_sweep_that_died_while_sending_leaves_its_rows_to_the_next_after_the_lease(store, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_OUTBOX_LEASE", "60")
    with store.transaction() as session:
        outbox.queue(session, [notice(1)], NOW, "sweep")
        outbox.claim(session, "vb", NOW, pendulum.now("UTC"), "died")
    with store.transaction() as session:
        assert outbox.claim(session, "vb", NOW, pendulum.now("UTC"), "next") == []
    with store.transaction() as session:
        [row] = outbox.claim(session, "vb", NOW, pendulum.now("UTC").add(seconds=61), "next")
        assert row.attempts == 2 and row.claimed_by == "next"
