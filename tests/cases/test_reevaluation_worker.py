"""Re-evaluation with a real Celery worker process killed with SIGKILL in the middle of a run.

The test holds a row lock on a case of the third chunk, so the worker is caught inside that
chunk's transaction; it is killed there, PostgreSQL rolls the chunk back, and a new worker
(with the sweep run as beat would) finishes the run. Every open case must be re-evaluated once
and no chunk applied twice. Needs PostgreSQL and REDIS_URL (CI's first pass), like
tests/notifications/test_integration.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, connections

from cases import actions, reevaluation
from cases.models import Case, Deadline, Membership, Organisation, ReevaluationRun
from tests.cases.personas import make_case
from tests.cases.workbench import draft_with_ofpra_days, publish
from tests.conftest import _shipped_pack
from tests.notifications.processes import ROOT, Worker, database_url

POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (a worker process shares the DB)"),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real Celery broker"),
    pytest.mark.django_db(transaction=True),
]

CASES, CHUNK = 40, 10
REASON = "Décret 2026-123"


@pytest.fixture(scope="module", autouse=True)
def shipped_pack_back_afterwards(django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        _shipped_pack()
        connections.close_all()


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"reevaluation-test-{uuid.uuid4().hex[:12]}"
    yield name
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in [name.encode(), *client.scan_iter(match=f"*{name}*")]:
        client.delete(key)
    for tag, raw in client.hgetall("unacked").items():
        if json.loads(raw)[2] == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def worker_env(queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": database_url(settings.DATABASES["default"]),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SMS_BACKEND": "locmem",
            # A chunk held by a dead worker is taken over after 3 s.
            "REEVALUATION_LEASE_SECONDS": "3",
            "REEVALUATION_REQUEUE_SECONDS": "3",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def sweep(env: dict[str, str]) -> None:
    """`manage.py reevaluate --sweep` in its own process, as beat runs it."""
    done = subprocess.run(
        [sys.executable, "manage.py", "reevaluate", "--sweep"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


def wait_for(condition: Any, timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached after {timeout} s:\n{worker.log()}")


class RowLock:
    """Holds FOR UPDATE on a case row from another connection until released."""

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                list(Case.objects.select_for_update().filter(pk=self.case_id))
                self.locked.set()
                self.release.wait(120)
        finally:
            connection.close()

    def __enter__(self) -> RowLock:
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def test_a_worker_killed_mid_run_resumes_and_every_case_is_reevaluated_once(
    tmp_path: Path, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cases are opened here without queueing their alert planning (no worker listens yet).
    monkeypatch.setattr(actions, "after_deadlines_change", [])
    pack = _shipped_pack()
    organisation = Organisation.objects.create(name="Cimade Metz")
    caseworker = User.objects.create_user("carla", email="carla@example.org")
    Membership.objects.create(user=caseworker, organisation=organisation)
    registered = [
        ("prefecture_presentation", dt.date(2026, 4, 2)),
        ("registration", dt.date(2026, 4, 8)),
    ]
    cases = [
        make_case(organisation, caseworker, pack, reference=f"K-{n:03d}", events=registered)
        for n in range(CASES)
    ]
    draft = draft_with_ofpra_days(pack, 10)
    publish(draft, reason=REASON, hooks=False)
    run = reevaluation.start_run(draft.pk, chunk_size=CHUNK)
    chunks = list(run.chunks.order_by("number"))
    assert len(chunks) == 4

    env = worker_env(queue)
    worker = Worker(env=env, queue=queue, log_dir=tmp_path)
    try:
        with RowLock(chunks[2].case_ids[0]):
            worker.start()
            sweep(env)  # queues the four chunks
            wait_for(waiting_on_a_lock, 60, "worker blocked in chunk 3", worker)
            applied = set(
                run.chunks.filter(applied_at__isnull=False).values_list("number", flat=True)
            )
            assert applied == {1, 2}
            worker.kill()
        worker.start()

        def finished() -> bool:
            if ReevaluationRun.objects.get(pk=run.pk).state == "done":
                return True
            sweep(env)
            time.sleep(1)
            return False

        wait_for(finished, 90, "run finished", worker)
    finally:
        worker.stop()

    run.refresh_from_db()
    assert (run.total_cases, run.done_cases, run.changed_cases) == (CASES, CASES, CASES)
    attempts = dict(run.chunks.values_list("number", "attempts"))
    assert attempts[3] == 2  # taken again after the kill
    assert run.chunks.filter(applied_at__isnull=True).count() == 0
    # Each case moved once: one move row and one history row with the reason, no more.
    assert run.moves.count() == CASES
    for case in cases:
        deadline = Deadline.objects.get(case=case, key="ofpra_submission")
        assert deadline.due == dt.date(2026, 4, 18)
        reasons = list(
            deadline.history.filter(history_change_reason__startswith="rule pack").values_list(
                "history_change_reason", flat=True
            )
        )
        assert reasons == [f"rule pack v{draft.number} published: {REASON}"]
        assert Case.objects.get(pk=case.pk).evaluated_pack_version_id == draft.pk
