"""Delivery through a real SMTP server (aiosmtpd on loopback): every outcome classified,
connections reused and reopened, the pace held, TLS and AUTH with a test CA, and settings
that refuse bad values in one line without ever showing the password."""

from __future__ import annotations

import logging
import time

import pytest

from samverkan.asyncrun import run_async
from samverkan.errors import SamverkanError
from samverkan.notifications.smtp import Delivery, DeliveryStatus, Mailer
from samverkan.notifications.smtp_settings import SmtpSettings
from samverkan.notices.model import Recipient
from tests.smtp_servers import SENDER, TEST_PASSWORD, MailServer, sample_message
from tests.prefect_server import free_port

FROM = "Samverkan Region Västerbotten <samverkan@region-vasterbotten.example.org>"


def send_all(settings: SmtpSettings, count: int = 1, between=None) -> list[Delivery]:
    """`count` messages through one Mailer; `between(i)` runs before message i (not the first)."""

    async def run() -> list[Delivery]:
        async with Mailer(settings) as mailer:
            deliveries = []
            for i in range(count):
                if between is not None and i:
                    between(i)
                deliveries.append(await mailer.send(sample_message(subject=f"Påminnelse {i}")))
            return deliveries

    return run_async(run())


# What arrives, and how each answer of the server is classified.

def test_a_message_arrives_as_it_was_sent(mail_server):
    [delivery] = send_all(mail_server.settings())
    assert delivery == Delivery(DeliveryStatus.sent, "250 2.0.0 OK queued")
    [received] = mail_server.received
    assert received.mail_from == SENDER.email
    assert received.rcpt_tos == ("registrator@umea.example.org",)
    message = received.message()
    assert message["Subject"] == "Påminnelse 0"
    assert message["From"].addresses[0].display_name == "Samverkan Region Västerbotten"
    assert message.get_content() == "Hej!\n\nDetta är en påminnelse.\n"


@pytest.mark.parametrize(("stage", "reply", "status"), [
    ("MAIL", "451 4.3.2 system not accepting messages", DeliveryStatus.temporary),
    ("MAIL", "553 5.7.1 sender not allowed", DeliveryStatus.permanent),
    ("RCPT", "451 4.3.0 try again later", DeliveryStatus.temporary),
    ("RCPT", "550 5.1.1 no such user", DeliveryStatus.permanent),
    ("DATA", "452 4.3.1 insufficient storage", DeliveryStatus.temporary),
    ("DATA", "554 5.6.0 message refused", DeliveryStatus.permanent),
    ("MAIL", "421 4.3.2 closing the connection", DeliveryStatus.temporary),
])
def test_each_reply_is_classified_and_the_next_message_still_goes(mail_server, stage, reply, status):
    mail_server.reply_at(stage, reply)
    failed, sent = send_all(mail_server.settings(), 2, between=lambda _: mail_server.accept())
    assert failed.status is status
    assert failed.reason.startswith(reply) and f"(at {stage}" in failed.reason
    assert "\n" not in failed.reason
    assert sent.sent
    assert len(mail_server.received) == 1
    # A permanent refusal leaves the connection in use; a temporary one is never reused.
    assert mail_server.connections == (1 if status is DeliveryStatus.permanent else 2)


def test_a_recipient_refused_among_others_is_named_in_a_sent_delivery(mail_server):
    mail_server.refused["nobody@umea.example.org"] = "550 5.1.1 no such user"
    message = sample_message()
    message["Cc"] = "nobody@umea.example.org"

    async def run():
        async with Mailer(mail_server.settings()) as mailer:
            return await mailer.send(message)

    delivery = run_async(run())
    assert delivery.sent
    assert "<nobody@umea.example.org> 550 5.1.1 no such user" in delivery.reason
    assert mail_server.received[0].rcpt_tos == ("registrator@umea.example.org",)


def test_a_connection_dropped_during_data_is_temporary_and_the_next_message_reconnects(mail_server):
    mail_server.drop_during_data()
    dropped, sent = send_all(mail_server.settings(), 2, between=lambda _: mail_server.accept())
    assert dropped.temporary
    assert dropped.reason.startswith("connection lost during DATA")
    assert sent.sent
    assert mail_server.connections == 2
    assert [r.message()["Subject"] for r in mail_server.received] == ["Påminnelse 1"]


