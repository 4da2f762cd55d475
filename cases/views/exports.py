"""The dashboard as a CSV file, with the same filters; safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from rules.services import today

from .. import procedures
from ..dashboard import (
    BUCKET_LABELS,
    DeadlineFilterForm,
    bucket_of,
    pending_deadlines,
    status_text,
    with_status,
)
from ..forms import person_name
from ..models import CaseView, Deadline
from ..privacy import record_views
from .common import member_or_403

# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_rows(response: HttpResponse, header: list[str], rows: Iterable[list[Any]]) -> None:
    # French spreadsheets expect ";" between cells and a byte-order mark to read UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])


@require_safe
@login_required
def deadlines_csv(request: HttpRequest) -> HttpResponse:
    membership = member_or_403(request)
    day = today()
    form = DeadlineFilterForm(request.GET, membership=membership)
    pending = pending_deadlines(form, day)
    if form.is_valid() and form.cleaned_data.get("status"):
        deadlines = with_status(pending, form, day)
    else:
        # The page lists suspended deadlines apart; the file has them all, at the end.
        deadlines = pending.order_by(F("due").asc(nulls_last=True), "case_reference", "key")
    descriptions = procedures.deadline_descriptions()
    header = [
        _("Bucket"),
        _("Due date"),
        _("Status"),
        _("File reference"),
        _("Applicant"),
        _("Department"),
        _("Procedure"),
        _("Step"),
        _("What to do"),
        _("Caseworker"),
        _("Legal basis"),
        _("Rule version"),
        _("Explanation"),
        _("Warnings"),
    ]

    procedure_names: dict[int, str] = {}

    def procedure_name(d: Deadline) -> str:
        if d.case.procedure_id not in procedure_names:
            procedure_names[d.case.procedure_id] = procedures.procedure_name(d.case.procedure)
        return procedure_names[d.case.procedure_id]

    seen: set[int] = set()

    def lines(items: Iterable[Deadline]) -> Iterable[list[Any]]:
        for d in items:
            seen.add(d.case_id)
            yield [
                BUCKET_LABELS[bucket_of(d.due, day)],
                d.due.isoformat() if d.due else "",
                status_text(d.status_on(day)),
                d.case.reference,
                d.case.applicant_name,
                d.case.department,
                procedure_name(d),
                d.label_text,
                descriptions.of(d),
                person_name(d.case.assigned_to),
                d.legal_basis,
                d.rule_version,
                d.explanation_text,
                "\n".join(_("%(title)s: %(message)s") % w for w in d.warnings),
            ]

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deadlines-{day.isoformat()}.csv"'
    write_rows(response, header, lines(deadlines.iterator(chunk_size=1000)))
    record_views(request.user, seen, CaseView.Through.CSV_EXPORT)
    return response
