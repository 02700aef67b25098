"""A real SMTP server for the tests: aiosmtpd's Controller on 127.0.0.1 (a free port, its
own thread and event loop), keeping what it receives as bytes with the envelope, with
behaviours switched at run time: accept; answer a reply of our choosing at MAIL, RCPT or
DATA; drop the connection during DATA; stop and start again on the same port (the server
down). Optionally STARTTLS or implicit TLS with a certificate from a CA made for the test,
and AUTH LOGIN/PLAIN for one fixed user.

    with MailServer() as server:
        server.reply_at("RCPT", "451 4.3.0 try again later")
        ...
        server.accept()
        assert server.received[0].message()["Subject"] == "…"

The fixtures `mail_server` and `smtp_certificates` are registered in conftest.py."""

from __future__ import annotations

import datetime
import email.message
import email.policy
import ipaddress
import ssl
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from samverkan.notifications.smtp_settings import SmtpSettings
from samverkan.notices.model import Recipient
from tests.prefect_server import free_port

HOST = "127.0.0.1"
TEST_USER = "samverkan-test"
TEST_PASSWORD = "Hemligt-lösenord-4711"  # non-ASCII on purpose: AUTH carries UTF-8
SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan Region Västerbotten")

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # as it came over DATA (dot-stuffing undone)

    def message(self) -> email.message.EmailMessage:
        """The message parsed, with the line endings of SMTP (CRLF) read as Python's "\n"."""
        return email.message_from_bytes(self.content.replace(b"\r\n", b"\n"), policy=email.policy.default)  # type: ignore[return-value]


@dataclass(frozen=True)
class Certificates:
    """A CA made for the test and a server certificate it signed for 127.0.0.1 and localhost."""

    ca_file: Path  # PEM: what a client trusts (SmtpSettings.ca_file)
    cert_file: Path  # PEM: the server's certificate
    key_file: Path  # PEM: its key

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(folder: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = {"not_valid_before": now - datetime.timedelta(hours=1), "not_valid_after": now + datetime.timedelta(days=2)}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Samverkan test CA")])
    ca_cert = (
        x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, public_key=ca_key.public_key(),
                                serial_number=x509.random_serial_number(), **valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder(subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
                                issuer_name=ca_name, public_key=key.public_key(),
                                serial_number=x509.random_serial_number(), **valid)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    made = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    made.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    made.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    made.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return made


class _Handler:
    """aiosmtpd's hooks, answering as the MailServer's behaviour says at the time."""

    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_MAIL(self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        reply = self.server._replies.get("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        reply = self.server.refused.get(address.lower()) or self.server._replies.get("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.drop_in_data or self.server.drop_after_accept:
            if self.server.drop_after_accept:  # taken for delivery, but the client never hears so
                with self.server._lock:
                    self.server.received.append(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos),
                                                         envelope.original_content or b""))
            assert smtp.transport is not None
            smtp.transport.close()  # the client has sent the message and waits for the reply: none comes
            return "421 4.4.2 dropped"  # never arrives
        reply = self.server._replies.get("DATA")
        if reply:
            return reply
        content = envelope.original_content or b""
        with self.server._lock:
            self.server.received.append(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), content))
        return "250 2.0.0 OK queued"


def _authenticator(smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object) -> AuthResult:
    if (mechanism in ("LOGIN", "PLAIN") and isinstance(auth_data, LoginPassword)
            and auth_data.login == TEST_USER.encode() and auth_data.password == TEST_PASSWORD.encode()):
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


class _Controller(Controller):
    def __init__(self, server: MailServer, **kwargs: object) -> None:
        super().__init__(_Handler(server), **kwargs)
        self.mail_server = server

    def factory(self) -> SMTP:
        with warnings.catch_warnings():  # AUTH without aiosmtpd's STARTTLS: the implicit TLS server
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            smtp = super().factory()  # one per TCP connection (a STARTTLS upgrade keeps it)
        self.mail_server._opened(smtp)
        return smtp


