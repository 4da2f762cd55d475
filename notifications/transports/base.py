"""What every transport takes, returns and raises.

A transport sends one message and returns a `Delivery`, or raises `TransportError`: permanent
when sending again cannot help (a refused address, a 4xx from the provider), otherwise the
sender retries with backoff. Transports never log message contents or addresses.
"""

from __future__ import annotations

from dataclasses import dataclass


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, provider_status: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.provider_status = provider_status


@dataclass(frozen=True)
class Outgoing:
    """One message to one address. `reference` is stable across retries of the same alert."""

    to: str
    subject: str
    text: str
    html: str
    reference: str


@dataclass(frozen=True)
class Delivery:
    provider_status: str
    provider_message_id: str = ""


class Transport:
    channel: str = ""

    def send(self, message: Outgoing) -> Delivery:
        raise NotImplementedError

    def find_sent(self, reference: str) -> Delivery | None:
        """The provider's record of a message sent under this reference, if it can tell.

        Asked before sending again after a process died mid-call. None means "not found, or
        this provider cannot tell": the message is then sent again.
        """
        return None
