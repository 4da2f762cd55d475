"""The whole chain with real processes: PostgreSQL, Redis, a Celery worker subprocess, the
planner command, a real SMTP server and a Sinch-shaped HTTP server.

"Sent exactly once" is judged where the messages arrive: every email Message-ID and every SMS
client reference counted at the servers. The rows are committed (transactional tests) so that
the worker, another process, sees them in the same test database.

These need REDIS_URL and PostgreSQL (CI's first run); on SQLite (CI's second run) the test
database lives in memory, which no other process can open, so they skip.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections

from cases.models import Case, Membership, Organisation
from notifications.models import DeliveryAttempt, Notification
from notifications.schedule import local_date
from notifications.sender import send_notification
from rules.models import PackVersion
from tests.conftest import _shipped_pack
from tests.notifications.conftest import KEY, make_deadline_case
from tests.notifications.processes import (
    RedisServer,
    Worker,
    database_url,
    plan_alerts,
    start_planner,
)
from tests.notifications.servers import (
    SINCH_SENDER,
    SINCH_TOKEN,
    SinchApi,
    SmtpServer,
    free_port,
)

Status = Notification.Status

POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
needs_postgres = pytest.mark.skipif(
    not POSTGRES,
    reason="needs PostgreSQL: a worker process cannot open the SQLite test "
    "database, which lives in memory (set DATABASE_URL)",
)
needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="needs REDIS_URL: these tests run a real Celery worker "
    "against a real broker (CI sets it in its PostgreSQL run)",
)

pytestmark = [pytest.mark.integration, needs_postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Stack:
    smtp: SmtpServer
    sinch: SinchApi
    queue: str
    log_dir: Path

    def env(self, redis_url: str = "", **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "project.settings",
                "DJANGO_DEBUG": "true",
                "DATABASE_URL": database_url(settings.DATABASES["default"]),
                "DATABASE_CONN_MAX_AGE": "0",
                "REDIS_URL": redis_url or settings.REDIS_URL,
                "CELERY_TASK_DEFAULT_QUEUE": self.queue,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": self.smtp.host,
                "EMAIL_PORT": str(self.smtp.port),
                "EMAIL_USE_TLS": "false",
                "EMAIL_USE_SSL": "false",
                "EMAIL_TIMEOUT": "5",
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
                "DEFAULT_FROM_EMAIL": "delais-asile@example.org",
                "SMS_BACKEND": "sinch",
                "SMS_API_URL": self.sinch.url,
                "SMS_API_TOKEN": SINCH_TOKEN,
                "SMS_SENDER": SINCH_SENDER,
                "SMS_TIMEOUT": "5",
                # Everything planned for today is due at once, at any hour the test runs.
                "ALERT_SEND_HOUR": "0",
                "ALERT_SMS_START_HOUR": "0",
                "ALERT_SMS_END_HOUR": "24",
                # Short lease and requeue delays, so that recovery happens within the test.
                "ALERT_SENDING_LEASE_SECONDS": "3",
                "ALERT_REQUEUE_SECONDS": "2",
                "ALERT_RETRY_BASE_SECONDS": "1",
                "ALERT_MAX_ATTEMPTS": "5",
                "DJANGO_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env

    def worker(self, env: dict[str, str]) -> Worker:
        return Worker(env=env, queue=self.queue, log_dir=self.log_dir)


@pytest.fixture(scope="module", autouse=True)
def shipped_pack_back_afterwards(django_db_blocker: Any) -> Iterator[None]:
    """Transactional tests empty every table; later tests expect the shipped pack loaded."""
    yield
    with django_db_blocker.unblock():
        _shipped_pack()
        # Closed here, or the test database cannot be dropped at the end of the session.
        connections.close_all()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    smtp, sinch = SmtpServer().start(), SinchApi().start()
    queue = f"alerts-test-{uuid.uuid4().hex[:12]}"
    yield Stack(smtp=smtp, sinch=sinch, queue=queue, log_dir=tmp_path)
    smtp.stop()
    sinch.stop()
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in [queue.encode(), *client.scan_iter(match=f"*{queue}*")]:
            client.delete(key)  # the queue and kombu's bindings for it
        # Messages a killed worker held: kombu would put them back in an hour.
        for tag, raw in client.hgetall("unacked").items():
            if json.loads(raw)[2] == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)


@pytest.fixture
def people(transactional_db: None) -> tuple[Organisation, User, PackVersion]:
    pack = _shipped_pack()
    organisation = Organisation.objects.create(name="Cimade Metz")
    caseworker = User.objects.create_user("carla", email="carla@cimade-metz.example.org")
    Membership.objects.create(user=caseworker, organisation=organisation, role="caseworker")
    supervisor = User.objects.create_user("sofia", email="sofia@cimade-metz.example.org")
    Membership.objects.create(user=supervisor, organisation=organisation, role="supervisor")
    return organisation, caseworker, pack


def cases_due_today(people: tuple[Organisation, User, PackVersion], count: int) -> list[Case]:
    """Cases whose deadline falls due today: each has two alerts due now, the caseworker's
    email and the applicant's SMS (their overdue alerts are planned for tomorrow)."""
    organisation, caseworker, pack = people
    today = local_date(dt.datetime.now(dt.UTC))
    return [
        make_deadline_case(
            organisation,
            caseworker,
            pack,
            deadlines={KEY: today},
            reference=f"K-{uuid.uuid4().hex[:8]}",
            sms_consent=True,
        )
        for _ in range(count)
    ]


