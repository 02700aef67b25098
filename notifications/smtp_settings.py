"""Where and how notices are delivered: the SMTP relay, its security, the sender, the pace.

Read from the environment (`SmtpSettings.from_env`) or built from the Prefect block
(`samverkan.flows.smtp_block`). Every bad value is refused in one line that names the
variable (or field) and the value; the password's value is never shown, in an error, a
repr or a log."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal

from samverkan.errors import SamverkanError
from samverkan.notices.model import Recipient
from samverkan.text import MAX_EMAIL, shown

Security = Literal["none", "starttls", "tls"]
SECURITIES: tuple[Security, ...] = ("none", "starttls", "tls")
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}

DEFAULT_HOST = "localhost"
DEFAULT_SECURITY: Security = "starttls"
DEFAULT_TIMEOUT = 30.0  # seconds for a connect or one SMTP command
DEFAULT_RATE = 20.0  # messages per second over all connections; 0: unbounded
DEFAULT_CONNECTIONS = 1
MAX_CONNECTIONS = 32

# The environment variables, by field.
ENV_NAMES: dict[str, str] = {
    "host": "SAMVERKAN_SMTP_HOST",
    "port": "SAMVERKAN_SMTP_PORT",
    "security": "SAMVERKAN_SMTP_SECURITY",
    "username": "SAMVERKAN_SMTP_USERNAME",
    "password": "SAMVERKAN_SMTP_PASSWORD",
    "sender": "SAMVERKAN_SMTP_FROM",
    "timeout": "SAMVERKAN_SMTP_TIMEOUT",
    "rate": "SAMVERKAN_SMTP_RATE",
    "ca_file": "SAMVERKAN_SMTP_CA_FILE",
    "connections": "SAMVERKAN_SMTP_CONNECTIONS",
}

# A host name (letters, digits, hyphens in dot-separated labels) or an IP address literal.
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# What may stand in an address on an SMTP command line: printable ASCII, no space, no <>"().
_ADDRESS_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


@dataclass(frozen=True)
class SmtpSettings:
    sender: Recipient  # the From of every notice and the envelope sender (a str is parsed)
    host: str = DEFAULT_HOST
    port: int | None = None  # None: the security's standard port (25, 587, 465); set by __post_init__
    security: Security = DEFAULT_SECURITY
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown: not in repr() or str()
    timeout: float = DEFAULT_TIMEOUT
    rate: float = DEFAULT_RATE
    ca_file: Path | None = None  # a CA bundle (PEM) trusted besides the system's, for a private CA
    connections: int = DEFAULT_CONNECTIONS

    def __post_init__(self) -> None:
        if self.port is None and self.security in DEFAULT_PORTS:
            object.__setattr__(self, "port", DEFAULT_PORTS[self.security])
        if isinstance(self.sender, str):
            object.__setattr__(self, "sender", parse_sender(self.sender, "sender"))
        if isinstance(self.ca_file, str):
            object.__setattr__(self, "ca_file", Path(self.ca_file))
        problems = settings_problems(self, lambda name: name)
        if problems:
            raise SamverkanError(*problems)

    @property
    def sender_header(self) -> str:
        """The sender as a From header value: `Name <address>`, or the bare address."""
        return str(Address(self.sender.name or "", addr_spec=self.sender.email))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings:
        """The settings from SAMVERKAN_SMTP_* variables; every bad value is one line of the
        SamverkanError, which names the variable (all of them at once)."""
        values: dict[str, Any] = {}
        problems: list[str] = []

        def parse(name: str, convert: Callable[[str, str], Any]) -> None:
            raw = environ.get(ENV_NAMES[name])
            if raw is None or raw.strip() == "":
                return
            try:
                values[name] = convert(raw, ENV_NAMES[name])
            except SamverkanError as error:
                problems.extend(error.problems)
                values[name] = _FAILED

        parse("host", lambda raw, _: raw.strip())
        parse("security", lambda raw, _: raw.strip().lower())
        parse("port", _parse_int)
        parse("username", lambda raw, _: raw)
        if environ.get(ENV_NAMES["password"]):
            values["password"] = environ[ENV_NAMES["password"]]  # as given: spaces may be part of it
        parse("sender", parse_sender)
        if "sender" not in values:
            problems.append(f"{ENV_NAMES['sender']} is not set: the From address of the notices, "
                            f"e.g. 'Samverkan <samverkan@region.example.org>'")
            values["sender"] = _FAILED
        parse("timeout", _parse_float)
        parse("rate", _parse_float)
        parse("ca_file", lambda raw, _: Path(raw))
        parse("connections", _parse_int)
        values.setdefault("host", DEFAULT_HOST)
        values.setdefault("security", DEFAULT_SECURITY)
        if "port" not in values:
            values["port"] = DEFAULT_PORTS.get(values["security"], _FAILED)
        # Checked here, named by the variables; __post_init__ checks again, by field.
        problems += settings_problems(_Values(values), ENV_NAMES.__getitem__)
        if problems:
            raise SamverkanError(*problems)
        return cls(**values)


# A value that could not be parsed (already reported): the checks pass over it.
_FAILED = object()


class _Values:
    """Parsed values looked up as attributes, with the dataclass's defaults for the missing."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        return SmtpSettings.__dataclass_fields__[name].default


