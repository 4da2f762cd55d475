"""The beat entry that sweeps re-evaluations and impact runs (created after every migrate)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

SWEEP_SCHEDULE_NAME = "Re-evaluation sweep"
SWEEP_TASK = "cases.sweep_reevaluations"


def ensure_sweep_schedule(*, using: str = "default", **kwargs: Any) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=SWEEP_SCHEDULE_NAME).exists():
        return
    minutes = max(1, settings.REEVALUATION_SWEEP_MINUTES)
    interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=minutes, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.using(using).create(
        name=SWEEP_SCHEDULE_NAME,
        task=SWEEP_TASK,
        interval=interval,
        expire_seconds=minutes * 60,
        last_run_at=timezone.now() - dt.timedelta(minutes=minutes),
        description="Queues re-evaluation chunks and impact runs a dead worker or a lost "
        "message left behind (cases/reevaluation.py).",
    )
