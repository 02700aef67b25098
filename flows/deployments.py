"""The deployments every serving process offers: the process flow (also on a schedule, as a
safety net), the branch flow (its runs are created by the process flow), the transition
flow (the UI's door for any transition), the sweep (e-mail notices, weekdays 08:00) and the
odds (a thousand simulated runs per instance, weekdays 06:30, before the office starts). Module-path entrypoints: they run wherever the
package is installed, whatever the working directory."""

from __future__ import annotations

import datetime as dt

from prefect.deployments.runner import EntrypointType, RunnerDeployment

from prefect.schedules import Cron

from samverkan.flows.branch import branch_flow
from samverkan.flows.odds import odds_flow
from samverkan.flows.process import process_flow
from samverkan.flows.sweep import sweep_flow
from samverkan.flows.transition import transition_flow

NAME = "samverkan"
SAFETY_NET = dt.timedelta(minutes=15)
# Weekdays at 08:00 local time; the sweep itself keeps holidays and eves closed.
SWEEP_SCHEDULE = Cron("0 8 * * 1-5", timezone="Europe/Stockholm")
# Weekdays at 06:30 local time: the day's odds are on the dashboard before anyone looks.
ODDS_SCHEDULE = Cron("30 6 * * 1-5", timezone="Europe/Stockholm")
TAGS = ["samverkan"]
# Every flow run says it is alive this often (Prefect's heartbeat events; its default is 180 s,
# its minimum 30): a run with no process left is then found within minutes from any machine
# (samverkan.sync.STRANDED_AFTER). prefect.yaml gives the workers' flow runs the same.
HEARTBEAT_SECONDS = 30


async def deployments() -> list[RunnerDeployment]:
    return [
        await process_flow.ato_deployment(
            NAME, interval=SAFETY_NET, tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            description="Synkar grenkörningar, händelser och instrumentpanel med lagret. Körs efter varje övergång "
                        "och var 15:e minut som skyddsnät."),
        await branch_flow.ato_deployment(
            NAME, tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            description="En parts gren i ett parallellt steg. Körningarna skapas av processflödet; återuppta en "
                        "väntande körning för att registrera partens beslut."),
        await transition_flow.ato_deployment(
            NAME, tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            description="Registrera vilken övergång som helst (som `samverkan transition`). Körningen ber om din "
                        "e-postadress och personliga kod innan något registreras."),
        await sweep_flow.ato_deployment(
            NAME, schedules=[SWEEP_SCHEDULE], tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            description="E-postutskick: påminnelser, eskaleringar, bekräftelser och veckosammanställningen. "
                        "Vardagar 08:00 (Europe/Stockholm), med omförsök."),
        await odds_flow.ato_deployment(
            NAME, schedules=[ODDS_SCHEDULE], tags=TAGS, entrypoint_type=EntrypointType.MODULE_PATH,
            description="Sannolikheten per part att besluta före den hårda sista dagen: tusen simulerade förlopp från "
                        "dagens läge, med normal spridning. Vardagar 06:30 (Europe/Stockholm); samma dag ger samma siffror."),
    ]
