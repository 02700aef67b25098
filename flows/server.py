"""A local Prefect server, run as a child process of the one that starts it (`samverkan up`,
the tests). Prefect itself is never imported here: the server runs in its own interpreter,
and its clients only need `ServerSettings.environment()`.

The child gets its own process group, so a Ctrl-C at the terminal reaches the parent only and
the parent decides how to stop it; `stop()` ends the whole group. A child must not outlive its
parent even when the parent never gets to call `stop()` (`os._exit` in the Ctrl-C handler of
`samverkan`, a SIGKILL): it watches a pipe whose only writer is the parent and ends itself when
the pipe closes, which the kernel does for any death of the parent, from any thread."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from samverkan.errors import SamverkanError
from samverkan.text import safe_line, shown, shown_path

PROGRESS_EVERY = 3.0  # seconds between "still starting" messages
LOG_TAIL_LINES = 3  # how much of the log an error about a dead server quotes
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")  # the async drivers Prefect's server runs on
# "sqlalchemy.exc.DBAPIError: …", "OSError: …": the line a traceback ends with.
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit)\b[^ ]*: ")


@dataclass
class ServerSettings:
    home: Path  # PREFECT_HOME for the server and its clients, e.g. $SAMVERKAN_HOME/prefect
    host: str = "127.0.0.1"
    port: int = 4200
    database_url: str | None = None  # default: SQLite under home; or postgresql+asyncpg://…
    basic_auth: str | None = None  # "user:password"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    @property
    def ui_url(self) -> str:
        return self.base_url

    @property
    def log_path(self) -> Path:
        return Path(self.home) / "server.log"

    def database(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{Path(self.home) / 'prefect.db'}"

    def environment(self) -> dict[str, str]:
        """What the server and every client of it need in their environment (Prefect 3.8
        names: the canonical ones win over the older aliases, so those are the ones set)."""
        env = {
            "PREFECT_HOME": str(self.home),  # also keeps ~/.prefect's profiles out
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_URL": self.ui_url,  # the links clients print to flow runs
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            # The UI is told where the API is; left alone it assumes port 4200.
            "PREFECT_SERVER_UI_API_URL": self.api_url,
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": self.database(),
            # Nothing leaves the machine: no analytics from the server or the clients, no
            # upgrade prompts in the UI of a public authority.
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            # The address itself opens the V1 UI: the V2 UI fetches Amplitude's remote
            # configuration on every load, analytics off or not; V1 asks nothing outside.
            # Either can still be chosen in the UI.
            "PREFECT_SERVER_UI_V2_ENABLED": "false",
        }
        if self.basic_auth:
            env["PREFECT_SERVER_API_AUTH_STRING"] = self.basic_auth  # the server demands it
            env["PREFECT_API_AUTH_STRING"] = self.basic_auth  # the clients send it
        return env


# Straight to the server: urllib would send even 127.0.0.1 through an HTTP_PROXY unless
# NO_PROXY names it.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def server_answers(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a healthy Prefect server answers at `api_url` (its health check needs no
    credentials)."""
    try:
        with _DIRECT.open(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):  # refused, timed out, reset, not HTTP: not a healthy server
        return False


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on (host, port) now; SO_REUSEADDR as the server uses it,
    so a port in TIME_WAIT after a stop counts as free."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise SamverkanError(f"Prefect-servern: okänd värd {shown(host)}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


