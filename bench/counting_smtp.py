"""The benches' SMTP server: aiosmtpd in a process of its own (spawned), so that its work
shares neither the client's event loop nor its interpreter lock, counting what it accepts."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"


class _CountingHandler:
    def __init__(self, received) -> None:
        self.received = received

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.received.get_lock():
            self.received.value += 1
        return "250 2.0.0 OK queued"


def _serve(port, received, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_CountingHandler(received), hostname=HOST, port=port, server_hostname="bench.test")
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def counting_smtp_server() -> Iterator[tuple[int, object]]:
    """(port, a shared counter of the messages accepted: `.value`)."""
    from tests.prefect_server import free_port

    spawn = multiprocessing.get_context("spawn")
    received, ready, stop = spawn.Value("i", 0), spawn.Event(), spawn.Event()
    port = free_port()
    server = spawn.Process(target=_serve, args=(port, received, ready, stop), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the aiosmtpd process did not start")
        yield port, received
    finally:
        stop.set()
        server.join(10)
