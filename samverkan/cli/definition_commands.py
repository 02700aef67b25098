"""`samverkan validate`, `plan` and `schema`: definitions and their dated plans."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.i18n import _

from . import context
from .args import checked_instance

# Definitions (pydantic), the planner and the store are imported in the commands that use
# them: the command line starts without them.


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("plan")(plan)
    app.command("schema")(schema)


def validate(paths: Annotated[list[Path], typer.Argument(help="Definition files (YAML).", show_default=False)]) -> None:
    """Check definition files: YAML, the format, references, cycles and dates."""
    from samverkan.process_definitions import load_definition
    from samverkan.planner import plan as make_plan

    problems: list[str] = []
    for path in paths:
        try:
            loaded = load_definition(path)
        except SamverkanError as error:
            problems += error.problems
            continue
        d = loaded.definition
        try:
            make_plan(d)  # a definition that cannot be planned is not valid
        except SamverkanError as error:
            problems += [f"{path}: {p}" for p in error.problems]
            continue
        branches = sum(len(d.group_members(s.for_each.group)) for s in d.stages if s.for_each)
        print(_("{path}: giltig: {process} version {version}, {stages} steg, {branches} grenar, {parties} parter", path=path,
                process=d.id, version=d.version, stages=len(d.stages), branches=branches, parties=len(d.parties)))
    if problems:
        raise SamverkanError(*problems)


def plan(
    path: Annotated[Optional[Path], typer.Argument(help="A process definition file (YAML); default: the 2027–2030 process.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Plan from this day, YYYY-MM-DD.")] = None,
    instance: Annotated[Optional[str], typer.Option("--instance", help="Plan a running instance, from the dates it has recorded.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """The dated plan: start, deadline, slack and critical path of every stage and branch."""
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from samverkan.clock import parse_day
    from samverkan.planner import plan as make_plan

    from .plan_output import plan_as_json, plan_as_table

    day = parse_day(as_of, "--as-of") if as_of is not None else None
    if instance is not None:
        if path is not None:
            raise SamverkanError(_("ange en definition (PATH) eller --instance, inte båda: en instans har sin egen definition"))
        result, marks = _instance_plan(checked_instance(instance, "--instance"), day)
    else:
        result, marks = make_plan(load_definition(path or DEFAULT_DEFINITION).definition, as_of=day), None
    if as_json:
        data = json.loads(plan_as_json(result))
        if marks is not None:  # an instance's plan says whether its record is invented or simulated
            data = {"instance_marks": marks, **data}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{mark}\n" for mark in marks or []) + plan_as_table(result))


def _instance_plan(instance_id: str, day):
    from samverkan import instances
    from samverkan.calendar import TIMEZONE
    from samverkan.status import plan_for

    with context.database() as db, db.read() as session:
        loaded = instances.load(session, instance_id)
        return plan_for(loaded.definition, loaded.state, day or context.clock().now().in_timezone(TIMEZONE).date()), loaded.marks()


def schema() -> None:
    """Print the JSON Schema of the definition format."""
    from samverkan.process_definitions.schema import definition_json_schema

    print(json.dumps(definition_json_schema(), ensure_ascii=False, indent=2))
