"""`samverkan sweep` and `samverkan outbox`: deadline notices by e-mail."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.i18n import _
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
            raise SamverkanError(_("--now {value}: det här lagret är det verkliga diariet och skickar bara i verklig tid; "
                                   "använd --dry-run för att se vad en annan tid skulle skicka", value=shown(now or "")))
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
    from samverkan.dashboard.notices import kind_name

    when = report.now.in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm")
    if dry_run:
        print(_("Torrkörning {when}: {queue} nya utskick skulle köas, {send} köade skulle skickas nu.", when=when,
                queue=len(report.would_queue), send=report.would_send))
        rows = [[n.send_at.in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm"), kind_name(n.kind_label), _node(n.facts),
                 n.recipient.email if n.recipient else f"– ({n.missing_reason})"] for n in report.would_queue]
        if rows:
            print("\n".join(table_lines([_("Skickas"), _("Slag"), _("Steg och part"), _("Mottagare")], rows)))
        return
    print(_("Utskick {when}: {queued} köade, {sent} skickade, {retried} försöks igen senare, {failed} misslyckades, "
            "{cancelled} inte längre aktuella.", when=when, queued=report.queued, sent=report.sent,
            retried=len(report.retried), failed=len(report.failed), cancelled=len(report.cancelled)))
    if report.stopped:
        print(_("slutade försöka: {reason}", reason=report.stopped))
    for name in report.closed:
        print(_("{name}: utanför utskickstiden (vardagar, inte helgdag eller afton); skickas vid nästa körning inom tiden",
                name=name))
    for key, reason in report.failed:
        print(_("misslyckades: {key}: {reason}", key=key, reason=reason))
    for key, reason in report.retried:
        print(_("försöks igen: {key}: {reason}", key=key, reason=reason))


def _node(facts: dict | None) -> str:
    """The stage and party a notice is about, by name ("Antagande … – Åsele kommun"); "–" for the digest."""
    facts = facts or {}
    names = [facts.get("stage_name"), facts.get("party_name")]
    return " – ".join(name for name in names if name) or "–"


def outbox(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (default: every one).")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="Only notices in this state: queued, sending, sent, failed, cancelled.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000, help="At most this many, newest first.")] = 50,
) -> None:
    """List the notices in the outbox, newest first."""
    instance = checked_instance(instance, "INSTANCE")
    if state is not None and state not in STATES:
        raise SamverkanError(_("--state: {value} är inte ett av: {states}", value=shown(state), states=", ".join(STATES)))
    from samverkan.dashboard.notices import kind_name, notices_text, state_name
    from samverkan.notices import outbox as store
    from samverkan.notices.model import OutboxState

    with context.database() as db, db.read() as session:
        if instance:
            from samverkan.instances import load

            load(session, instance)  # an unknown instance is refused in one line
        rows = store.listing(session, instance, OutboxState(state) if state else None, limit)
        counts = store.counts(session, instance)
        headings = [_("Nr"), _("Tillstånd"), _("Skickas"), _("Slag"), _("Steg och part"), _("Mottagare"), _("Försök"), _("Orsak")]
        print("\n".join(table_lines(headings, [
            [str(r.id), state_name(r.state), _local(r.sent_at or r.send_at), kind_name(r.kind), _node(r.facts),
             r.recipient or "–", str(r.attempts), r.last_error or ""] for r in rows])))
        print(_("Totalt: {counts}", counts=notices_text(counts) if counts else _("inga utskick")))


def _local(moment) -> str:
    import pendulum

    return pendulum.instance(moment).in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm")
