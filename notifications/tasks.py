"""Celery tasks: they take ids, are queued on commit, and can run twice without harm.

Late acknowledgement and a prefetch of one are set for every task in project/celery.py, so a
worker killed mid-task leaves its message to be delivered again; the conditional claim in
sender.py makes that second delivery a no-op when the first one finished.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import planner, recompute, sender
from .dispatch import dispatch_due

logger = logging.getLogger(__name__)


@shared_task(name="notifications.plan_due_alerts", acks_late=True, ignore_result=True)
def plan_due_alerts() -> None:
    """Beat, every few minutes: plan the cases changed since the last run (their on-commit
    planning may have been lost) and queue whatever is due (an indexed query on due rows)."""
    planner.run_planner(incremental=True)
    queue_notices(recompute.notices_to_queue(timezone.now()))


@shared_task(name="notifications.sweep_alert_plans", acks_late=True, ignore_result=True)
def sweep_alert_plans() -> None:
    """Beat, daily: re-plan every open case's alerts, for safety."""
    planner.run_planner()


@shared_task(name="notifications.plan_case_alerts", acks_late=True, ignore_result=True)
def plan_case_alerts(case_id: int) -> None:
    """After a case's deadlines changed: re-plan that case, queue what became due."""
    planner.plan_cases([case_id])
    transaction.on_commit(lambda: dispatch_due(case_ids=[case_id]))


@shared_task(
    bind=True,
    name="notifications.send_notification",
    acks_late=True,
    ignore_result=True,
    max_retries=None,
)
def send_notification(self: Any, notification_id: int) -> str:
    """Send one alert. Transient errors come back with exponential backoff; the number of
    attempts is bounded by ALERT_MAX_ATTEMPTS, counted in the database so that it survives
    restarts; permanent errors stop at once and show in the admin."""
    outcome = sender.send_notification(notification_id)
    if outcome.retry_in is not None:
        # The row already says planned, due at the retry time: if this message is lost, the
        # dispatcher queues it again.
        raise self.retry(countdown=outcome.retry_in, max_retries=settings.ALERT_MAX_ATTEMPTS)
    return outcome.status


def schedule_case_planning(case_id: int) -> None:
    """cases.actions.after_deadlines_change hook, called on commit: queue the case's planning.

    A broker that is down must not fail the caseworker's save (already committed): the
    periodic planner picks the case up on its next run.
    """
    try:
        plan_case_alerts.delay(case_id)
    except Exception as error:  # kombu's OperationalError, redis' ConnectionError, OSError...
        logger.warning(
            "case %d: alert planning not queued (%s); the periodic planner will plan it",
            case_id,
            type(error).__name__,
        )


@shared_task(name="notifications.plan_cases_alerts", acks_late=True, ignore_result=True)
def plan_cases_alerts(case_ids: list[int]) -> None:
    """After many cases were re-evaluated at once: re-plan them in one go."""
    planner.plan_cases(case_ids)
    transaction.on_commit(lambda: dispatch_due(case_ids=case_ids))


def schedule_cases_planning(case_ids: list[int]) -> None:
    """cases.actions.after_many_deadlines_change hook, on commit: one task for the lot."""
    try:
        plan_cases_alerts.delay(list(case_ids))
    except Exception as error:
        logger.warning(
            "%d cases: alert planning not queued (%s); the periodic planner will plan them",
            len(case_ids),
            type(error).__name__,
        )


@shared_task(name="notifications.send_recompute_notice", acks_late=True, ignore_result=True)
def send_recompute_notice(notice_id: int) -> str:
    return recompute.send_notice(notice_id)


def queue_notices(notice_ids: list[int]) -> int:
    queued = []
    try:
        for pk in notice_ids:
            send_recompute_notice.delay(pk)
            queued.append(pk)
    except Exception as error:
        logger.warning(
            "%d of %d notices queued (%s); the periodic planner queues the rest",
            len(queued),
            len(notice_ids),
            type(error).__name__,
        )
    recompute.RecomputeNotice.objects.filter(pk__in=queued).update(enqueued_at=timezone.now())
    return len(queued)


def notify_caseworkers(run_id: int) -> None:
    """cases.reevaluation.after_run_finished hook, on commit: plan and queue the notices."""
    queue_notices(recompute.plan_notices(run_id))