def due_alerts() -> list[Notification]:
    return list(Notification.objects.filter(lead_days=0).order_by("pk"))


def wait_until_sent(env: dict[str, str], expected: int, timeout: float = 60) -> None:
    """Wait for every due alert to be sent, running the planner as beat would (every 4 s
    here): it queues again whatever a dead worker left claimed or a lost message left due."""
    deadline = time.monotonic() + timeout
    next_plan = time.monotonic() + 4
    while time.monotonic() < deadline:
        if Notification.objects.filter(lead_days=0, status=Status.SENT).count() == expected:
            return
        if time.monotonic() >= next_plan:
            plan_alerts(env)
            next_plan = time.monotonic() + 4
        time.sleep(0.2)
    states = list(
        Notification.objects.filter(lead_days=0).values_list("pk", "status", "last_error")
    )
    raise AssertionError(f"not all sent after {timeout} s: {states}")


def assert_each_sent_once(stack: Stack, alerts: list[Notification]) -> None:
    emails = [a for a in alerts if a.channel == "email"]
    sms = [a for a in alerts if a.channel == "sms"]
    assert stack.smtp.message_ids() == {f"<alert-{a.pk}@example.org>": 1 for a in emails}
    assert stack.sinch.references() == {f"alert-{a.pk}": 1 for a in sms}
    assert not stack.sinch.problems


@needs_redis
def test_a_worker_killed_twice_mid_batch_sends_every_due_alert_exactly_once(
    stack: Stack, people: Any
) -> None:
    cases_due_today(people, 25)
    env = stack.env()
    # Kill 1: Sinch has accepted the 8th SMS but not answered yet; the worker never learns it
    # was sent. Kill 2: the SMTP server is still reading the 20th email's recipient.
    stack.sinch.hold_batch_number = 8
    stack.smtp.hold_rcpt_number = 20
    assert plan_alerts(env).endswith("50 queued")

    worker = stack.worker(env)
    try:
        worker.start()
        assert stack.sinch.held.wait(30), worker.log()
        worker.kill()
        worker.start()
        assert stack.smtp.held.wait(30), worker.log()
        worker.kill()
        worker.start()
        wait_until_sent(env, expected=50)
    finally:
        worker.stop()

    alerts = due_alerts()
    assert len(alerts) == 50
    assert {a.status for a in alerts} == {Status.SENT}
    assert_each_sent_once(stack, alerts)
    # The SMS whose answer was lost: found at Sinch by its reference, not sent again.
    reconciled = DeliveryAttempt.objects.get(reconciled=True)
    assert reconciled.notification.channel == "sms"
    assert reconciled.notification.provider_message_id == "01TESTBATCH000008"
    # Both interrupted calls are on record as attempts that never finished.
    assert DeliveryAttempt.objects.filter(finished_at__isnull=True).count() == 2


