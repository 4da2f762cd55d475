"""Email through Django's email framework (SMTP in production, a catcher in docker compose).

The Message-ID is derived from the alert, so a message sent again after a crash carries the same
id and mail clients show it once. SMTP has no idempotency: see notifications/README.md.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from .base import Delivery, Outgoing, Transport, TransportError


def message_id(reference: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{reference}@{domain}>"


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


class EmailTransport(Transport):
    channel = "email"

    def send(self, message: Outgoing) -> Delivery:
        if not message.to:
            raise TransportError("no email address", permanent=True)
        mid = message_id(message.reference)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            # RFC 3834: automatic mail, so that out-of-office replies are not sent back.
            headers={
                "Message-ID": mid,
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
            },
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        try:
            sent = email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            status = ",".join(str(code) for code in codes)
            raise TransportError(
                f"SMTP server refused the recipient ({status})",
                permanent=all(_is_permanent(c) for c in codes),
                provider_status=status,
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            # A configuration problem: retried (with backoff) while someone fixes it.
            raise TransportError(
                f"SMTP authentication failed ({error.smtp_code})",
                provider_status=str(error.smtp_code),
            ) from None
        except smtplib.SMTPSenderRefused as error:
            raise TransportError(
                f"SMTP server refused the sender ({error.smtp_code})",
                provider_status=str(error.smtp_code),
            ) from None
        except smtplib.SMTPResponseException as error:
            raise TransportError(
                f"SMTP server answered {error.smtp_code}",
                permanent=_is_permanent(error.smtp_code),
                provider_status=str(error.smtp_code),
            ) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, disconnected
            raise TransportError(f"SMTP unavailable ({type(error).__name__})") from None
        if sent != 1:
            raise TransportError("the email backend sent nothing")
        return Delivery(provider_status="accepted", provider_message_id=mid)