def test_server_down_is_temporary_and_delivery_resumes_when_it_is_back(mail_server):
    def outage(i):
        if i == 1:
            mail_server.stop()
        if i == 2:
            mail_server.start()

    before, down, after = send_all(mail_server.settings(), 3, between=outage)
    assert before.sent and after.sent
    assert down.temporary
    assert down.reason == f"cannot connect to 127.0.0.1:{mail_server.port}: Connection refused"


def test_no_server_at_all_is_temporary():
    settings = SmtpSettings(sender=SENDER, host="127.0.0.1", port=free_port(), security="none", timeout=2)
    [delivery] = send_all(settings)
    assert delivery.temporary and "Connection refused" in delivery.reason


def test_a_message_that_cannot_be_serialised_is_permanent_and_the_connection_stays_usable(mail_server):
    async def run():
        async with Mailer(mail_server.settings()) as mailer:
            broken = sample_message()
            broken.set_payload("Hej på dig")  # non-ASCII text without a charset: cannot be written out
            without_recipient = sample_message()
            del without_recipient["To"]
            return [await mailer.send(broken), await mailer.send(without_recipient), await mailer.send(sample_message())]

    broken, without_recipient, good = run_async(run())
    assert broken.permanent and broken.reason.startswith("the message cannot be sent as it is: UnicodeEncodeError")
    assert without_recipient.permanent and "recipient" in without_recipient.reason
    assert good.sent
    assert len(mail_server.received) == 1
    assert mail_server.connections == 1


def test_a_message_without_from_gets_the_settings_sender(mail_server):
    message = sample_message()
    del message["From"]

    async def run():
        async with Mailer(mail_server.settings()) as mailer:
            return await mailer.send(message)

    assert run_async(run()).sent
    assert str(mail_server.received[0].message()["From"]) == FROM


# Connections: reused, reopened, paced.

def test_fifty_messages_go_over_one_connection(mail_server):
    deliveries = send_all(mail_server.settings(), 50)
    assert all(d.sent for d in deliveries)
    assert len(mail_server.received) == 50
    assert mail_server.connections == 1


def test_send_many_keeps_the_order_and_uses_the_connections_it_is_given(mail_server):
    messages = [sample_message(subject=f"Nr {i}") for i in range(40)]
    seen = []

    async def run():
        async with Mailer(mail_server.settings(connections=4)) as mailer:
            return await mailer.send_many(messages, on_delivery=lambda i, d: seen.append(i))

    deliveries = run_async(run())
    assert len(deliveries) == 40 and all(d.sent for d in deliveries)
    assert sorted(seen) == list(range(40))
    assert sorted(r.message()["Subject"] for r in mail_server.received) == sorted(f"Nr {i}" for i in range(40))
    assert 1 < mail_server.connections <= 4


def test_a_connection_the_server_dropped_is_reopened(mail_server):
    # The server closes the idle connection; the client, busy in this coroutine, has not yet
    # seen it go: it finds out at MAIL and sends the message over a new connection.
    deliveries = send_all(mail_server.settings(), 3, between=lambda _: mail_server.drop_connections())
    assert all(d.sent for d in deliveries)
    assert len(mail_server.received) == 3
    assert mail_server.connections == 3


def test_the_rate_bounds_every_connection_together(mail_server):
    started = time.monotonic()
    send_all(mail_server.settings(rate=20), 10)
    one = time.monotonic() - started

    async def many():
        async with Mailer(mail_server.settings(rate=20, connections=3)) as mailer:
            return await mailer.send_many([sample_message() for _ in range(10)])

    started = time.monotonic()
    run_async(many())
    three = time.monotonic() - started
    assert one >= 0.45 and three >= 0.45  # 9 intervals of 1/20 s after the first message
    assert len(mail_server.received) == 20


# TLS and AUTH.

def test_starttls_with_login_and_the_test_ca(smtp_certificates, caplog):
    with MailServer(tls="starttls", certificates=smtp_certificates, auth=True) as server:
        with caplog.at_level(logging.DEBUG):
            deliveries = send_all(server.settings(), 3)
        assert all(d.sent for d in deliveries), deliveries
        assert len(server.received) == 3 and server.connections == 1
    assert TEST_PASSWORD not in caplog.text


