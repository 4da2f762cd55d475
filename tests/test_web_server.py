"""The production web server, started as `make run`, the Docker image and docker compose start it
(gunicorn from the repository root, which reads gunicorn.conf.py), keeps a client's connection
open between requests: a script calling the API does not pay a new connection per request."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.notifications.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_gunicorn_from_the_repository_keeps_connections_alive(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--workers", "1",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                connection.request("GET", "/healthz")
                first = connection.getresponse()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "gunicorn not answering after 60 s"
                connection.close()
                time.sleep(0.2)
        first.read()
        assert not first.will_close, first.getheaders()
        used = connection.sock
        connection.request("GET", "/healthz")
        second = connection.getresponse()
        second.read()
        assert connection.sock is used  # the same connection answered both
        assert second.status == first.status
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
