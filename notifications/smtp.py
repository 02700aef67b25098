"""Delivering e-mail to the SMTP relay with aiosmtplib.

`Mailer` keeps its connection(s) open across messages: it connects when the first message
needs one, and connects again when the server has dropped it, after a 421, or after any
temporary failure (a connection in an unknown state is never reused). Messages are paced by
one minimum interval shared by all connections (`SmtpSettings.rate`).

Every message ends in a `Delivery`: `sent`, `temporary` (worth trying again later: a 4xx
reply, the relay down or unreachable, a dropped connection, TLS trouble that may pass) or
`permanent` (a 5xx reply: sender, recipients or message refused, or authentication refused;
a message that cannot be serialised), with a one-line reason, the server's own reply where
there is one ("451 4.3.0 try again later (at RCPT TO <a@b.se>)"). A reason never holds the
password or a traceback.

    async with Mailer(settings) as mailer:
        delivery = await mailer.send(message)
        deliveries = await mailer.send_many(messages)
"""

from __future__ import annotations

import asyncio
import email.errors
import email.message
import logging
import os
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiosmtplib

from samverkan.errors import SamverkanError
from samverkan.notifications.smtp_settings import SmtpSettings
from samverkan.text import safe_line, shown

log = logging.getLogger(__name__)

MAX_REASON = 300  # characters of a Delivery's reason
QUIT_TIMEOUT = 5.0  # seconds a polite QUIT may take at close


class DeliveryStatus(StrEnum):
    sent = "sent"
    temporary = "temporary"  # try again later
    permanent = "permanent"  # will not go as it is: never retried by itself


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    reason: str  # one line: the server's reply, or what went wrong
    # The server could not be reached or did not answer (refused, timed out, dropped): not this
    # message's fault, and the next message would most likely fare the same.
    unreachable: bool = False

    @property
    def sent(self) -> bool:
        return self.status is DeliveryStatus.sent

    @property
    def temporary(self) -> bool:
        return self.status is DeliveryStatus.temporary

    @property
    def permanent(self) -> bool:
        return self.status is DeliveryStatus.permanent


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """A client context that verifies the relay against the system's CAs plus `ca_file`."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)  # system CAs, hostname checked
    if settings.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except (ssl.SSLError, OSError, ValueError) as error:
            raise SamverkanError(f"ca_file: {shown(str(settings.ca_file))} is not a PEM bundle of CA certificates "
                                 f"({_error_text(error)})") from None
    return context


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the current transaction got as far as DATA: a
    connection found dropped before that has taken nothing of the message."""

    data_started = False

    async def data(self, *args: Any, **kwargs: Any) -> Any:
        self.data_started = True
        return await super().data(*args, **kwargs)


