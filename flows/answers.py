"""The answer a person gave a suspended run: read once, deleted at once.

Prefect keeps run input in its own database and serves it over its API; a personal token must
not stay there. The answer is deleted before anything else is done with it, so that neither a
refusal nor a crash halfway leaves it readable.
"""

from __future__ import annotations

from uuid import UUID

from prefect import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError


def attempt_key(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def last_attempt(flow_run_id: UUID, prefix: str) -> int:
    """How many times this run has waited for input (its pause keys are `prefix-N`). Read from
    the run's state history: a branch run is created already suspended, and a pause key given
    at creation is not in the run's own list of keys."""
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(flow_run_id)
        run = client.read_flow_run(flow_run_id)
    keys = {s.state_details.pause_key for s in states if s.state_details and s.state_details.pause_key}
    keys |= set(run.empirical_policy.pause_keys or ())
    numbers = [int(key.rsplit("-", 1)[1]) for key in keys if key and key.startswith(prefix + "-") and key.rsplit("-", 1)[1].isdigit()]
    return max(numbers, default=0)


def take_answer(flow_run_id: UUID, prefix: str, number: int) -> str | None:
    """The raw answer to the run's `number`-th form, or None; deleted from Prefect first."""
    key = f"suspended-{attempt_key(prefix, number)}-response"
    with get_client(sync_client=True) as client:
        try:
            raw = client.read_flow_run_input(flow_run_id, key)
        except ObjectNotFound:
            return None
        except PrefectHTTPStatusError as error:
            if error.response.status_code == 404:
                return None
            raise
        client.delete_flow_run_input(flow_run_id, key)
    return raw
