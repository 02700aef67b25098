"""How the daily sweep grows with the number of instances: 10, 100 and 1,000 concurrent
instances of the default 16-party process, on SQLite (a temporary file) and on PostgreSQL (a
fresh schema, dropped afterwards; skipped with a note when the server does not answer).

Every instance carries the illustrative history (process_definitions/examples/
history_illustrative_2026-11.yaml, as `samverkan start --history` reads it), so each is in
its adoption phase with 16 open branches. One instance is started with the engine in a
simulated store (the clock pinned) and the others are copies of its rows (INSERT … SELECT
under new ids): building is not what is measured.

Measured, per database and count, on fresh stores:
- queue only: `sweep(…, sender=None, deliver=False)` at Tuesday 2026-11-24 08:00 (what
  `samverkan sweep --queue-only` does: queue what is due, render and send nothing);
- first: the full sweep (queue, render, deliver) at the same moment, to a real SMTP server
  (aiosmtpd on 127.0.0.1 in its own process, counting what it accepts; rate unbounded);
- steady: the full sweep again on the next business day at 08:00, where little is new: the
  daily case.
Printed: seconds, ms per instance, notices queued and sent, and the growth from the second
largest count to the largest (time(1000)/time(100): 10.0 is linear).

Run: .venv/bin/python bench/sweep_scale.py [--counts 10,100,1000] [--databases sqlite,postgresql]
Prints figures; asserts nothing (speed targets live here, not in the tests)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pendulum  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from samverkan.clock import FixedClock  # noqa: E402
from samverkan.history import as_request, load_history  # noqa: E402
from samverkan.instances import illustrative_mark, start_instance  # noqa: E402
from samverkan.notices.model import Recipient  # noqa: E402
from samverkan.notices.sweep import SweepReport, sweep  # noqa: E402
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition  # noqa: E402
from samverkan.store.database import Database  # noqa: E402
from samverkan.store.models import InstanceRow, NodeRow, TransitionRow  # noqa: E402
from tests.databases import POSTGRES_URL, postgres_available  # noqa: E402

from counting_smtp import HOST, counting_smtp_server  # noqa: E402  (bench/, this script's folder)

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "process_definitions" / "examples" / "history_illustrative_2026-11.yaml"
SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan Region Västerbotten")
BUILT_AT = pendulum.datetime(2026, 11, 23, 10, tz="Europe/Stockholm")  # after the history's last entry
FIRST = pendulum.datetime(2026, 11, 24, 8, tz="Europe/Stockholm")  # a Tuesday, a business day
STEADY = pendulum.datetime(2026, 11, 25, 8, tz="Europe/Stockholm")  # the next business day


def mail_sender(port: int):
    from samverkan.notifications.sender import MailSender
    from samverkan.notifications.smtp_settings import SmtpSettings

    return MailSender(SmtpSettings(sender=SENDER, host=HOST, port=port, security="none", rate=0.0))


# The stores.

@contextmanager
def store_url(kind: str, folder: Path) -> Iterator[str]:
    """A new, empty store: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'sweep-{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build(db: Database, count: int) -> None:
    """`count` instances in the adoption phase: one started by the engine, the rest its copies."""
    loaded = load_definition(DEFAULT_DEFINITION)
    source, parsed = load_history(HISTORY)
    history = [as_request(source, i, entry) for i, entry in enumerate(parsed.transitions)]
    start_instance(db, loaded, "bench", FixedClock(BUILT_AT), instance_id="vb-0000", history=history,
                   history_source=source, illustrative=illustrative_mark(parsed.note) if parsed.illustrative else None)
    if count == 1:
        return
    with db.transaction() as session:
        session.execute(text("CREATE TABLE bench_ids (id VARCHAR(100) PRIMARY KEY)"))
        session.execute(text("INSERT INTO bench_ids (id) VALUES (:id)"), [{"id": f"vb-{i:04d}"} for i in range(1, count)])
        for table, key in ((InstanceRow.__table__, "id"), (NodeRow.__table__, "instance_id"),
                           (TransitionRow.__table__, "instance_id")):
            # Every column but a generated id; the instance's id taken from bench_ids.
            columns = [c.name for c in table.columns if c.name == key or c.name != "id"]
            chosen = ", ".join("bench_ids.id" if c == key else f"t.{c}" for c in columns)
            session.execute(text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {chosen} "
                                 f"FROM {table.name} t CROSS JOIN bench_ids WHERE t.{key} = 'vb-0000'"))
        session.execute(text("DROP TABLE bench_ids"))
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:  # fresh statistics, as autovacuum would have them in a day
            connection.execute(text("ANALYZE"))
            connection.commit()


