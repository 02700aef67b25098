"""How fast a whole year runs in simulated time: the default process from its start to entry
into force, every weekday swept at 08:00, every notice rendered and delivered over SMTP to a
server in the process, every transition recorded in a fresh SQLite store: `samverkan
simulate process_definitions/samverkan_2027_2030.yaml --until 2027-01-31`, timed as a whole
command (interpreter start-up included) and in the process (the run alone).

Run: .venv/bin/python bench/simulate_year.py [ROUNDS]
Prints figures; asserts nothing (speed targets live here, not in the tests)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "process_definitions" / "samverkan_2027_2030.yaml"
SCENARIOS = ROOT / "process_definitions" / "scenarios"


def once(*extra: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "samverkan", "simulate", str(DEFINITION), "--until", "2027-01-31", "--json", *extra],
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for label, extra in (("as planned", ()), ("drafting six weeks late", ("--scenario", str(SCENARIOS / "drafting-six-weeks-late.yaml")))):
        walls, inside = [], []
        for _ in range(rounds):
            wall, doc = once(*extra)
            walls.append(wall)
            inside.append(doc["seconds"])
        print(f"{label:<26} command {statistics.median(walls):5.2f} s (min {min(walls):.2f})   run {statistics.median(inside):5.2f} s   "
              f"{doc['sweeps']} sweeps, {doc['transitions']} transitions, {doc['notices_sent']} notices sent, "
              f"completed {doc['completed_on']}   ({rounds} rounds, median)")


if __name__ == "__main__":
    main()
