"""The answer a person gave a suspended run: recorded first, then deleted.

Prefect keeps run input in its own database and serves it over its API; a personal token must
not stay there. But an answer deleted before it is recorded is lost if the process dies in
between. So the answer is read, recorded under a key made of the run and the input's key (the
store records a key once: samverkan.instances.transition), and only then deleted. A process
killed anywhere in between leaves the answer for the next attempt (the process flow's
recovery of stranded runs), which records it at most once and deletes it.
"""

from __future__ import annotations

from uuid import UUID

from prefect import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError


def attempt_key(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def response_key(prefix: str, number: int) -> str:
    """The key Prefect saves the answer to the run's `number`-th form under."""
    return f"suspended-{attempt_key(prefix, number)}-response"


def request_key(flow_run_id: UUID | str, input_key: str) -> str:
    """The store's idempotency key for one answer: the run and the input it came in."""
    return f"prefect:{flow_run_id}/{input_key}"


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


def read_answer(flow_run_id: UUID, key: str) -> str | None:
    """The raw answer saved under `key`, or None. Not deleted: see `delete_answer`."""
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run_input(flow_run_id, key)
        except ObjectNotFound:
            return None
        except PrefectHTTPStatusError as error:
            if error.response.status_code == 404:
                return None
            raise


def delete_answer(flow_run_id: UUID, key: str) -> None:
    """Delete an answer once it is recorded (or refused); gone already is fine."""
    with get_client(sync_client=True) as client:
        try:
            client.delete_flow_run_input(flow_run_id, key)
        except ObjectNotFound:
            pass
        except PrefectHTTPStatusError as error:
            if error.response.status_code != 404:
                raise


def waiting_answers(flow_run_id: UUID, prefix: str) -> list[tuple[str, str]]:
    """Every answer to this run's forms still in Prefect, in the order Prefect received them:
    (key, raw). The server stamps `created`; no one can give an answer an earlier one. So the
    first answer that shows a one-time code is its owner's, and spends it (samverkan.codes)."""
    found: list = []
    seen: set[str] = set()
    with get_client(sync_client=True) as client:
        while True:  # every page: each form leaves its schema and description beside the answers
            page = client.filter_flow_run_input(flow_run_id, key_prefix=f"suspended-{prefix}-", limit=_PAGE, exclude_keys=seen)
            found += page
            seen |= {item.key for item in page}
            if len(page) < _PAGE:
                break
    answers = sorted((item for item in found if item.key.endswith("-response")), key=lambda item: (item.created, item.key))
    return [(item.key, item.value) for item in answers]


_PAGE = 100
