"""The outbox's sender: a notice rendered (render.py) and delivered (smtp.py), the outcome
in the terms the sweep records. A notice that cannot be rendered (a bad address, a header
injection, a template error) fails alone, with its reason; the rest still go."""

from __future__ import annotations

import email.policy

import pendulum

from samverkan.notices.model import Credentials, Notice, message_id
from samverkan.notices.outbox import Result
from samverkan.notices.sweep import SendResult

from .credentials import fill, has_marks
from .render import RenderError, render
from .smtp import Mailer
from .smtp_settings import SmtpSettings


class MailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.concurrency = settings.connections
        self.mailer = Mailer(settings)
        self.domain = settings.sender.email.rpartition("@")[2]

    @classmethod
    def from_env(cls) -> MailSender:
        return cls(SmtpSettings.from_env())

    def prepare(self, notice: Notice, now: pendulum.DateTime) -> tuple[bytes, str]:
        """The message as the outbox keeps it and sends it; a RenderError if it cannot be made."""
        message = render(notice, self.settings.sender, now)
        # Slugs only: mail rules and a test can tell notices apart without reading the text.
        message["X-Samverkan-Instance"] = notice.instance_id
        if notice.stage:
            message["X-Samverkan-Stage"] = notice.stage
        if notice.party:
            message["X-Samverkan-Party"] = notice.party
        return message.as_bytes(policy=email.policy.SMTP), message["Message-ID"]

    async def send(self, notice: Notice, now: pendulum.DateTime, message: bytes | None = None,
                   credentials: Credentials | None = None) -> SendResult:
        if message is None:
            try:
                message, identity = self.prepare(notice, now)
            except RenderError as error:
                return SendResult(Result.failed, error.problems[0])
        else:
            identity = message_id(notice.key, self.domain)
        if notice.recipient is None:
            return SendResult(Result.failed, notice.missing_reason or "ingen mottagare")
        if has_marks(message):  # never sent with a mark in it: a code, or a line saying how to get one
            message = fill(message, credentials or Credentials(None, None), notice.language)
        delivery = await self.mailer.send_bytes(message, [notice.recipient.email])
        if delivery.sent:
            return SendResult(Result.sent, None, identity)
        return SendResult(Result.retry if delivery.temporary else Result.failed, delivery.reason, identity,
                          unreachable=delivery.unreachable)

    async def close(self) -> None:
        await self.mailer.close()
