"""Alerts are planned when a case's deadlines change, not by rescanning every open case: the
frequent run takes only what changed since its last run, a daily sweep re-plans everything."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.models import Case, Deadline, Organisation
from notifications import tasks
from notifications.models import Notification, PlannerRun
from notifications.planner import changed_since, run_planner
from rules.models import PackVersion
from tests.notifications.conftest import KEY, make_deadline_case


def _written_long_ago(case: Case, when: dt.datetime) -> None:
    Case.objects.filter(pk=case.pk).update(updated_at=when)
    Deadline.objects.filter(case=case).update(updated_at=when)


def test_it_plans_only_the_cases_changed_since_its_last_run_and_the_sweep_plans_the_rest(
    asylum_pack: PackVersion, org_a: Organisation, caseworker: User
) -> None:
    now = timezone.now()
    due = timezone.localdate() + dt.timedelta(days=10)
    # Written yesterday, and its on-commit planning lost (tests do not run on-commit hooks).
    quiet = make_deadline_case(org_a, caseworker, asylum_pack, deadlines={KEY: due})
    _written_long_ago(quiet, now - dt.timedelta(days=1))
    PlannerRun.objects.create(started_at=now - dt.timedelta(minutes=5), finished_at=now)
    # Written since the last run, its planning lost too.
    lost = make_deadline_case(org_a, caseworker, asylum_pack, deadlines={KEY: due})

    run = run_planner(incremental=True, dispatch=False)
    assert run.cases == 1
    assert Notification.objects.filter(case=lost, deadline_key=KEY).exists()
    assert not Notification.objects.filter(case=quiet).exists()

    tasks.sweep_alert_plans()  # the daily safety sweep
    assert Notification.objects.filter(case=quiet, deadline_key=KEY).exists()


def test_it_takes_again_a_case_whose_overdue_alert_was_acknowledged_since_its_last_run(
    deadline_case: Case,
) -> None:
    now = timezone.now()
    run_planner(dispatch=False)
    _written_long_ago(deadline_case, now - dt.timedelta(days=1))
    assert changed_since(now - dt.timedelta(minutes=5)) == []
    # The escalation to supervisors counts from the caseworker's overdue alert.
    Notification.objects.filter(case=deadline_case, kind="overdue").update(
        status="sent", sent_at=now - dt.timedelta(days=2), acknowledged_at=now
    )
    assert changed_since(now - dt.timedelta(minutes=5)) == [deadline_case.pk]


def test_the_full_re_plan_is_a_daily_beat_entry(db: None) -> None:
    from django_celery_beat.models import PeriodicTask

    task: Any = PeriodicTask.objects.get(task="notifications.sweep_alert_plans")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "3", "*")
