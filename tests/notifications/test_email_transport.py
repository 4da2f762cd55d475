"""Email through Django's SMTP backend to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from notifications.transports import Outgoing, TransportError
from notifications.transports.email import EmailTransport
from tests.notifications.servers import SmtpServer, free_port


def outgoing(to: str = "carla@cimade-metz.example.org") -> Outgoing:
    return Outgoing(
        to=to,
        subject="Échéance dans 2 jours : A-001",
        text="Bonjour,\n",
        html="<p>Bonjour,</p>",
        reference="alert-42",
    )


def test_it_sends_text_and_html_with_a_message_id_derived_from_the_alert(
    smtp_server: SmtpServer,
) -> None:
    delivery = EmailTransport().send(outgoing())
    (message,) = smtp_server.messages
    assert message["To"] == "carla@cimade-metz.example.org"
    assert message["From"] == "delais-asile@example.org"
    assert message["Subject"] == "Échéance dans 2 jours : A-001"
    assert message["Message-ID"] == "<alert-42@example.org>" == delivery.provider_message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert delivery.provider_status == "accepted"


def test_a_refused_mailbox_is_a_permanent_error(smtp_server: SmtpServer) -> None:
    smtp_server.refuse.add("gone@example.org")
    with pytest.raises(TransportError) as error:
        EmailTransport().send(outgoing("gone@example.org"))
    assert error.value.permanent
    assert error.value.provider_status == "550"
    assert not smtp_server.messages


def test_a_temporary_refusal_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.busy.add("busy@example.org")
    with pytest.raises(TransportError) as error:
        EmailTransport().send(outgoing("busy@example.org"))
    assert not error.value.permanent
    assert error.value.provider_status == "451"


def test_an_smtp_server_that_is_down_is_retried(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # type: ignore[attr-defined]
    with pytest.raises(TransportError) as error:
        EmailTransport().send(outgoing())
    assert not error.value.permanent
    assert "ConnectionRefusedError" in error.value.message


def test_no_address_is_a_permanent_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(TransportError) as error:
        EmailTransport().send(outgoing(""))
    assert error.value.permanent