def settings_problems(values: Any, name: Callable[[str], str]) -> list[str]:
    """What is wrong with the settings `values` (an SmtpSettings or the like), one line
    each, named by `name(field)`; values that failed to parse are not looked at again."""
    problems: list[str] = []
    s = _Unfailed(values)
    if not isinstance(s.host, str) or not is_host(s.host):
        problems.append(f"{name('host')}: {shown(s.host)} is not a host name or IP address")
    if s.security not in SECURITIES:
        problems.append(f"{name('security')}: {shown(s.security)} is not one of {', '.join(SECURITIES)}")
    if s.port is None and s.security not in SECURITIES:
        pass  # no standard port for an unknown security: that is the problem reported
    elif not isinstance(s.port, int) or isinstance(s.port, bool) or not 1 <= s.port <= 65535:
        problems.append(f"{name('port')}: {shown(s.port)} is not a port number (1–65535)")
    if s.sender is _FAILED:
        pass
    elif not isinstance(s.sender, Recipient):
        problems.append(f"{name('sender')}: {shown(s.sender)} is not a sender address")
    else:
        try:
            parse_sender(s.sender.email, name("sender"))
        except SamverkanError as error:
            problems.extend(error.problems)
    if not _number(s.timeout) or not 0 < s.timeout <= 3600:
        problems.append(f"{name('timeout')}: {shown(s.timeout)} is not a number of seconds above 0 (at most 3600)")
    if not _number(s.rate) or s.rate < 0:
        problems.append(f"{name('rate')}: {shown(s.rate)} is not a number of messages per second (0 or more; 0: unbounded)")
    if not isinstance(s.connections, int) or isinstance(s.connections, bool) or not 1 <= s.connections <= MAX_CONNECTIONS:
        problems.append(f"{name('connections')}: {shown(s.connections)} is not a number of connections from 1 to {MAX_CONNECTIONS}")
    if s.ca_file is not None and not Path(s.ca_file).is_file():
        problems.append(f"{name('ca_file')}: {shown(str(s.ca_file))} is not a file (a PEM bundle of CA certificates)")
    if s.username is not None and s.password is None:
        problems.append(f"{name('username')} is set but {name('password')} is not: give both, or neither")
    elif s.password is not None and s.username is None:
        problems.append(f"{name('password')} is set but {name('username')} is not: give both, or neither")
    if s.username is not None and (not isinstance(s.username, str) or s.username.strip() == "" or _control(s.username)):
        problems.append(f"{name('username')}: {shown(s.username)} is not a user name (empty or with control characters)")
    if s.password is not None and (not isinstance(s.password, str) or _control(s.password)):
        problems.append(f"{name('password')}: the value contains control characters (a line break?); the value is not shown")
    if s.password is not None and s.security == "none" and isinstance(s.host, str) and not is_loopback(s.host):
        problems.append(f"{name('password')}: refused with {name('security')} none to {shown(s.host)}: "
                        f"it would cross the network in clear; use starttls or tls")
    return problems


class _Unfailed:
    """The settings with the values that failed to parse as their defaults (already reported)."""

    def __init__(self, values: Any) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._values, name)
        if value is not _FAILED:
            return value
        if name == "sender":
            return _FAILED
        if name == "port":
            return DEFAULT_PORTS["none"]
        if name in ("username", "password"):
            return "-"  # set, though unreadable: no "set but … is not"
        return SmtpSettings.__dataclass_fields__[name].default


def parse_sender(value: str, name: str) -> Recipient:
    """`Display Name <address@domain>` or a bare address, as a Recipient; a SamverkanError
    naming `name` when it is not exactly one deliverable address."""
    try:
        header = default_policy.header_factory("From", value)
        addresses = header.addresses
    except (HeaderParseError, ValueError, IndexError, TypeError):
        addresses = ()
        header = None
    if header is None or header.defects or len(addresses) != 1:
        raise SamverkanError(f"{name}: {shown(value)} is not one address such as 'Samverkan <samverkan@region.example.org>'")
    address = addresses[0]
    problem = address_problem(address.username, address.domain)
    if problem:
        raise SamverkanError(f"{name}: {shown(value)} {problem}")
    return Recipient(email=address.addr_spec, name=address.display_name or None)


def address_problem(local: str, domain: str) -> str | None:
    """Why `local@domain` cannot be the envelope sender, or None."""
    if not local or not domain:
        return "has no address@domain"
    if len(local) + 1 + len(domain) > MAX_EMAIL:
        return f"is longer than {MAX_EMAIL} characters"
    if not _ADDRESS_LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return "has a local part that is not plain ASCII (letters, digits, . _ + - …)"
    if not is_host_name(domain) or "." not in domain:
        return "has no valid domain (e.g. region.example.org)"
    return None


def is_host_name(host: str) -> bool:
    labels = host.rstrip(".").split(".") if len(host) <= 253 else []
    return bool(labels) and all(_HOST_LABEL.fullmatch(label) for label in labels)


def is_host(host: str) -> bool:
    """A host name or an IP address (IPv6 without brackets)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return is_host_name(host)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine by its name or address (no DNS lookup)."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def _parse_int(raw: str, name: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SamverkanError(f"{name}: {shown(raw)} is not a whole number") from None


def _parse_float(raw: str, name: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SamverkanError(f"{name}: {shown(raw)} is not a number") from None
    if not math.isfinite(value):
        raise SamverkanError(f"{name}: {shown(raw)} is not a finite number")
    return value
