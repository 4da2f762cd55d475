"""The deadlines still to be met, from stored Deadline rows: buckets, filters and counts.

Nothing here re-evaluates a case: `cases/actions.py` stored every deadline when the case last
changed. Each function runs a fixed number of queries, however many cases there are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Q, QuerySet, Value
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from rules.models import RulePack

from .access import visible_cases, visible_deadlines
from .forms import ProcedureChoiceField, person_name
from .models import PENDING_STATUSES, Case, Deadline, Membership
from .procedures import DeadlineDescriptions
from .reevaluation import is_recomputing

OVERDUE, TODAY, WEEK, LATER, SUSPENDED = "overdue", "today", "week", "later", "suspended"
BUCKETS: list[tuple[str, Any]] = [
    (OVERDUE, _("Overdue")),
    (TODAY, _("Today")),
    (WEEK, _("Next 7 days")),
    (LATER, _("Later")),
    (SUSPENDED, _("Suspended")),
]
BUCKET_LABELS = dict(BUCKETS)
STATUS_TEXT: dict[str, Any] = {
    Deadline.Status.OPEN: _("To do"),
    Deadline.Status.MET: _("Met"),
    Deadline.Status.MISSED: _("Missed"),
    Deadline.Status.SUSPENDED: _("Suspended"),
    Deadline.Status.POSSIBLY_OPEN: _("May still be possible — check with a lawyer"),
    Deadline.Status.POSSIBLY_MET: _("In time only if the limit is extended"),
}
# possibly_open is past its due date: listed as overdue, like a missed deadline still to do.
# The same values in the same order as the pending rows' partial indexes (cases/models.py).
PENDING = (
    Deadline.Status.OPEN,
    Deadline.Status.MISSED,
    Deadline.Status.SUSPENDED,
    Deadline.Status.POSSIBLY_OPEN,
)
assert PENDING == PENDING_STATUSES
ALL = "all"


def status_text(status: str) -> Any:
    """A deadline's status in words (open reads "to do")."""
    return STATUS_TEXT.get(status, status)


def bucket_conditions(today: dt.date) -> dict[str, Q]:
    return {
        OVERDUE: Q(due__lt=today),
        TODAY: Q(due=today),
        WEEK: Q(due__gt=today, due__lte=today + dt.timedelta(days=7)),
        LATER: Q(due__gt=today + dt.timedelta(days=7)),
        SUSPENDED: Q(due__isnull=True),
    }


def bucket_of(due: dt.date | None, today: dt.date) -> str:
    if due is None:
        return SUSPENDED
    if due < today:
        return OVERDUE
    if due == today:
        return TODAY
    return WEEK if due <= today + dt.timedelta(days=7) else LATER


