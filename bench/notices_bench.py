"""How fast notices go out: 1,000 pre-built multipart messages (~4 KB each) to an aiosmtpd on
loopback, (a) with raw aiosmtplib (one connection, `send_message` in a loop) and (b) through
the Mailer (default settings, rate unbounded), as messages per second and their ratio; and
(c) the whole path of the sweep's delivery: 1,000 notices queued in the outbox (SQLite, the
default process in its adoption phase) claimed, rendered from their templates (text, HTML
and the .ics), sent and recorded one by one, with 1 and with 4 connections.

The SMTP server runs in a separate process (multiprocessing, spawn; aiosmtpd's Controller in
that process's own thread and event loop), so its work shares neither the client's event loop
nor its interpreter lock. Each measurement runs ROUNDS times over fresh connections, in
alternating order; printed are the best round (the least disturbed by the rest of the
machine), the median, and the median of each round's ratio to raw aiosmtplib.

Another measurement is one more `async def name(bench: Bench) -> int` (it returns how many
messages it delivered) added to MEASUREMENTS.

Run: .venv/bin/python bench/notices_bench.py [MESSAGES] [ROUNDS]"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib  # noqa: E402
import email.policy  # noqa: E402

from samverkan.notices.model import Recipient, message_id  # noqa: E402
from samverkan.notifications.smtp import Mailer  # noqa: E402
from samverkan.notifications.smtp_settings import SmtpSettings  # noqa: E402

from counting_smtp import HOST, counting_smtp_server  # noqa: E402  (bench/, this script's folder)

SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan Region Västerbotten")
MUNICIPALITIES = ["Bjurholm", "Dorotea", "Lycksele", "Malå", "Nordmaling", "Norsjö", "Robertsfors", "Skellefteå",
                  "Sorsele", "Storuman", "Umeå", "Vilhelmina", "Vindeln", "Vännäs", "Åsele"]


@dataclass
class Bench:
    port: int
    messages: list[EmailMessage]
    received: object  # multiprocessing.Value: messages the server accepted
    outbox: object = None  # _Outbox: the store the sweep's delivery is measured on
    flat: list[bytes] = field(default_factory=list)  # the messages flattened, as the outbox keeps them
    render_seconds: list[float] = field(default_factory=list)  # (c): rendering 1,000 into the outbox

    def settings(self, **overrides: object) -> SmtpSettings:
        """The Mailer's default settings for this server, but for the pace (unbounded)."""
        values: dict[str, object] = {"sender": SENDER, "host": HOST, "port": self.port, "security": "none", "rate": 0.0}
        values.update(overrides)
        return SmtpSettings(**values)  # type: ignore[arg-type]


# The messages.

def build_messages(count: int) -> list[EmailMessage]:
    """Realistic notices: a Swedish text part and its HTML alternative, about 4 KB in all."""
    messages = []
    paragraph = ("Regionstyrelsen har beslutat att remittera förslaget till ny samverkansöverenskommelse "
                 "2027–2030 till länets kommuner. Kommunen ombeds lämna sitt yttrande senast det datum som "
                 "anges nedan. Yttrandet lämnas genom att beslutet registreras i Samverkan, med paragraf och datum. ")
    for i in range(count):
        municipality = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        domain = municipality.lower().replace("å", "a").replace("ä", "a").replace("ö", "o") + ".example.org"
        message = EmailMessage()
        message["From"] = f"{SENDER.name} <{SENDER.email}>"
        message["To"] = f"Registrator {municipality} kommun <registrator{i}@{domain}>"
        message["Subject"] = f"Påminnelse: yttrande över samverkansöverenskommelsen senast fredag 11 december ({i})"
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        message["Message-ID"] = message_id(f"samverkan-2027-2030/remiss/{municipality}/before-{i}", "region-vasterbotten.example.org")
        text = (f"Hej {municipality} kommun!\n\n" + paragraph * 6 + "\n\nSista dag: fredag 11 december 2026\n"
                "Frågor: kansliet@region-vasterbotten.example.org\n\nMed vänlig hälsning\nSamverkan Region Västerbotten\n")
        message.set_content(text)
        html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n\n")) + "</body></html>"
        message.add_alternative(html, subtype="html")
        messages.append(message)
    return messages


