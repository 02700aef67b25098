"""The SMTP settings as a Prefect block, edited in Prefect's UI (Blocks → Samverkan SMTP),
with the password as a secret: stored encrypted, shown obfuscated, never logged.

`smtp_settings()` is what the notice flows use: the block saved as `samverkan-smtp` when
there is one, else the SAMVERKAN_SMTP_* environment (`SmtpSettings.from_env`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import httpx
import prefect.exceptions
from prefect.blocks.core import Block
from prefect.settings import PREFECT_API_URL
from pydantic import Field, SecretStr

from samverkan.errors import SamverkanError
from samverkan.notifications.smtp_settings import DEFAULT_CONNECTIONS, DEFAULT_RATE, DEFAULT_TIMEOUT, SmtpSettings

BLOCK_NAME = "samverkan-smtp"


class SamverkanSmtp(Block):
    """How Samverkan delivers its notices: the SMTP relay, how it is secured, the account
    and the sender. The password is stored as a secret."""

    _block_type_name = "Samverkan SMTP"
    _block_type_slug = "samverkan-smtp"
    _description = "The SMTP relay Samverkan delivers its deadline notices through."

    host: str = Field(default="localhost", description="The relay's host name or IP address.")
    port: int | None = Field(default=None, description="Empty: 25 for none, 587 for starttls, 465 for tls.")
    security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="starttls (port 587), tls (implicit TLS, port 465) or none (only to a relay on this machine).")
    username: str | None = Field(default=None, description="The relay account; empty: no login.")
    password: SecretStr | None = Field(default=None, description="The relay account's password.")
    sender: str = Field(description="The From of every notice, e.g. 'Samverkan Region Västerbotten <samverkan@region.example.org>'.")
    rate: float = Field(default=DEFAULT_RATE, description="At most this many messages a second; 0: unbounded.")
    ca_file: str | None = Field(default=None, description="A PEM bundle of CA certificates trusted besides the system's (a relay with a private CA).")
    timeout: float = Field(default=DEFAULT_TIMEOUT, description="Seconds a connect or one SMTP command may take.")
    connections: int = Field(default=DEFAULT_CONNECTIONS, description="SMTP connections used in parallel.")

    def settings(self) -> SmtpSettings:
        """The block as SmtpSettings; a SamverkanError naming the block and the field (never
        the password's value) when a value is wrong."""
        try:
            return SmtpSettings(
                sender=self.sender, host=self.host, port=self.port, security=self.security, username=self.username or None,
                password=self.password.get_secret_value() if self.password is not None else None,
                rate=self.rate, ca_file=Path(self.ca_file) if self.ca_file else None, timeout=self.timeout,
                connections=self.connections,
            )
        except SamverkanError as error:
            name = self._block_document_name or BLOCK_NAME
            raise SamverkanError(*(f"Prefect block {name}: {problem}" for problem in error.problems)) from None


def smtp_settings() -> SmtpSettings:
    """The block saved as `samverkan-smtp` if there is one, else the environment's settings
    (a one-line error naming what is missing). With no Prefect server configured
    (PREFECT_API_URL unset) the environment is used without asking one: Prefect would
    otherwise start a temporary server just to look."""
    return configured_smtp_settings() or SmtpSettings.from_env()


def configured_smtp_settings() -> SmtpSettings | None:
    """As `smtp_settings()`, but None when neither a block nor SAMVERKAN_SMTP_FROM says where
    mail goes: a fresh local `samverkan up` then queues notices without failing each morning."""
    block = _load_block()
    if block is not None:
        return block.settings()
    return SmtpSettings.from_env() if os.environ.get("SAMVERKAN_SMTP_FROM") else None


def _load_block() -> SamverkanSmtp | None:
    if not PREFECT_API_URL.value():
        return None
    try:
        return SamverkanSmtp.load(BLOCK_NAME, _sync=True)  # sync even when called from async code
    except Exception as error:  # noqa: BLE001 - sorted out below
        return _not_loaded(error)


def _not_loaded(error: Exception) -> None:
    """None when there is no such block (or its type was never registered); a one-line
    SamverkanError when the server cannot be asked; anything else raised as it is."""
    if isinstance(error, ValueError) and isinstance(error.__cause__, prefect.exceptions.ObjectNotFound):
        return None
    if isinstance(error, (httpx.HTTPError, OSError)):
        raise SamverkanError(f"the Prefect block {BLOCK_NAME} cannot be read from {PREFECT_API_URL.value()}: "
                             f"{type(error).__name__}: {error}") from None
    raise error
