"""The beat entry that sweeps re-evaluations and impact runs (created after every migrate)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from project.beat import ensure_interval_task

SWEEP_SCHEDULE_NAME = "Re-evaluation sweep"
SWEEP_TASK = "cases.sweep_reevaluations"


def ensure_sweep_schedule(*, using: str = "default", **kwargs: Any) -> None:
    ensure_interval_task(
        name=SWEEP_SCHEDULE_NAME,
        task=SWEEP_TASK,
        every=max(1, settings.REEVALUATION_SWEEP_MINUTES),
        period="minutes",
        due_now=True,
        description="Queues re-evaluation chunks and impact runs a dead worker or a lost "
        "message left behind (cases/reevaluation.py).",
        using=using,
    )
