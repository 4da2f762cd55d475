"""Real servers for the transports to talk to: an SMTP server (aiosmtpd) and an HTTP server that
plays the Sinch SMS API and checks every request it gets.

Both run in a thread of the test process and listen on 127.0.0.1, so a worker subprocess can
reach them too; both count what they accepted, which is what "sent exactly once" is judged on.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import socket
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SINCH_PATH = "/xms/v1/test-plan"
SINCH_TOKEN = "test-sinch-token"
SINCH_SENDER = "DelaisAsile"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- SMTP --------------------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self.server.lock:
            self.server.rcpt_count += 1
            hold = self.server.rcpt_count == self.server.hold_rcpt_number
        if hold:
            # The message is not accepted yet: a sender that dies now has sent nothing.
            self.server.held.set()
            await asyncio.sleep(self.server.hold_seconds)
        if address in self.server.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.server.busy:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(message)
            late = len(self.server.messages) <= self.server.answer_data_late
        if late:
            # Taken (it will be delivered), but the answer comes after the client gave up.
            await asyncio.sleep(self.server.late_seconds)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server on a free port; `messages` is everything it accepted."""

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Hold the n-th RCPT for hold_seconds (and set `held`), to kill a sender mid-call.
    hold_rcpt_number: int = 0
    hold_seconds: float = 1.5
    held: threading.Event = field(default_factory=threading.Event)
    rcpt_count: int = 0
    # Answer the first n messages' DATA late_seconds after taking them.
    answer_data_late: int = 0
    late_seconds: float = 3

    def __post_init__(self) -> None:
        self._controller = Controller(_SmtpHandler(self), hostname=self.host, port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)


# --- SMS (Sinch-shaped HTTP API) -----------------------------------------------------------------


@dataclass
class SmsRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int


class _SinchHandler(BaseHTTPRequestHandler):
    server: _SinchHttpServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: Any, status: int) -> None:
        self.server.api.requests.append(
            SmsRequest(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                status,
            )
        )

    def do_POST(self) -> None:
        api = self.server.api
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with api.lock:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            problems = api.check_batch(self.path, self.headers, body)
            if problems:
                api.problems.extend(problems)
                self._record(body, 400)
                return self._answer(
                    400, {"code": "syntax_invalid_parameter_format", "text": "; ".join(problems)}
                )
            if api.fail_next:
                status = api.fail_next.pop(0)
                self._record(body, status)
                return self._answer(status, {"code": "internal_error", "text": "try later"})
            batch_id = f"01TESTBATCH{len(api.batches) + 1:06d}"
            batch = {
                "id": batch_id,
                "to": body["to"],
                "from": body["from"],
                "body": body["body"],
                "client_reference": body.get("client_reference"),
                "type": "mt_text",
                "canceled": False,
            }
            api.batches.append(batch)
            self._record(body, 201)
            hold = len(api.batches) == api.hold_batch_number
            late = len(api.batches) <= api.answer_late
        if late:
            # Accepted (it will be delivered), but answered after the client's timeout.
            time.sleep(api.late_seconds)
        if hold:
            # Accepted, but the answer is late: a sender that dies now does not know it was sent.
            api.held.set()
            time.sleep(api.hold_seconds)
        self._answer(201, batch)

    def do_GET(self) -> None:
        api = self.server.api
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        with api.lock:
            if self.headers.get("Authorization") != f"Bearer {SINCH_TOKEN}":
                self._record(None, 401)
                return self._answer(401, {"code": "unauthorized", "text": "bad token"})
            if url.path != f"{SINCH_PATH}/batches":
                self._record(None, 404)
                return self._answer(404, {"code": "not_found", "text": ""})
            references = query.get("client_reference")
            reference = references[0] if references else None
            found = [
                b for b in api.batches if reference is None or b["client_reference"] == reference
            ]
            self._record(None, 200)
            self._answer(
                200, {"count": len(found), "page": 0, "page_size": len(found), "batches": found}
            )


class _SinchHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    api: SinchApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request leaves a broken pipe: expected here


@dataclass
class SinchApi:
    """Answers like the Sinch SMS REST API and refuses (400) any request that breaks its rules.

    `fail_next` holds statuses to answer to the next POSTs instead of accepting them
    (e.g. [500]). `batches` are the messages accepted; `problems` every rule a request broke.
    """

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    requests: list[SmsRequest] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Accept the n-th batch, then hold the answer for hold_seconds (and set `held`).
    hold_batch_number: int = 0
    hold_seconds: float = 1.5
    held: threading.Event = field(default_factory=threading.Event)
    # Accept the first n batches but answer each late_seconds later.
    answer_late: int = 0
    late_seconds: float = 3

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{SINCH_PATH}"

    def check_batch(self, path: str, headers: Any, body: Any) -> list[str]:
        problems = []
        if path != f"{SINCH_PATH}/batches":
            problems.append(f"unexpected path {path}")
        if headers.get("Authorization") != f"Bearer {SINCH_TOKEN}":
            problems.append("missing or wrong bearer token")
        if headers.get("Content-Type") != "application/json":
            problems.append("content type is not application/json")
        if not isinstance(body, dict):
            return [*problems, "body is not a JSON object"]
        to = body.get("to")
        if not (
            isinstance(to, list) and len(to) == 1 and isinstance(to[0], str) and E164.match(to[0])
        ):
            problems.append(f"to must be one E.164 number, got {to!r}")
        if body.get("from") != SINCH_SENDER:
            problems.append("wrong sender")
        if not isinstance(body.get("body"), str) or not body["body"]:
            problems.append("empty body")
        if not str(body.get("client_reference") or "").startswith("alert-"):
            problems.append("no client_reference")
        return problems

    def start(self) -> SinchApi:
        self._server = _SinchHttpServer((self.host, self.port), _SinchHandler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def references(self) -> Counter[str]:
        with self.lock:
            return Counter(str(b["client_reference"]) for b in self.batches)

    def posts(self) -> list[SmsRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]