class CaseFilterForm(forms.Form):
    """Filters shared by the dashboard, its CSV export and the case list (all optional)."""

    q = forms.CharField(label=_("Name or reference"), required=False, max_length=100)
    caseworker = forms.ChoiceField(label=_("Caseworker"), required=False)
    procedure = ProcedureChoiceField(
        label=_("Procedure"),
        required=False,
        queryset=RulePack.objects.none(),
        empty_label=_("All procedures"),
        to_field_name="key",
    )
    department = forms.ChoiceField(label=_("Department"), required=False)

    def __init__(
        self, data: Any, *, membership: Membership, everyone_by_default: bool = False
    ) -> None:
        super().__init__(data)
        self.membership = membership
        self.everyone_by_default = everyone_by_default
        members = (
            get_user_model()
            ._default_manager.filter(membership__organisation_id=membership.organisation_id)
            .order_by("first_name", "last_name", "username")
        )
        caseworker: forms.ChoiceField = self.fields["caseworker"]  # type: ignore[assignment]
        caseworker.choices = [(ALL, _("Everyone")), *((str(u.pk), person_name(u)) for u in members)]
        cases = visible_cases(membership.user)
        self.fields["procedure"].queryset = RulePack.objects.filter(  # type: ignore[attr-defined]
            pk__in=cases.values("procedure_id")
        ).order_by("name")
        department: forms.ChoiceField = self.fields["department"]  # type: ignore[assignment]
        department.choices = [
            ("", _("All departments")),
            *((d, d) for d in departments_of(membership.organisation_id)),
        ]

    def default_caseworker(self) -> str:
        """A caseworker starts with their own cases, a supervisor with the organisation's."""
        if self.everyone_by_default or self.membership.is_supervisor:
            return ALL
        return str(self.membership.user_id)

    def selected_caseworker(self) -> str:
        chosen = self.cleaned_data.get("caseworker") if self.is_valid() else ""
        return chosen or self.default_caseworker()

    def filter_cases(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        """Cases matching the filters; an invalid filter matches nothing rather than everything."""
        if not self.is_valid():
            return cases.none()
        data = self.cleaned_data
        caseworker = self.selected_caseworker()
        if caseworker != ALL:
            cases = cases.filter(assigned_to_id=int(caseworker))
        if data["procedure"] is not None:
            cases = cases.filter(procedure=data["procedure"])
        if data["department"]:
            cases = cases.filter(department=data["department"])
        if data["q"].strip():
            text = data["q"].strip()
            cases = cases.filter(Q(applicant_name__icontains=text) | Q(reference__icontains=text))
        return cases

    def filter_deadlines(self, deadlines: QuerySet[Deadline]) -> QuerySet[Deadline]:
        """Deadlines of the cases matching the filters (the same as filter_cases, read from the
        deadline rows where they carry the field); an invalid filter matches nothing."""
        if not self.is_valid():
            return deadlines.none()
        data = self.cleaned_data
        caseworker = self.selected_caseworker()
        if caseworker != ALL:
            deadlines = deadlines.filter(assigned_to_id=int(caseworker))
        if data["procedure"] is not None:
            deadlines = deadlines.filter(case__procedure=data["procedure"])
        if data["department"]:
            deadlines = deadlines.filter(case__department=data["department"])
        if data["q"].strip():
            text = data["q"].strip()
            deadlines = deadlines.filter(
                Q(case__applicant_name__icontains=text) | Q(case__reference__icontains=text)
            )
        return deadlines

    def has_active_filters(self) -> bool:
        """Whether a filter other than the search box is set (it stays unfolded on phones)."""
        return any(self.data.get(name) for name in self.fields if name != "q")

    def query_string(self, **overrides: str) -> str:
        """The current filters as a query string (for pagination and export links)."""
        values = {name: self.data.get(name, "") for name in self.fields}
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v})


# The distinct departments of an organisation's cases, from the (organisation, department) index
# a few entries at a time: each step finds the next department after the previous one. DISTINCT
# would read one index entry per case (20 ms at 100,000 cases, on every page with the filters).
_DEPARTMENTS_SQL = """
WITH RECURSIVE found(department) AS (
    (SELECT department FROM {table} WHERE organisation_id = %s ORDER BY department LIMIT 1)
    UNION ALL
    SELECT (
        SELECT department FROM {table}
        WHERE organisation_id = %s AND department > found.department
        ORDER BY department LIMIT 1
    )
    FROM found WHERE found.department IS NOT NULL
)
SELECT department FROM found WHERE department IS NOT NULL
"""


def departments_of(organisation_id: int) -> list[str]:
    """The departments of an organisation's cases, in order (the department filter's choices)."""
    if connection.vendor != "postgresql":  # SQLite skips through the index on its own
        cases = Case.objects.filter(organisation_id=organisation_id)
        return list(cases.order_by("department").values_list("department", flat=True).distinct())
    with connection.cursor() as cursor:
        cursor.execute(
            _DEPARTMENTS_SQL.format(table=connection.ops.quote_name(Case._meta.db_table)),
            [organisation_id, organisation_id],
        )
        return [department for (department,) in cursor.fetchall()]


class CaseListFilterForm(CaseFilterForm):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("Open files")),
            (Case.State.CLOSED, _("Closed files")),
            (ALL, _("All files")),
        ],
    )

    def filter_cases(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        cases = super().filter_cases(cases)
        state = self.cleaned_data.get("state") if self.is_valid() else ""
        if state == ALL:
            return cases
        return cases.filter(state=state or Case.State.OPEN)


class DeadlineFilterForm(CaseFilterForm):
    status = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("All pending")), *BUCKETS]
    )

    field_order = ["q", "caseworker", "status", "procedure", "department"]


@dataclass(frozen=True)
class Row:
    deadline: Deadline
    bucket: str
    what_to_do: str
    # The procedure is being re-evaluated and this case not yet: its date may change.
    recomputing: bool = False
    # What the row shows, ready for the template (in the active language): a page lists 45 rows,
    # and each attribute a template looks up through deadline.case… costs a chain of lookups.
    bucket_label: str = ""
    url: str = ""
    due_iso: str = ""
    due_day: str = ""
    due_text: str = ""
    applicant: str = ""
    reference: str = ""
    department: str = ""
    label: str = ""
    warnings: list[dict[str, str]] = field(default_factory=list)
    caseworker: str = ""


