"""Queues per task kind (README "Scaling out"): CELERY_QUEUE_SENDING, _PLANNING, _REEVALUATION
send each kind of task to a queue of its own, so workers can be given to each kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from project.env import TASK_KINDS, celery_task_routes

ROOT = Path(__file__).resolve().parent.parent


def test_without_queue_settings_every_task_goes_to_the_default_queue() -> None:
    assert celery_task_routes(environ={}) == {}
    assert celery_task_routes(environ={"CELERY_QUEUE_SENDING": "  "}) == {}


def test_each_kind_goes_to_the_queue_its_setting_names() -> None:
    routes = celery_task_routes(
        environ={"CELERY_QUEUE_SENDING": "alerts", "CELERY_QUEUE_REEVALUATION": "law-changes"}
    )
    assert routes["notifications.send_notification"] == {"queue": "alerts"}
    assert routes["notifications.send_recompute_notice"] == {"queue": "alerts"}
    assert routes["cases.apply_reevaluation_chunk"] == {"queue": "law-changes"}
    assert routes["cases.run_impact"] == {"queue": "law-changes"}
    # Planning was not given a queue: its tasks stay on the default one.
    assert "notifications.plan_due_alerts" not in routes


def test_a_queue_name_that_is_not_a_plain_word_is_refused_naming_the_setting() -> None:
    with pytest.raises(ImproperlyConfigured, match="CELERY_QUEUE_PLANNING"):
        celery_task_routes(environ={"CELERY_QUEUE_PLANNING": "alerts queue"})


def test_every_routed_task_exists() -> None:
    """A renamed task would silently leave its kind on the default queue."""
    from project.celery import app

    app.loader.import_default_modules()
    routed = {name for names in TASK_KINDS.values() for name in names}
    assert routed - set(app.tasks) == set()
    # Every task of ours that sends or plans alerts or re-evaluates cases has a kind.
    ours = {
        name
        for name in app.tasks
        if name.startswith(("notifications.send", "notifications.plan", "cases.apply"))
    }
    assert ours <= routed


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real Celery broker")
def test_a_task_queued_by_the_app_lands_in_its_kinds_queue_in_redis() -> None:
    import redis

    alerts = f"test-alerts-{uuid.uuid4().hex[:12]}"
    default = f"test-default-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_FILE")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": default,
            "CELERY_QUEUE_SENDING": alerts,
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
    )
    env.pop("CELERY_QUEUE_PLANNING", None)
    # Queued the way the app queues them, in a process that reads its settings from the
    # environment as a web process or worker does.
    script = (
        "import django; django.setup()\n"
        "from notifications.tasks import send_notification, plan_case_alerts\n"
        "send_notification.delay(123456)\n"
        "plan_case_alerts.delay(654321)\n"
        "from project.celery import app\n"
        "print(' '.join(sorted(app.amqp.queues.consume_from)))\n"
    )
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        sent = [json.loads(raw)["headers"]["task"] for raw in client.lrange(alerts, 0, -1)]
        planned = [json.loads(raw)["headers"]["task"] for raw in client.lrange(default, 0, -1)]
        assert sent == ["notifications.send_notification"]
        assert planned == ["notifications.plan_case_alerts"]
        # A worker started without -Q reads both queues: nothing routed is left unread.
        assert done.stdout.decode().split() == sorted([alerts, default])
    finally:
        # The queues and kombu's bindings of them.
        for name in (alerts, default):
            for key in [name.encode(), *client.scan_iter(match=f"*{name}*")]:
                client.delete(key)
