"""Telling caseworkers which of their cases moved after a rule pack was published.

When a re-evaluation run finishes (cases.reevaluation.after_run_finished, on commit),
`plan_notices` creates one RecomputeNotice per caseworker whose cases moved (a unique key per
run and recipient: planning twice creates nothing more), and each is sent by `send_notice`,
which claims the row with a conditional update like the alert sender. The email lists each
moved deadline: file reference, step, old date → new date; no applicant name. The periodic
planner plans the notices of recently finished runs and queues unsent ones again, so a worker
killed between the run's end and the emails loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cases.dashboard import status_text
from cases.models import DeadlineMove, ReevaluationRun
from cases.procedures import procedure_name

from .models import RecomputeNotice
from .transports import Outgoing, TransportError, transport_for

logger = logging.getLogger(__name__)

Status = RecomputeNotice.Status


def staff_language(user: Any) -> str:
    """The language a staff member reads: the site's default (accounts have no preference)."""
    return str(getattr(user, "language", "") or settings.LANGUAGE_CODE)[:2]


def moved(run_id: int) -> QuerySet[DeadlineMove]:
    """The run's moves a caseworker is told about: a due date that changed, appeared or went."""
    return (
        DeadlineMove.objects.filter(run_id=run_id, assigned_to__isnull=False)
        .exclude(old_due=F("new_due"))
        .select_related("case", "assigned_to")
        .order_by("case__reference", "key")
    )


def plan_notices(run_id: int) -> list[int]:
    """Create the run's notices (once); returns the ids of those still to send."""
    run = ReevaluationRun.objects.filter(pk=run_id, state=ReevaluationRun.State.DONE).first()
    if run is None:
        return []
    # The recipients in one query: the run's moves (a row per moved deadline, tens of thousands
    # after a law change every case feels) are read by each notice's email, not here. Reading
    # them all as objects to find a few caseworkers took 2 s a 10,000 cases, on the worker that
    # finished the run, after the run's last chunk.
    recipient_ids = moved(run_id).order_by().values_list("assigned_to_id", flat=True).distinct()
    RecomputeNotice.objects.bulk_create(
        [
            RecomputeNotice(run=run, recipient_id=user.pk, language=staff_language(user))
            for user in get_user_model().objects.filter(pk__in=recipient_ids).order_by("pk")
        ],
        ignore_conflicts=True,
    )
    return list(
        RecomputeNotice.objects.filter(run=run, status=Status.PLANNED).values_list("pk", flat=True)
    )


def render_notice(notice: RecomputeNotice) -> tuple[str, str]:
    """Subject and text of a notice, in its language."""
    run = notice.run
    version = run.pack_version
    with translation.override(notice.language):
        by_case: dict[int, list[dict[str, Any]]] = defaultdict(list)
        references: dict[int, str] = {}
        for move in moved(run.pk).filter(assigned_to_id=notice.recipient_id):
            references[move.case_id] = move.case.reference
            by_case[move.case_id].append(
                {
                    "label": move.label_in(notice.language),
                    "old": move.old_due,
                    "new": move.new_due,
                    "new_status": move.new_status,
                    # Said in words when it changed: the date alone may not move (a step now
                    # met, or in time only if the limit is extended).
                    "statuses": (
                        (status_text(move.old_status), status_text(move.new_status))
                        if move.old_status
                        and move.new_status
                        and move.old_status != move.new_status
                        else None
                    ),
                }
            )
        context = {
            "pack": procedure_name(version.pack),
            "version": version.number,
            "reason": version.publish_reason,
            "cases": [
                {
                    "reference": references[case_id],
                    "url": f"{settings.ALERT_BASE_URL}/cases/{case_id}/",
                    "moves": moves,
                }
                for case_id, moves in sorted(by_case.items(), key=lambda i: references[i[0]])
            ],
        }
        subject = render_to_string("notifications/recompute/notice.subject.txt", context)
        text = render_to_string("notifications/recompute/notice.txt", context)
    return " ".join(subject.split()), text


def claim(notice_id: int, now: dt.datetime) -> bool:
    lease_start = now - dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)
    return bool(
        RecomputeNotice.objects.filter(pk=notice_id)
        .filter(Q(status=Status.PLANNED) | Q(status=Status.SENDING, claimed_at__lt=lease_start))
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def send_notice(notice_id: int) -> str:
    """Send one notice once: "sent", "skipped" (not ours to send), "retry" or "failed"."""
    now = timezone.now()
    if not claim(notice_id, now):
        return "skipped"
    notice = RecomputeNotice.objects.select_related("run__pack_version__pack", "recipient").get(
        pk=notice_id
    )
    subject, text = render_notice(notice)
    outgoing = Outgoing(
        to=notice.recipient.email if notice.recipient.is_active else "",
        subject=subject,
        text=text,
        html="",
        reference=f"recompute-{notice.pk}",
    )
    try:
        transport_for("email").send(outgoing)
    except TransportError as error:
        final = error.permanent or notice.attempts >= settings.ALERT_MAX_ATTEMPTS
        RecomputeNotice.objects.filter(pk=notice_id).update(
            status=Status.FAILED if final else Status.PLANNED, last_error=str(error)[:2000]
        )
        return "failed" if final else "retry"
    RecomputeNotice.objects.filter(pk=notice_id).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def notices_to_queue(now: dt.datetime) -> list[int]:
    """Notices of runs finished in the last week: planned ones (queued long ago or never) and
    ones left "sending" by a dead worker. Plans the notices of those runs first."""
    week_ago = now - dt.timedelta(days=7)
    for run_id in ReevaluationRun.objects.filter(
        state=ReevaluationRun.State.DONE, finished_at__gte=week_ago
    ).values_list("pk", flat=True):
        plan_notices(run_id)
    requeue = now - dt.timedelta(seconds=settings.ALERT_REQUEUE_SECONDS)
    lease_start = now - dt.timedelta(seconds=settings.ALERT_SENDING_LEASE_SECONDS)
    return list(
        RecomputeNotice.objects.filter(
            Q(status=Status.PLANNED, enqueued_at__isnull=True)
            | Q(status=Status.PLANNED, enqueued_at__lt=requeue)
            | Q(status=Status.SENDING, claimed_at__lt=lease_start)
        ).values_list("pk", flat=True)
    )