# The measurements.

async def raw_sendmail(bench: Bench) -> int:
    """(a') aiosmtplib itself with the messages already flattened: one connection, sendmail in a loop."""
    smtp = aiosmtplib.SMTP(hostname=HOST, port=bench.port, start_tls=False)
    await smtp.connect()
    for data, message in zip(bench.flat, bench.messages):
        await smtp.sendmail(SENDER.email, [message["To"].addresses[0].addr_spec], data)
    await smtp.quit()
    return len(bench.messages)


async def raw_aiosmtplib(bench: Bench) -> int:
    """(a) aiosmtplib itself: one connection, send_message in a loop."""
    smtp = aiosmtplib.SMTP(hostname=HOST, port=bench.port, start_tls=False)
    await smtp.connect()
    for message in bench.messages:
        await smtp.send_message(message, sender=SENDER.email)
    await smtp.quit()
    return len(bench.messages)


async def mailer_default(bench: Bench) -> int:
    """(b) the Mailer, default settings (one connection) but an unbounded rate: send in a loop."""
    async with Mailer(bench.settings()) as mailer:
        for message in bench.messages:
            if not (await mailer.send(message)).sent:
                raise AssertionError("a message was not sent")
    return len(bench.messages)


async def mailer_send_many_4(bench: Bench) -> int:
    """(b') the Mailer's send_many over 4 connections, rate unbounded (for comparison)."""
    async with Mailer(bench.settings(connections=4)) as mailer:
        deliveries = await mailer.send_many(bench.messages)
    if not all(d.sent for d in deliveries):
        raise AssertionError("a message was not sent")
    return len(deliveries)


