"""Record a transition that came through a form, with exactly the rules of the command line:
the same authentication, the same engine, the same single transaction."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from samverkan import instances
from samverkan.auth import Actor
from samverkan.clock import clock_from_env
from samverkan.engine import Change, TransitionRequest
from samverkan.tasks.store import database


def apply_transition(instance_id: str, request: TransitionRequest, actor: Actor) -> list[Change]:
    # The server's clock: a form never chooses when something is recorded.
    return instances.transition(database(), instance_id, request, actor, clock_from_env())


# Never cached: the same request twice must meet the engine twice (the second is refused).
apply_transition_task = task(name="registrera-overgang", cache_policy=NO_CACHE, retries=0)(apply_transition)