def test_implicit_tls_with_login_and_the_test_ca(smtp_certificates):
    with MailServer(tls="tls", certificates=smtp_certificates, auth=True) as server:
        deliveries = send_all(server.settings(), 2)
        assert all(d.sent for d in deliveries), deliveries
        assert server.connections == 1


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_a_relay_certificate_not_trusted_is_temporary(smtp_certificates, tls):
    with MailServer(tls=tls, certificates=smtp_certificates) as server:
        [delivery] = send_all(server.settings(ca_file=None))
        assert delivery.temporary
        assert delivery.reason.startswith(f"TLS with 127.0.0.1:{server.port} failed: certificate not trusted")
        assert server.received == []


def test_starttls_demanded_of_a_relay_without_it_is_temporary(mail_server):
    [delivery] = send_all(mail_server.settings(security="starttls"))
    assert delivery.temporary and "STARTTLS" in delivery.reason
    assert mail_server.received == []


def test_credentials_refused_are_permanent_and_not_tried_again(smtp_certificates, caplog):
    wrong = "fel-lösenord-123"
    with MailServer(tls="starttls", certificates=smtp_certificates, auth=True) as server:
        with caplog.at_level(logging.DEBUG):
            first, second = send_all(server.settings(password=wrong), 2)
        assert first.permanent and first.reason.startswith("535 ") and "(at AUTH)" in first.reason
        assert second == first
        assert server.connections == 1  # the second message did not try again
    assert wrong not in caplog.text and wrong not in first.reason


# Settings.

def env(**values: str) -> dict[str, str]:
    return {"SAMVERKAN_SMTP_FROM": FROM, **{f"SAMVERKAN_SMTP_{k.upper()}": v for k, v in values.items()}}


def test_settings_from_the_environment_and_their_defaults(tmp_path):
    settings = SmtpSettings.from_env(env())
    assert settings.sender == Recipient("samverkan@region-vasterbotten.example.org", "Samverkan Region Västerbotten")
    assert (settings.host, settings.port, settings.security, settings.rate, settings.connections) == ("localhost", 587, "starttls", 20.0, 1)
    assert SmtpSettings.from_env(env(security="tls")).port == 465
    assert SmtpSettings.from_env(env(security="none")).port == 25
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    full = SmtpSettings.from_env(env(host="smtp.region.example.org", port="2525", security="TLS", username="svk",
                                     password=" hemligt ", rate="0", timeout="12.5", ca_file=str(ca), connections="3"))
    assert (full.host, full.port, full.security, full.username, full.password) == ("smtp.region.example.org", 2525, "tls", "svk", " hemligt ")
    assert (full.rate, full.timeout, full.ca_file, full.connections) == (0.0, 12.5, ca, 3)


SECRET = "Hemligt-Värde-987"