class _Pacer:
    """At most `rate` transactions a second, over all connections: each takes the next free
    slot, `1 / rate` seconds after the one before (no bursts)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval  # taken before sleeping: concurrent senders queue up
        if slot > now:
            await asyncio.sleep(slot - now)


class Mailer:
    """An async context manager that delivers messages over reused SMTP connections; see the
    module's description. `send` may be called concurrently: up to `settings.connections`
    messages are in flight at once, each on its own connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.connections_opened = 0  # how many times a connection was made (reconnects count)
        self._context: ssl.SSLContext | None = None
        self._pacer = _Pacer(settings.rate)
        self._idle: asyncio.LifoQueue[_Client] | None = None  # LIFO: one busy connection stays the one used
        self._clients: list[_Client] = []
        self._refused: Delivery | None = None  # the relay refused our credentials: not asked again
        self._closed = False
        self._opening = asyncio.Lock()  # concurrent first sends make one set of connections

    async def __aenter__(self) -> Mailer:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Prepares TLS (a SamverkanError if ca_file cannot be read) and the connection slots;
        connects nothing yet. Called by `async with` and by the first send."""
        async with self._opening:
            if self._idle is None:
                await self._prepare()

    async def _prepare(self) -> None:
        if self.settings.security != "none":
            self._context = await asyncio.to_thread(tls_context, self.settings)
        s = self.settings
        self._clients = [
            _Client(hostname=s.host, port=s.port, username=s.username, password=s.password, timeout=s.timeout,
                    use_tls=s.security == "tls", start_tls=s.security == "starttls",
                    tls_context=self._context if s.security != "none" else None)
            for _ in range(s.connections)
        ]
        self._idle = asyncio.LifoQueue()
        for client in reversed(self._clients):
            self._idle.put_nowait(client)

    async def close(self) -> None:
        """Says QUIT on each open connection (briefly; errors ignored) and closes it."""
        self._closed = True
        for client in self._clients:
            if client.is_connected:
                try:
                    await asyncio.wait_for(client.quit(), QUIT_TIMEOUT)
                except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                    pass
                finally:
                    client.close()

    async def send(self, message: email.message.EmailMessage) -> Delivery:
        """Delivers one message to the recipients of its To, Cc and Bcc headers, from the
        settings' sender (the envelope sender; also the From header when the message has
        none). Never raises for a delivery problem: the Delivery says what happened."""
        return await self._deliver(message, None)

    async def send_many(self, messages: Iterable[email.message.EmailMessage], concurrency: int | None = None,
                        on_delivery: Callable[[int, Delivery], None] | None = None) -> list[Delivery]:
        """Delivers `messages`, up to `concurrency` at once (default: the settings'
        connections), and returns their Deliveries in the same order. `on_delivery(index,
        delivery)` is called as each one ends, to record progress as it is made."""
        pending = list(messages)
        results: list[Delivery | None] = [None] * len(pending)
        queue = iter(enumerate(pending))

        async def worker() -> None:
            for index, message in queue:  # one iterator shared by the workers: each message once
                results[index] = delivery = await self.send(message)
                if on_delivery is not None:
                    on_delivery(index, delivery)

        workers = max(1, min(concurrency or self.settings.connections, len(pending)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [r for r in results if r is not None]

    # One message on one connection.

    async def send_bytes(self, data: bytes, recipients: list[str]) -> Delivery:
        """Delivers a message already flattened (as the outbox keeps it) to `recipients`: the
        same as `send`, without serialising the message again."""
        return await self._deliver(None, (data, recipients))

    async def _deliver(self, message: email.message.EmailMessage | None, raw: tuple[bytes, list[str]] | None) -> Delivery:
        """On an idle connection, at the pace the settings allow."""
        if self._closed:
            raise RuntimeError("the Mailer is closed")
        await self.open()
        assert self._idle is not None
        if self._refused is not None:
            return self._refused
        client = await self._idle.get()
        try:
            await self._pacer.wait()
            return await self._send_on(client, message, raw)
        finally:
            self._idle.put_nowait(client)

    async def _send_on(self, client: _Client, message: email.message.EmailMessage | None,
                       raw: tuple[bytes, list[str]] | None = None) -> Delivery:
        sender = self.settings.sender
        if message is not None and message.get("From") is None:
            message["From"] = self.settings.sender_header
        for attempt in (1, 2):
            reused = client.is_connected
            if not reused:
                refusal = await self._connect(client)
                if refusal is not None:
                    return refusal
            client.data_started = False
            try:
                if raw is not None:
                    errors, reply = await client.sendmail(sender.email, raw[1], raw[0])
                else:
                    errors, reply = await client.send_message(message, sender=sender.email)
            except aiosmtplib.SMTPServerDisconnected as error:
                client.close()
                if reused and not client.data_started and attempt == 1:
                    # Dropped while idle, found out at MAIL: nothing of this message was taken.
                    log.info("SMTP connection to %s:%s was closed by the server; connecting again", self.settings.host, self.settings.port)
                    continue
                where = " during DATA" if client.data_started else ""
                return self._failed(DeliveryStatus.temporary, f"connection lost{where}: {_error_text(error)}", unreachable=True)
            except asyncio.CancelledError:
                client.close()  # a transaction cut short leaves the connection in an unknown state
                raise
            except Exception as error:  # noqa: BLE001 - every failure becomes a Delivery
                delivery = self._classify(error)
                # A refusal the relay answered (aiosmtplib then sends RSET), or a message refused
                # before its MAIL FROM, leaves the connection clean; anything else closes it.
                if delivery.temporary or not client.is_connected or not isinstance(error, _CLEAN_REFUSALS):
                    client.close()
                return delivery
            text = f"250 {reply}"
            if errors:
                text += "; refused: " + ", ".join(f"<{rcpt}> {r.code} {r.message}" for rcpt, r in errors.items())
            return Delivery(DeliveryStatus.sent, self._line(text))
        raise AssertionError("unreachable")

    async def _connect(self, client: _Client) -> Delivery | None:
        """Connects (TLS, login as the settings say); None when connected, else the Delivery
        every message gets while it cannot."""
        s = self.settings
        try:
            await client.connect()
        except asyncio.CancelledError:
            client.close()
            raise
        except Exception as error:  # noqa: BLE001
            client.close()
            delivery = self._classify(error, connecting=True)
            if isinstance(error, aiosmtplib.SMTPAuthenticationError) and delivery.permanent:
                # A relay may lock the account after repeated failures: not asked again.
                self._refused = delivery
                log.error("SMTP relay %s:%s refused the credentials of %s: %s", s.host, s.port, s.username, delivery.reason)
            return delivery
        self.connections_opened += 1
        log.info("SMTP connection %d to %s:%s (%s%s)", self.connections_opened, s.host, s.port, s.security,
                 f", as {s.username}" if s.username else "")
        return None

    def _classify(self, error: Exception, connecting: bool = False) -> Delivery:
        s = self.settings
        where = f"{s.host}:{s.port}"
        if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
            refusals = error.recipients
            status = (DeliveryStatus.temporary if any(_temporary_code(r.code) for r in refusals)
                      else DeliveryStatus.permanent)
            text = "; ".join(f"{r.code} {r.message} (at RCPT TO <{r.recipient}>)" for r in refusals)
            return self._failed(status, text)
        if isinstance(error, aiosmtplib.SMTPResponseException):
            at = _response_stage(error)
            status = DeliveryStatus.temporary if _temporary_code(error.code) else DeliveryStatus.permanent
            return self._failed(status, f"{error.code} {error.message}{at}")
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            return self._failed(DeliveryStatus.permanent, f"the relay cannot take this message: {_error_text(error)}")
        tls_error = _ssl_cause(error)
        if tls_error is not None:
            return self._failed(DeliveryStatus.temporary, f"TLS with {where} failed: {_ssl_text(tls_error)}", unreachable=connecting)
        if isinstance(error, aiosmtplib.SMTPConnectTimeoutError):
            return self._failed(DeliveryStatus.temporary, f"no answer from {where} within {s.timeout:g} s", unreachable=True)
        if isinstance(error, aiosmtplib.SMTPTimeoutError):
            return self._failed(DeliveryStatus.temporary, f"no reply from {where} within {s.timeout:g} s", unreachable=True)
        if isinstance(error, aiosmtplib.SMTPConnectError):
            cause = error.__cause__
            detail = os.strerror(cause.errno) if isinstance(cause, OSError) and cause.errno else _error_text(error)
            return self._failed(DeliveryStatus.temporary, f"cannot connect to {where}: {detail}", unreachable=True)
        if isinstance(error, (aiosmtplib.SMTPServerDisconnected, OSError)):
            return self._failed(DeliveryStatus.temporary, f"connection to {where} lost: {_error_text(error)}", unreachable=True)
        if isinstance(error, aiosmtplib.SMTPException):
            # STARTTLS or AUTH not offered and the like: the relay's set-up, not the message.
            return self._failed(DeliveryStatus.temporary, f"{where}: {_error_text(error)}")
        if connecting:
            log.error("SMTP connect to %s failed unexpectedly", where, exc_info=error)
            return self._failed(DeliveryStatus.temporary, f"cannot connect to {where}: {type(error).__name__}: {_error_text(error)}",
                                unreachable=True)
        if isinstance(error, _NOT_SMTP):
            return self._failed(DeliveryStatus.permanent, f"the message cannot be sent as it is: {type(error).__name__}: {_error_text(error)}")
        log.error("a message could not be sent for an unexpected reason", exc_info=error)
        return self._failed(DeliveryStatus.permanent, f"the message cannot be sent: {type(error).__name__}: {_error_text(error)}")

    def _failed(self, status: DeliveryStatus, text: str, unreachable: bool = False) -> Delivery:
        delivery = Delivery(status, self._line(text), unreachable)
        if status is DeliveryStatus.temporary:
            log.warning("SMTP delivery failed for now: %s", delivery.reason)
        else:
            log.info("SMTP delivery refused: %s", delivery.reason)
        return delivery

    def _line(self, text: str) -> str:
        line = " ".join(text.split())
        if self.settings.password and len(self.settings.password) >= 4:
            line = line.replace(self.settings.password, "(hidden)")  # were a server to echo it
        return safe_line(line, MAX_REASON)


# What a message that the client cannot serialise (or address) raises from the email package
# and aiosmtplib's address checks, before anything of it is sent.
_NOT_SMTP = (ValueError, TypeError, LookupError, email.errors.MessageError)
_CLEAN_REFUSALS = (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPNotSupported,
                   *_NOT_SMTP)


def _temporary_code(code: int) -> bool:
    return 400 <= code < 500


def _response_stage(error: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return f" (at MAIL FROM <{error.sender}>)"
    if isinstance(error, aiosmtplib.SMTPDataError):
        return " (at DATA)"
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return " (at AUTH)"
    if isinstance(error, aiosmtplib.SMTPHeloError):
        return " (at EHLO)"
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return " (at connect)"
    return ""


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 5:
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _ssl_text(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate not trusted: {error.verify_message}"
    return error.reason or _error_text(error)


def _error_text(error: BaseException) -> str:
    return str(error) or type(error).__name__
