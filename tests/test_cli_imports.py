"""The command line starts fast: importing it loads none of the heavy libraries. A structural
check (which modules are loaded), not a timed one; bench/cli_startup.py gives the times."""

import json
import subprocess
import sys

HEAVY = ("alembic", "sqlalchemy", "pydantic", "prefect", "psycopg", "holidays", "pendulum", "yaml",
         "icalendar", "recurring_ical_events", "samverkan.meetings",
         "samverkan.process_definitions", "samverkan.store", "samverkan.actors", "samverkan.instances", "samverkan.calendar")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_loads_no_heavy_module():
    assert _heavy(_loaded_after("import samverkan.cli")) == []


def test_help_loads_no_heavy_module():
    code = "import sys\nfrom samverkan.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _heavy(_loaded_after(code)) == []


def test_a_current_database_is_opened_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'current.db'}"
    from samverkan.store.database import Database

    Database(url).close()  # migrated here, with Alembic
    loaded = _loaded_after(f"from samverkan.store.database import Database\nDatabase({url!r}).close()")
    assert "sqlalchemy" in loaded and not any(m == "alembic" or m.startswith("alembic.") for m in loaded)
