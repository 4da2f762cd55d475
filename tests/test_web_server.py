"""The production web server, started as `make run`, the Docker image and docker compose start it
(gunicorn from the repository root, which reads gunicorn.conf.py), keeps a client's connection
open between requests (a script calling the API does not pay a new connection per request), and
spreads connections opened at once over its workers (a connection stays with the worker that
accepted it: on one worker, the others would idle)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.notifications.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def gunicorn(tmp_path: Path, workers: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """gunicorn started from the repository root on a free port, answering /healthz."""
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
        [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(workers_of(server.pid)) < workers or not answers(port):
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "gunicorn not answering after 60 s"
            time.sleep(0.2)
        yield port, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def workers_of(master: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


def connections_held(pid: int, port: int) -> int:
    """How many established connections to `port` process `pid` holds (/proc: inodes)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                established.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in established:
            held += 1
    return held


def test_gunicorn_from_the_repository_keeps_connections_alive(tmp_path: Path) -> None:
    with gunicorn(tmp_path, workers=1) as (port, _):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert not first.will_close, first.getheaders()
        used = connection.sock
        connection.request("GET", "/healthz")
        second = connection.getresponse()
        second.read()
        assert connection.sock is used  # the same connection answered both
        assert second.status == first.status == 200


def test_gunicorn_spreads_connections_opened_at_once_over_its_workers(tmp_path: Path) -> None:
    with gunicorn(tmp_path, workers=2) as (port, server):
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(16)]
        for client in clients:  # 16 requests sent before any answer is read, as a load test does
            client.request("GET", "/healthz")
        for client in clients:
            response = client.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
        held = {pid: connections_held(pid, port) for pid in workers_of(server.pid)}
        for client in clients:
            client.close()
    assert sum(held.values()) == 16, held
    # Spread by the kernel (SO_REUSEPORT), all 16 land on one worker once in 30,000 runs.
    assert all(count > 0 for count in held.values()), held
