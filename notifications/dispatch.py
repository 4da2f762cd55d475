"""Queue a send task for every alert that is due, so that nothing due stays unsent.

The broker only carries ids; the table says what is due. A row is queued when it is due and was
never queued, or was queued longer ago than ALERT_REQUEUE_SECONDS and is still planned (the
message was lost: broker restarted empty, worker killed). A row claimed longer ago than
ALERT_SENDING_LEASE_SECONDS is queued again too: its worker died mid-send. A task for a row that
is no longer due does nothing, so queueing twice is harmless; queueing never is the failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from project.celery import app

from .models import Notification

logger = logging.getLogger(__name__)

Status = Notification.Status


def due_ids(*, now: dt.datetime, case_ids: Iterable[int] | None = None) -> list[int]:
    """The alerts to queue now, oldest first."""
    requeue_before = now - dt.timedelta(seconds=settings.ALERT_REQUEUE_SECONDS)
    lease_start = now - dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)
    not_queued_lately = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before)
    # Both branches match a partial index (models.Notification.Meta.indexes).
    due = Q(status=Status.PLANNED, send_after__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=lease_start
    )
    rows = Notification.objects.filter(due & not_queued_lately)
    if case_ids is not None:
        rows = rows.filter(case_id__in=list(case_ids))
    return list(rows.order_by("send_after", "id").values_list("id", flat=True))


def enqueue(ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Queue a send task per id; stop at the first broker error. Returns how many were queued.

    What could not be queued keeps enqueued_at unchanged, so the next planner run queues it.
    """
    from .tasks import send_notification

    now = now or timezone.now()
    queued: list[int] = []
    if app.conf.task_always_eager:  # debugging: the task runs here and now
        for pk in ids:
            try:
                send_notification.apply_async((pk,))
            except Exception as error:
                logger.warning("alert %d: send task failed (%s)", pk, type(error).__name__)
            queued.append(pk)
        ids = []
    try:
        if ids:
            # One connection for the whole batch.
            with app.producer_or_acquire() as producer:
                for pk in ids:
                    send_notification.apply_async((pk,), producer=producer)
                    queued.append(pk)
    except Exception as error:  # kombu's OperationalError, redis' ConnectionError, OSError...
        logger.warning(
            "broker unavailable (%s) after queueing %d of %d due alerts; the next planner run "
            "queues the rest",
            type(error).__name__,
            len(queued),
            len(ids),
        )
    for start in range(0, len(queued), 1000):
        Notification.objects.filter(pk__in=queued[start : start + 1000]).update(enqueued_at=now)
    return len(queued)


def dispatch_due(*, now: dt.datetime | None = None, case_ids: Iterable[int] | None = None) -> int:
    """Queue every due alert (of these cases); returns how many were queued."""
    now = now or timezone.now()
    return enqueue(due_ids(now=now, case_ids=case_ids), now=now)