@needs_redis
def test_the_provider_answering_500_then_201_gives_one_retry_and_one_message(
    stack: Stack, people: Any
) -> None:
    (case,) = cases_due_today(people, 1)
    stack.sinch.fail_next = [500]
    env = stack.env()
    worker = stack.worker(env)
    try:
        worker.start()
        plan_alerts(env)
        wait_until_sent(env, expected=2, timeout=30)
    finally:
        worker.stop()
    sms = Notification.objects.get(case=case, channel="sms", lead_days=0)
    assert [r.status for r in stack.sinch.posts()] == [500, 201]
    assert stack.sinch.references() == {f"alert-{sms.pk}": 1}
    assert sms.attempts == 2
    assert list(sms.delivery_attempts.values_list("ok", "provider_status")) == [
        (False, "HTTP 500 internal_error"),
        (True, "HTTP 201"),
    ]
    assert "Retry in 1s" in worker.log()  # through Celery's own retry, with the backoff


@needs_redis
def test_two_planners_at_once_create_no_duplicate_and_send_each_alert_once(
    stack: Stack, people: Any
) -> None:
    cases_due_today(people, 20)
    env = stack.env()
    worker = stack.worker(env)
    try:
        worker.start()
        planners = [start_planner(env), start_planner(env)]
        for planner in planners:
            _, err = planner.communicate(timeout=60)
            assert planner.returncode == 0, err.decode()
        wait_until_sent(env, expected=40)
    finally:
        worker.stop()
    # Per case: the caseworker's due-day reminder and overdue alert, the applicant's SMS.
    assert Notification.objects.count() == 60
    keys = Notification.objects.values_list(
        "case_id", "deadline_key", "due", "kind", "lead_days", "channel", "recipient_key"
    )
    assert len(set(keys)) == 60
    assert_each_sent_once(stack, due_alerts())


@pytest.mark.skipif(not RedisServer.available(), reason="needs the redis-server program")
def test_redis_down_during_planning_loses_nothing_and_all_go_once_it_is_back(
    stack: Stack, people: Any
) -> None:
    redis_server = RedisServer(port=free_port()).start()
    env = stack.env(redis_url=redis_server.url)
    worker = stack.worker(env)
    try:
        # 1. Redis is down while the planner runs: the alerts are planned, nothing is queued.
        cases_due_today(people, 10)
        redis_server.kill()
        assert plan_alerts(env).endswith("0 queued")
        assert (
            Notification.objects.filter(
                lead_days=0, status=Status.PLANNED, enqueued_at__isnull=True
            ).count()
            == 20
        )
        # Redis is back: the next run queues them all.
        redis_server.start()
        worker.start()
        assert plan_alerts(env).endswith("20 queued")
        wait_until_sent(env, expected=20, timeout=30)

        # 2. Redis restarts empty after the messages were queued: they are lost; the planner
        # queues the due rows again once ALERT_REQUEUE_SECONDS have passed.
        worker.stop()
        cases_due_today(people, 5)
        assert plan_alerts(env).endswith("10 queued")
        redis_server.kill()
        redis_server.start()
        worker.start()
        wait_until_sent(env, expected=30, timeout=30)
    finally:
        worker.stop()
        redis_server.stop()
    assert_each_sent_once(stack, due_alerts())