def pending_deadlines(form: DeadlineFilterForm, today: dt.date) -> QuerySet[Deadline]:
    """Deadlines still to be met on open cases matching the filters (status filter excluded).

    Read from the deadline rows' own copy of the case's organisation, state and caseworker
    (cases/models.py), so that an index on pending rows gives them in due-date order.
    """
    deadlines = visible_deadlines(form.membership.user).filter(
        case_open=True, status__in=PENDING, completed_on__isnull=True
    )
    return (
        form.filter_deadlines(deadlines)
        .select_related("case", "case__assigned_to", "case__procedure")
        # Each case's stored evaluation is ~2 KB of JSON that no list shows.
        .defer("case__evaluation", "case__evaluation_errors")
    )


def with_status(
    deadlines: QuerySet[Deadline], form: DeadlineFilterForm, today: dt.date
) -> QuerySet[Deadline]:
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    if status:
        deadlines = deadlines.filter(bucket_conditions(today)[status])
    else:
        deadlines = deadlines.filter(due__isnull=False)
    # The order of the pending rows' indexes (the case's reference is copied on its rows).
    return deadlines.order_by("due", "case_reference", "key")


def bucket_counts(deadlines: QuerySet[Deadline], today: dt.date) -> dict[str, int]:
    """How many deadlines fall in each bucket, in one query (COUNT(1): read from the index)."""
    counts: dict[str, int] = deadlines.order_by().aggregate(
        **{
            name: Count(Value(1), filter=condition)
            for name, condition in bucket_conditions(today).items()
        }
    )
    return counts


def listed_count(counts: dict[str, int], status: str) -> int:
    """How many rows the paginated list has, from the bucket counts (no second COUNT)."""
    if status:
        return counts[status]
    return sum(n for name, n in counts.items() if name != SUSPENDED)


class CountedPaginator(Paginator):
    """A paginator told its number of rows (Django's counts them again with a COUNT query)."""

    def __init__(self, object_list: QuerySet[Deadline], per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self.rows = object_list
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count

    def page(self, number: Any) -> Page:
        """The page's rows, the related rows joined to those 25 only: the page's ids are read
        from the index first (`OFFSET` skips index entries, not joined rows; page 40 of the
        organisation's deadlines joined 1,000 cases for 25)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return Page(rows_between(self.rows, bottom, top), number, self)


def rows_between(deadlines: QuerySet[Deadline], start: int, stop: int) -> QuerySet[Deadline]:
    """Rows `start` to `stop` of an ordered query, their ids read first: from a pending-rows
    index alone (it carries the row's id, its case and its order), and only those rows are then
    read and joined. Read in one query, PostgreSQL visited every row it skipped or filtered out
    (a search's suspended rows: 14,678 deadline rows visited for 20 shown, 124 ms)."""
    return deadlines.filter(pk__in=deadlines.values("pk")[start:stop])


def rows(
    deadlines: Any,
    today: dt.date,
    descriptions: DeadlineDescriptions,
    recomputing: dict[int, int] | None = None,
) -> list[Row]:
    """`recomputing`: reevaluation.recomputing_versions(), read once per page."""
    running = recomputing or {}
    labels = {key: str(label) for key, label in BUCKET_LABELS.items()}
    names: dict[int, str] = {}
    found = []
    for d in deadlines:
        bucket = bucket_of(d.due, today)
        case = d.case
        if case.assigned_to_id not in names:
            names[case.assigned_to_id] = person_name(case.assigned_to)
        found.append(
            Row(
                d,
                bucket,
                descriptions.of(d),
                is_recomputing(case, running),
                bucket_label=labels[bucket],
                url=reverse("case-detail", args=[d.case_id]),
                due_iso=d.due.isoformat() if d.due else "",
                due_day=date_format(d.due, "D") if d.due else "",
                due_text=date_format(d.due, "DATE_FORMAT") if d.due else "",
                applicant=case.applicant_name,
                reference=case.reference,
                department=case.department,
                label=d.label_text,
                warnings=d.warnings,
                caseworker=names[case.assigned_to_id],
            )
        )
    return found