class LocalServer:
    """`prefect server start` as a child process; a context manager that starts and stops it."""

    def __init__(self, settings: ServerSettings, progress: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.progress = progress or (lambda message: None)
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None  # seconds the last start() took
        self._lifeline: int | None = None  # write end of the pipe the child watches

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 90) -> None:
        """Starts the server and returns once it answers; SamverkanError if it cannot."""
        if self.process is not None:
            raise RuntimeError("this LocalServer is already started")
        settings = self.settings
        scheme, separator, _ = settings.database().partition("://")
        if scheme not in DRIVERS:
            # Prefect's own refusal comes only after seconds of start-up, and for
            # "postgresql://" it names a connection option instead of the driver. Only the
            # scheme is shown: the rest may hold a password.
            given = f" (den börjar med {shown(scheme + '://', 40)})" if separator else ""
            raise SamverkanError(
                f"Prefect-servern: databasadressen ska börja med {' eller '.join(d + '://' for d in DRIVERS)}{given}"
            )
        if not port_free(settings.host, settings.port):
            also = " (en Prefect-server svarar redan där)" if server_answers(settings.api_url, 1.0) else ""
            raise SamverkanError(
                f"Prefect-servern kan inte starta: port {settings.port} på {settings.host} används redan{also}; "
                "välj en annan port eller stoppa det som använder den"
            )
        home = Path(settings.home)
        try:
            home.mkdir(parents=True, exist_ok=True)
            log = open(settings.log_path, "ab")
        except OSError as error:
            raise SamverkanError(f"Prefect-servern: kan inte skriva i {shown_path(home)}: {error.strerror}") from None
        log_start = log.tell()  # a dead server's own lines, not an earlier run's
        watched, self._lifeline = os.pipe()
        try:
            with log:
                self.process = subprocess.Popen(
                    # -P: the working folder is not put on the path, nothing in it can shadow a module
                    [sys.executable, "-P", "-m", "samverkan.flows.server", str(watched),
                     "server", "start", "--host", settings.host, "--port", str(settings.port)],
                    # COLUMNS: Prefect's messages are not wrapped at 80 characters in the log
                    env={**os.environ, **settings.environment(), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, pass_fds=(watched,), cwd=home,
                )
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(watched)
        began = time.monotonic()
        try:
            self._wait_until_healthy(began, timeout, log_start)
        except BaseException:  # Ctrl-C included: a half-started server is stopped, not left behind
            self.stop()
            raise
        self.started_in = time.monotonic() - began

    def _wait_until_healthy(self, began: float, timeout: float, log_start: int) -> None:
        assert self.process is not None
        self.progress(f"Startar Prefect-servern på {self.settings.ui_url} …")
        next_progress = began + PROGRESS_EVERY
        while True:
            if server_answers(self.settings.api_url, timeout=1.0):
                return
            code = self.process.poll()
            if code is not None:
                raise SamverkanError(
                    f"Prefect-servern avslutades under starten (kod {code}): {self._log_tail(log_start)} "
                    f"(hela loggen: {shown_path(self.settings.log_path)})"
                )
            now = time.monotonic()
            if now - began > timeout:
                raise SamverkanError(
                    f"Prefect-servern svarade inte inom {timeout:.0f} s; se loggen {shown_path(self.settings.log_path)}"
                )
            if now >= next_progress:
                self.progress(f"Startar Prefect-servern … {now - began:.0f} s")
                next_progress += PROGRESS_EVERY
            time.sleep(0.2)

    def _log_tail(self, start: int) -> str:
        try:
            with open(self.settings.log_path, "rb") as log:
                log.seek(start)
                return last_words(log.read()[-50_000:].decode("utf-8", "replace"))
        except OSError:
            return "loggen kunde inte läsas"

    def stop(self, grace: float = 15) -> None:
        """Ends the server and everything it started: SIGTERM to its process group, SIGKILL
        for whatever is left after `grace` seconds. Safe to call twice."""
        process, self.process = self.process, None
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        if process is None:
            return
        group = process.pid  # start_new_session: the child leads its own group
        _signal_group(group, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
            process.wait()
        # The leader is gone; anything it started that is still in the group goes too. Until the
        # group is empty its id cannot be reused, so this reaches no stranger.
        _signal_group(group, signal.SIGKILL)


def last_words(log: str) -> str:
    """What a server's log says it died of, for a one-line error: the last exception line (the
    line a traceback ends with), else its last lines; never the traceback itself."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    said = errors[-1] if errors else " / ".join(lines[-LOG_TAIL_LINES:])
    return safe_line(said, 300) if said else "ingenting i loggen"


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass  # already gone


def _serve_until_parent_exits(watched: int, prefect_args: list[str]) -> None:
    """The child's entry: a thread that ends the server (SIGTERM, as `stop()` would) once the
    parent's end of the pipe closes, then Prefect's own command line."""

    def watch() -> None:
        while os.read(watched, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    sys.argv = ["prefect", *prefect_args]
    from prefect.cli import app

    app()


if __name__ == "__main__":
    _serve_until_parent_exits(int(sys.argv[1]), sys.argv[2:])
