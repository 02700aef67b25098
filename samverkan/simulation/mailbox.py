"""An SMTP server inside the process, for a simulated run: the sweeps deliver every notice
to it over a real SMTP connection on loopback, and it keeps what each message says it is
(the X-Samverkan-* headers), its recipient, and the simulated day it arrived."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

import pendulum
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9@._-]")


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
            delivered = Delivered(
                headers.get("X-Samverkan-Notice", ""), headers.get("X-Samverkan-Stage", ""), headers.get("X-Samverkan-Party", ""),
                recipient, self.mailbox.day, str(make_header(decode_header(headers.get("Subject", "")))))
            self.mailbox.received.append(delivered)
            if self.mailbox.mail_dir is not None:
                self.mailbox.keep(delivered, envelope.content)
        return "250 2.0.0 OK"


class Mailbox:
    """`with Mailbox() as box:` a server on a free port of 127.0.0.1 until the block ends."""

    def __init__(self, mail_dir: Path | None = None) -> None:
        self.mail_dir = mail_dir  # where every message is written as it arrives, as an .eml file
        self.received: list[Delivered] = []
        self.day: pendulum.Date | None = None  # the simulated day, set before each sweep
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port)

    def keep(self, delivered: Delivered, content: bytes) -> None:
        """The message as it came over SMTP, named so that a folder lists a year in order:
        0042-2026-11-16-before-2-adoption-umea-kommunsekreterare@umea.example.org.eml."""
        assert self.mail_dir is not None
        parts = [f"{len(self.received):04d}", self.day.isoformat() if self.day else "-", delivered.kind or "-",
                 delivered.stage or "-", delivered.party or "-", delivered.recipient]
        name = _UNSAFE_IN_NAME.sub("_", "-".join(parts))[:200] + ".eml"
        (self.mail_dir / name).write_bytes(content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

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
