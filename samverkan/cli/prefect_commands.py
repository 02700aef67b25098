"""`samverkan up`, `serve` and `doctor`: the process under Prefect. Prefect is imported only
here, inside the commands, so that the rest of the command line starts without it."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.text import shown

from . import context
from .args import checked_instance

DEFAULT_INSTANCE = "samverkan-2027-2030"


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("serve")(serve)
    app.command("doctor")(doctor)


def _say(line: str) -> None:
    print(line, flush=True)


def _quiet_prefect_console() -> None:
    # Prefect's own progress lines would bury ours; its run logs still go to the UI.
    for name in ("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL",
                 "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL"):
        os.environ.setdefault(name, "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _ensure_default_instance() -> str | None:
    """The default process, joined mid-way with the illustrative history, on a fresh store."""
    from samverkan import instances
    from samverkan.actors import any_actor
    from samverkan.process_definitions import DEFAULT_DEFINITION

    with context.database() as db:
        if instances.instance_count(db):
            return None
        if any_actor(db):
            _say("Ingen processinstans finns, och tokens finns redan: starta en med `samverkan start` (se README).")
            return None
    from .instance_commands import start

    start(path=DEFAULT_DEFINITION, instance=DEFAULT_INSTANCE, history=DEFAULT_DEFINITION.parent / "examples" / "history_illustrative_2026-11.yaml")
    return DEFAULT_INSTANCE


def _run_serving(dashboard_url: str | None, run_flows: bool = True) -> None:
    import asyncio
    import signal

    from samverkan.flows.serve import serve as serve_flows

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve_flows(stop, run_flows=run_flows)

    if dashboard_url:
        _say(f"\nInstrumentpanelen: {dashboard_url}\nStoppa med Ctrl-C.")
    try:
        asyncio.run(main())
    finally:
        # Stopping is under way: Prefect drains its logs and events at exit, and a SIGTERM then
        # (a second stop, or one of the runner's own) would cut that short with a traceback.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def up(
    host: Annotated[str, typer.Option("--host", help="Where the local Prefect server listens.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The local Prefect server's port.")] = 4200,
) -> None:
    """The main job: a local Prefect server (unless PREFECT_API_URL names a running one), every
    deployment served, the default process started if there is none; prints the dashboard URL."""
    if not 0 < port < 65536:
        raise SamverkanError(f"--port: {port} is not a TCP port (1–65535)")
    _quiet_prefect_console()
    from samverkan.flows.server import LocalServer, ServerSettings, server_answers
    from samverkan.store.database import samverkan_home

    external = os.environ.get("PREFECT_API_URL")
    server = None
    if external:
        if not server_answers(external):
            raise SamverkanError(f"PREFECT_API_URL {shown(external)} does not answer; start that server, or unset it to run a local one")
        _say(f"Använder Prefect-servern {external}")
        ui = external.removesuffix("/").removesuffix("/api")
    else:
        settings = ServerSettings(home=samverkan_home() / "prefect", host=host, port=port)
        server = LocalServer(settings, progress=_say)
        _say(f"Prefect-serverns data: {settings.home}")
        server.start()
        os.environ.update(settings.environment())
        ui = settings.ui_url
    try:
        started = _ensure_default_instance()
        if started:
            _say(f"Startade standardprocessen {started} (med påhittad historik, märkt EXEMPEL).")
        _say("Registrerar flödena och synkar processen med Prefect …")
        _run_serving(f"{ui}/artifacts")
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            _say("Stoppar Prefect-servern …")
            server.stop()
    _say("Stoppad.")


def serve(
    watch_only: Annotated[bool, typer.Option("--watch-only", help="Only watch the store; process workers of a work pool run the flows (prefect.yaml).")] = False,
) -> None:
    """Serve the deployments and watch the store, against the Prefect server that
    PREFECT_API_URL names: run one on each machine that should do the work."""
    _quiet_prefect_console()
    from samverkan.flows.server import server_answers

    external = os.environ.get("PREFECT_API_URL")
    if not external:
        raise SamverkanError("PREFECT_API_URL is not set: name the Prefect server to serve (or use `samverkan up`)")
    if not server_answers(external):
        raise SamverkanError(f"PREFECT_API_URL {shown(external)} does not answer")
    _say(f"{'Bevakar lagret' if watch_only else 'Betjänar flödena'} mot {external}. Stoppa med Ctrl-C.")
    try:
        _run_serving(None, run_flows=not watch_only)
    except KeyboardInterrupt:
        pass


def doctor(
    instance: Annotated[Optional[str], typer.Argument(help="The instance (default: all).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only report; exit 1 if Prefect and the store disagree.")] = False,
) -> None:
    """Compare Prefect with the store (branch runs, events, dashboard) and repair what disagrees."""
    instance = checked_instance(instance, "INSTANCE")
    _quiet_prefect_console()
    from samverkan.flows.server import server_answers

    external = os.environ.get("PREFECT_API_URL")
    if not external or not server_answers(external):
        raise SamverkanError("no Prefect server answers: set PREFECT_API_URL (or run `samverkan up`)")
    from samverkan.flows.doctor import examine

    disagreements = examine(instance, repair=not check, report=_say)
    if check and disagreements:
        sys.exit(1)
