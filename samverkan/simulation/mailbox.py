"""An SMTP server inside the process, for a simulated run: the sweeps deliver every notice
to it over a real SMTP connection on loopback, and it keeps what each message says it is
(the X-Samverkan-* headers), its recipient, and the simulated day it arrived."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

import pendulum
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Delivered:
    kind: str
    stage: str
    party: str
    recipient: str
    day: pendulum.Date
    subject: str


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.parser = BytesHeaderParser(policy=compat32)  # raw headers: only the subject is decoded

    async def handle_DATA(self, server, session, envelope) -> str:
        headers = self.parser.parsebytes(envelope.content)
        for recipient in envelope.rcpt_tos:
            self.mailbox.received.append(Delivered(
                headers.get("X-Samverkan-Notice", ""), headers.get("X-Samverkan-Stage", ""), headers.get("X-Samverkan-Party", ""),
                recipient, self.mailbox.day, str(make_header(decode_header(headers.get("Subject", ""))))))
        return "250 2.0.0 OK"


class Mailbox:
    """`with Mailbox() as box:` a server on a free port of 127.0.0.1 until the block ends."""

    def __init__(self) -> None:
        self.received: list[Delivered] = []
        self.day: pendulum.Date | None = None  # the simulated day, set before each sweep
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port)

    @property
    def host(self) -> str:
        return HOST

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
