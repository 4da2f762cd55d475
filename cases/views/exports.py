"""The dashboard as a CSV file, with the same filters; safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from rules.models import RulePack
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
from ..models import CaseView, Deadline, status_on, text_in, warnings_in
from ..privacy import record_views_of
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


# Rows read from the database at a time (one query: a server-side cursor on PostgreSQL), and
# rows written to the response at a time (about 200 KB).
FETCH_ROWS = 2000
WRITE_ROWS = 250
# What the file shows of each deadline row: plain values, no model instances.
COLUMNS = (
    "case_id",
    "due",
    "status",
    "next_working_day",
    "case__reference",
    "case__applicant_name",
    "case__department",
    "case__procedure_id",
    "key",
    "label",
    "explanation",
    "texts",
    "legal_basis",
    "rule_version",
    "case__procedure__key",
    "case__procedure__name",
    "case__assigned_to_id",
    "case__assigned_to__username",
    "case__assigned_to__first_name",
    "case__assigned_to__last_name",
)


@require_safe
@login_required
def deadlines_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The pending deadlines as a CSV file, written while it is sent (a fixed number of queries).

    The cases it holds are recorded as viewed (one bulk insert) before the first row is sent;
    a row whose case was not recorded (added to the scope meanwhile) is left out of the file.
    """
    membership = member_or_403(request)
    day = today()
    language = get_language() or settings.LANGUAGE_CODE
    form = DeadlineFilterForm(request.GET, membership=membership)
    pending = pending_deadlines(form, day)
    if form.is_valid() and form.cleaned_data.get("status"):
        deadlines = with_status(pending, form, day)
    else:
        # The page lists suspended deadlines apart; the file has them all, at the end.
        deadlines = pending.order_by(F("due").asc(nulls_last=True), "case_reference", "key")
    exported = record_views_of(
        request.user,
        deadlines.order_by().values("case_id").distinct(),
        CaseView.Through.CSV_EXPORT,
    )
    response = StreamingHttpResponse(
        csv_lines(deadlines.values_list(*COLUMNS), exported, day, language),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="deadlines-{day.isoformat()}.csv"'
    return response


class Pieces:
    """What a csv.writer writes, kept as a list of strings until taken as bytes."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def take(self) -> bytes:
        text = "".join(self.parts)
        self.parts.clear()
        return text.encode()


def csv_lines(
    rows: QuerySet[Deadline, tuple[Any, ...]], cases: set[int], day: dt.date, language: str
) -> Iterator[bytes]:
    """The file in pieces of WRITE_ROWS rows, in `language`, of the rows whose case is in `cases`.

    Run while the response is sent, after the view has returned: the language is set again here.
    Texts shared by many rows (bucket, status, procedure, what to do, caseworker) are translated
    and made safe once each.
    """
    with translation.override(language):
        pieces = Pieces()
        # French spreadsheets expect ";" between cells and a byte-order mark to read UTF-8.
        pieces.write("\ufeff")
        writer = csv.writer(pieces, delimiter=";")
        writer.writerow([safe_cell(cell) for cell in header()])
        yield pieces.take()
        buckets = {key: safe_cell(label) for key, label in BUCKET_LABELS.items()}
        statuses: dict[str, str] = {}
        warning = _("%(title)s: %(message)s")
        descriptions = procedures.deadline_descriptions()
        what_to_do: dict[tuple[int, str, int], str] = {}
        procedure_names: dict[int, str] = {}
        people: dict[int, str] = {}
        lines = 0
        for (
            case_id,
            due,
            status,
            next_working_day,
            reference,
            applicant,
            department,
            procedure_id,
            key,
            label,
            explanation,
            texts,
            legal_basis,
            rule_version,
            procedure_key,
            procedure_name,
            assigned_to_id,
            username,
            first_name,
            last_name,
        ) in rows.iterator(chunk_size=FETCH_ROWS):
            if case_id not in cases:
                continue
            status = status_on(status, due, next_working_day, day)
            if status not in statuses:
                statuses[status] = safe_cell(status_text(status))
            if procedure_id not in procedure_names:
                procedure = RulePack(pk=procedure_id, key=procedure_key, name=procedure_name)
                procedure_names[procedure_id] = safe_cell(procedures.procedure_name(procedure))
            rule = (procedure_id, key, rule_version)
            if rule not in what_to_do:
                what_to_do[rule] = safe_cell(descriptions.of_rule(*rule))
            if assigned_to_id not in people:
                user = get_user_model()(
                    pk=assigned_to_id,
                    username=username,
                    first_name=first_name,
                    last_name=last_name,
                )
                people[assigned_to_id] = safe_cell(person_name(user))
            writer.writerow(
                [
                    buckets[bucket_of(due, day)],
                    due.isoformat() if due else "",
                    statuses[status],
                    safe_cell(reference),
                    safe_cell(applicant),
                    safe_cell(department),
                    procedure_names[procedure_id],
                    safe_cell(text_in(texts, language, "label", label)),
                    what_to_do[rule],
                    people[assigned_to_id],
                    safe_cell(legal_basis),
                    rule_version,
                    safe_cell(text_in(texts, language, "explanation", explanation)),
                    safe_cell("\n".join(warning % w for w in warnings_in(texts, language))),
                ]
            )
            lines += 1
            if lines % WRITE_ROWS == 0:
                yield pieces.take()
        if pieces.parts:
            yield pieces.take()


def header() -> list[str]:
    return [
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