@pytest.mark.parametrize(("values", "expected"), [
    ({"security": "ssl"}, "SAMVERKAN_SMTP_SECURITY: 'ssl' is not one of none, starttls, tls"),
    ({"port": "smtp"}, "SAMVERKAN_SMTP_PORT: 'smtp' is not a whole number"),
    ({"port": "70000"}, "SAMVERKAN_SMTP_PORT: '70000' is not a port number"),
    ({"host": "mail server"}, "SAMVERKAN_SMTP_HOST: 'mail server' is not a host name"),
    ({"from": "samverkan"}, "SAMVERKAN_SMTP_FROM: 'samverkan' is not one address"),
    ({"from": "a@example.org, b@example.org"}, "SAMVERKAN_SMTP_FROM: 'a@example.org, b@example.org' is not one address"),
    ({"from": "Samverkan <samverkan@localhost>"}, "SAMVERKAN_SMTP_FROM: 'Samverkan <samverkan@localhost>' has no valid domain"),
    ({"rate": "fast"}, "SAMVERKAN_SMTP_RATE: 'fast' is not a number"),
    ({"rate": "-1"}, "SAMVERKAN_SMTP_RATE: '-1.0' is not a number of messages per second"),
    ({"timeout": "0"}, "SAMVERKAN_SMTP_TIMEOUT: '0.0' is not a number of seconds above 0"),
    ({"connections": "0"}, "SAMVERKAN_SMTP_CONNECTIONS: '0' is not a number of connections from 1 to 32"),
    ({"ca_file": "/no/such/ca.pem"}, "SAMVERKAN_SMTP_CA_FILE: '/no/such/ca.pem' is not a file"),
    ({"username": "svk"}, "SAMVERKAN_SMTP_USERNAME is set but SAMVERKAN_SMTP_PASSWORD is not"),
    ({"password": SECRET}, "SAMVERKAN_SMTP_PASSWORD is set but SAMVERKAN_SMTP_USERNAME is not"),
    ({"username": "svk", "password": SECRET, "security": "none", "host": "smtp.region.example.org"},
     "SAMVERKAN_SMTP_PASSWORD: refused with SAMVERKAN_SMTP_SECURITY none to 'smtp.region.example.org'"),
    ({"username": "svk", "password": SECRET + "\n", "security": "tls"}, "SAMVERKAN_SMTP_PASSWORD: the value contains control characters"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(values, expected):
    environ = env(**{k: v for k, v in values.items() if k != "from"})
    if "from" in values:
        environ["SAMVERKAN_SMTP_FROM"] = values["from"]
    with pytest.raises(SamverkanError) as refused:
        SmtpSettings.from_env(environ)
    text = str(refused.value)
    assert text.startswith(expected), text
    assert "\n" not in text and SECRET not in text


def test_the_sender_is_required_and_every_bad_value_is_reported_at_once():
    with pytest.raises(SamverkanError) as refused:
        SmtpSettings.from_env({"SAMVERKAN_SMTP_SECURITY": "ssl", "SAMVERKAN_SMTP_PORT": "x"})
    assert sorted(p.split(" ")[0].rstrip(":") for p in refused.value.problems) == [
        "SAMVERKAN_SMTP_FROM", "SAMVERKAN_SMTP_PORT", "SAMVERKAN_SMTP_SECURITY"]


def test_a_password_in_clear_is_allowed_to_this_machine_only():
    for host in ("localhost", "127.0.0.1", "::1"):
        assert SmtpSettings.from_env(env(host=host, security="none", username="svk", password=SECRET)).password == SECRET


def test_the_password_is_never_in_repr_or_str():
    settings = SmtpSettings.from_env(env(username="svk", password=SECRET))
    assert SECRET not in repr(settings) and SECRET not in str(settings) and SECRET not in f"{settings!r} {settings}"
    assert "svk" in repr(settings)
    mailer = Mailer(settings)
    assert SECRET not in repr(mailer.settings)


def test_settings_made_in_code_name_the_field():
    with pytest.raises(SamverkanError, match=r"^security: 'ssl' is not one of none, starttls, tls$"):
        SmtpSettings(sender=SENDER, security="ssl")  # type: ignore[arg-type]
    assert SmtpSettings(sender=FROM).sender == SmtpSettings.from_env(env()).sender  # a str sender is parsed


# The Prefect block.

def test_without_a_prefect_server_the_environment_is_used(monkeypatch):
    import prefect.context

    from samverkan.flows.smtp_block import smtp_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    for name, value in env(host="smtp.region.example.org").items():
        monkeypatch.setenv(name, value)
    prefect.context.refresh_global_settings_context()
    try:
        assert smtp_settings().host == "smtp.region.example.org"
    finally:
        monkeypatch.undo()
        prefect.context.refresh_global_settings_context()


@pytest.mark.prefect
def test_the_prefect_block_round_trip(prefect_server, monkeypatch, caplog, tmp_path):
    from samverkan.flows.smtp_block import BLOCK_NAME, SamverkanSmtp, smtp_settings

    for name, value in env(host="from-the-environment.example.org").items():
        monkeypatch.setenv(name, value)
    assert smtp_settings().host == "from-the-environment.example.org"  # no block saved yet

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    block = SamverkanSmtp(host="smtp.region.example.org", security="tls", username="svk", password=SECRET,
                          sender=FROM, rate=5, ca_file=str(ca))
    assert SECRET not in repr(block) and SECRET not in str(block)
    with caplog.at_level(logging.DEBUG):
        # The async forms, run to their end: a worker's thread may already run an event loop
        # (Playwright's), where the sync forms would hand back an unawaited coroutine.
        run_async(block.asave(BLOCK_NAME, overwrite=True))
        try:
            settings = smtp_settings()
        finally:
            run_async(SamverkanSmtp.adelete(BLOCK_NAME))
    assert settings == SmtpSettings(sender=FROM, host="smtp.region.example.org", port=465, security="tls",
                                    username="svk", password=SECRET, rate=5, ca_file=ca)
    assert SECRET not in caplog.text

    bad = SamverkanSmtp(sender=FROM, security="none", host="smtp.region.example.org", username="svk", password=SECRET)
    with pytest.raises(SamverkanError) as refused:
        bad.settings()
    assert str(refused.value).startswith(f"Prefect block {BLOCK_NAME}: password: refused with security none")
    assert SECRET not in str(refused.value)

