"""`samverkan simulate`: a process in simulated time (a timeline with every notice sent), or
the rest of a live instance run many times over (the odds per party)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.text import shown_path

from . import context
from .args import checked_instance

MAX_RUNS = 100_000
DEFAULT_SEED = 1


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    path: Annotated[Optional[Path], typer.Argument(help="The process definition (YAML): simulate it from its start.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="The last simulated day (YYYY-MM-DD; default: a month after the last hard deadline).")] = None,
    scenario: Annotated[Optional[Path], typer.Option("--scenario", help="What happens: stages late, decisions that say no (YAML).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="The random seed (default: the scenario's, else 1).")] = None,
    instance: Annotated[Optional[str], typer.Option("--instance", help="Run a live instance forward from what is recorded today.")] = None,
    runs: Annotated[Optional[int], typer.Option("--runs", help="Run the rest of the process this many times and give the odds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    mail_dir: Annotated[Optional[Path], typer.Option("--mail-dir", help="Write every message delivered as an .eml file in this folder, to read a year's mail before it is sent.")] = None,
) -> None:
    """Simulate a process: the timeline against the plan and every notice sent, or with --runs the odds per party."""
    from samverkan.clock import parse_day

    instance = checked_instance(instance, "--instance")
    if (path is None) == (instance is None):
        raise SamverkanError("give either a definition PATH (a new process) or --instance ID (a live one), not both")
    if instance is not None and runs is None:
        raise SamverkanError("--instance: give --runs N as well: how many times to run the rest of the process")
    if runs is not None and not 1 <= runs <= MAX_RUNS:
        raise SamverkanError(f"--runs: {runs} is not between 1 and {MAX_RUNS:,}".replace(",", " "))
    if seed is not None and seed < 0:
        raise SamverkanError(f"--seed: {seed} is negative; give 0 or more")
    last = parse_day(until, "--until") if until is not None else None
    if mail_dir is not None and (path is None or runs is not None):
        raise SamverkanError("--mail-dir: only a simulated timeline delivers mail (a definition PATH, without --runs)")
    if path is not None:
        _from_definition(path, last, scenario, seed, runs, as_json, _mail_folder(mail_dir))
    else:
        _from_instance(instance, last, scenario, seed, runs, as_json)


def _scenario(path: Path | None, definition, spread_by_default: bool):
    from samverkan.simulation.scenario import AS_PLANNED, WITH_SPREAD, load_scenario

    if path is None:
        return WITH_SPREAD if spread_by_default else AS_PLANNED
    return load_scenario(path, definition)


def _checked_until(until, start, definition):
    from samverkan.simulation.runs import default_until

    until = until or default_until(definition)
    if until is None:
        raise SamverkanError(f"{definition.id}: no hard deadline to simulate towards; give --until YYYY-MM-DD")
    if until < start:
        raise SamverkanError(f"--until: {until.isoformat()} is before the simulation starts ({start.isoformat()})")
    return until


def _mail_folder(folder: Path | None) -> Path | None:
    """The folder for --mail-dir, made if missing; one that holds .eml files already is refused
    (a year's mail would mix with another's)."""
    if folder is None:
        return None
    shown_folder = shown_path(folder)
    if folder.exists() and not folder.is_dir():
        raise SamverkanError(f"--mail-dir: {shown_folder} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if any(folder.glob("*.eml")):
            raise SamverkanError(f"--mail-dir: {shown_folder} already holds .eml files; give an empty or new folder")
        probe = folder / ".samverkan-skrivtest"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SamverkanError(f"--mail-dir: cannot write in {shown_folder}: {error.strerror}") from None
    return folder


def _from_definition(path: Path, until, scenario_path: Path | None, seed: int | None, runs: int | None, as_json: bool,
                     mail_dir: Path | None = None) -> None:
    from samverkan.instances import earliest_date
    from samverkan.process_definitions import load_definition
    from samverkan.simulation.script import local_day

    loaded = load_definition(path)
    definition = loaded.definition
    scenario = _scenario(scenario_path, definition, spread_by_default=runs is not None)
    seed = seed if seed is not None else scenario.seed if scenario.seed is not None else DEFAULT_SEED
    start = earliest_date(definition)
    until = _checked_until(until, local_day(start), definition)
    if runs is not None:
        from samverkan import engine

        state, changes = engine.start(definition, start)
        state = dict(state)
        for change in changes:
            state[change.node] = change.after
        _print_odds(definition, state, local_day(start), until, scenario, runs, seed, None, [], as_json)
        return
    from samverkan.simulation.timeline import simulate as run_timeline

    from .simulate_output import timeline_as_dict, timeline_as_text

    timeline = run_timeline(loaded, until, scenario, seed, mail_dir)
    if as_json:
        sys.stdout.write(json.dumps(timeline_as_dict(timeline), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(timeline_as_text(timeline))


def _from_instance(instance: str, until, scenario_path: Path | None, seed: int | None, runs: int, as_json: bool) -> None:
    from samverkan import instances
    from samverkan.calendar import TIMEZONE

    today = context.clock().now().in_timezone(TIMEZONE).date()
    with context.database() as db, db.read() as session:
        loaded = instances.load(session, instance)
        definition, state, instance_id, marks = loaded.definition, dict(loaded.state), loaded.instance.id, loaded.marks()
    scenario = _scenario(scenario_path, definition, spread_by_default=True)
    seed = seed if seed is not None else scenario.seed if scenario.seed is not None else DEFAULT_SEED
    until = _checked_until(until, today, definition)
    _print_odds(definition, state, today, until, scenario, runs, seed, instance_id, marks, as_json)


def _print_odds(definition, state, today, until, scenario, runs: int, seed: int, instance_id: str | None, marks: list[str],
                as_json: bool) -> None:
    from samverkan.meetings.chains import example_note
    from samverkan.simulation.odds import odds

    from .simulate_output import odds_as_dict, odds_as_text

    result = odds(definition, state, today, until, scenario, runs, seed)
    if as_json:
        sys.stdout.write(json.dumps(odds_as_dict(result, instance_id, marks), ensure_ascii=False, indent=2) + "\n")
    else:
        note = example_note(definition)
        sys.stdout.write(odds_as_text(result, instance_id, [*marks, *([note] if note else [])]))
