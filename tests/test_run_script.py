"""`make run` (scripts/run.sh) keeps the alerts going: a Celery worker or beat that dies is
started again instead of the whole stack stopping. Runs the real script, on a SQLite file of
its own and a free port, and kills its worker and beat with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.notifications.servers import free_port

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(),
    reason="scripts/run.sh runs .venv/bin/python (make install creates it)",
)


def children(pid: int) -> dict[int, str]:
    done = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    found = {}
    for line in done.stdout.splitlines():
        child, _, args = line.strip().partition(" ")
        found[int(child)] = args
    return found


def child_running(pid: int, word: str) -> int | None:
    for child, args in children(pid).items():
        if "celery" in args and f" {word} " in f"{args} ":
            return child
    return None


def wait_for(predicate: object, what: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen after {timeout} s:\n{log.read_text()[-3000:]}")


def test_make_run_starts_a_killed_worker_and_beat_again_and_stops_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_", "CELERY_", "EMAIL_", "SMS_"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "RUN_BIND": f"127.0.0.1:{port}",
            "CELERY_CONCURRENCY": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    with log.open("wb") as out:
        script = subprocess.Popen(
            ["scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: "==> serving on" in log.read_text(), "serving", log)
        wait_for(lambda: child_running(script.pid, "worker"), "a worker", log)
        wait_for(lambda: child_running(script.pid, "beat"), "beat", log)
        # The demo's alert emails (printed by the worker) link to where this serves.
        wait_for(lambda: f"http://127.0.0.1:{port}/cases/" in log.read_text(), "a link", log)

        first_worker = child_running(script.pid, "worker")
        assert first_worker is not None
        os.kill(first_worker, signal.SIGKILL)
        wait_for(
            lambda: child_running(script.pid, "worker") not in (None, first_worker),
            "a new worker",
            log,
        )
        assert "the Celery worker exited (status 137): starting it again" in log.read_text()

        first_beat = child_running(script.pid, "beat")
        assert first_beat is not None
        os.kill(first_beat, signal.SIGKILL)
        wait_for(
            lambda: child_running(script.pid, "beat") not in (None, first_beat), "a new beat", log
        )
        assert script.poll() is None, log.read_text()[-3000:]

        script.send_signal(signal.SIGTERM)
        script.wait(60)
        assert "==> stopped" in log.read_text()
    finally:
        if script.poll() is None:
            for child in children(script.pid):  # each in its own process group (set -m)
                os.killpg(child, signal.SIGKILL)
            os.killpg(script.pid, signal.SIGKILL)
            script.wait(10)
