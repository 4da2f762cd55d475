"""Personal data of applicants: who viewed it, what is kept about one person, and when it goes.

- `record_views` writes the audit trail (CaseView) of the case page, the CSV export, the
  calendar feed and the personal data export; supervisors and admins read it.
- `personal_data` gathers everything stored about one applicant (their case) as plain data.
- `anonymise_case` replaces the applicant's personal data, in the case, its facts, its alerts and
  every historical row of them; `cases_to_anonymise` lists closed cases past
  settings.CASE_RETENTION_DAYS, which the daily task `cases.anonymise_closed_cases` processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from project.beat import ensure_interval_task

from .models import Case, CaseEvent, CaseView, NewElement

ANONYMISED = "anonymised"


def record_views(user: Any, case_ids: Iterable[int], through: str) -> None:
    """Note that `user` saw these cases' personal data (one row per case)."""
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    CaseView.objects.bulk_create(
        [CaseView(case_id=case_id, user_id=user_id, through=through) for case_id in set(case_ids)]
    )


def record_views_of(user: Any, case_ids: QuerySet[Any, Any], through: str) -> set[int]:
    """Note that `user` saw the cases a query names (`.values("case_id")`, one row per case);
    returns their ids.

    One INSERT … SELECT: the rows are written by the database, not built here one per case
    (a CSV export of a caseworker's deadlines names thousands of cases). Every row has the
    same time, the moment of the export.
    """
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    now = timezone.now()
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        found = set(case_ids.values_list("case_id", flat=True))
        CaseView.objects.bulk_create(
            [CaseView(case_id=pk, user_id=user_id, through=through, at=now) for pk in found]
        )
        return found
    try:
        select, params = case_ids.query.sql_with_params()
    except EmptyResultSet:  # .none(): an invalid filter matches nothing
        return set()
    quote = connection.ops.quote_name
    fields = CaseView._meta
    column = {field.name: field.column for field in fields.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in ("case", "user", "through", "at"))
    case_column = quote(column["case"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(fields.db_table)} ({columns}) "
            f"SELECT viewed.case_id, %s, %s, %s FROM ({select}) viewed RETURNING {case_column}",
            [user_id, through, fields.get_field("at").get_db_prep_save(now, connection), *params],
        )
        return {row[0] for row in cursor.fetchall()}


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _row(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _when(getattr(obj, name)) for name in fields}


def personal_data(case: Case) -> dict[str, Any]:
    """Everything stored about the applicant of a case, as JSON-ready data."""
    case_fields = [
        "id",
        "reference",
        "applicant_name",
        "department",
        "preferred_language",
        "phone",
        "email",
        "sms_consent",
        "email_consent",
        "state",
        "previous_reexaminations",
        "created_at",
        "updated_at",
        "closed_at",
        "anonymised_at",
    ]
    history_fields = ["history_date", "history_type", "history_change_reason"]
    return {
        "case": {
            **_row(case, case_fields),
            "organisation": case.organisation.name,
            "procedure": case.procedure.key,
            "assigned_to": case.assigned_to.get_username(),
        },
        "events": [
            _row(e, ["id", "type", "date", "outcome", "note", "created_at"])
            for e in case.events.all()
        ],
        "new_elements": [
            _row(n, ["id", "date", "known_on", "description", "created_at"])
            for n in case.new_elements.all()
        ],
        "deadlines": [
            _row(d, ["key", "label", "due", "status", "completed_on", "legal_basis"])
            for d in case.deadlines.all()
        ],
        "alerts": [
            _row(
                n,
                [
                    "id",
                    "kind",
                    "audience",
                    "channel",
                    "due",
                    "language",
                    "status",
                    "send_after",
                    "sent_at",
                ],
            )
            for n in case.notifications.order_by("send_after", "id")
        ],
        "history": {
            "case": [
                _row(h, [*history_fields, "applicant_name", "phone", "email", "state"])
                for h in Case.history.filter(id=case.pk).order_by("history_date")
            ],
            "events": [
                _row(h, [*history_fields, "id", "type", "date", "note"])
                for h in CaseEvent.history.filter(case_id=case.pk).order_by("history_date")
            ],
            "new_elements": [
                _row(h, [*history_fields, "id", "date", "description"])
                for h in NewElement.history.filter(case_id=case.pk).order_by("history_date")
            ],
        },
        "views": [
            {"at": _when(v.at), "through": v.through, "user_id": v.user_id}
            for v in case.views.all()
        ],
    }


def cases_to_anonymise(now: dt.datetime | None = None) -> QuerySet[Case]:
    """Closed cases whose retention period is over and that still hold personal data."""
    days = settings.CASE_RETENTION_DAYS
    if days <= 0:
        return Case.objects.none()
    limit = (now or timezone.now()) - dt.timedelta(days=days)
    return Case.objects.filter(
        state=Case.State.CLOSED, closed_at__lte=limit, anonymised_at__isnull=True
    ).order_by("closed_at", "pk")


@transaction.atomic
def anonymise_case(case_id: int) -> bool:
    """Replace a closed case's personal data everywhere it is kept; False if already done."""
    from notifications.models import DeliveryAttempt, Notification

    case = Case.objects.select_for_update().filter(pk=case_id, anonymised_at__isnull=True).first()
    if case is None or case.state != Case.State.CLOSED:
        return False
    reference = f"{ANONYMISED}-{case.pk}"
    personal = {
        "applicant_name": ANONYMISED,
        "reference": reference,
        "phone": "",
        "email": "",
        "sms_consent": False,
        "email_consent": False,
    }
    # Updates, not saves: no new historical row, and the old ones are rewritten below.
    Case.objects.filter(pk=case.pk).update(anonymised_at=timezone.now(), **personal)
    Case.history.filter(id=case.pk).update(**personal)
    CaseEvent.objects.filter(case_id=case.pk).update(note="")
    CaseEvent.history.filter(case_id=case.pk).update(note="")
    NewElement.objects.filter(case_id=case.pk).update(description="")
    NewElement.history.filter(case_id=case.pk).update(description="")
    # Transport errors can quote an address.
    Notification.objects.filter(case_id=case.pk).update(last_error="")
    DeliveryAttempt.objects.filter(notification__case_id=case.pk).update(error="")
    return True


ANONYMISE_SCHEDULE_NAME = "anonymise closed cases"


def ensure_anonymisation_schedule(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: the daily beat entry of the anonymisation task (kept if an admin edited it)."""
    from .tasks import ANONYMISE_TASK

    # A missed day is done by the next run: nothing piles up behind a stopped worker.
    ensure_interval_task(
        name=ANONYMISE_SCHEDULE_NAME,
        task=ANONYMISE_TASK,
        every=1,
        period="days",
        description="Anonymises closed cases past CASE_RETENTION_DAYS (cases/privacy.py).",
        using=using,
    )


def anonymise_closed_cases(now: dt.datetime | None = None) -> int:
    """Anonymise every case due; one transaction per case. Returns how many were."""
    done = 0
    for case_id in cases_to_anonymise(now).values_list("pk", flat=True).iterator():
        done += anonymise_case(case_id)
    return done
