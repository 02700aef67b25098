"""How fast the odds are: 1,000 simulated years of the rest of the process from a live
instance (the default definition with the illustrative history recorded, as of 2026-11-23),
with the normal spread, as `samverkan simulate --instance ID --runs 1000` computes them; and
how stable they are: the largest difference in any party's probability between two seeds.

Run: .venv/bin/python bench/forecast_runs.py [RUNS]
Prints figures; asserts nothing (speed targets live here, not in the tests)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pendulum  # noqa: E402

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition  # noqa: E402
from samverkan.simulation.odds import odds, percent  # noqa: E402
from samverkan.simulation.scenario import WITH_SPREAD  # noqa: E402
from tests.illustrative import illustrative  # noqa: E402

TODAY, UNTIL = pendulum.date(2026, 11, 23), pendulum.date(2027, 1, 31)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    definition = load_definition(DEFAULT_DEFINITION).definition
    state, _ = illustrative(definition)
    results = []
    for seed in (1, 2):
        started = time.perf_counter()
        results.append(odds(definition, state, TODAY, UNTIL, WITH_SPREAD, runs, seed))
        elapsed = time.perf_counter() - started
        print(f"seed {seed}: {runs} simulated years in {elapsed:.1f} s ({elapsed / runs * 1000:.1f} ms a year); "
              f"whole process done by {results[-1].deadline}: {percent(results[-1].complete_by_deadline)}")
    first, second = results
    differences = {p.name: abs(p.decided - q.decided) for p, q in zip(first.parties, second.parties)}
    worst = max(differences, key=differences.get)
    print(f"largest difference between the seeds: {differences[worst] * 100:.1f} percentage points ({worst})")
    print("per party (seed 1 / seed 2): " + "; ".join(f"{p.name} {percent(p.decided)}/{percent(q.decided)}"
                                                      for p, q in zip(first.parties, second.parties)))


if __name__ == "__main__":
    main()
