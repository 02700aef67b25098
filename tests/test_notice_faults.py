"""Faults in delivery, against a real SMTP server on loopback: the server down for a week,
answering 4xx or 5xx, dropping the line in the middle of DATA or right after accepting, and
the sweep killed with SIGKILL at random moments. Afterwards every due notice was delivered or
is marked failed with its reason; none is lost, and a repeat carries the same Message-ID."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import replace

import pendulum
import pytest
from sqlalchemy import select

from samverkan.asyncrun import run_async
from samverkan.calendar import TIMEZONE
from samverkan.clock import FixedClock
from samverkan.graph import Node
from samverkan.instances import load
from samverkan.notices import outbox
from samverkan.notices.model import Notice, NoticeKind, Recipient
from samverkan.notices.policy import evaluate, pointless
from samverkan.notices.sweep import SweepReport, deliver_due
from samverkan.notifications.sender import MailSender
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan.store.database import Database
from samverkan.store.models import NoticeRow

from tests.cli_helpers import run_cli
from tests.databases import database_url
from tests.drive import history_yaml, planned_steps
from tests.smtp_servers import MailServer

MONDAY = pendulum.datetime(2026, 11, 2, 8, tz=TIMEZONE)  # a week without holidays
PARTIES = ["bjurholm", "dorotea", "lycksele", "mala", "nordmaling", "norsjo", "robertsfors", "skelleftea",
           "sorsele", "storuman", "umea", "vilhelmina", "vindeln", "vannas", "asele", "region-vasterbotten"]
HISTORY_UNTIL = pendulum.date(2026, 10, 15)  # the final proposal is out: every party's adoption is open


def business_day(n: int) -> pendulum.DateTime:
    """The n-th business day of the test week (0: Monday), at 08:00; 5 on is the next week."""
    return MONDAY.add(days=n + 2 * (n // 5))


@pytest.fixture(params=["sqlite", "postgresql"])
def adoption_store(request, tmp_path, monkeypatch, capsys, mail_server: MailServer):
    """The default process in its adoption phase (every party may decide), the mail settings
    pointed at the test server, a lease of 0 s (one sweep at a time here)."""
    with database_url(request.param, tmp_path) as url:
        monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
        monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("SAMVERKAN_NOW", "2026-10-20T10:00:00")
        monkeypatch.setenv("SAMVERKAN_OUTBOX_LEASE", "0")
        for name, value in (("HOST", mail_server.host), ("PORT", str(mail_server.port)), ("SECURITY", "none"), ("RATE", "0"),
                            ("FROM", "Samverkan <samverkan@region-vasterbotten.example.org>")):
            monkeypatch.setenv(f"SAMVERKAN_SMTP_{name}", value)
        definition = load_definition(DEFAULT_DEFINITION).definition
        steps = [s for s in planned_steps(definition) if s.day <= HISTORY_UNTIL]
        (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
        assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb", "--history", tmp_path / "history.yaml").code == 0
        db = Database(url)
        assert_still_wanted(db)
        yield db
        db.close()


def synthetic(round_no: int, count: int, send_at: pendulum.DateTime) -> list[Notice]:
    """`count` distinct reminders about open adoption branches, each about its party's own
    deadline (version 3: its council's last meeting in time) with the facts the policy makes
    for it: notices the policy still wants delivered all through the test's days, so whatever
    becomes of them is the mail server's doing, not the policy's."""
    _real_facts()
    notices = []
    for i in range(count):
        party = PARTIES[i % len(PARTIES)]
        deadline, facts = _REMINDERS[party]
        notices.append(Notice(instance_id="vb", kind=NoticeKind.before, sequence=1000 * round_no + i + 1, stage="adoption",
                              party=party, due_date=deadline, send_at=send_at.in_timezone("UTC"),
                              recipient=Recipient(f"ks{i}@{party}.example.org", "Kommunsekreterare"), facts=facts))
    return notices


_REMINDERS: dict[str, tuple[pendulum.Date, dict]] = {}  # party: (its adoption's deadline, a real reminder's facts)


@pytest.fixture(autouse=True)
def real_facts():
    _real_facts()


def _real_facts() -> None:
    """Real facts and deadlines, as the policy makes them for each party's adoption reminder in
    the adoption phase the store is in (each party's deadline is its own under version 3).
    A function, not only a fixture: other modules use this module's store fixture."""
    if not _REMINDERS:
        from samverkan.notices.policy import schedule, _node_notices
        from tests.test_notice_policy import driven_until

        definition = load_definition(DEFAULT_DEFINITION).definition
        ev = evaluate(definition, driven_until(definition, HISTORY_UNTIL), MONDAY, "vb", ["SIMULERAD"])
        for party in PARTIES:
            node = Node("adoption", party)
            _, chain, _ = schedule(ev, node)
            notice = _node_notices(ev, node, chain[0])[0]
            _REMINDERS[party] = (notice.due_date, notice.facts)


def assert_still_wanted(db: Database) -> None:
    """The store as the sweep sees it on the first and the last day a test delivers: every
    adoption branch is open, with the deadline the synthetic reminders are about. Version 3
    gave each branch its own deadline (its council's last meeting in time, not the common
    2026-12-30 of version 2); a reminder about any other deadline is cancelled as pointless
    ("fristen är nu …") before it reaches the server, and would test the policy, not faults."""
    _real_facts()
    with db.read() as session:
        loaded = load(session, "vb")
    for now in (business_day(0), business_day(5)):
        ev = evaluate(loaded.definition, loaded.state, now, "vb")
        for party in PARTIES:
            deadline, facts = _REMINDERS[party]
            assert pointless(ev, NoticeKind.before, "adoption", party, deadline, facts) is None, (party, now)


def queue(db: Database, notices: list[Notice], now: pendulum.DateTime, server: MailServer | None = None) -> None:
    """Queue, and with a server's settings render into the outbox as the sweep does."""
    with db.transaction() as session:
        outbox.queue(session, notices, now, "test")
        if server is not None:
            sender = MailSender(server.settings())
            outbox.prepare(session, "vb", lambda notice: sender.prepare(notice, now))


def deliver(db: Database, server: MailServer, now: pendulum.DateTime) -> SweepReport:
    return deliver_with(db, MailSender(server.settings(rate=0.0, timeout=2.0)), now)


def deliver_with(db: Database, sender, now: pendulum.DateTime) -> SweepReport:
    """What a sweep's delivery does at `now` through `sender`, which is closed afterwards."""
    report = SweepReport(now=now)

    async def run() -> None:
        try:
            await deliver_due(db, FixedClock(now), sender, report)
        finally:
            await sender.close()

    run_async(run())
    return report


def rows(db: Database) -> list[NoticeRow]:
    with db.read() as session:
        found = list(session.scalars(select(NoticeRow).order_by(NoticeRow.id)))
        session.expunge_all()
        return found


def received_ids(server: MailServer) -> Counter:
    return Counter(item.message()["Message-ID"] for item in server.received)


def test_the_server_down_for_a_week_loses_nothing_and_sends_nothing_twice(adoption_store, capsys, monkeypatch, mail_server):
    mail_server.stop()
    for day in range(5):
        now = business_day(day)
        monkeypatch.setenv("SAMVERKAN_NOW", now.isoformat())
        result = run_cli(capsys, "sweep", "--now", now.isoformat())
        assert result.code == 0 and "0 skickade" in result.out, result.out
        assert "försöks igen" in result.out
    waiting = rows(adoption_store)
    # Each waits with its reason; after two tries in a row the sweep stopped trying (not every row was tried).
    assert waiting and {r.state for r in waiting} == {"queued"} and all(r.last_error for r in waiting)
    # Each says, in Swedish, that the mail server could not be reached (those the breaker kept
    # from trying: "inte försökt: e-postservern svarade inte", those left in the queue: "gick
    # inte att nå"); which of the two depends on how many were due in one batch.
    assert any(r.attempts >= 1 for r in waiting)
    assert any("e-postservern svarade inte" in r.last_error or "e-postservern gick inte att nå" in r.last_error
               for r in waiting), [(r.recipient, r.attempts, r.last_error) for r in waiting]
    mail_server.start()
    now = business_day(5)
    monkeypatch.setenv("SAMVERKAN_NOW", now.isoformat())
    assert run_cli(capsys, "sweep", "--now", now.isoformat()).code == 0
    final = rows(adoption_store)
    assert {r.state for r in final} == {"sent"}, Counter(r.state for r in final)
    ids = received_ids(mail_server)
    assert sorted(ids) == sorted(r.message_id for r in final) and set(ids.values()) == {1}
    listing = run_cli(capsys, "outbox", "vb", "--state", "sent")
    assert listing.code == 0 and f"{len(final)} skickade" in listing.out


@pytest.mark.parametrize("behaviour", ["451", "550", "drop-in-data"])
def test_a_refusing_or_failing_server(adoption_store, mail_server, behaviour):
    queue(adoption_store, synthetic(1, 6, business_day(0)), business_day(0))
    victim = "ks1@dorotea.example.org"
    if behaviour == "451":
        mail_server.reply_at("RCPT", "451 4.3.0 try again later")
    elif behaviour == "550":
        mail_server.refused[victim] = "550 5.1.1 no such user"
    else:
        mail_server.drop_during_data()
    first = deliver(adoption_store, mail_server, business_day(0))
    mail_server.accept()
    deliver(adoption_store, mail_server, business_day(1))
    final = {r.recipient: r for r in rows(adoption_store)}
    if behaviour == "550":
        assert final[victim].state == "failed" and final[victim].last_error.startswith("550")
        assert first.sent == 5 and [key for key, _ in first.failed] == [final[victim] and key for key, _ in first.failed]
        assert {r.state for a, r in final.items() if a != victim} == {"sent"}
    else:
        assert len(first.retried) == 6 and first.sent == 0
        assert {r.state for r in final.values()} == {"sent"} and all(r.attempts == 2 for r in final.values())
    assert set(received_ids(mail_server).values()) == {1}


BEHAVIOURS = ["accept", "down", "451-rcpt", "451-data", "550-one", "drop-in-data", "drop-after-accept"]


@pytest.mark.parametrize("adoption_store", ["sqlite"], indirect=True)  # PostgreSQL's claims: test_outbox, two sweeps below
def test_thirty_random_weeks_of_server_trouble(adoption_store, mail_server):
    """Each round: six notices, four days of random trouble, then a good day. Afterwards each
    is sent (once, or repeated with its Message-ID only after the line dropped once the server
    had accepted it) or failed with the server's permanent answer."""
    rng = random.Random(8)
    repeats = 0
    for round_no in range(1, 31):
        notices = synthetic(round_no, 6, business_day(0))
        queue(adoption_store, notices, business_day(0), mail_server)
        refused = notices[rng.randrange(6)].recipient.email
        accepted_then_dropped = False
        for day in range(4):
            behaviour = rng.choice(BEHAVIOURS)
            mail_server.accept()
            if behaviour == "down":
                mail_server.stop()
            elif behaviour == "451-rcpt":
                mail_server.reply_at("RCPT", "451 4.3.0 try again later")
            elif behaviour == "451-data":
                mail_server.reply_at("DATA", "451 4.3.0 queue full")
            elif behaviour == "550-one":
                mail_server.refused[refused] = "550 5.1.1 no such user"
            elif behaviour == "drop-in-data":
                mail_server.drop_during_data()
            elif behaviour == "drop-after-accept":
                mail_server.drop_after_accept = accepted_then_dropped = True
            deliver(adoption_store, mail_server, business_day(day))
            mail_server.start()
        mail_server.accept()
        deliver(adoption_store, mail_server, business_day(4))
        mine = {r.recipient: r for r in rows(adoption_store) if r.kind.startswith("before-") and int(r.kind[7:]) // 1000 == round_no}
        assert len(mine) == 6  # nothing lost
        for address, row in mine.items():
            assert row.state in ("sent", "failed"), (round_no, row.state, row.last_error)
            if row.state == "failed":
                assert address == refused and row.last_error.startswith("550")
        ids = received_ids(mail_server)
        for row in mine.values():
            if row.state == "sent":
                assert ids[row.message_id] >= 1
                if ids[row.message_id] > 1:
                    assert accepted_then_dropped  # the only way a message can come twice
                    repeats += ids[row.message_id] - 1
    assert repeats > 0  # the window was hit, and only ever repeated a Message-ID


def test_a_sweep_killed_at_random_moments_loses_nothing(adoption_store, mail_server, capsys):
    """SIGKILL at a random moment of a delivering sweep, thirty times per database."""
    rng = random.Random(11)
    queue(adoption_store, synthetic(1, 40, business_day(0)), business_day(0), mail_server)
    url = adoption_store.url
    kills = rounds = 0

    def forked_delivery() -> int:
        pid = os.fork()
        if pid == 0:  # the child: its own connections, the same store and server
            try:
                db = Database(url)
                deliver(db, mail_server, business_day(0))
            finally:
                os._exit(0)
        return pid

    started = time.monotonic()
    pid = forked_delivery()
    os.waitpid(pid, 0)
    duration = time.monotonic() - started  # one whole delivery of the forty
    assert {r.state for r in rows(adoption_store)} == {"sent"}
    while kills < 30:
        rounds += 1
        queue(adoption_store, synthetic(rounds + 1, 40, business_day(0)), business_day(0), mail_server)
        whole = True  # this round's first delivery has all forty to send
        while any(r.state in ("queued", "sending") for r in rows(adoption_store)):
            pid = forked_delivery()
            pause = rng.uniform(0, duration)
            time.sleep(pause)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(pid, 0)
            kills += os.WIFSIGNALED(status)
            if whole and not os.WIFSIGNALED(status):
                # All forty went within `pause`: a whole delivery now takes no longer than that
                # (the one measured above may have been slow on a loaded machine); aim the kills there.
                duration = min(duration, pause)
            whole = False
            assert rounds < 40, "the killed sweeps made no progress"
    final = rows(adoption_store)
    assert {r.state for r in final} == {"sent"} and len(final) == 40 * (rounds + 1)
    ids = received_ids(mail_server)
    assert set(r.message_id for r in final) == set(ids)  # every one arrived; nothing arrived that was not due
    repeated = sum(n - 1 for n in ids.values())
    with capsys.disabled():
        print(f"\n{kills} kills over {len(final)} notices: {repeated} repeated messages, each with the Message-ID of its first copy")


def test_a_bad_notice_fails_alone_with_its_reason_and_the_rest_go(adoption_store, mail_server):
    good = synthetic(1, 4, business_day(0))
    injected = replace(good[0], sequence=9001, facts={**good[0].facts, "party_name": "Umeå kommun\r\nBcc: spy@example.org"})
    malformed = replace(good[1], sequence=9002, recipient=Recipient("kommunsekreterare.umea.example.org", "KS"))
    queue(adoption_store, [*good, injected, malformed], business_day(0))
    report = deliver(adoption_store, mail_server, business_day(0))
    # A line break in a name is made inert (the message goes, no header injected); a malformed
    # address fails its own notice only.
    assert report.sent == 5 and len(report.failed) == 1
    reasons = {row.kind: row.last_error for row in rows(adoption_store) if row.state == "failed"}
    assert set(reasons) == {"before-9002"}
    assert all("\n" not in reason for reason in reasons.values())
    assert "kommunsekreterare.umea.example.org" in reasons["before-9002"]
    assert not any("spy@example.org" in item.rcpt_tos for item in mail_server.received)
    for item in mail_server.received:
        headers = item.content.split(b"\r\n\r\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc:") for line in headers.split(b"\r\n"))


@pytest.mark.parametrize("adoption_store", ["sqlite", "postgresql"], indirect=True)
def test_two_sweeps_at_once_send_each_notice_once(adoption_store, mail_server, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_OUTBOX_LEASE", "300")
    queue(adoption_store, synthetic(1, 60, business_day(0)), business_day(0))
    url = adoption_store.url
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                deliver(Database(url), mail_server, business_day(0))
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    final = rows(adoption_store)
    assert {r.state for r in final} == {"sent"} and len({r.claimed_by for r in final}) == 1  # leases released
    ids = received_ids(mail_server)
    assert len(ids) == 60 and set(ids.values()) == {1}


def test_a_send_that_raises_costs_the_others_nothing(adoption_store, mail_server):
    """One notice whose sending raises (a bug, a library's surprise): it waits for a retry with
    the reason; every other outcome is still recorded, so nothing is sent twice."""
    notices = synthetic(1, 8, business_day(0))
    queue(adoption_store, notices, business_day(0), mail_server)

    class Flaky(MailSender):
        async def send(self, notice, now, message=None, credentials=None):
            if notice.key == notices[0].key:
                raise RuntimeError("surprise")
            return await super().send(notice, now, message, credentials)

    report = deliver_with(adoption_store, Flaky(mail_server.settings(rate=0.0)), business_day(0))
    states = Counter(r.state for r in rows(adoption_store))
    assert states == {"sent": 7, "queued": 1} and report.retried[0][1] == "RuntimeError: surprise"
    deliver(adoption_store, mail_server, business_day(1))
    assert {r.state for r in rows(adoption_store)} == {"sent"} and set(received_ids(mail_server).values()) == {1}


class HangingServer:
    """A mail server that accepts connections and never says a word, counting the connections."""

    def __init__(self) -> None:
        import socket
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.port = self.listener.getsockname()[1]
        self.held: list = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.mark.parametrize("adoption_store", ["sqlite"], indirect=True)
def test_a_hanging_mail_server_stops_the_sweep_after_a_few_tries(adoption_store, mail_server):
    from samverkan.notices.sweep import BREAKER_AFTER

    queue(adoption_store, synthetic(1, 57, business_day(0)), business_day(0))
    hanging = HangingServer()
    try:
        sender = MailSender(replace(mail_server.settings(rate=0.0, timeout=1.0), port=hanging.port))
        report = deliver_with(adoption_store, sender, business_day(0))
        # Each try against it costs the whole timeout: the sweep stopped after BREAKER_AFTER of them.
        assert len(hanging.held) == BREAKER_AFTER
    finally:
        hanging.close()
    assert report.sent == 0 and report.stopped and "gick inte att nå 2 gånger i rad" in report.stopped
    assert "no answer from 127.0.0.1" in report.stopped
    final = rows(adoption_store)
    assert len(final) == 57 and {r.state for r in final} == {"queued"}  # nothing lost, nothing failed
    assert all(r.last_error for r in final if r.attempts)  # what was claimed says why it waits
    # The server answers again: the next sweep sends all of them, each once.
    deliver(adoption_store, mail_server, business_day(1))
    assert {r.state for r in rows(adoption_store)} == {"sent"} and set(received_ids(mail_server).values()) == {1}


@pytest.mark.parametrize("adoption_store", ["sqlite"], indirect=True)
def test_one_refused_connection_does_not_stop_the_sweep(adoption_store, mail_server):
    """A breaker counts failures in a row: one dropped connection among deliveries that work is not it."""
    queue(adoption_store, synthetic(1, 6, business_day(0)), business_day(0))
    mail_server.drop_during_data()
    first = deliver(adoption_store, mail_server, business_day(0))
    assert first.stopped is not None  # every message dropped: in a row, so it stops
    mail_server.accept()
    second = deliver(adoption_store, mail_server, business_day(1))
    assert second.stopped is None and second.sent == 6


@pytest.mark.parametrize("adoption_store", ["sqlite"], indirect=True)
def test_the_digest_says_what_waits_because_the_mail_server_could_not_be_reached(adoption_store, mail_server):
    queue(adoption_store, synthetic(1, 5, business_day(0)), business_day(0))
    mail_server.stop()
    assert deliver(adoption_store, mail_server, business_day(0)).stopped
    with adoption_store.read() as session:
        waiting = outbox.failed_for_digest(session, "vb")
    assert len(waiting) == 5 and all(item["reason"].startswith("ligger kvar i kön för ett nytt försök: ") for item in waiting)
    # Two were tried (the connection refused); the rest were not, and say why.
    assert sum("cannot connect to" in item["reason"] and "inte försökt" not in item["reason"] for item in waiting) == 2
    assert sum("inte försökt: e-postservern svarade inte" in item["reason"] for item in waiting) == 3
