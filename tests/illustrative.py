"""An instance's state built from the shipped illustrative history, without a database: the
engine's start and decide, as `samverkan start --history` applies them."""

from __future__ import annotations

from pathlib import Path

import pendulum

from samverkan import engine
from samverkan.engine import NodeState, TransitionRequest
from samverkan.graph import Node
from samverkan.history import as_request, load_history
from samverkan.instances import earliest_date, illustrative_mark

EXAMPLE = Path(__file__).resolve().parents[1] / "process_definitions/examples/history_illustrative_2026-11.yaml"
AT = pendulum.datetime(2026, 11, 23, 9, tz="Europe/Stockholm")


def apply(definition, state: dict[Node, NodeState], requests: list[TransitionRequest], now: pendulum.DateTime) -> None:
    for request in requests:
        for change in engine.decide(definition, state, request, now):
            state[change.node] = change.after


def illustrative(definition, keep: int | None = None) -> tuple[dict[Node, NodeState], str]:
    """The state after the history's transitions (the first `keep` of them), and its mark."""
    source, history = load_history(EXAMPLE)
    requests = [as_request(source, i, entry) for i, entry in enumerate(history.transitions)][:keep]
    state, changes = engine.start(definition, min([*(r.at for r in requests), earliest_date(definition)]))
    for change in changes:
        state[change.node] = change.after
    apply(definition, state, requests, AT)
    return state, illustrative_mark(history.note)


def adoption_request(party: str, to: str, day: str, paragraph: str, agreement: str, contract: str,
                     body: str = "Kommunfullmäktige") -> TransitionRequest:
    return TransitionRequest(stage="adoption", party=party, to=to, at=pendulum.parse(day, tz="Europe/Stockholm"),
                             fields={"decision_date": day, "decision_body": body, "paragraph": paragraph,
                                     "agreement_outcome": agreement, "contract_outcome": contract})