# The measurements.

@dataclass
class Figure:
    seconds: float
    queued: int
    sent: int
    problems: int  # failed, retried or cancelled: 0 in a healthy run


def timed_sweep(db: Database, moment: pendulum.DateTime, port: int | None) -> Figure:
    sender = mail_sender(port) if port is not None else None
    began = time.perf_counter()
    report: SweepReport = sweep(db, FixedClock(moment), sender, deliver=sender is not None)
    seconds = time.perf_counter() - began
    return Figure(seconds, report.queued, report.sent, len(report.failed) + len(report.retried) + len(report.cancelled))


def measure(kind: str, count: int, folder: Path, port: int, received) -> dict[str, Figure]:
    figures = {}
    with store_url(kind, folder) as url:  # queue only, on a store of its own
        db = Database(url)
        try:
            build(db, count)
            figures["queue only"] = timed_sweep(db, FIRST, None)
        finally:
            db.close()
    with store_url(kind, folder) as url:
        db = Database(url)
        try:
            build(db, count)
            before = received.value
            figures["first"] = timed_sweep(db, FIRST, port)
            figures["steady"] = timed_sweep(db, STEADY, port)
            accepted = received.value - before
            if accepted != figures["first"].sent + figures["steady"].sent:
                print(f"  note: the server accepted {accepted}, the sweeps counted "
                      f"{figures['first'].sent + figures['steady'].sent} sent")
        finally:
            db.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="10,100,1000", help="instance counts, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both")
    options = parser.parse_args()
    counts = [int(c) for c in options.counts.split(",") if c.strip()]
    kinds = [k.strip() for k in options.databases.split(",") if k.strip()]
    folder = Path(tempfile.mkdtemp(prefix="sweep-scale-"))
    os.environ.setdefault("SAMVERKAN_HOME", str(folder))
    print(f"default process, 16 parties, illustrative history; sweeps at {FIRST.format('YYYY-MM-DD HH:mm')} "
          f"and {STEADY.format('YYYY-MM-DD HH:mm')} Europe/Stockholm")
    with counting_smtp_server() as (port, received):
        for kind in kinds:
            if kind == "postgresql":
                problem = postgres_available()
                if problem:
                    print(f"\npostgresql: skipped, the server does not answer ({problem})")
                    continue
            print(f"\n{kind}")
            print(f"  {'instances':>9}  {'sweep':<10} {'seconds':>8} {'ms/inst':>8} {'queued':>7} {'sent':>6} {'problems':>8}")
            results: dict[int, dict[str, Figure]] = {}
            for count in counts:
                results[count] = measure(kind, count, folder, port, received)
                for name, f in results[count].items():
                    print(f"  {count:>9}  {name:<10} {f.seconds:8.2f} {f.seconds / count * 1000:8.2f} {f.queued:>7} {f.sent:>6} {f.problems:>8}")
            if len(counts) >= 2:
                small, large = sorted(counts)[-2:]
                ratios = ", ".join(f"{name} {results[large][name].seconds / results[small][name].seconds:.1f}"
                                   for name in results[large])
                print(f"  growth time({large})/time({small}) (linear = {large / small:.1f}): {ratios}")


if __name__ == "__main__":
    main()
