"""The odds flow: every weekday morning (and whenever someone runs it), a thousand simulated
runs of each instance from what is recorded today, published as the `<instance>-sannolikhet`
artifact: per party, how likely its decision is before the hard deadline.

Apart from the process flow on purpose: a thousand runs take seconds to tens of seconds, and
the process flow runs after every transition. The seed is the day's, so the figures of one day
are the same however often the flow runs that day; they move when the record or the day does."""

from __future__ import annotations

import pendulum
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from samverkan.calendar import TIMEZONE
from samverkan.clock import clock_from_env
from samverkan.dashboard.markdown import md_text
from samverkan.dashboard.odds import odds_markdown, odds_table
from samverkan.meetings.chains import example_note
from samverkan.i18n import _
from samverkan.simulation.odds import decided_stage, odds
from samverkan.simulation.runs import default_until
from samverkan.simulation.scenario import WITH_SPREAD
from samverkan.tasks.dashboard import publish_odds
from samverkan.tasks.store import Snapshot, instance_positions, read_snapshot

RUNS = 1000


def day_seed(day: pendulum.Date) -> int:
    """20261203 for 3 December 2026: the same day, the same runs (hash() differs per process)."""
    return int(day.format("YYYYMMDD"))


def marks_of(snapshot: Snapshot) -> list[str]:
    """The instance's marks, then the invented calendars' (as on every other artifact)."""
    note = example_note(snapshot.definition)
    return [*snapshot.marks, *([note] if note else [])]


@task(name="sannolikhet-instans", cache_policy=NO_CACHE)
def odds_task(instance_id: str, runs: int, today: pendulum.Date) -> str:
    snapshot = read_snapshot(instance_id)
    marks = marks_of(snapshot)
    until = default_until(snapshot.definition)  # as `samverkan simulate`
    reason = None
    if until is None or until < today:
        reason = (_("ingen hård sista dag") if until is None
                  else _("den hårda sista dagen har passerat ({day})", day=until.isoformat()))
    elif decided_stage(snapshot.definition) is None:
        reason = _("inget steg beslutas av parterna på sammanträden före en hård sista dag")
    if reason:
        publish_odds(instance_id, [{_("Part"): _("Ingen sannolikhet: {reason}", reason=reason)}],
                     "\n\n".join([*(f"**{md_text(m)}**" for m in marks), _("Ingen sannolikhet beräknad: {reason}.", reason=reason)]))
        return f"{instance_id}: {reason}"
    result = odds(snapshot.definition, snapshot.state, today, until, WITH_SPREAD, runs, day_seed(today))
    publish_odds(instance_id, odds_table(result), odds_markdown(result, marks))
    return f"{instance_id}: {runs} förlopp, hela processen klar före {result.deadline.isoformat()}: " \
           f"{round(result.complete_by_deadline * 100)} %"


@flow(name="sannolikhet", flow_run_name="sannolikhet-{instance}",
      description="Simulerar resten av processen många gånger från dagens läge och publicerar sannolikheten per part "
                  "att besluta före den hårda sista dagen (artefakten <instans>-sannolikhet).")
def odds_flow(instance: str | None = None, runs: int = RUNS) -> list[str]:
    if not 1 <= runs <= 100_000:
        raise ValueError(f"runs: {runs} is not between 1 and 100 000")
    logger = get_run_logger()
    today = clock_from_env().now().in_timezone(TIMEZONE).date()
    summaries = []
    for instance_id in [instance] if instance else sorted(instance_positions()):
        summaries.append(odds_task(instance_id, runs, today))
        logger.info(summaries[-1])
    return summaries
