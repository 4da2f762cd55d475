"""Writes to alerts from people: acknowledge one, retry failed ones."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from cases.models import Membership

from .models import Notification

Status = Notification.Status


def can_acknowledge(notification: Notification, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The recipient, or a supervisor of the case's organisation."""
    if not user.is_authenticated or not notification.is_staff_alert:
        return False
    if notification.recipient_user_id == user.pk:
        return True
    return Membership.objects.filter(
        user_id=user.pk,
        role=Membership.Role.SUPERVISOR,
        organisation_id=notification.case.organisation_id,
    ).exists()


@transaction.atomic
def acknowledge(notification: Notification, user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Mark a staff alert as seen; an acknowledged overdue alert stops its escalation.

    Returns False when it was already acknowledged (the first acknowledgement is kept).
    """
    now = timezone.now()
    done = Notification.objects.filter(pk=notification.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now,
        acknowledged_by_id=user.pk if user is not None else None,
        updated_at=now,
    )
    if not done:
        return False
    if notification.kind == Notification.Kind.OVERDUE:
        Notification.objects.filter(
            case_id=notification.case_id,
            deadline_key=notification.deadline_key,
            due=notification.due,
            kind=Notification.Kind.ESCALATION,
            status=Status.PLANNED,
        ).update(
            status=Status.CANCELLED,
            cancelled_at=now,
            cancel_reason="overdue alert acknowledged",
            updated_at=now,
        )
    notification.refresh_from_db()
    return True


def retry_failed(ids: Iterable[int]) -> int:
    """Plan failed alerts again, due now, with a fresh count of attempts; queue them on commit."""
    from .dispatch import enqueue

    now = timezone.now()
    with transaction.atomic():
        pks = list(
            Notification.objects.filter(pk__in=list(ids), status=Status.FAILED).values_list(
                "pk", flat=True
            )
        )
        Notification.objects.filter(pk__in=pks, status=Status.FAILED).update(
            status=Status.PLANNED,
            send_after=now,
            attempts=0,
            enqueued_at=None,
            claimed_at=None,
            last_error="",
            updated_at=now,
        )
        transaction.on_commit(lambda: enqueue(pks))
    return len(pks)