class _Outbox:
    """A store in the adoption phase, and a fresh batch of notices queued per measurement."""

    def __init__(self, folder: Path) -> None:
        import os

        import pendulum

        from samverkan.cli import main as cli
        from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
        from tests.drive import history_yaml, planned_steps

        os.environ.update(SAMVERKAN_HOME=str(folder), SAMVERKAN_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
                          SAMVERKAN_NOW="2026-10-20T10:00:00")
        definition = load_definition(DEFAULT_DEFINITION).definition
        steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
        (folder / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
        try:
            cli(["start", str(DEFAULT_DEFINITION), "--instance", "vb", "--history", str(folder / "history.yaml")])
        except SystemExit as done:
            if done.code:
                raise
        from samverkan.graph import Node
        from samverkan.notices.policy import _node_notices, evaluate, schedule
        from samverkan.store.database import Database
        from samverkan.instances import load

        self.db = Database()
        self.now = pendulum.datetime(2026, 11, 2, 8, tz="Europe/Stockholm")
        with self.db.read() as session:
            loaded = load(session, "vb")
            ev = evaluate(loaded.definition, loaded.state, self.now, "vb", loaded.marks())
        self.templates = []
        for party in definition.group_members("signatories"):
            _, chain, _ = schedule(ev, Node("adoption", party))
            self.templates += _node_notices(ev, Node("adoption", party), chain[0])
        self.batch = 0

    def rendered(self, count: int) -> list[EmailMessage]:
        from dataclasses import replace

        from samverkan.notifications.render import render

        return [render(replace(self.templates[i % len(self.templates)], sequence=i + 1), SENDER, self.now) for i in range(count)]

    def queue(self, count: int) -> None:
        from dataclasses import replace

        from samverkan.notices import outbox

        self.batch += 1
        notices = [replace(self.templates[i % len(self.templates)], sequence=100000 * self.batch + i, send_at=self.now.in_timezone("UTC"))
                   for i in range(count)]
        with self.db.transaction() as session:
            outbox.queue(session, notices, self.now, "bench")


async def _deliver_outbox(bench: Bench, connections: int) -> tuple[int, float]:
    from samverkan.clock import FixedClock
    from samverkan.notices.sweep import SweepReport, deliver_due
    from samverkan.notifications.sender import MailSender

    from samverkan.notices import outbox

    store = bench.outbox
    store.queue(len(bench.messages))  # not timed: the sweep's queueing is measured by the sweep bench
    report = SweepReport(now=store.now)
    sender = MailSender(bench.settings(connections=connections))
    began = time.perf_counter()
    with store.db.transaction() as session:  # what the sweep does when it queues: render into the outbox
        outbox.prepare(session, "vb", lambda notice: sender.prepare(notice, store.now))
    bench.render_seconds.append(time.perf_counter() - began)
    began = time.perf_counter()
    try:
        await deliver_due(store.db, FixedClock(store.now), sender, report)
    finally:
        await sender.close()
    if report.sent != len(bench.messages):
        raise AssertionError(f"sent {report.sent} of {len(bench.messages)}: {report.failed[:1] or report.retried[:1]}")
    return report.sent, time.perf_counter() - began


async def outbox_one_connection(bench: Bench) -> tuple[int, float]:
    """(c) the sweep's delivery: claim, render, send, record, over one connection."""
    return await _deliver_outbox(bench, 1)


async def outbox_four_connections(bench: Bench) -> tuple[int, float]:
    """(c') the same over four connections (SAMVERKAN_SMTP_CONNECTIONS=4)."""
    return await _deliver_outbox(bench, 4)


MEASUREMENTS: dict[str, Callable[[Bench], Awaitable[int | tuple[int, float]]]] = {
    "a raw aiosmtplib, 1 connection": raw_aiosmtplib,
    "a' raw aiosmtplib sendmail(bytes)": raw_sendmail,
    "b Mailer, defaults, rate unbounded": mailer_default,
    "b' Mailer.send_many, 4 connections": mailer_send_many_4,
    "c outbox→render→Mailer, 1 connection": outbox_one_connection,
    "c' outbox→render→Mailer, 4 connections": outbox_four_connections,
}
BASELINE = "a raw aiosmtplib, 1 connection"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    import tempfile

    started = time.perf_counter()
    store = _Outbox(Path(tempfile.mkdtemp(prefix="notices-bench-")))
    messages = store.rendered(count)  # the same notices the outbox sends: real templates, .ics and all
    flat = [m.as_bytes(policy=email.policy.SMTP) for m in messages]
    print(f"{count} messages, {statistics.mean(len(f) for f in flat) / 1024:.1f} KB on average (rendered notices: "
          f"text, HTML and .ics), built in {time.perf_counter() - started:.2f} s")
    with counting_smtp_server() as (port, received):
        bench = Bench(port, messages, received, store, flat)
        rates: dict[str, list[float]] = {name: [] for name in MEASUREMENTS}
        for round_ in range(rounds):
            order = list(MEASUREMENTS.items())
            for name, measure in order if round_ % 2 == 0 else reversed(order):  # neither always first
                before = received.value
                began = time.perf_counter()
                sent = asyncio.run(measure(bench))
                elapsed = time.perf_counter() - began
                if isinstance(sent, tuple):  # it timed itself, leaving out its set-up
                    sent, elapsed = sent
                if received.value - before != sent:
                    raise SystemExit(f"{name}: the server received {received.value - before} of {sent}")
                rates[name].append(sent / elapsed)
    print(f"server: aiosmtpd in a separate process; {rounds} rounds, alternating order")
    if bench.render_seconds:
        best = min(bench.render_seconds)
        print(f"  rendering {count} notices into the outbox (the sweep's queue step): best {count / best:.0f} msg/s "
              f"({best / count * 1000:.1f} ms each)")
    print(f"  {'':<36} {'best':>7}        {'median':>6}   best/raw   per-round ratio to raw: median (min–max)")
    base = max(rates[BASELINE])
    for name, values in rates.items():
        paired = [v / r for v, r in zip(values, rates[BASELINE])]
        print(f"  {name:<36} {max(values):7.0f} msg/s  {statistics.median(values):6.0f} msg/s  {max(values) / base:5.0%}"
              f"      {statistics.median(paired):5.0%} ({min(paired):.0%}–{max(paired):.0%})")


if __name__ == "__main__":
    main()
