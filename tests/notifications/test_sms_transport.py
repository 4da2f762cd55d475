"""SMS backends: the Sinch HTTP API against a local server that checks every request, the
console backend, and phone numbers in E.164."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from notifications.transports import Outgoing, TransportError
from notifications.transports.sms import (
    ConsoleSmsBackend,
    SinchSmsBackend,
    Sms,
    SmsTransport,
    to_e164,
)
from tests.notifications.servers import SINCH_SENDER, SINCH_TOKEN, SinchApi

TEXT = "Rappel : une démarche pour votre dossier est à faire au plus tard le 12 mars."


def outgoing(to: str = "06 12 34 56 78", reference: str = "alert-7") -> Outgoing:
    return Outgoing(to=to, subject="", text=TEXT, html="", reference=reference)


def test_it_posts_a_batch_with_the_bearer_token_an_e164_number_and_the_reference(
    sinch: SinchApi,
) -> None:
    delivery = SmsTransport().send(outgoing())
    (request,) = sinch.requests
    assert (request.method, request.path, request.status) == (
        "POST",
        "/xms/v1/test-plan/batches",
        201,
    )
    assert request.headers["authorization"] == f"Bearer {SINCH_TOKEN}"
    assert request.body == {
        "from": SINCH_SENDER,
        "to": ["+33612345678"],
        "body": TEXT,
        "client_reference": "alert-7",
    }
    assert not sinch.problems
    assert delivery.provider_status == "HTTP 201"
    assert delivery.provider_message_id == "01TESTBATCH000001"


def test_the_provider_answering_500_is_a_transient_error(sinch: SinchApi) -> None:
    sinch.fail_next = [500]
    with pytest.raises(TransportError) as error:
        SmsTransport().send(outgoing())
    assert not error.value.permanent
    assert error.value.provider_status == "HTTP 500 internal_error"
    assert not sinch.batches


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (401, True), (403, True), (408, False), (429, False), (503, False)],
)
def test_4xx_answers_are_permanent_except_timeouts_and_rate_limits(
    sinch: SinchApi, status: int, permanent: bool
) -> None:
    sinch.fail_next = [status]
    with pytest.raises(TransportError) as error:
        SmsTransport().send(outgoing())
    assert error.value.permanent is permanent


def test_a_wrong_token_is_refused_by_the_provider_and_permanent(
    sinch: SinchApi, settings: Any
) -> None:
    settings.SMS_API_TOKEN = "wrong"
    with pytest.raises(TransportError) as error:
        SmsTransport().send(outgoing())
    assert error.value.permanent
    assert sinch.problems == ["missing or wrong bearer token"]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/xms/v1/plan"
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_provider_that_does_not_answer_times_out_and_is_retried(silent_server: str) -> None:
    backend = SinchSmsBackend(url=silent_server, token="t", sender="S", timeout=0.3)
    with pytest.raises(TransportError) as error:
        SmsTransport(backend).send(outgoing())
    assert not error.value.permanent


def test_an_invalid_number_is_refused_before_any_request(sinch: SinchApi) -> None:
    with pytest.raises(TransportError) as error:
        SmsTransport().send(outgoing("12345"))
    assert error.value.permanent
    assert "12345" not in error.value.message  # no personal data in errors (or logs)
    assert not sinch.requests


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+93 70 123 4567", "+93701234567"),
    ],
)
def test_numbers_are_sent_in_e164(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


def test_the_provider_is_asked_whether_it_already_has_a_reference(sinch: SinchApi) -> None:
    transport = SmsTransport()
    assert transport.find_sent("alert-7") is None
    transport.send(outgoing())
    found = transport.find_sent("alert-7")
    assert found is not None
    assert found.provider_message_id == "01TESTBATCH000001"
    assert transport.find_sent("alert-8") is None


def test_sms_not_configured_fails_visibly(settings: Any) -> None:
    settings.SMS_BACKEND = ""
    with pytest.raises(TransportError, match="SMS is not configured") as error:
        SmsTransport().send(outgoing())
    assert error.value.permanent


def test_the_console_backend_prints_the_sms_and_its_segment_count_not_the_number() -> None:
    stream = io.StringIO()
    ConsoleSmsBackend(stream).send(Sms(to="+33612345678", text=TEXT, reference="alert-7"))
    assert "SMS to +33•••••••78 " in stream.getvalue()
    assert "612345678" not in stream.getvalue()
    assert TEXT in stream.getvalue()
    assert "1 segment (GSM-7" in stream.getvalue()
