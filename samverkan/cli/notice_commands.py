"""`samverkan sweep` and `samverkan outbox`: deadline notices by e-mail."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.text import shown

from . import context
from .args import checked_instance
from .table import table_lines

STATES = ("queued", "sending", "sent", "failed", "cancelled")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("outbox")(outbox)


def sweep(
    now: Annotated[Optional[str], typer.Option("--now", help="Evaluate at this time (YYYY-MM-DDTHH:MM); only in a simulated store, or with --dry-run.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be queued and sent; change nothing.")] = False,
    instance: Annotated[Optional[str], typer.Option("--instance", help="Only this instance (default: every one).")] = None,
    queue_only: Annotated[bool, typer.Option("--queue-only", help="Queue what is due, send nothing.")] = False,
) -> None:
    """Queue the notices due now for every active instance, then deliver the outbox."""
    from samverkan.clock import FixedClock, parse_moment
    from samverkan.notices.sweep import sweep as run_sweep

    instance = checked_instance(instance, "--instance")
    clock = FixedClock(parse_moment(now, "--now")) if now else context.clock()
    with context.database() as db:
        if clock.pinned and not dry_run and not context.store_is_simulated(db) and _has_record(db):
            raise SamverkanError(f"--now {shown(now or '')}: this store keeps a live record and sends at the real time only; "
                                 "use --dry-run to see what another time would send")
        sender = None if dry_run or queue_only else _sender()
        report = run_sweep(db, clock, sender, instance, dry_run, deliver=not queue_only)
    _print_report(report, dry_run)


def _has_record(db) -> bool:
    from samverkan.instances import instance_count

    return instance_count(db) > 0


def _sender():
    from samverkan.notifications.sender import MailSender

    return MailSender.from_env()


def _print_report(report, dry_run: bool) -> None:
    when = report.now.in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm")
    if dry_run:
        print(f"Torrkörning {when}: {len(report.would_queue)} nya utskick skulle köas, {report.would_send} köade skulle skickas nu.")
        rows = [[n.send_at.in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm"), n.kind_label, _node(n.stage, n.party),
                 n.recipient.email if n.recipient else f"– ({n.missing_reason})"] for n in report.would_queue]
        if rows:
            print("\n".join(table_lines(["Skickas", "Slag", "Steg/part", "Mottagare"], rows)))
        return
    print(f"Utskick {when}: {report.queued} köade, {report.sent} skickade, {len(report.retried)} försöks igen senare, "
          f"{len(report.failed)} misslyckades, {len(report.cancelled)} inte längre aktuella.")
    if report.stopped:
        print(f"slutade försöka: {report.stopped}")
    for name in report.closed:
        print(f"{name}: utanför utskickstiden (vardagar, inte helgdag eller afton); skickas vid nästa körning inom tiden")
    for key, reason in report.failed:
        print(f"misslyckades: {key}: {reason}")
    for key, reason in report.retried:
        print(f"försöks igen: {key}: {reason}")


def _node(stage: str, party: str) -> str:
    return f"{stage}/{party}" if party else (stage or "–")


def outbox(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (default: every one).")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="Only notices in this state: queued, sending, sent, failed, cancelled.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000, help="At most this many, newest first.")] = 50,
) -> None:
    """List the notices in the outbox, newest first."""
    instance = checked_instance(instance, "INSTANCE")
    if state is not None and state not in STATES:
        raise SamverkanError(f"--state: {shown(state)} is not one of {', '.join(STATES)}")
    from samverkan.notices import outbox as store
    from samverkan.notices.model import OutboxState

    with context.database() as db, db.read() as session:
        if instance:
            from samverkan.instances import load

            load(session, instance)  # an unknown instance is refused in one line
        rows = store.listing(session, instance, OutboxState(state) if state else None, limit)
        counts = store.counts(session, instance)
        print("\n".join(table_lines(["Id", "Tillstånd", "Skickas", "Slag", "Steg/part", "Mottagare", "Försök", "Orsak"], [
            [str(r.id), r.state, _local(r.sent_at or r.send_at), r.kind, _node(r.stage, r.party), r.recipient or "–",
             str(r.attempts), r.last_error or ""] for r in rows])))
        print("Totalt: " + (", ".join(f"{counts.get(s, 0)} {s}" for s in STATES if counts.get(s)) or "inga utskick"))


def _local(moment) -> str:
    import pendulum

    return pendulum.instance(moment).in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm")
