"""How fast the command line answers: a few commands run as subprocesses, N times each,
median wall time printed. Almost all of it is Python starting and importing modules.

Run: .venv/bin/python bench/cli_startup.py [N]   (default N = 7)

`status` runs on a throw-away SAMVERKAN_HOME (SQLite) in which the default process has
been started once (not timed)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = ROOT / "process_definitions" / "samverkan_2027_2030.yaml"
SAMVERKAN = [sys.executable, "-c", "from samverkan.cli import main; main()"]
if (Path(sys.executable).parent / "samverkan").exists():
    SAMVERKAN = [str(Path(sys.executable).parent / "samverkan")]

COMMANDS = [
    ("--help", ["--help"]),
    ("calendar due 2026-12-24", ["calendar", "due", "2026-12-24"]),
    ("validate (default definition)", ["validate", str(DEFINITION)]),
    ("status (default process started)", ["status"]),
]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(SAMVERKAN + args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as home:
        env = {**os.environ, "SAMVERKAN_HOME": home}
        env.pop("SAMVERKAN_DATABASE_URL", None)
        subprocess.run(SAMVERKAN + ["start", str(DEFINITION)], env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"median wall time of {n} runs each ({' '.join(SAMVERKAN)})")
        for label, args in COMMANDS:
            times = [timed(args, env) for _ in range(n)]
            print(f"  {label:36} {statistics.median(times):6.3f} s  (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
