"""Transports by channel: `transport_for("email")`, `transport_for("sms")`."""

from __future__ import annotations

from .base import Delivery, Outgoing, Transport, TransportError


def transport_for(channel: str) -> Transport:
    if channel == "email":
        from .email import EmailTransport

        return EmailTransport()
    if channel == "sms":
        from .sms import SmsTransport

        return SmsTransport()
    raise TransportError(f"no transport for channel {channel!r}", permanent=True)


__all__ = ["Delivery", "Outgoing", "Transport", "TransportError", "transport_for"]