def test_concurrent_sends_of_one_alert_on_postgres_send_it_once(people: Any, settings: Any) -> None:
    """Eight threads, eight connections, one row: the conditional update lets one through."""
    from django.core import mail
    from django.db import connection

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_SEND_HOUR = 0
    mail.outbox = []
    (case,) = cases_due_today(people, 1)
    from notifications.planner import plan_cases

    plan_cases([case.pk])
    alert = Notification.objects.get(case=case, channel="email", lead_days=0)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def send() -> None:
        try:
            barrier.wait()
            outcomes.append(send_notification(alert.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 7
    assert len(mail.outbox) == 1


@needs_redis
def test_sms_the_provider_accepts_but_answers_late_are_found_by_reference_not_sent_again(
    stack: Stack, people: Any
) -> None:
    """Every SMS is taken by the provider, which answers after SMS_TIMEOUT: each send times
    out (an unknown outcome), and the retry asks the provider by client reference first."""
    cases_due_today(people, 15)
    stack.sinch.answer_late = 15
    stack.sinch.late_seconds = 2.5
    env = stack.env(SMS_TIMEOUT="1")
    worker = stack.worker(env)
    try:
        worker.start()
        assert plan_alerts(env).endswith("30 queued")
        wait_until_sent(env, expected=30, timeout=120)
    finally:
        worker.stop()
    alerts = due_alerts()
    assert_each_sent_once(stack, alerts)
    assert len(stack.sinch.posts()) == 15  # no second POST for any of them
    sms = [a for a in alerts if a.channel == "sms"]
    for alert in sms:
        attempts = list(alert.delivery_attempts.order_by("number"))
        assert [(a.ok, a.reconciled) for a in attempts] == [(False, False), (True, True)]
        assert "TimeoutError" in attempts[0].error or "timeout" in attempts[0].error
        assert alert.provider_message_id.startswith("01TESTBATCH")


@needs_redis
def test_an_email_taken_but_answered_late_goes_again_under_the_same_message_id(
    stack: Stack, people: Any
) -> None:
    """The documented email window: SMTP cannot be asked whether it has a message, so an
    email whose acceptance was lost (the answer came after EMAIL_TIMEOUT) is sent again, with
    the same Message-ID, which mail clients show once."""
    (case,) = cases_due_today(people, 1)
    stack.smtp.answer_data_late = 1
    env = stack.env(EMAIL_TIMEOUT="1")
    worker = stack.worker(env)
    try:
        worker.start()
        plan_alerts(env)
        wait_until_sent(env, expected=2, timeout=60)
    finally:
        worker.stop()
    email = Notification.objects.get(case=case, channel="email", lead_days=0)
    assert stack.smtp.message_ids() == {f"<alert-{email.pk}@example.org>": 2}
    assert email.attempts == 2


@pytest.mark.skipif(not RedisServer.available(), reason="needs the redis-server program")
def test_a_worker_rides_out_a_redis_outage_with_tasks_in_flight_and_each_alert_goes_once(
    stack: Stack, people: Any
) -> None:
    """Redis stopped for 20 s while the worker holds unacknowledged messages (retries waiting
    for their countdown, late acknowledgement): the worker stays up, reconnects, and every
    alert is delivered exactly once (the planner queues again what Redis lost)."""
    redis_server = RedisServer(port=free_port()).start()
    # Five SMS refused with a 500: their retries wait 30 s in the worker, unacknowledged.
    stack.sinch.fail_next = [500] * 5
    env = stack.env(redis_url=redis_server.url, ALERT_RETRY_BASE_SECONDS="30")
    # Prefork, as `make run` and docker compose run it (a solo worker did not die).
    worker = Worker(
        env=env, queue=stack.queue, log_dir=stack.log_dir, pool="prefork", concurrency=2
    )
    try:
        cases_due_today(people, 20)
        worker.start()
        assert plan_alerts(env).endswith("40 queued")
        # Everything else sent, the five retries held by the idle worker: stop Redis.
        deadline = time.monotonic() + 60
        while (
            worker.full_log().count("Retry in 30s") < 5
            or Notification.objects.filter(status=Status.SENT).count() < 35
        ):
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.2)
        time.sleep(1)
        redis_server.kill()
        time.sleep(20)
        assert worker.process is not None
        assert worker.process.poll() is None, worker.log()
        redis_server.start()
        wait_until_sent(env, expected=40, timeout=120)
        assert worker.process.poll() is None, worker.log()
        log = worker.full_log()
        assert "unacknowledged message(s) left in Redis" in log
        assert "Unrecoverable error" not in log
    finally:
        worker.stop()
        redis_server.stop()
    assert worker.starts == 1
    assert_each_sent_once(stack, due_alerts())
