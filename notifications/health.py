"""Is the alert machinery working? Two questions, both answered from the database.

1. Has the planner finished a run within ALERT_PLANNER_MAX_AGE_MINUTES? (Beat and a worker are
   both alive and reach the database.)
2. Has the oldest due alert waited less than ALERT_MAX_LATENESS_MINUTES since it was due and
   planned? (Workers keep up, the broker carries messages, the transports answer.)

Counts only: nothing personal. Used by /healthz/alerts, `manage.py check_alerts` and the admin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import Notification, PlannerRun

Status = Notification.Status


def queue_depth() -> dict[str, int]:
    counts = dict(
        Notification.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in Status.values}


def alert_health(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    problems: list[str] = []
    max_age = dt.timedelta(minutes=settings.ALERT_PLANNER_MAX_AGE_MINUTES)
    max_lateness = dt.timedelta(minutes=settings.ALERT_MAX_LATENESS_MINUTES)
    lease_start = now - dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)

    last_run = (
        PlannerRun.objects.filter(finished_at__isnull=False, error="")
        .order_by("-finished_at")
        .first()
    )
    planner_age = (
        (now - last_run.finished_at).total_seconds()
        if (last_run and last_run.finished_at)
        else None
    )
    if planner_age is None:
        problems.append("the planner has never finished a run")
    elif planner_age > max_age.total_seconds():
        problems.append(f"the planner last finished {int(planner_age // 60)} minutes ago")

    # An alert is late from the moment it was due *and* existed: one planned just now for a
    # moment already past (an overdue alert for a deadline entered late, the first run after a
    # deployment) is not 3 days late, and must not fail the health check before a worker has
    # had a chance to send it.
    oldest_due = (
        Notification.objects.filter(status=Status.PLANNED, send_after__lte=now)
        .annotate(due_since=Greatest("send_after", "created_at"))
        .order_by("due_since")
        .values_list("due_since", flat=True)
        .first()
    )
    lateness = (now - oldest_due).total_seconds() if oldest_due else 0.0
    if lateness > max_lateness.total_seconds():
        problems.append(f"the oldest due alert has waited {int(lateness // 60)} minutes")

    stuck = Notification.objects.filter(status=Status.SENDING, claimed_at__lt=lease_start).count()
    if stuck:
        problems.append(f"{stuck} alerts stuck in sending beyond the lease")
    failed_day = Notification.objects.filter(
        status=Status.FAILED, updated_at__gte=now - dt.timedelta(days=1)
    ).count()
    return {
        "status": "error" if problems else "ok",
        "problems": problems,
        "planner": {
            "last_finished_at": last_run.finished_at.isoformat()
            if (last_run and last_run.finished_at)
            else None,
            "age_seconds": round(planner_age) if planner_age is not None else None,
            "max_age_seconds": int(max_age.total_seconds()),
        },
        "oldest_due": {
            "send_after": oldest_due.isoformat() if oldest_due else None,
            "lateness_seconds": round(lateness),
            "max_lateness_seconds": int(max_lateness.total_seconds()),
        },
        "queue": queue_depth(),
        "due_now": Notification.objects.filter(status=Status.PLANNED, send_after__lte=now).count(),
        "stuck_sending": stuck,
        "failed_last_24h": failed_day,
    }
