"""SMS: a small backend interface, chosen by SMS_BACKEND.

- ``console`` prints each SMS, the number masked (development; the default when DEBUG is on);
- ``locmem`` keeps them in ``LocmemSmsBackend.outbox`` (tests, benchmarks);
- ``sinch`` posts to the Sinch SMS REST API ("XMS"): ``POST {SMS_API_URL}/batches`` with
  ``Authorization: Bearer {SMS_API_TOKEN}`` and ``{"from", "to": [E.164], "body",
  "client_reference"}``, where SMS_API_URL is ``https://eu.sms.api.sinch.com/xms/v1/<plan id>``.
  Sinch lists the batches sent under a client reference (``GET /batches?client_reference=``),
  which lets the sender check, after a crash mid-call, whether the message already left;
- or the dotted path of a class with the same two methods.

4xx answers are permanent (except 408 and 429), 5xx answers and network errors are retried.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar, TextIO

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string

from ..segments import sms_size
from .base import Delivery, Outgoing, Transport, TransportError


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    text: str
    reference: str


def to_e164(raw: str, default_region: str = "FR") -> str:
    """The number in E.164 (+33612345678); a permanent error when it is not a valid number."""
    if not raw:
        raise TransportError("no phone number", permanent=True)
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise TransportError("phone number cannot be read", permanent=True) from None
    if not phonenumbers.is_valid_number(number):
        raise TransportError("phone number is not valid", permanent=True)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """The number with all but its country prefix and last two digits hidden, for logs:
    +33612345678 -> +33*******78."""
    if len(e164) <= 6:
        return "*" * len(e164)
    return e164[:3] + "*" * (len(e164) - 5) + e164[-2:]


class SmsBackend:
    def send(self, sms: Sms) -> Delivery:
        raise NotImplementedError

    def find_sent(self, reference: str) -> Delivery | None:
        return None


class NotConfiguredBackend(SmsBackend):
    def send(self, sms: Sms) -> Delivery:
        raise TransportError("SMS is not configured (set SMS_BACKEND)", permanent=True)


class ConsoleSmsBackend(SmsBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, sms: Sms) -> Delivery:
        # Console output ends up in logs: the number is masked, its last two digits kept.
        self.stream.write(
            f"SMS to {mask_phone(sms.to)} [{sms_size(sms.text)}] ref {sms.reference}\n"
            f"{sms.text}\n{'-' * 40}\n"
        )
        self.stream.flush()
        return Delivery(provider_status="printed")


class LocmemSmsBackend(SmsBackend):
    outbox: ClassVar[list[Sms]] = []

    def send(self, sms: Sms) -> Delivery:
        self.outbox.append(sms)
        return Delivery(provider_status="stored", provider_message_id=f"locmem-{len(self.outbox)}")

    def find_sent(self, reference: str) -> Delivery | None:
        for number, sms in enumerate(self.outbox, start=1):
            if sms.reference == reference:
                return Delivery(provider_status="stored", provider_message_id=f"locmem-{number}")
        return None


class SinchSmsBackend(SmsBackend):
    def __init__(
        self, url: str = "", token: str = "", sender: str = "", timeout: float | None = None
    ) -> None:
        self.url = (url or settings.SMS_API_URL).rstrip("/")
        self.token = token or settings.SMS_API_TOKEN
        self.sender = sender or settings.SMS_SENDER
        self.timeout = timeout if timeout is not None else settings.SMS_TIMEOUT
        if not (self.url and self.token and self.sender):
            raise TransportError(
                "SMS_API_URL, SMS_API_TOKEN and SMS_SENDER must be set", permanent=True
            )

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                payload = json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            code = _error_code(error)
            status_text = f"HTTP {error.code}" + (f" {code}" if code else "")
            permanent = 400 <= error.code < 500 and error.code not in (408, 425, 429)
            raise TransportError(
                f"SMS provider answered {status_text}",
                permanent=permanent,
                provider_status=status_text,
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            # Refused, timed out, reset, or an answer that is not JSON.
            raise TransportError(f"SMS provider unavailable ({type(error).__name__})") from None
        return status, payload

    def send(self, sms: Sms) -> Delivery:
        status, payload = self._request(
            "POST",
            "/batches",
            {
                "from": self.sender,
                "to": [sms.to],
                "body": sms.text,
                "client_reference": sms.reference,
            },
        )
        batch_id = str(payload.get("id", "")) if isinstance(payload, dict) else ""
        return Delivery(provider_status=f"HTTP {status}", provider_message_id=batch_id)

    def find_sent(self, reference: str) -> Delivery | None:
        # Sinch lists batches of the last 14 days; the default window is only 24 hours.
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        query = urllib.parse.urlencode({"client_reference": reference, "start_date": since})
        _, payload = self._request("GET", f"/batches?{query}")
        batches = payload.get("batches", []) if isinstance(payload, dict) else []
        for batch in batches:
            if batch.get("client_reference") == reference and not batch.get("canceled"):
                return Delivery(
                    provider_status="found by client_reference",
                    provider_message_id=str(batch.get("id", "")),
                )
        return None


def _error_code(error: urllib.error.HTTPError) -> str:
    """Sinch's error code ("syntax_invalid_parameter_format"); never the text, which may quote
    the number."""
    try:
        body = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return str(code)[:60] if code else ""


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleSmsBackend,
    "locmem": LocmemSmsBackend,
    "sinch": SinchSmsBackend,
}


def get_backend(name: str | None = None) -> SmsBackend:
    name = settings.SMS_BACKEND if name is None else name
    if not name:
        return NotConfiguredBackend()
    backend_class = BACKENDS.get(name) or import_string(name)
    backend: SmsBackend = backend_class()
    return backend


class SmsTransport(Transport):
    channel = "sms"

    def __init__(self, backend: SmsBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> SmsBackend:
        if self._backend is None:
            self._backend = get_backend()
        return self._backend

    def send(self, message: Outgoing) -> Delivery:
        return self.backend.send(
            Sms(to=to_e164(message.to), text=message.text, reference=message.reference)
        )

    def find_sent(self, reference: str) -> Delivery | None:
        return self.backend.find_sent(reference)
