"""The alerts watch themselves: /healthz/alerts and `manage.py check_alerts` fail when the
planner has not run lately or the oldest due alert is late."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cases.models import Case
from notifications.models import Notification, PlannerRun
from notifications.planner import plan_cases
from tests.notifications.conftest import NOW

pytestmark = pytest.mark.django_db


def ran_planner(minutes_ago: float) -> None:
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    PlannerRun.objects.create(started_at=at, finished_at=at)


def test_it_is_unhealthy_until_the_planner_has_run(client: Client) -> None:
    response = client.get("/healthz/alerts")
    assert response.status_code == 503
    assert response.json()["problems"] == ["the planner has never finished a run"]


def test_it_is_healthy_when_the_planner_ran_lately_and_nothing_due_waits(client: Client) -> None:
    ran_planner(minutes_ago=3)
    response = client.get("/healthz/alerts")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["problems"] == []
    assert body["planner"]["age_seconds"] == pytest.approx(180, abs=5)


def test_a_planner_silent_for_too_long_is_unhealthy(client: Client) -> None:
    ran_planner(minutes_ago=16)
    response = client.get("/healthz/alerts")
    assert response.status_code == 503
    assert response.json()["problems"] == ["the planner last finished 16 minutes ago"]


def test_a_due_alert_waiting_too_long_is_unhealthy(client: Client, deadline_case: Case) -> None:
    ran_planner(minutes_ago=1)
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.update(send_after=timezone.now() + dt.timedelta(days=1))
    Notification.objects.filter(lead_days=5).update(
        send_after=timezone.now() - dt.timedelta(minutes=20),
        created_at=timezone.now() - dt.timedelta(days=3),
    )
    body = client.get("/healthz/alerts").json()
    assert body["status"] == "error"
    assert body["problems"] == ["the oldest due alert has waited 20 minutes"]
    assert body["queue"]["planned"] == 5
    assert body["due_now"] == 1


def test_an_alert_planned_just_now_for_a_past_moment_is_not_late_yet(
    client: Client, deadline_case: Case
) -> None:
    """The first run after a start plans overdue alerts for mornings already past: the health
    check counts their lateness from when they were planned, so it is healthy from the start."""
    ran_planner(minutes_ago=0)
    plan_cases([deadline_case.pk], now=NOW)
    Notification.objects.update(send_after=timezone.now() + dt.timedelta(days=1))
    Notification.objects.filter(lead_days=5).update(
        send_after=timezone.now() - dt.timedelta(days=3),
        created_at=timezone.now() - dt.timedelta(minutes=1),
    )
    body = client.get("/healthz/alerts").json()
    assert body["status"] == "ok", body
    assert body["due_now"] == 1
    assert body["oldest_due"]["lateness_seconds"] == pytest.approx(60, abs=5)


@pytest.mark.parametrize("path", ["/healthz", "/healthz/alerts"])
def test_health_checks_answer_a_probe_whatever_its_host_header(
    client: Client, settings: Any, path: str
) -> None:
    """Docker's healthcheck calls 127.0.0.1 while ALLOWED_HOSTS holds the public name only."""
    settings.ALLOWED_HOSTS = ["delais.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    ran_planner(minutes_ago=1)
    response = client.get(path, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Any other page still refuses a host it does not know.
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_the_health_page_carries_counts_only(client: Client, deadline_case: Case) -> None:
    ran_planner(minutes_ago=1)
    plan_cases([deadline_case.pk], now=NOW)
    content = client.get("/healthz/alerts").content.decode()
    for personal in ("A-001", "Amina", "carla", "OFPRA"):
        assert personal not in content


def test_check_alerts_exits_non_zero_when_unhealthy_and_zero_when_healthy() -> None:
    with pytest.raises(CommandError, match="the planner has never finished a run"):
        call_command("check_alerts", stdout=StringIO())
    ran_planner(minutes_ago=1)
    out = StringIO()
    call_command("check_alerts", stdout=out)
    assert json.loads(out.getvalue())["status"] == "ok"


def test_plan_alerts_runs_the_planner_once(deadline_case: Case, celery_eager: None) -> None:
    out = StringIO()
    call_command("plan_alerts", "--no-dispatch", stdout=out)
    # Planned as of today: the March 2026 deadline is long past, so only its overdue alert.
    assert "1 cases: 1 alerts created, 0 revived, 0 cancelled, 0 queued" in out.getvalue()
    assert PlannerRun.objects.filter(finished_at__isnull=False).count() == 1


def test_the_beat_schedule_runs_the_planner_every_five_minutes() -> None:
    from django_celery_beat.models import PeriodicTask

    task: Any = PeriodicTask.objects.get(task="notifications.plan_due_alerts")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (5, "minutes")
    assert task.expire_seconds == 300