@dataclass
class MailServer:
    """See the module's description. `tls`: None, "starttls" (offered; required before MAIL)
    or "tls" (implicit, from the first byte); `auth`: AUTH LOGIN/PLAIN for TEST_USER,
    required before MAIL (offered only over TLS, as aiosmtpd does by default)."""

    tls: Literal["starttls", "tls"] | None = None
    certificates: Certificates | None = None
    auth: bool = False
    port: int = field(default_factory=free_port)
    host: str = HOST
    received: list[Received] = field(default_factory=list)
    connections: int = 0  # TCP connections the server accepted since start (its own start-up probe excluded)
    refused: dict[str, str] = field(default_factory=dict)  # recipient (lower case) → the reply to its RCPT
    drop_in_data: bool = False
    drop_after_accept: bool = False  # the one window SMTP itself leaves: accepted, then the line drops
    _replies: dict[str, str] = field(default_factory=dict)
    _controller: _Controller | None = None
    _live: list[SMTP] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.tls and self.certificates is None:
            raise ValueError("a TLS server needs certificates (make_certificates)")

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Behaviours, switched at any time.

    def accept(self) -> None:
        """Back to accepting everything."""
        self._replies.clear()
        self.refused.clear()
        self.drop_in_data = self.drop_after_accept = False

    def reply_at(self, stage: Stage, reply: str) -> None:
        """Answer `reply` (e.g. "451 4.3.0 try again later", "550 5.1.1 no such user") at
        every MAIL, RCPT or DATA from now on."""
        self._replies[stage] = reply

    def drop_during_data(self) -> None:
        """Close the connection once a message's data has arrived, before replying."""
        self.drop_in_data = True

    # Up and down.

    def start(self) -> None:
        if self._controller is not None:
            return
        kwargs: dict[str, object] = {"hostname": self.host, "port": self.port, "server_hostname": "smtp.test",
                                     "ready_timeout": 10.0}
        if self.tls == "tls":
            assert self.certificates is not None
            kwargs["ssl_context"] = self.certificates.server_context()
        elif self.tls == "starttls":
            assert self.certificates is not None
            kwargs["tls_context"] = self.certificates.server_context()
            kwargs["require_starttls"] = True
        if self.auth:
            kwargs["authenticator"] = _authenticator
            kwargs["auth_required"] = True
            # aiosmtpd offers AUTH only after its own STARTTLS; implicit TLS is TLS too.
            kwargs["auth_require_tls"] = self.tls != "tls"
        controller = _Controller(self, **kwargs)  # a new one each time: a stopped one's loop is closed
        controller.start()
        with self._lock:  # the controller's start-up probe is not a client
            self.connections = max(0, self.connections - 1)
        self._controller = controller

    def stop(self) -> None:
        """The server down: every open connection closed, nothing listens on the port."""
        controller = self._controller
        if controller is None:
            return
        self.drop_connections()
        self._controller = None
        controller.stop()

    def drop_connections(self) -> None:
        """Close every open connection (as a relay does with idle ones); keeps listening.
        Returns once the server has closed them; the clients find out when they next look."""
        controller = self._controller
        if controller is None:
            return
        done = threading.Event()

        def close_all() -> None:
            with self._lock:
                live, self._live[:] = list(self._live), []
            for smtp in live:
                if smtp.transport is not None:
                    smtp.transport.close()
            done.set()

        controller.loop.call_soon_threadsafe(close_all)
        if not done.wait(5):
            raise TimeoutError("the test SMTP server did not close its connections")

    def _opened(self, smtp: SMTP) -> None:
        with self._lock:
            self.connections += 1
            self._live[:] = [s for s in self._live if s.transport is not None]
            self._live.append(smtp)

    def settings(self, **overrides: object) -> SmtpSettings:
        """Client settings for this server: its security, the test CA, the test user when it
        asks for AUTH; rate unbounded unless given."""
        values: dict[str, object] = {"sender": SENDER, "host": self.host, "port": self.port,
                                     "security": self.tls or "none", "rate": 0.0, "timeout": 5.0}
        if self.certificates is not None:
            values["ca_file"] = self.certificates.ca_file
        if self.auth:
            values |= {"username": TEST_USER, "password": TEST_PASSWORD}
        values.update(overrides)
        return SmtpSettings(**values)  # type: ignore[arg-type]


def sample_message(to: str = "registrator@umea.example.org", subject: str = "Påminnelse: yttrande senast fredag",
                   body: str = "Hej!\n\nDetta är en påminnelse.\n", name: str | None = "Umeå kommun") -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = f"{SENDER.name} <{SENDER.email}>"
    message["To"] = f"{name} <{to}>" if name else to
    message["Subject"] = subject
    message.set_content(body)
    return message


@pytest.fixture(scope="session")
def smtp_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def mail_server():
    """A plain SMTP server (no TLS, no AUTH) on loopback, accepting everything."""
    with MailServer() as server:
        yield server
