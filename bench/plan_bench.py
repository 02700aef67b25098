"""How fast the foundation is: loading and validating a definition, and planning it.

Run: .venv/bin/python bench/plan_bench.py
Prints figures; asserts nothing (speed targets live here, not in the tests)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pendulum  # noqa: E402

from samverkan.process_definitions import DEFAULT_DEFINITION, parse_definition  # noqa: E402
from samverkan import engine  # noqa: E402
from samverkan.planner import plan  # noqa: E402
from samverkan.status import status_rows  # noqa: E402


def timed(label: str, runs: int, work) -> None:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    print(f"{label:<55} median {statistics.median(samples) * 1000:8.2f} ms   min {min(samples) * 1000:8.2f} ms   ({runs} runs)")


def synthetic(parties: int, parallel_stages: int) -> str:
    """A larger process: every stage runs once per party (290 would be all of Sweden's municipalities)."""
    text = DEFAULT_DEFINITION.read_text(encoding="utf-8")
    head, _, _ = text.partition("\ngroups:")
    extra = "".join(
        f"  - id: m{i}\n    name: Kommun {i}\n    kind: municipality\n    decision_body: Kommunfullmäktige\n"
        f"    contacts: [{{name: Sekreterare, email: s@m{i}.example.org, role: secretary}}]\n"
        for i in range(parties)
    )
    members = ", ".join(f"m{i}" for i in range(parties))
    stages = "".join(
        f"  - id: s{i}\n    name: Steg {i}\n    owner: region-vasterbotten\n    responsible_role: secretary\n"
        + (f"    depends_on: [s{i - 1}]\n" if i else "    timing: {not_before: 2026-01-05, duration: P2W, basis: estimate}\n")
        + ("    timing: {duration: P2W, basis: estimate}\n" if i else "")
        + "    for_each: {group: many}\n    lifecycle: task\n"
        for i in range(parallel_stages)
    )
    lifecycle = text[text.index("lifecycles:"): text.index("  - id: decision")]
    return f"{head}\n{extra}groups:\n  - id: many\n    name: Många\n    members: [{members}]\n{lifecycle}stages:\n{stages}"


def main() -> None:
    text = DEFAULT_DEFINITION.read_bytes()
    loaded = parse_definition(text, "default")
    print(f"default definition: {len(loaded.definition.stages)} stages, {len(plan(loaded.definition).nodes)} planned nodes")
    timed("load + validate default definition", 50, lambda: parse_definition(text, "default"))
    timed("plan default definition", 200, lambda: plan(loaded.definition))
    timed("plan default definition --as-of 2026-11-22", 200, lambda: plan(loaded.definition, as_of=pendulum.date(2026, 11, 22)))
    big = synthetic(parties=290, parallel_stages=12)
    big_loaded = parse_definition(big, "synthetic")
    print(f"synthetic definition: {len(big_loaded.definition.stages)} stages, {len(plan(big_loaded.definition).nodes)} planned nodes")
    timed("load + validate synthetic (290 parties x 12 stages)", 5, lambda: parse_definition(big, "synthetic"))
    timed("plan synthetic (290 parties x 12 stages)", 10, lambda: plan(big_loaded.definition))
    now = pendulum.datetime(2026, 1, 10, tz="Europe/Stockholm")
    state, changes = engine.start(big_loaded.definition, now)
    for change in changes:
        state[change.node] = change.after
    timed("status of a new synthetic instance (3492 rows)", 5, lambda: status_rows(big_loaded.definition, state, now))


if __name__ == "__main__":
    main()
