"""The outbox's sender: a notice rendered (render.py) and delivered (smtp.py), the outcome
in the terms the sweep records. A notice that cannot be rendered (a bad address, a header
injection, a template error) fails alone, with its reason; the rest still go."""

from __future__ import annotations

import pendulum

from samverkan.notices.model import Notice
from samverkan.notices.outbox import Result
from samverkan.notices.sweep import SendResult

from .render import RenderError, render
from .smtp import Mailer
from .smtp_settings import SmtpSettings


class MailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.concurrency = settings.connections
        self.mailer = Mailer(settings)

    @classmethod
    def from_env(cls) -> MailSender:
        return cls(SmtpSettings.from_env())

    async def send(self, notice: Notice, now: pendulum.DateTime) -> SendResult:
        try:
            message = render(notice, self.settings.sender, now)
        except RenderError as error:
            return SendResult(Result.failed, error.problems[0])
        # Slugs only: mail rules and a test can tell notices apart without reading the text.
        message["X-Samverkan-Instance"] = notice.instance_id
        if notice.stage:
            message["X-Samverkan-Stage"] = notice.stage
        if notice.party:
            message["X-Samverkan-Party"] = notice.party
        delivery = await self.mailer.send(message)
        if delivery.sent:
            return SendResult(Result.sent, None, message["Message-ID"])
        return SendResult(Result.retry if delivery.temporary else Result.failed, delivery.reason, message["Message-ID"])

    async def close(self) -> None:
        await self.mailer.close()
