"""How long a form decision takes on the worker path (prefect.yaml: a process work pool,
`prefect worker start`), with Prefect's default worker poll beside the setting the README and
prefect.yaml recommend (PREFECT_WORKER_QUERY_SECONDS=1), measured in the same run.

Run: .venv/bin/python bench/worker_latency.py [--samples N]   (about 4 minutes at N=8)

One Prefect server (SQLite, a temporary folder, a free port), one SQLite store with the
default process before its adoptions (16 branch runs suspended with their forms), `prefect
deploy --all` from prefect.yaml, one `samverkan serve --watch-only`, and one worker at a time:
first with Prefect's default poll (10 s), then with 1 s. Each sample resumes a waiting branch
run with a "Påbörja beredning" answer and times resume → the decision committed in the store
(polled every 20 ms); samples are taken one at a time, each after the previous has settled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=8, help="samples per setting (at most 8: 16 parties in all)")
    samples = min(parser.parse_args().samples, 8)

    from samverkan.graph import Node
    from samverkan.instances import load
    from samverkan.store.database import Database
    from tests.distributed import Workers, deploy, watching
    from tests.prefect_live import INSTANCE, OFFICE, branch_runs, resume, store_before_adoption, wait_for
    from tests.prefect_server import client_environment, running_server

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        store_url = f"sqlite:///{folder / 'samverkan.db'}"
        with running_server(folder / "prefect") as settings, client_environment(settings):
            env = {**os.environ, **settings.environment(), "SAMVERKAN_HOME": str(folder / "home"), "SAMVERKAN_DATABASE_URL": store_url}
            for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
                env.pop(name, None)
            token = store_before_adoption(env, folder)
            deploy(env)
            db = Database(store_url)

            def state(party: str) -> str:
                with db.read() as session:
                    return load(session, INSTANCE).state[Node("adoption", party)].state

            results: dict[str, list[float]] = {}
            with watching(env, folder / "watch.log"):
                wait_for("16 waiting branch runs", lambda: len(branch_runs()) == 16, timeout=120)
                parties = iter(sorted(branch_runs()))
                for label, query_seconds in (("Prefect's default (10 s)", None), ("recommended (1 s)", "1")):
                    workers = Workers(env, folder)
                    if query_seconds is None:
                        workers.env.pop("PREFECT_WORKER_QUERY_SECONDS")
                    else:
                        workers.env["PREFECT_WORKER_QUERY_SECONDS"] = query_seconds
                    workers.start()
                    time.sleep(5)  # the worker has registered and polls
                    times = []
                    for _ in range(samples):
                        party = next(parties)
                        run = branch_runs()[party][-1]
                        began = time.monotonic()
                        resume(run.id, {"utfall": "Påbörja beredning (Ärendet bereds)", "e_post": OFFICE, "personlig_kod": token})
                        while state(party) != "in-preparation":
                            time.sleep(0.02)
                        times.append(time.monotonic() - began)
                        wait_for(f"{party} waiting again", lambda: branch_runs()[party][-1].state_type.value == "PAUSED", timeout=120)
                    workers.stop_all()
                    results[label] = times
            db.close()

    print(f"form decision on the worker path: resume → committed in the store, {samples} samples each, seconds")
    print(f"{'worker poll':<26} {'median':>7} {'min':>6} {'max':>6}")
    for label, times in results.items():
        print(f"{label:<26} {statistics.median(times):7.2f} {min(times):6.2f} {max(times):6.2f}")


if __name__ == "__main__":
    main()
