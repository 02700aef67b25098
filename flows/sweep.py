"""The sweep flow: every weekday at 08:00 Europe/Stockholm (and whenever someone runs it), queue
the notices due for every active instance and deliver the outbox; then refresh each
instance's notices artifact. The rules are the core's (samverkan.notices); this is the shell.

Temporary SMTP failures stay queued in the outbox with their reason and a backoff; the run
then fails, so Prefect retries it a little later and the dashboard shows that mail is not
getting through. Permanent failures are recorded with their reason and surfaced, not retried."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from samverkan.clock import clock_from_env
from samverkan.notices.sweep import SweepReport, sweep
from samverkan.tasks.branch_runs import form_link
from samverkan.tasks.dashboard import publish_notices
from samverkan.tasks.store import database, instance_positions, read_snapshot

RETRIES, RETRY_DELAY_SECONDS = 3, 600  # four tries, ten minutes apart: still within the morning


class MailNotThrough(RuntimeError):
    """Some notices could not be delivered yet: they stay queued; the retry sends them."""


@task(name="utskick", cache_policy=NO_CACHE)
def sweep_task(instance: str | None) -> SweepReport:
    from samverkan.flows.smtp_block import configured_smtp_settings
    from samverkan.notifications.sender import MailSender

    settings = configured_smtp_settings()
    if settings is None:
        get_run_logger().warning("ingen e-postserver är inställd (SAMVERKAN_SMTP_* eller blocket samverkan-smtp): "
                                 "utskicken köas men skickas inte")
        return sweep(database(), clock_from_env(), None, instance, deliver=False)
    return sweep(database(), clock_from_env(), MailSender(settings), instance, form_links=form_link)


@task(name="utskick-panel", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def notices_artifact_task(instance_id: str, stopped: str | None = None) -> None:
    snapshot = read_snapshot(instance_id)
    publish_notices(snapshot.instance_id, snapshot.marks, snapshot.notices, snapshot.notice_counts or {}, stopped)


def summary(report: SweepReport) -> str:
    return (f"{report.queued} köade, {report.sent} skickade, {len(report.retried)} försöks igen, "
            f"{len(report.failed)} misslyckades, {len(report.cancelled)} inte längre aktuella")


@flow(name="sweep", flow_run_name="utskick", retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS,
      description="Köar påminnelser, eskaleringar, bekräftelser och veckosammanställningen som är aktuella nu och "
                  "skickar dem. Körs vardagar 08:00; inget skickas på natten, en helgdag eller en afton.")
def sweep_flow(instance: str | None = None) -> str:
    logger = get_run_logger()
    report = sweep_task(instance)
    for instance_id in [instance] if instance else sorted(instance_positions()):
        notices_artifact_task(instance_id, report.stopped)
    if report.stopped:
        logger.warning("slutade försöka: %s", report.stopped)
    for key, reason in report.failed:
        logger.warning("misslyckades: %s: %s", key, reason)
    for name in report.closed:
        logger.info("%s: utanför utskickstiden; skickas vid nästa körning inom tiden", name)
    logger.info(summary(report))
    if report.retried:
        raise MailNotThrough(f"{len(report.retried)} utskick kom inte fram ({report.retried[0][1]}); de ligger kvar i kön "
                             "och skickas vid nästa försök")
    return summary(report)
